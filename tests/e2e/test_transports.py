"""The same Airbyte scenario over stdio (launched as mcp.json launches it) and over streamable HTTP,
plus what the HTTP transport must refuse."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import anyio
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from sophia_mcp.sample.airbyte_sim import Simulator
from sophia_mcp.sample.airbyte_sim.seed import GONG_POSTGRES_CONNECTION_ID
from sophia_mcp.transports.http import UnsafeBindError, build_http_app
from sophia_mcp.surface.server import build_server
from sophia_mcp.settings import HttpSettings, Settings
from tests.e2e.conftest import error_text, mcp_json_launch, stdio_params, tool_json
from tests.fixtures.processes import http_server_process

pytestmark = pytest.mark.anyio

HTTP_TOKEN = "test-http-token-0123456789"


async def airbyte_scenario(client: Client, sim: Simulator) -> None:
    """What an assistant does first: list tools, look at connections, sync one and wait for it."""
    tools = {t.name for t in (await client.list_tools()).tools}
    assert {"airbyte_list_connections", "airbyte_trigger_sync", "airbyte_cancel_job"} <= tools
    connections = tool_json(await client.call_tool("airbyte_list_connections", {}))
    assert len(connections["items"]) == 3
    progress: list[float] = []

    async def on_progress(value, total, message):
        progress.append(value)

    sim.job_running_seconds = 0.5
    synced = tool_json(
        await client.call_tool(
            "airbyte_trigger_sync",
            {"connection_id": GONG_POSTGRES_CONNECTION_ID, "wait": True, "timeout_seconds": 20},
            progress_callback=on_progress,
        )
    )
    assert synced["finished"] and synced["job"]["status"] == "succeeded"
    assert progress, "no progress notification arrived"
    assert "not a valid Airbyte id" in error_text(await client.call_tool("airbyte_get_connection", {"connection_id": "a/b"}))


async def test_stdio_launched_from_mcp_json(airbyte_sim: Simulator, airbyte_sim_env: dict[str, str]):
    env = {**airbyte_sim_env, "SOPHIA_AIRBYTE_POLL_INTERVAL": "0.1"}
    async with Client(stdio_params(env)) as client:
        await airbyte_scenario(client, airbyte_sim)


@pytest.fixture
def http_server(airbyte_sim_env: dict[str, str]) -> Iterator[str]:
    """`sophia-mcp serve --transport http` in a subprocess, as the hub runs it."""
    env = {**airbyte_sim_env, "SOPHIA_HTTP_TOKEN": HTTP_TOKEN, "SOPHIA_AIRBYTE_POLL_INTERVAL": "0.1"}
    with http_server_process(env, mcp_json_launch()[0]) as (base, _):
        yield base


def http_client(base: str, token: str | None = HTTP_TOKEN) -> Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = streamable_http_client(f"{base}/mcp", http_client=httpx2.AsyncClient(headers=headers, timeout=60))
    return Client(transport)


async def test_streamable_http_with_a_token(airbyte_sim: Simulator, http_server: str):
    async with http_client(http_server) as client:
        await airbyte_scenario(client, airbyte_sim)


async def test_http_refuses_a_missing_or_wrong_token(http_server: str):
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=http_server) as raw:
        assert (await raw.post("/mcp", json=body, headers=headers)).status_code == 401
        wrong = {**headers, "Authorization": "Bearer not-the-token"}
        response = await raw.post("/mcp", json=body, headers=wrong)
        assert response.status_code == 401
        assert "SOPHIA_HTTP_TOKEN" in response.text and HTTP_TOKEN not in response.text
        rebinding = {**headers, "Authorization": f"Bearer {HTTP_TOKEN}", "Host": "evil.example.com"}
        assert (await raw.post("/mcp", json=body, headers=rebinding)).status_code == 421
        health = await raw.get("/healthz")
        assert health.status_code == 200 and health.json() == {"status": "ok"}


async def test_hundred_concurrent_http_clients_all_get_answers(airbyte_sim: Simulator, http_server: str):
    answered = 0

    async def one_client() -> None:
        nonlocal answered
        async with http_client(http_server) as client:
            result = await client.call_tool("airbyte_list_workspaces", {})
            assert not result.is_error, result.content[0].text
            answered += 1

    with anyio.fail_after(120):
        async with anyio.create_task_group() as tg:
            for _ in range(100):
                tg.start_soon(one_client)
    assert answered == 100


def test_http_refuses_a_public_address_without_a_token():
    with pytest.raises(UnsafeBindError, match="SOPHIA_HTTP_TOKEN"):
        build_http_app(build_server(Settings()), HttpSettings(SOPHIA_HTTP_TOKEN=None), "0.0.0.0")


def test_cli_refuses_a_public_address_without_a_token():
    env = {k: v for k, v in os.environ.items() if k != "SOPHIA_HTTP_TOKEN"}
    done = subprocess.run(
        [sys.executable, "-m", "sophia_mcp", "serve", "--transport", "http", "--host", "0.0.0.0", "--port", "1"],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 2
    assert "SOPHIA_HTTP_TOKEN" in done.stderr and "Traceback" not in done.stderr
