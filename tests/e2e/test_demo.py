"""`sophia-mcp demo` as a newcomer runs it: nothing configured, then questions through the MCP client."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from mcp import Client

from tests.e2e.conftest import REPO, mcp_json_launch, stdio_params, tool_json
from tests.fixtures.qdrant import MODEL_PATH

pytestmark = pytest.mark.anyio

DEMO_CALLS = "40"


def demo_env() -> dict[str, str]:
    # Only the model folder: the demo needs nothing else configured.
    return {"SOPHIA_EMBEDDING_MODEL_PATH": str(MODEL_PATH)}


async def test_demo_first_start_answers_every_kind_of_question(server_tmp: Path):
    command, _ = mcp_json_launch()
    params = stdio_params(demo_env())
    params.args = ["demo", "--data-dir", str(server_tmp / "demo"), "--calls", DEMO_CALLS]
    async with Client(params) as client:
        await gong_tools_answer(client)
        calls = tool_json(await client.call_tool("gong_search_calls", {"limit": 3}))["calls"]
        assert len(calls) == 3
        detail = tool_json(await client.call_tool("gong_get_call", {"call_id": calls[0]["id"]}))
        assert detail["parties"]
        # The server indexes its own shard in the background: meanwhile semantic search answers with
        # what is indexed so far and one line on the progress, never an error.
        question = {"question": "the customer thinks it costs too much"}
        found = tool_json(await client.call_tool("gong_semantic_search", question))
        for _ in range(600):
            if found["calls"] and "note" not in found:
                break
            assert found["note"].startswith("Indexing"), found
            await anyio.sleep(0.5)
            found = tool_json(await client.call_tool("gong_semantic_search", question))
        assert found["calls"] and found["mode"] == "hybrid"
        # The demo's one failing connection, and a diagnosis that says what to do about it.
        (failing,) = tool_json(await client.call_tool("airbyte_health", {}))["failing"]
        diagnosis = tool_json(
            await client.call_tool("airbyte_diagnose_connection", {"connection_id": failing["connection_id"]})
        )
        assert diagnosis["failures"][0]["stream"] == "callTranscripts"
        assert "credentials were rejected" in diagnosis["next_step"]
        plan = tool_json(await client.call_tool("airbyte_setup_pipeline", {"apply": True}))
        assert plan["changes"] >= 1 and "simulator" in plan["note"]
        synced = tool_json(await client.call_tool("airbyte_sync_all", {}))
        assert synced["started"] >= 1
        health = tool_json(await client.call_tool("airbyte_health", {}))
        assert health["authenticated"] and "simulator" in health["note"]
        status = tool_json(await client.call_tool("gong_data_status", {}))
        assert all(stream["found"] for stream in status["streams"])


async def demo_session(data_dir: Path, *extra: str) -> str:
    """One demo run through the MCP client, until its Gong tools answer; what it told the person."""
    from mcp.client.stdio import stdio_client

    params = stdio_params(demo_env())
    params.args = ["demo", "--data-dir", str(data_dir), "--calls", DEMO_CALLS, *extra]
    errlog = data_dir.parent / "demo-stderr.txt"
    with errlog.open("w") as sink:
        async with Client(stdio_client(params, errlog=sink)) as client:
            await gong_tools_answer(client)
    return errlog.read_text()


async def gong_tools_answer(client: Client) -> dict:
    """The demo serves at once and brings Postgres up meanwhile: a Gong tool says so, then answers."""
    for _ in range(600):
        result = await client.call_tool("gong_search_calls", {"limit": 1})
        if not result.is_error:
            return tool_json(result)
        assert "still starting" in result.content[0].text, result.content[0].text
        await anyio.sleep(0.5)
    raise AssertionError("the demo's Gong database never came up")


async def test_demo_second_start_reuses_its_data_and_reset_starts_over(server_tmp: Path):
    data_dir = server_tmp / "demo"
    first = await demo_session(data_dir)
    assert f"generated {DEMO_CALLS} sample calls" in first
    second = await demo_session(data_dir)
    assert "(reused)" in second and "indexes new calls in the background" in second and "Ask first:" in second
    again = await demo_session(data_dir, "--reset")
    assert f"generated {DEMO_CALLS} sample calls" in again


def test_demo_over_a_closed_stdin_exits_cleanly(server_tmp: Path):
    run = [sys.executable, "-m", "sophia_mcp", "demo", "--data-dir", str(server_tmp / "demo"), "--calls", DEMO_CALLS]
    done = subprocess.run(
        run, env={**os.environ, **demo_env()}, cwd=REPO, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "Ask first:" in done.stderr and done.stdout == ""
