"""The pipeline tools through the real server and the official MCP client, against the simulator."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from mcp import Client

from sophia_mcp.sample.airbyte_sim import Simulator, create_app, seeded
from sophia_mcp.sample.airbyte_sim.seed import (
    EVERY_SIX_HOURS,
    FAILING_CONNECTION_ID,
    GONG_CONFIGURATION,
    GONG_POSTGRES_CONNECTION_ID,
    GONG_REDIS_CONNECTION_ID,
    GONG_SOURCE_ID,
    POSTGRES_DESTINATION_ID,
    WORKSPACE_ID,
)
from sophia_mcp.surface.server import build_server
from sophia_mcp.settings import PipelineSettings, Settings
from sophia_mcp.surface.tools.airbyte import SIMULATOR_NOTE
from tests.e2e.conftest import airbyte_settings, error_text, tool_json

pytestmark = pytest.mark.anyio

PASSWORD = "e2e-Wr1ter-pw"
POSTGRES_URL = f"postgresql://airbyte_writer:{PASSWORD}@db.example.test:5432/sophia?sslmode=require"
MODES = {
    "users": "full_refresh_overwrite", "calls": "incremental_append", "extensiveCalls": "incremental_append",
    "scorecards": "full_refresh_overwrite", "answeredScorecards": "incremental_append",
    "callTranscripts": "incremental_append",
}


@pytest.fixture(autouse=True)
def _no_pipeline_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AIRBYTE_WORKSPACE_ID", "SOPHIA_PIPELINE_SOURCE_NAME", "SOPHIA_PIPELINE_CRON", "SOPHIA_DEST_POSTGRES_URL",
                 "SOPHIA_DEST_REDIS_URL", "SOPHIA_DEST_QDRANT_URL", "SOPHIA_GONG_TABLE_PREFIX"):
        monkeypatch.delenv(name, raising=False)


@asynccontextmanager
async def served(sim: Simulator, *, simulated: bool = False, **pipeline: str) -> AsyncIterator[Client]:
    settings = Settings(
        airbyte=airbyte_settings(sim, SOPHIA_AIRBYTE_SIMULATED=simulated),
        pipeline=PipelineSettings(**pipeline),
    )
    server = build_server(settings, airbyte_transport=httpx.ASGITransport(app=create_app(sim)))
    async with Client(server) as client:
        yield client


@pytest.fixture
def half_sim() -> Simulator:
    return seeded(half_pipeline=True, job_pending_seconds=0.0, job_running_seconds=0.1)


@pytest.fixture
async def half_client(half_sim: Simulator) -> AsyncIterator[Client]:
    async with served(half_sim) as client:
        yield client


def writes(sim: Simulator) -> dict:
    return {k: n for k, n in sim.requests.items() if k[0] != "GET" and k != ("POST", "/applications/token") and n}


def streams_of(step: dict) -> dict[str, str]:
    return dict(d.removeprefix("stream ").split(": ") for d in step["details"] if d.startswith("stream "))


async def test_pipeline_tools_are_listed_with_annotations(mcp_client: Client):
    tools = {t.name: t for t in (await mcp_client.list_tools()).tools}
    setup, sync_all = tools["airbyte_setup_pipeline"], tools["airbyte_sync_all"]
    assert setup.annotations.read_only_hint is False and setup.annotations.idempotent_hint is True
    assert setup.annotations.destructive_hint is False
    assert sync_all.annotations.read_only_hint is False and sync_all.annotations.idempotent_hint is False
    assert setup.input_schema["properties"].keys() == {"apply"}  # no credentials in arguments, ever
    assert sync_all.input_schema["properties"].keys() == {"name_contains"}
    for tool in (setup, sync_all):
        assert tool.description and "\n" not in tool.description and tool.output_schema is not None


async def test_setup_pipeline_plans_then_applies_once(half_sim: Simulator, half_client: Client):
    plan = tool_json(await half_client.call_tool("airbyte_setup_pipeline", {}))
    assert plan["workspace_id"] == WORKSPACE_ID and plan["source"] == f"Gong ({GONG_SOURCE_ID})"
    assert [(s["action"], s["kind"], s["name"]) for s in plan["steps"]] == [
        ("keep", "destination", "Sophia Postgres"), ("create", "connection", "Gong → Postgres"),
    ]
    assert plan["steps"][0]["id"] == POSTGRES_DESTINATION_ID
    assert streams_of(plan["steps"][1]) == MODES
    assert (plan["changes"], plan["applied"]) == (1, False)
    assert "problems" not in plan or plan["problems"] == []
    assert writes(half_sim) == {} and half_sim.connections == {}

    applied = tool_json(await half_client.call_tool("airbyte_setup_pipeline", {"apply": True}))
    assert (applied["changes"], applied["applied"]) == (1, True)
    (connection,) = half_sim.connections.values()
    assert applied["steps"][1]["id"] == connection.connection_id
    assert connection.schedule == {"scheduleType": "cron", "cronExpression": EVERY_SIX_HOURS}
    assert {s["name"]: s["syncMode"] for s in connection.streams} == MODES

    half_sim.requests.clear()
    again = tool_json(await half_client.call_tool("airbyte_setup_pipeline", {"apply": True}))
    assert (again["changes"], again["applied"]) == (0, False)
    assert [s["action"] for s in again["steps"]] == ["keep", "keep"]
    assert writes(half_sim) == {}


async def test_setup_pipeline_creates_the_destination_without_showing_its_password(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)
    sim = Simulator(job_pending_seconds=0.0, job_running_seconds=0.1)
    sim.add_workspace("Sophia", WORKSPACE_ID)
    sim.add_source("Gong", "gong", WORKSPACE_ID, GONG_CONFIGURATION, GONG_SOURCE_ID)
    async with served(sim, SOPHIA_DEST_POSTGRES_URL=POSTGRES_URL) as client:
        planned = await client.call_tool("airbyte_setup_pipeline", {"apply": False})
        applied = await client.call_tool("airbyte_setup_pipeline", {"apply": True})
    result = tool_json(applied)
    assert [(s["action"], s["kind"]) for s in result["steps"]] == [("create", "destination"), ("create", "connection")]
    assert result["changes"] == 2 and result["applied"] is True
    (destination,) = sim.destinations.values()
    assert destination.configuration["password"] == PASSWORD  # it reached Airbyte ...
    assert len(sim.connections) == 1
    for shown in (planned, applied):  # ... and nothing else
        assert PASSWORD not in shown.content[0].text
        assert PASSWORD not in str(shown.structured_content)
    assert caplog.records and PASSWORD not in caplog.text


async def test_setup_pipeline_reports_a_missing_gong_source(half_sim: Simulator, half_client: Client):
    del half_sim.sources[GONG_SOURCE_ID]
    plan = tool_json(await half_client.call_tool("airbyte_setup_pipeline", {"apply": True}))
    assert plan["steps"] == [] and plan["changes"] == 0
    assert plan["problems"] == [
        "The workspace has no Gong source; create the Gong source in Airbyte first (it holds the Gong API key)."
    ]
    assert writes(half_sim) == {}


async def test_setup_pipeline_says_when_airbyte_is_the_simulator(half_sim: Simulator):
    async with served(half_sim, simulated=True) as client:
        plan = tool_json(await client.call_tool("airbyte_setup_pipeline", {}))
    assert plan["note"] == SIMULATOR_NOTE


async def test_setup_pipeline_failure_is_a_clear_tool_error(half_sim: Simulator, half_client: Client):
    half_sim.faults.queue_html_error(403, path_prefix="/destinations")  # a proxy refusing; not retried
    text = error_text(await half_client.call_tool("airbyte_setup_pipeline", {}))
    assert "GET /destinations" in text and "<html" not in text.lower() and "Traceback" not in text


async def test_sync_all_starts_each_active_connection_once(airbyte_sim: Simulator, mcp_client: Client):
    airbyte_sim.job_running_seconds = 60
    airbyte_sim.connections[FAILING_CONNECTION_ID].status = "inactive"
    first = tool_json(await mcp_client.call_tool("airbyte_sync_all", {}))
    outcomes = {c["connection_id"]: c for c in first["connections"]}
    assert first["started"] == 2 and first["complete"] is True and "note" not in first
    assert outcomes[FAILING_CONNECTION_ID]["outcome"] == "skipped: inactive"
    assert outcomes[GONG_POSTGRES_CONNECTION_ID]["outcome"].startswith("started sync job ")
    assert airbyte_sim.requests["POST", "/jobs"] == 2

    second = tool_json(await mcp_client.call_tool("airbyte_sync_all", {}))
    assert second["started"] == 0
    again = {c["connection_id"]: c for c in second["connections"]}
    for connection_id in (GONG_POSTGRES_CONNECTION_ID, GONG_REDIS_CONNECTION_ID):
        assert again[connection_id]["job_id"] == outcomes[connection_id]["job_id"]
        assert again[connection_id]["outcome"].endswith("not triggered twice")
    assert airbyte_sim.requests["POST", "/jobs"] == 2


async def test_sync_all_with_a_name_filter(airbyte_sim: Simulator, mcp_client: Client):
    result = tool_json(await mcp_client.call_tool("airbyte_sync_all", {"name_contains": "REDIS"}))
    assert [c["connection_id"] for c in result["connections"]] == [GONG_REDIS_CONNECTION_ID]
    assert result["started"] == 1 and airbyte_sim.requests["POST", "/jobs"] == 1
    none = tool_json(await mcp_client.call_tool("airbyte_sync_all", {"name_contains": "salesforce"}))
    assert none["connections"] == [] and none["started"] == 0


async def test_sync_all_says_when_the_connection_list_was_cut_short(airbyte_sim: Simulator):
    # 100 inactive connections after the three seeded ones, then an active one on the second page.
    for i in range(100):
        airbyte_sim.add_connection(f"spare {i}", GONG_SOURCE_ID, POSTGRES_DESTINATION_ID, status="inactive")
    beyond = airbyte_sim.add_connection("beyond the page", GONG_SOURCE_ID, POSTGRES_DESTINATION_ID)
    settings = Settings(airbyte=airbyte_settings(airbyte_sim, SOPHIA_AIRBYTE_MAX_PAGES=1))
    server = build_server(settings, airbyte_transport=httpx.ASGITransport(app=create_app(airbyte_sim)))
    async with Client(server) as client:
        result = tool_json(await client.call_tool("airbyte_sync_all", {}))
    assert result["complete"] is False
    assert result["note"].startswith("Not all connections: Airbyte's connection list was cut short (stopped after 1 pages")
    assert "SOPHIA_AIRBYTE_MAX_PAGES" in result["note"] and "not synced" in result["note"]
    assert len(result["connections"]) == 100 and result["started"] == 3
    assert beyond.connection_id not in {job.connection_id for job in airbyte_sim.jobs.values()}
    assert airbyte_sim.requests["POST", "/jobs"] == 3


async def test_sync_all_then_setup_on_a_half_pipeline(half_sim: Simulator, half_client: Client):
    assert tool_json(await half_client.call_tool("airbyte_sync_all", {}))["connections"] == []
    tool_json(await half_client.call_tool("airbyte_setup_pipeline", {"apply": True}))
    result = tool_json(await half_client.call_tool("airbyte_sync_all", {}))
    assert result["started"] == 1 and [c["name"] for c in result["connections"]] == ["Gong → Postgres"]


async def test_setup_pipeline_sets_alerts_and_never_shows_the_webhook(half_sim: Simulator):
    webhook = "https://hooks.slack.example/services/T0/B0/s3cretWebhookToken"
    async with served(half_sim, SOPHIA_ALERT_WEBHOOK_URL=webhook) as client:
        results = [await client.call_tool("airbyte_setup_pipeline", {"apply": apply}) for apply in (False, True, True)]
    plan, applied, again = (tool_json(result) for result in results)
    kinds = {(s["kind"], s["action"]) for s in plan["steps"]}
    assert ("notifications", "update") in kinds and applied["applied"] is True
    assert ("notifications", "keep") in {(s["kind"], s["action"]) for s in again["steps"]}
    assert half_sim.workspaces[WORKSPACE_ID].notifications["failure"]["webhook"]["url"] == webhook
    for result in results:
        assert "s3cretWebhookToken" not in result.content[0].text and "hooks.slack" not in result.content[0].text
