"""Configuration mistakes end the start with a message naming the variable, never a secret or a traceback."""

import os
import subprocess
import sys

import pytest

from sophia_mcp.settings import AirbyteSettings, QdrantSettings

SECRET = "very-secret-42"


def start(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AIRBYTE_", "SOPHIA_", "QDRANT_"))}
    return subprocess.run([sys.executable, "-m", "sophia_mcp", *args], env={**clean, **env}, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"AIRBYTE_CLIENT_ID": "${AIRBYTE_CLIENT_ID}", "AIRBYTE_CLIENT_SECRET": SECRET}, "did not expand it"),
        ({"AIRBYTE_CLIENT_ID": "abc", "AIRBYTE_ACCESS_TOKEN": SECRET}, "not both"),
        ({"AIRBYTE_CLIENT_ID": "abc"}, "must be set together"),
        ({"SOPHIA_POSTGRES_STATEMENT_TIMEOUT_MS": "soon", "AIRBYTE_CLIENT_SECRET": SECRET, "AIRBYTE_CLIENT_ID": "a"},
         "SOPHIA_POSTGRES_STATEMENT_TIMEOUT_MS"),
        ({"QDRANT_URL": "http://q:6333", "QDRANT_PATH": "/tmp/q", "QDRANT_API_KEY": SECRET}, "not both"),
    ],
)
def test_bad_configuration_says_what_to_change(env, expected):
    done = start(env, "serve")
    assert done.returncode == 2
    assert expected in done.stderr
    assert SECRET not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr


def test_secrets_are_masked_in_settings():
    settings = AirbyteSettings(AIRBYTE_CLIENT_ID="id", AIRBYTE_CLIENT_SECRET=SECRET)
    assert SECRET not in repr(settings) and SECRET not in str(settings.model_dump())
    assert settings.client_secret.get_secret_value() == SECRET


def test_self_managed_url_keeps_its_path():
    settings = AirbyteSettings(AIRBYTE_API_URL="http://airbyte.internal:8000/api/public/v1/", AIRBYTE_ACCESS_TOKEN="t")
    assert settings.api_url == "http://airbyte.internal:8000/api/public/v1"


def test_qdrant_takes_one_location():
    assert QdrantSettings(QDRANT_PATH="/tmp/q").configured
    with pytest.raises(ValueError, match="not both"):
        QdrantSettings(QDRANT_PATH="/tmp/q", QDRANT_URL="http://q:6333")
