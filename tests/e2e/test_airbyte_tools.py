"""Every Airbyte tool through the real server and the official MCP client, against the simulator."""

import pytest
from mcp import Client

from sophia_mcp.sample.airbyte_sim import Simulator, seeded
from sophia_mcp.sample.airbyte_sim.seed import (
    FAILING_CONNECTION_ID,
    GONG_POSTGRES_CONNECTION_ID,
    GONG_REDIS_CONNECTION_ID,
    GONG_SOURCE_ID,
    WORKSPACE_ID,
)
from tests.e2e.conftest import error_text, tool_json

pytestmark = pytest.mark.anyio

AIRBYTE_TOOLS = {
    "airbyte_health", "airbyte_list_workspaces", "airbyte_list_sources", "airbyte_list_destinations",
    "airbyte_list_connections", "airbyte_get_connection", "airbyte_list_jobs", "airbyte_get_job",
    "airbyte_trigger_sync", "airbyte_cancel_job",
}


async def test_tools_are_listed_with_annotations(mcp_client: Client):
    tools = {t.name: t for t in (await mcp_client.list_tools()).tools}
    assert AIRBYTE_TOOLS <= tools.keys()
    for name in AIRBYTE_TOOLS - {"airbyte_trigger_sync", "airbyte_cancel_job"}:
        assert tools[name].annotations.read_only_hint is True, name
    assert tools["airbyte_cancel_job"].annotations.destructive_hint is True
    assert tools["airbyte_trigger_sync"].annotations.read_only_hint is False
    for tool in tools.values():
        assert tool.description and "\n" not in tool.description
        assert tool.output_schema is not None


async def test_health_reports_counts_and_the_failing_connection(mcp_client: Client):
    health = tool_json(await mcp_client.call_tool("airbyte_health", {}))
    assert health["reachable"] and health["authenticated"]
    assert health["workspace_id"] == WORKSPACE_ID
    assert (health["sources"], health["destinations"], health["connections"]) == (1, 2, 3)
    assert [p["connection_id"] for p in health["failing"]] == [FAILING_CONNECTION_ID]
    assert health["late"] == []


async def test_health_flags_a_connection_late_for_its_schedule(airbyte_sim: Simulator, mcp_client: Client):
    airbyte_sim.jobs.clear()
    # Just created, a scheduled connection that has not run yet is not late...
    assert tool_json(await mcp_client.call_tool("airbyte_health", {}))["late"] == []
    # ...created three days ago, it is: its first runs came and went.
    for connection in airbyte_sim.connections.values():
        connection.created_at -= 3 * 86400
    health = tool_json(await mcp_client.call_tool("airbyte_health", {}))
    late = {p["connection_id"]: p["problem"] for p in health["late"]}
    assert late.keys() == {GONG_POSTGRES_CONNECTION_ID, FAILING_CONNECTION_ID}
    assert "never run; its first run was due" in late[GONG_POSTGRES_CONNECTION_ID]


async def test_list_workspaces_and_sources(mcp_client: Client):
    workspaces = tool_json(await mcp_client.call_tool("airbyte_list_workspaces", {}))
    assert workspaces["items"] == [{"id": WORKSPACE_ID, "name": "Sophia"}]
    sources = tool_json(await mcp_client.call_tool("airbyte_list_sources", {}))
    assert sources["items"] == [{"id": GONG_SOURCE_ID, "name": "Gong", "type": "gong"}]


async def test_list_destinations_never_shows_configuration(mcp_client: Client):
    result = await mcp_client.call_tool("airbyte_list_destinations", {})
    destinations = tool_json(result)
    assert {d["type"] for d in destinations["items"]} == {"postgres", "redis"}
    assert "sim-pg-pass" not in result.content[0].text and "password" not in result.content[0].text


async def test_list_connections_shows_schedule_and_last_job(mcp_client: Client):
    connections = tool_json(await mcp_client.call_tool("airbyte_list_connections", {}))
    by_id = {c["id"]: c for c in connections["items"]}
    assert by_id[GONG_POSTGRES_CONNECTION_ID]["schedule"] == "cron 0 0 */6 * * ? UTC"
    assert by_id[GONG_POSTGRES_CONNECTION_ID]["last_job"]["status"] == "succeeded"
    assert by_id[FAILING_CONNECTION_ID]["last_job"]["status"] == "failed"
    assert by_id[GONG_REDIS_CONNECTION_ID]["schedule"] == "manual"
    assert "next_cursor" not in connections


async def test_connections_page_with_a_cursor():
    sim = seeded(extra_connections=60)
    import httpx

    from sophia_mcp.sample.airbyte_sim import create_app
    from sophia_mcp.surface.server import build_server
    from sophia_mcp.settings import Settings
    from tests.e2e.conftest import airbyte_settings

    server = build_server(Settings(airbyte=airbyte_settings(sim)), airbyte_transport=httpx.ASGITransport(create_app(sim)))
    seen: list[str] = []
    async with Client(server) as client:
        cursor = None
        for _ in range(10):
            args = {"limit": 25} | ({"cursor": cursor} if cursor else {})
            page = tool_json(await client.call_tool("airbyte_list_connections", args))
            seen += [c["id"] for c in page["items"]]
            cursor = page.get("next_cursor")
            if cursor is None:
                break
    assert len(seen) == len(set(seen)) == 63


async def test_get_connection_lists_streams_and_recent_jobs(mcp_client: Client):
    detail = tool_json(await mcp_client.call_tool("airbyte_get_connection", {"connection_id": FAILING_CONNECTION_ID}))
    assert detail["streams"] == [
        {"name": "callTranscripts", "sync_mode": "incremental_append", "cursor": ["started"], "primary_key": [["callId"]]}
    ]
    assert detail["prefix"] == "backfill_"
    assert [j["status"] for j in detail["recent_jobs"]] == ["failed", "succeeded"]


async def test_get_connection_with_an_unknown_id_says_how_to_find_one(mcp_client: Client):
    text = error_text(
        await mcp_client.call_tool("airbyte_get_connection", {"connection_id": "5091a000-0004-4000-8000-0000000000ff"})
    )
    assert "Not found" in text and "list" in text


async def test_get_connection_rejects_a_path_in_the_id(mcp_client: Client):
    text = error_text(await mcp_client.call_tool("airbyte_get_connection", {"connection_id": "../workspaces"}))
    assert "not a valid Airbyte id" in text


async def test_list_jobs_newest_first_and_filtered(mcp_client: Client):
    jobs = tool_json(await mcp_client.call_tool("airbyte_list_jobs", {"connection_id": GONG_POSTGRES_CONNECTION_ID}))
    started = [j["started"] for j in jobs["items"]]
    assert len(started) == 8 and started == sorted(started, reverse=True)
    failed = tool_json(await mcp_client.call_tool("airbyte_list_jobs", {"status": "failed"}))
    assert [j["connection_id"] for j in failed["items"]] == [FAILING_CONNECTION_ID]


async def test_list_jobs_rejects_an_unknown_status(mcp_client: Client):
    result = await mcp_client.call_tool("airbyte_list_jobs", {"status": "exploded"})
    assert result.is_error and "status" in result.content[0].text


async def test_trigger_sync_and_get_job(mcp_client: Client):
    started = tool_json(await mcp_client.call_tool("airbyte_trigger_sync", {"connection_id": GONG_REDIS_CONNECTION_ID}))
    assert started["started_new"] is True
    assert "airbyte_get_job" in started["message"]
    job = tool_json(await mcp_client.call_tool("airbyte_get_job", {"job_id": started["job"]["id"]}))
    assert job["job"]["connection_id"] == GONG_REDIS_CONNECTION_ID


async def test_trigger_sync_waits_with_progress_until_the_job_ends(airbyte_sim: Simulator, mcp_client: Client):
    airbyte_sim.job_running_seconds = 0.5
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(value, total, message):
        progress.append((value, total, message))

    result = await mcp_client.call_tool(
        "airbyte_trigger_sync", {"connection_id": GONG_POSTGRES_CONNECTION_ID, "wait": True, "timeout_seconds": 30},
        progress_callback=on_progress,
    )
    outcome = tool_json(result)
    assert outcome["finished"] is True and outcome["job"]["status"] == "succeeded"
    assert outcome["job"]["rows"] > 0
    assert len(progress) >= 2
    values = [p[0] for p in progress]
    assert values == sorted(values) and all(p[1] == 30 for p in progress)
    assert any("running" in (p[2] or "") for p in progress)


async def test_trigger_sync_stops_waiting_at_the_time_limit_and_says_the_job_goes_on(
    airbyte_sim: Simulator, mcp_client: Client
):
    airbyte_sim.job_running_seconds = 60
    outcome = tool_json(
        await mcp_client.call_tool(
            "airbyte_trigger_sync", {"connection_id": GONG_POSTGRES_CONNECTION_ID, "wait": True, "timeout_seconds": 1}
        )
    )
    assert outcome["finished"] is False
    assert outcome["job"]["status"] == "running"
    assert "keeps running" in outcome["message"]


async def test_trigger_sync_returns_the_running_job_instead_of_a_second(airbyte_sim: Simulator, mcp_client: Client):
    airbyte_sim.job_running_seconds = 60
    first = tool_json(await mcp_client.call_tool("airbyte_trigger_sync", {"connection_id": GONG_POSTGRES_CONNECTION_ID}))
    second = tool_json(await mcp_client.call_tool("airbyte_trigger_sync", {"connection_id": GONG_POSTGRES_CONNECTION_ID}))
    assert second["started_new"] is False
    assert second["job"]["id"] == first["job"]["id"]
    assert "already" in second["message"]
    assert airbyte_sim.requests["POST", "/jobs"] == 1


async def test_cancel_a_running_job(airbyte_sim: Simulator, mcp_client: Client):
    airbyte_sim.job_running_seconds = 60
    started = tool_json(await mcp_client.call_tool("airbyte_trigger_sync", {"connection_id": GONG_POSTGRES_CONNECTION_ID}))
    cancelled = tool_json(await mcp_client.call_tool("airbyte_cancel_job", {"job_id": started["job"]["id"]}))
    assert cancelled["job"]["status"] == "cancelled"
    again = tool_json(await mcp_client.call_tool("airbyte_cancel_job", {"job_id": started["job"]["id"]}))
    assert "already ended cancelled" in again["message"]


async def test_tools_survive_expired_tokens_429_bursts_and_5xx(airbyte_sim: Simulator, mcp_client: Client):
    tool_json(await mcp_client.call_tool("airbyte_list_workspaces", {}))
    airbyte_sim.expire_tokens()
    airbyte_sim.faults.queue_rate_limit(2, retry_after=0)
    airbyte_sim.faults.queue_status(503, 1)
    airbyte_sim.faults.queue_status(502, 1)
    connections = tool_json(await mcp_client.call_tool("airbyte_list_connections", {}))
    assert len(connections["items"]) == 3


async def test_a_lasting_outage_is_a_clear_error_and_the_next_call_works(airbyte_sim: Simulator, mcp_client: Client):
    airbyte_sim.faults.queue_html_error(502, 6)
    text = error_text(await mcp_client.call_tool("airbyte_list_sources", {}))
    assert "unavailable" in text and "HTML" in text
    airbyte_sim.faults.clear()
    assert tool_json(await mcp_client.call_tool("airbyte_list_sources", {}))["items"]


async def test_resources_read_a_connection_and_a_job(mcp_client: Client):
    import json

    connection = await mcp_client.read_resource(f"airbyte://connections/{GONG_POSTGRES_CONNECTION_ID}")
    body = json.loads(connection.contents[0].text)
    assert body["connectionId"] == GONG_POSTGRES_CONNECTION_ID
    jobs = tool_json(await mcp_client.call_tool("airbyte_list_jobs", {"limit": 1}))
    job = await mcp_client.read_resource(f"airbyte://jobs/{jobs['items'][0]['id']}")
    assert json.loads(job.contents[0].text)["jobId"] == jobs["items"][0]["id"]


async def test_no_secret_in_any_result(airbyte_sim: Simulator, mcp_client: Client):
    texts = []
    for name, args in [
        ("airbyte_health", {}), ("airbyte_list_sources", {}), ("airbyte_list_destinations", {}),
        ("airbyte_list_connections", {}), ("airbyte_get_connection", {"connection_id": GONG_POSTGRES_CONNECTION_ID}),
        ("airbyte_list_jobs", {}),
    ]:
        texts.append((await mcp_client.call_tool(name, args)).content[0].text)
    joined = "\n".join(texts)
    for secret in (airbyte_sim.client_secret, "sim-pg-pass", "sim-redis-pass", "sim-gong-secret"):
        assert secret not in joined


async def test_a_failing_job_lookup_is_a_clear_error_not_a_crash(airbyte_sim: Simulator, mcp_client: Client):
    tool_json(await mcp_client.call_tool("airbyte_list_workspaces", {}))
    airbyte_sim.faults.queue_status(500, None, path_prefix="/jobs")
    text = error_text(await mcp_client.call_tool("airbyte_list_connections", {}))
    assert "Airbyte is unavailable" in text and "HTTP 500" in text
    health = tool_json(await mcp_client.call_tool("airbyte_health", {}))
    assert health["authenticated"] and any("HTTP 500" in p for p in health["problems"])
