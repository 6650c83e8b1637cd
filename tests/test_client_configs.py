"""Each assistant gets a configuration in its own format (README, "Add it to an assistant"): VS Code's
`servers` with `type` and password `inputs`, Cursor's `${env:VAR}`, a `claude mcp add` line for Claude
Code, literal values with the command's full path for Claude Desktop. Every one launches the same
command, sets only variables the server reads, and never holds a real-looking secret."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

from sophia_mcp import settings

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
SECRET_VARIABLES = {"AIRBYTE_CLIENT_SECRET", "AIRBYTE_ACCESS_TOKEN", "SOPHIA_POSTGRES_URL", "QDRANT_API_KEY"}


def variables_read() -> set[str]:
    return {
        field.alias
        for cls in vars(settings).values()
        if isinstance(cls, type) and issubclass(cls, settings._Env) and cls is not settings._Env
        for field in cls.model_fields.values() if field.alias
    }


def load(path: str) -> dict:
    return json.loads((REPO / path).read_text())


def check_launch(entry: dict) -> None:
    assert Path(entry["command"]).name == "sophia-mcp" and entry["args"] == ["serve"]
    assert set(entry["env"]) <= variables_read(), set(entry["env"]) - variables_read()
    assert {"AIRBYTE_CLIENT_ID", "AIRBYTE_CLIENT_SECRET", "SOPHIA_POSTGRES_URL"} <= set(entry["env"])


def test_vscode_uses_servers_with_type_and_password_inputs():
    config = load(".vscode/mcp.json")
    assert set(config) == {"servers", "inputs"}
    entry = config["servers"]["sophia"]
    assert entry["type"] == "stdio"
    assert entry["command"] == "${workspaceFolder}/.venv/bin/sophia-mcp"
    check_launch(entry)
    inputs = {i["id"]: i for i in config["inputs"]}
    for item in inputs.values():
        assert item["type"] == "promptString" and item["description"]
    for name, value in entry["env"].items():
        used = re.fullmatch(r"\$\{input:([\w-]+)\}", value)
        if name in SECRET_VARIABLES:
            assert used, f"{name} must be prompted for, not written in the file"
            assert inputs[used.group(1)].get("password") is True, name
        elif used:
            assert used.group(1) in inputs
        else:
            assert "${" not in value
    referenced = {m for v in entry["env"].values() for m in re.findall(r"\$\{input:([\w-]+)\}", v)}
    assert referenced == inputs.keys()


def test_cursor_reads_the_values_from_the_environment():
    config = load(".cursor/mcp.json")
    assert set(config) == {"mcpServers"}
    entry = config["mcpServers"]["sophia"]
    check_launch(entry)
    assert entry["command"] == "${workspaceFolder}/.venv/bin/sophia-mcp"
    for name, value in entry["env"].items():
        if name in SECRET_VARIABLES or name in {"AIRBYTE_CLIENT_ID"}:
            assert value == f"${{env:{name}}}", name
        else:
            assert "${" not in value, name


def test_claude_desktop_has_literal_values_and_the_full_command_path():
    config = load("clients/claude_desktop_config.json")
    entry = config["mcpServers"]["sophia"]
    check_launch(entry)
    assert entry["command"].startswith("/") and entry["command"].endswith("/.venv/bin/sophia-mcp")
    assert "${" not in json.dumps(entry), "Claude Desktop expands nothing"
    assert "type" not in entry and "inputs" not in config


def test_claude_code_line_in_the_readme():
    lines = [line for line in README.splitlines() if line.startswith("claude mcp add ")]
    assert len(lines) == 1, lines
    words = shlex.split(lines[0].rstrip("\\\\"))
    assert words[:4] == ["claude", "mcp", "add", "sophia"]
    command = words[words.index("--") + 1:]
    assert command[0].endswith("/.venv/bin/sophia-mcp") and command[1:] == ["serve"]
    options = words[4:words.index("--")]
    assert options[:4] == ["--transport", "stdio", "--scope", "user"]
    env = dict(value.split("=", 1) for flag, value in zip(options[4::2], options[5::2]) if flag == "--env")
    assert len(env) * 2 == len(options) - 4
    assert {"AIRBYTE_CLIENT_ID", "AIRBYTE_CLIENT_SECRET", "SOPHIA_POSTGRES_URL"} <= env.keys() <= variables_read()
    for name, value in env.items():
        assert value == f"${name}", "values come from the shell, never written in the README"


def test_the_readme_has_a_section_per_client():
    for heading in ("### VS Code", "### Cursor", "### Claude Code", "### Claude Desktop"):
        assert heading in README
    for path in (".vscode/mcp.json", ".cursor/mcp.json", "clients/claude_desktop_config.json"):
        assert f"`{path}`" in README


def test_the_root_mcp_json_launches_the_demo_with_nothing_to_fill_in():
    entry = load("mcp.json")["mcpServers"]["sophia"]
    assert Path(entry["command"]).name == "sophia-mcp" and entry["args"] == ["demo"]
    assert not entry.get("env"), "the demo needs no settings, and this file must never hold a secret"
    assert "--config mcp.json --server sophia" in README
