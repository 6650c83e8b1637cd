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
        ({"SOPHIA_HTTP_TOKEN": "${SOPHIA_HTTP_TOKEN}", "AIRBYTE_CLIENT_SECRET": SECRET, "AIRBYTE_CLIENT_ID": "a"},
         "SOPHIA_HTTP_TOKEN is the placeholder '${SOPHIA_HTTP_TOKEN}'"),
        ({"AIRBYTE_API_URL": f"ftp://user:{SECRET}@airbyte.example/v1"}, "AIRBYTE_API_URL must be an http(s) URL"),
        ({"AIRBYTE_API_URL": "api.airbyte.com/v1", "AIRBYTE_CLIENT_SECRET": SECRET, "AIRBYTE_CLIENT_ID": "a"},
         "AIRBYTE_API_URL must be an http(s) URL"),
        ({"SOPHIA_LOG_LEVEL": "LOUD", "AIRBYTE_CLIENT_SECRET": SECRET, "AIRBYTE_CLIENT_ID": "a"},
         "SOPHIA_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ({"SOPHIA_LOG_FORMAT": "xml"}, "SOPHIA_LOG_FORMAT must be text or json"),
        ({"SOPHIA_HTTP_ALLOWED_HOSTS": '["sophia.internal"', "SOPHIA_HTTP_TOKEN": SECRET * 2},
         "SOPHIA_HTTP_ALLOWED_HOSTS must be host names separated by commas"),
        ({"SOPHIA_TOOLSETS": "gong,crm"}, "SOPHIA_TOOLSETS must be a comma list of airbyte, gong, search; unknown: 'crm'"),
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


def test_allowed_hosts_take_a_comma_list_or_a_json_list():
    from sophia_mcp.settings import HttpSettings

    assert HttpSettings(SOPHIA_HTTP_ALLOWED_HOSTS="sophia.internal, sophia.example.com").allowed_hosts == [
        "sophia.internal", "sophia.example.com"]
    assert HttpSettings(SOPHIA_HTTP_ALLOWED_HOSTS='["sophia.internal"]').allowed_hosts == ["sophia.internal"]


def test_a_placeholder_turns_off_only_its_backend():
    from sophia_mcp.settings import PostgresSettings, Settings

    settings = Settings(
        airbyte=AirbyteSettings(AIRBYTE_CLIENT_ID="${AIRBYTE_CLIENT_ID}", AIRBYTE_CLIENT_SECRET=SECRET),
        postgres=PostgresSettings(SOPHIA_POSTGRES_URL="postgresql://reader@db.example.test/gong"),
    )
    off = settings.backends_off()
    assert not settings.airbyte.configured and settings.airbyte.client_secret is None
    assert "AIRBYTE_CLIENT_ID is the placeholder '${AIRBYTE_CLIENT_ID}'" in off["airbyte"]
    assert "postgres" not in off and settings.postgres.url is not None
    assert SECRET not in str(off)
