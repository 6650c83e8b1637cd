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


def test_demo_second_start_reuses_its_data_and_reset_starts_over(server_tmp: Path):
    data_dir = server_tmp / "demo"
    run = [sys.executable, "-m", "sophia_mcp", "demo", "--data-dir", str(data_dir), "--calls", DEMO_CALLS]
    env = {**os.environ, **demo_env()}
    first = subprocess.run(run, env=env, cwd=REPO, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert f"generated {DEMO_CALLS} sample calls" in first.stderr
    second = subprocess.run(run, env=env, cwd=REPO, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    assert "(reused)" in second.stderr and "indexes new calls in the background" in second.stderr
    assert "Ask first:" in second.stderr and second.stdout == ""
    again = subprocess.run(run + ["--reset"], env=env, cwd=REPO, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 0 and f"generated {DEMO_CALLS} sample calls" in again.stderr
