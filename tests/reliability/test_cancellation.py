"""A client that gives up on a long `airbyte_trigger_sync` wait leaves nothing running in the server:
the polling stops (no more `GET /jobs/{jobId}` reaches Airbyte), no task lingers, and the server keeps
answering. In process (the client's cancel scope reaches the handler directly), over stdio
(`notifications/cancelled` from a real subprocess) and with the client's read timeout."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import anyio
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from sophia_mcp.sample.airbyte_sim import Simulator
from sophia_mcp.sample.airbyte_sim.seed import GONG_POSTGRES_CONNECTION_ID
from tests.e2e.conftest import stdio_params, tool_json
from tests.reliability.support import fast_sim, http_client, http_server, served

pytestmark = pytest.mark.anyio

POLL = ("GET", "/jobs/{jobId}")
POLL_INTERVAL = 0.05
TOKEN = "cancel-test-token"
LONG_WAIT = {"connection_id": GONG_POSTGRES_CONNECTION_ID, "wait": True, "timeout_seconds": 600}


@pytest.fixture
def airbyte_sim() -> Simulator:
    """Overrides the shared fixture (and so `airbyte_sim_url`): a sync that runs for ten minutes."""
    return fast_sim(job_running_seconds=600)


async def wait_for_polls(sim: Simulator, at_least: int) -> None:
    with anyio.fail_after(10):
        while sim.requests[POLL] < at_least:
            await anyio.sleep(0.02)


async def assert_polling_stopped(sim: Simulator, quiet_seconds: float) -> None:
    # One poll may be on the wire when the cancel lands; after that, silence.
    await anyio.sleep(quiet_seconds / 2)
    settled = sim.requests[POLL]
    await anyio.sleep(quiet_seconds)
    assert sim.requests[POLL] == settled, f"{sim.requests[POLL] - settled} polls after the client gave up"


async def cancel_a_long_wait(client: Client, sim: Simulator, after_polls: int = 3) -> None:
    async with anyio.create_task_group() as tg:

        async def call() -> None:
            await client.call_tool("airbyte_trigger_sync", LONG_WAIT)
            raise AssertionError("the wait ended by itself; the sync should run for minutes")

        tg.start_soon(call)
        await wait_for_polls(sim, after_polls)
        tg.cancel_scope.cancel()


def own_tasks() -> set[asyncio.Task]:
    return {task for task in asyncio.all_tasks() if not task.done()}


async def test_cancelling_a_sync_wait_in_process_stops_polling_and_leaves_no_task(airbyte_sim: Simulator):
    async with served(airbyte_sim) as client:
        tool_json(await client.call_tool("airbyte_list_workspaces", {}))
        tasks_before = own_tasks()
        await cancel_a_long_wait(client, airbyte_sim)
        await assert_polling_stopped(airbyte_sim, 10 * POLL_INTERVAL)
        lingering = own_tasks() - tasks_before
        assert not lingering, f"tasks left running: {[t.get_coro() for t in lingering]}"
        # The job itself goes on in Airbyte, and the server keeps answering about it.
        jobs = tool_json(await client.call_tool("airbyte_list_jobs", {"connection_id": GONG_POSTGRES_CONNECTION_ID, "limit": 1}))
        assert jobs["items"][0]["status"] == "running"
        again = tool_json(await client.call_tool("airbyte_trigger_sync", {"connection_id": GONG_POSTGRES_CONNECTION_ID}))
        assert again["started_new"] is False and airbyte_sim.requests["POST", "/jobs"] == 1


async def test_many_cancelled_waits_leave_no_task_behind(airbyte_sim: Simulator):
    async with served(airbyte_sim) as client:
        tool_json(await client.call_tool("airbyte_list_workspaces", {}))
        tasks_before = own_tasks()
        for round_ in range(5):
            await cancel_a_long_wait(client, airbyte_sim, after_polls=airbyte_sim.requests[POLL] + 2)
        await assert_polling_stopped(airbyte_sim, 10 * POLL_INTERVAL)
        assert not own_tasks() - tasks_before
        tool_json(await client.call_tool("airbyte_list_connections", {}))


async def test_cancelling_a_sync_wait_over_stdio_stops_polling(airbyte_sim: Simulator, airbyte_sim_env: dict[str, str]):
    env = {**airbyte_sim_env, "SOPHIA_AIRBYTE_POLL_INTERVAL": str(POLL_INTERVAL)}
    async with Client(stdio_params(env)) as client:
        await cancel_a_long_wait(client, airbyte_sim)
        await assert_polling_stopped(airbyte_sim, 0.6)
        with anyio.fail_after(10):
            tool_json(await client.call_tool("airbyte_list_workspaces", {}))
        # The client's own read timeout abandons the request the same way.
        sim_polls = airbyte_sim.requests[POLL]
        with pytest.raises(MCPError, match="timed out"):
            await client.call_tool("airbyte_trigger_sync", LONG_WAIT, read_timeout_seconds=0.5)
        assert airbyte_sim.requests[POLL] > sim_polls
        await assert_polling_stopped(airbyte_sim, 0.6)
        with anyio.fail_after(10):
            tool_json(await client.call_tool("airbyte_get_job", {"job_id": 1}))


@pytest.fixture
def http_base(airbyte_sim_env: dict[str, str]) -> Iterator[str]:
    env = {**airbyte_sim_env, "SOPHIA_HTTP_TOKEN": TOKEN, "SOPHIA_AIRBYTE_POLL_INTERVAL": str(POLL_INTERVAL)}
    with http_server(env) as base:
        yield base


async def test_cancelling_a_sync_wait_over_streamable_http_stops_polling(airbyte_sim: Simulator, http_base: str):
    async with http_client(http_base, TOKEN) as client:
        await cancel_a_long_wait(client, airbyte_sim)
        await assert_polling_stopped(airbyte_sim, 0.6)
        with anyio.fail_after(10):
            tool_json(await client.call_tool("airbyte_list_workspaces", {}))
