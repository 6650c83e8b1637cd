"""The real server, driven by the official MCP client: in process, over stdio, over HTTP."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from sophia_mcp.sample.airbyte_sim import Simulator
from sophia_mcp.surface.server import build_server
from sophia_mcp.settings import AirbyteSettings, Settings

REPO = Path(__file__).resolve().parents[2]
SIM_URL = "http://airbyte.test/v1"
SIM_CONFIG_URL = "http://airbyte.test/api/v1"


def tool_json(result) -> dict:
    """The tool's structured result; fails the test with the error text when the call failed."""
    assert not result.is_error, result.content[0].text
    return result.structured_content


def error_text(result) -> str:
    assert result.is_error, f"expected an error, got {result.structured_content}"
    return result.content[0].text


def airbyte_settings(sim: Simulator, **overrides) -> AirbyteSettings:
    values = {
        "AIRBYTE_API_URL": SIM_URL,
        "AIRBYTE_CONFIG_API_URL": SIM_CONFIG_URL,
        "AIRBYTE_CLIENT_ID": sim.client_id,
        "AIRBYTE_CLIENT_SECRET": sim.client_secret,
        "SOPHIA_AIRBYTE_POLL_INTERVAL": 0.05,
        **overrides,
    }
    return AirbyteSettings(**values)


@pytest.fixture
async def mcp_client(airbyte_sim: Simulator, airbyte_sim_transport: httpx.ASGITransport) -> AsyncIterator[Client]:
    server = build_server(Settings(airbyte=airbyte_settings(airbyte_sim)), airbyte_transport=airbyte_sim_transport)
    async with Client(server) as client:
        yield client


CLIENT_CONFIG = REPO / ".vscode" / "mcp.json"


def mcp_json_launch() -> tuple[str, list[str]]:
    """The command and arguments an assistant runs, read from the shipped client configuration
    (`.vscode/mcp.json`; tests/test_client_configs.py checks that every client's file launches the same).
    The command's file name is resolved next to this interpreter, as `${workspaceFolder}/.venv/bin`
    is in a checkout."""
    entry = json.loads(CLIENT_CONFIG.read_text())["servers"]["sophia"]
    name = Path(entry["command"]).name
    command = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    assert command, f"{name} is not installed; run pip install -e ."
    return command, entry["args"]


def stdio_params(env: dict[str, str]) -> StdioServerParameters:
    command, args = mcp_json_launch()
    base = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "SYSTEMROOT", "SOPHIA_GONG_SNAPSHOT_DIR") if key in os.environ}
    return StdioServerParameters(command=command, args=args, env={**base, **env}, cwd=str(REPO))
