"""Operating the pipeline through the official MCP client: why a connection fails and what to do, pause,
reschedule, reset; failure details from the Configuration API, and clear answers when it is closed."""

from __future__ import annotations

import json
import socket

import pytest
from mcp import Client

from sophia_mcp.sample.airbyte_sim import Simulator
from sophia_mcp.sample.airbyte_sim.failures import DESTINATION_UNREACHABLE, GONG_RATE_LIMITED
from sophia_mcp.sample.airbyte_sim.seed import (
    FAILING_CONNECTION_ID,
    GONG_POSTGRES_CONNECTION_ID,
    GONG_REDIS_CONNECTION_ID,
)
from tests.e2e.conftest import error_text, stdio_params, tool_json

pytestmark = pytest.mark.anyio

PATCH_CONNECTION = ("PATCH", "/connections/{connectionId}")
JOBS_GET = ("POST", "/v1/jobs/get")
MISSING_CONNECTION = "5091a000-0004-4000-8000-0000000000ff"


def failed_job_of(sim: Simulator, connection_id: str) -> int:
    return max(j.job_id for j in sim.jobs.values() if j.connection_id == connection_id and j.fails)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_over_stdio_why_it_fails_then_pause_reschedule_and_reset(
    airbyte_sim: Simulator, airbyte_sim_env: dict[str, str]
):
    async with Client(stdio_params(airbyte_sim_env)) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        # "Why is the Gong sync failing and what should I do?" — one call.
        diagnosis = tool_json(
            await client.call_tool("airbyte_diagnose_connection", {"connection_id": FAILING_CONNECTION_ID})
        )
        (failure,) = diagnosis["failures"]
        assert failure["stream"] == "callTranscripts"
        assert (failure["origin"], failure["type"], failure["retryable"]) == ("source", "config_error", False)
        assert "403 Forbidden" in failure["message"] and failure["attempts"] == 3
        assert diagnosis["failure_streak"]["failed_jobs"] == 1 and diagnosis["healthy"] is False
        assert diagnosis["next_step"].startswith("The Gong credentials were rejected (stream callTranscripts)")
        assert "update the source 'Gong' in Airbyte" in diagnosis["next_step"]

        paused = tool_json(await client.call_tool(
            "airbyte_update_connection",
            {"connection_id": FAILING_CONNECTION_ID, "status": "inactive", "schedule": "0 0 9 ? * MON-FRI"},
        ))
        assert paused["status"] == "inactive" and paused["schedule"] == "cron 0 0 9 ? * MON-FRI UTC"
        connection = airbyte_sim.connections[FAILING_CONNECTION_ID]
        assert connection.status == "inactive"
        assert connection.schedule == {"scheduleType": "cron", "cronExpression": "0 0 9 ? * MON-FRI"}
        resumed = tool_json(await client.call_tool(
            "airbyte_update_connection", {"connection_id": FAILING_CONNECTION_ID, "status": "active", "schedule": "manual"}
        ))
        assert resumed["changed"] == ["status: inactive → active", "schedule: cron 0 0 9 ? * MON-FRI → manual"]
        assert airbyte_sim.connections[FAILING_CONNECTION_ID].schedule == {"scheduleType": "manual"}

        reset = tool_json(await client.call_tool(
            "airbyte_reset_connection", {"connection_id": GONG_POSTGRES_CONNECTION_ID, "job_type": "reset"}
        ))
        assert reset["started_new"] is True and reset["job"]["type"] == "reset"
        assert airbyte_sim.jobs[reset["job"]["id"]].job_type == "reset"

    read_only = tools["airbyte_diagnose_connection"].annotations
    assert read_only.read_only_hint is True and read_only.destructive_hint is False
    update = tools["airbyte_update_connection"].annotations
    assert (update.read_only_hint, update.destructive_hint, update.idempotent_hint) == (False, False, True)
    assert tools["airbyte_reset_connection"].annotations.destructive_hint is True
    assert tools["airbyte_reset_connection"].annotations.read_only_hint is False


async def test_over_stdio_an_unreachable_configuration_api_still_answers(
    airbyte_sim: Simulator, airbyte_sim_env: dict[str, str]
):
    env = {**airbyte_sim_env, "AIRBYTE_CONFIG_API_URL": f"http://127.0.0.1:{closed_port()}/api/v1"}
    async with Client(stdio_params(env)) as client:
        diagnosis = tool_json(
            await client.call_tool("airbyte_diagnose_connection", {"connection_id": FAILING_CONNECTION_ID})
        )
        job = tool_json(await client.call_tool("airbyte_get_job", {"job_id": failed_job_of(airbyte_sim, FAILING_CONNECTION_ID)}))
    for answer in (diagnosis, job):
        reason = answer["failure_details_unavailable"]
        assert "could not be reached" in reason and "AIRBYTE_CONFIG_API_URL" in reason and "\n" not in reason
    assert diagnosis["failure_streak"]["failed_jobs"] == 1
    assert "retry once with airbyte_trigger_sync" in diagnosis["next_step"]
    assert job["job"]["status"] == "failed" and "failures" not in job and "attempts" not in job


@pytest.mark.parametrize("status", [401, 403, 404])
async def test_a_closed_configuration_api_is_one_line_and_asked_once(airbyte_sim: Simulator, mcp_client: Client, status):
    airbyte_sim.config_api_refusal = status
    first = tool_json(await mcp_client.call_tool("airbyte_diagnose_connection", {"connection_id": FAILING_CONNECTION_ID}))
    assert f"HTTP {status}" in first["failure_details_unavailable"]
    assert "failures" not in first and first["failure_streak"]["failed_jobs"] == 1
    asked = airbyte_sim.requests[JOBS_GET]
    job = tool_json(await mcp_client.call_tool("airbyte_get_job", {"job_id": failed_job_of(airbyte_sim, FAILING_CONNECTION_ID)}))
    assert job["failure_details_unavailable"] == first["failure_details_unavailable"]
    assert airbyte_sim.requests[JOBS_GET] == asked  # the refusal is remembered, not asked again


async def test_a_failing_configuration_api_is_not_remembered(airbyte_sim: Simulator, mcp_client: Client):
    airbyte_sim.faults.queue_status(500, 1, path_prefix="/api/v1")
    first = tool_json(await mcp_client.call_tool("airbyte_diagnose_connection", {"connection_id": FAILING_CONNECTION_ID}))
    assert "HTTP 500" in first["failure_details_unavailable"]
    second = tool_json(await mcp_client.call_tool("airbyte_diagnose_connection", {"connection_id": FAILING_CONNECTION_ID}))
    assert "failure_details_unavailable" not in second and second["failures"][0]["stream"] == "callTranscripts"


async def test_get_job_shows_each_attempts_failures_compactly(airbyte_sim: Simulator, mcp_client: Client):
    job_id = failed_job_of(airbyte_sim, FAILING_CONNECTION_ID)
    job = tool_json(await mcp_client.call_tool("airbyte_get_job", {"job_id": job_id}))
    assert [(a["attempt"], a["status"], a["failures"]) for a in job["attempts"]] == [
        (0, "failed", [0]), (1, "failed", [0]), (2, "failed", [0])]
    (failure,) = job["failures"]
    assert failure["stream"] == "callTranscripts" and failure["retryable"] is False
    succeeded = tool_json(await mcp_client.call_tool("airbyte_get_job", {"job_id": 1}))
    assert succeeded["job"]["status"] == "succeeded" and "attempts" not in succeeded
    assert airbyte_sim.requests[JOBS_GET] == 1  # a good job needs no failure details


async def test_the_job_resource_shows_a_failed_jobs_attempt_failures_as_get_job_does(
    airbyte_sim: Simulator, mcp_client: Client
):
    job_id = failed_job_of(airbyte_sim, FAILING_CONNECTION_ID)
    tool = tool_json(await mcp_client.call_tool("airbyte_get_job", {"job_id": job_id}))
    resource = json.loads((await mcp_client.read_resource(f"airbyte://jobs/{job_id}")).contents[0].text)
    assert resource["jobId"] == job_id and resource["status"] == "failed"
    assert resource["attempts"] == tool["attempts"] and len(resource["attempts"]) == 3
    assert resource["failures"] == tool["failures"] and resource["failures"][0]["stream"] == "callTranscripts"
    succeeded = json.loads((await mcp_client.read_resource("airbyte://jobs/1")).contents[0].text)
    assert succeeded["status"] == "succeeded" and "attempts" not in succeeded and "failures" not in succeeded


async def test_a_transient_failure_says_retry(airbyte_sim: Simulator, mcp_client: Client):
    airbyte_sim.fail_connections.add(GONG_REDIS_CONNECTION_ID)
    airbyte_sim.failures[GONG_REDIS_CONNECTION_ID] = GONG_RATE_LIMITED
    started = tool_json(await mcp_client.call_tool(
        "airbyte_trigger_sync", {"connection_id": GONG_REDIS_CONNECTION_ID, "wait": True, "timeout_seconds": 20}))
    assert started["job"]["status"] == "failed"
    diagnosis = tool_json(await mcp_client.call_tool("airbyte_diagnose_connection", {"connection_id": GONG_REDIS_CONNECTION_ID}))
    assert diagnosis["failures"][0]["type"] == "transient_error" and diagnosis["failures"][0]["retryable"] is True
    assert diagnosis["next_step"].startswith("A transient failure (source; Airbyte thinks a retry helps): retry with "
                                             "airbyte_trigger_sync")


async def test_a_destination_failure_and_a_failing_streak(airbyte_sim: Simulator, mcp_client: Client):
    airbyte_sim.fail_connections.add(GONG_POSTGRES_CONNECTION_ID)
    airbyte_sim.failures[GONG_POSTGRES_CONNECTION_ID] = DESTINATION_UNREACHABLE
    for _ in range(3):
        tool_json(await mcp_client.call_tool(
            "airbyte_trigger_sync", {"connection_id": GONG_POSTGRES_CONNECTION_ID, "wait": True, "timeout_seconds": 20}))
    diagnosis = tool_json(await mcp_client.call_tool("airbyte_diagnose_connection", {"connection_id": GONG_POSTGRES_CONNECTION_ID}))
    assert diagnosis["failure_streak"]["failed_jobs"] == 3
    assert diagnosis["failures"][0]["origin"] == "destination" and "stream" not in diagnosis["failures"][0]
    assert "failed 3 times in a row" in diagnosis["next_step"] and "destination" in diagnosis["next_step"]


async def test_a_job_running_after_failures_is_named_in_the_next_step(airbyte_sim: Simulator, mcp_client: Client):
    airbyte_sim.job_running_seconds = 60
    running = tool_json(await mcp_client.call_tool("airbyte_trigger_sync", {"connection_id": FAILING_CONNECTION_ID}))
    diagnosis = tool_json(await mcp_client.call_tool("airbyte_diagnose_connection", {"connection_id": FAILING_CONNECTION_ID}))
    job_id = running["job"]["id"]
    assert diagnosis["running_job_id"] == job_id and diagnosis["failure_streak"]["failed_jobs"] == 1
    assert diagnosis["failures"][0]["stream"] == "callTranscripts"
    assert f"airbyte_get_job(job_id={job_id})" in diagnosis["next_step"]


async def test_a_healthy_and_a_paused_connection(airbyte_sim: Simulator, mcp_client: Client):
    healthy = tool_json(await mcp_client.call_tool("airbyte_diagnose_connection", {"connection_id": GONG_POSTGRES_CONNECTION_ID}))
    assert healthy["healthy"] is True and healthy["next_step"].startswith("Nothing to fix")
    assert len(healthy["recent_jobs"]) == 5 and "failure_streak" not in healthy
    airbyte_sim.connections[GONG_POSTGRES_CONNECTION_ID].status = "inactive"
    paused = tool_json(await mcp_client.call_tool("airbyte_diagnose_connection", {"connection_id": GONG_POSTGRES_CONNECTION_ID}))
    assert paused["healthy"] is False and "status='active'" in paused["next_step"]


# ---- bad input: a clear error, and nothing sent ---------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ({"schedule": "0 0 25 * * ?"}, "schedule '0 0 25 * * ?'"),
        ({"schedule": "0 0 9 * * MON-FRI"}, "day-of-week"),
        ({"schedule": "every day"}, "6 or 7 fields"),
        ({"status": "paused"}, "status"),
        ({"name": ""}, "name"),
        ({}, "give at least one of `status`"),
    ],
    ids=["hour-25", "both-day-fields", "prose", "status-outside-enum", "blank-name", "nothing"],
)
async def test_update_refuses_bad_input_before_sending(airbyte_sim: Simulator, mcp_client: Client, arguments, words):
    before = sum(airbyte_sim.requests.values())
    text = error_text(await mcp_client.call_tool(
        "airbyte_update_connection", {"connection_id": FAILING_CONNECTION_ID, **arguments}))
    assert words in text
    assert sum(airbyte_sim.requests.values()) == before  # not even a lookup


async def test_update_with_nothing_different_sends_no_patch(airbyte_sim: Simulator, mcp_client: Client):
    same = tool_json(await mcp_client.call_tool(
        "airbyte_update_connection", {"connection_id": FAILING_CONNECTION_ID, "status": "active",
                                      "schedule": " 0 0 2  * * ? "}))
    assert same["changed"] == [] and same["message"].startswith("Nothing to change")
    assert airbyte_sim.requests[PATCH_CONNECTION] == 0
    renamed = tool_json(await mcp_client.call_tool(
        "airbyte_update_connection", {"connection_id": FAILING_CONNECTION_ID, "name": "Transcripts backfill"}))
    assert renamed["changed"] == ["name: 'Gong transcripts → Postgres' → 'Transcripts backfill'"]
    assert airbyte_sim.requests[PATCH_CONNECTION] == 1


@pytest.mark.parametrize("tool", ["airbyte_diagnose_connection", "airbyte_update_connection", "airbyte_reset_connection"])
async def test_unknown_connections_say_how_to_find_one(mcp_client: Client, tool: str):
    arguments = {"connection_id": MISSING_CONNECTION, "status": "inactive", "job_type": "refresh"}
    schema_keys = {"airbyte_diagnose_connection": ["connection_id"],
                   "airbyte_update_connection": ["connection_id", "status"],
                   "airbyte_reset_connection": ["connection_id", "job_type"]}[tool]
    text = error_text(await mcp_client.call_tool(tool, {key: arguments[key] for key in schema_keys}))
    assert "Not found" in text and "list" in text


async def test_reset_refuses_a_sync_type_and_keeps_one_job_at_a_time(airbyte_sim: Simulator, mcp_client: Client):
    posts = airbyte_sim.requests["POST", "/jobs"]
    text = error_text(await mcp_client.call_tool(
        "airbyte_reset_connection", {"connection_id": GONG_POSTGRES_CONNECTION_ID, "job_type": "sync"}))
    assert "job_type" in text and airbyte_sim.requests["POST", "/jobs"] == posts
    airbyte_sim.job_running_seconds = 60
    first = tool_json(await mcp_client.call_tool(
        "airbyte_reset_connection", {"connection_id": GONG_POSTGRES_CONNECTION_ID, "job_type": "clear"}))
    second = tool_json(await mcp_client.call_tool(
        "airbyte_reset_connection", {"connection_id": GONG_POSTGRES_CONNECTION_ID, "job_type": "refresh"}))
    assert first["started_new"] is True and first["job"]["type"] == "clear"
    assert second["started_new"] is False and second["job"]["id"] == first["job"]["id"]
    assert "no second job was started" in second["message"]
    assert airbyte_sim.requests["POST", "/jobs"] == posts + 1
