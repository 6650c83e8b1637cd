"""The simulator's Configuration API `jobs/get`: attempts and failure summaries as config.yaml declares
them, for every job type and status; refusals as a closed internal API gives them."""

from __future__ import annotations

import httpx
import pytest

from sophia_mcp.sample.airbyte_sim import Simulator, create_app, seeded
from sophia_mcp.sample.airbyte_sim.failures import DESTINATION_UNREACHABLE
from sophia_mcp.sample.airbyte_sim.seed import FAILING_CONNECTION_ID, GONG_POSTGRES_CONNECTION_ID
from tests.airbyte_sim.conftest import CONFIG_URL, ManualClock, SpecCheckedClient

pytestmark = pytest.mark.anyio

JOBS_GET = f"{CONFIG_URL}/jobs/get"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def timed(clock, spec, config_spec):
    sim = seeded(clock=clock, job_pending_seconds=1.0, job_running_seconds=10.0)
    async with SpecCheckedClient(sim, spec, config_spec) as checked:
        await checked.authenticate(sim)
        yield sim, checked


async def job_info(client, job_id: int) -> dict:
    response = await client.post(JOBS_GET, json={"id": job_id})
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_seeded_failure_carries_origin_type_message_stream_and_retryable(client, airbyte_sim: Simulator):
    failed = max(j.job_id for j in airbyte_sim.jobs.values() if j.connection_id == FAILING_CONNECTION_ID)
    info = await job_info(client, failed)
    assert info["job"]["status"] == "failed" and info["job"]["configId"] == FAILING_CONNECTION_ID
    assert len(info["attempts"]) == 3  # retried before Airbyte gave up
    for attempt in info["attempts"]:
        assert attempt["attempt"]["status"] == "failed"
        (failure,) = attempt["attempt"]["failureSummary"]["failures"]
        assert (failure["failureOrigin"], failure["failureType"], failure["retryable"]) == ("source", "config_error", False)
        assert failure["streamDescriptor"] == {"name": "callTranscripts"}
        assert "403 Forbidden" in failure["externalMessage"]


async def test_every_status_and_job_type_answers_as_config_yaml_declares(timed, clock):
    sim, client = timed
    sim.fail_connections.add(GONG_POSTGRES_CONNECTION_ID)
    sim.failures[GONG_POSTGRES_CONNECTION_ID] = DESTINATION_UNREACHABLE
    seen: dict[str, dict] = {}
    for job_type in ("sync", "refresh", "clear", "reset"):
        job = (await client.post("/jobs", json={"connectionId": GONG_POSTGRES_CONNECTION_ID, "jobType": job_type})).json()
        seen["pending"] = await job_info(client, job["jobId"])
        clock.now += 3
        seen["running"] = await job_info(client, job["jobId"])
        clock.now += 20
        seen[job_type] = await job_info(client, job["jobId"])
    assert seen["pending"]["attempts"] == []
    assert [a["attempt"]["status"] for a in seen["running"]["attempts"]] == ["running"]
    assert {info["job"]["configType"] for key, info in seen.items() if key in ("sync", "refresh", "clear", "reset")} == {
        "sync", "refresh", "clear", "reset_connection"}
    failure = seen["sync"]["attempts"][-1]["attempt"]["failureSummary"]["failures"][0]
    assert (failure["failureOrigin"], failure["failureType"], failure["retryable"]) == ("destination", "system_error", True)
    assert "streamDescriptor" not in failure
    # A cancelled job's attempt failed with a manual cancellation; a good job has one succeeded attempt.
    sim.fail_connections.clear()
    job = (await client.post("/jobs", json={"connectionId": GONG_POSTGRES_CONNECTION_ID, "jobType": "sync"})).json()
    clock.now += 3
    await client.delete(f"/jobs/{job['jobId']}")
    cancelled = await job_info(client, job["jobId"])
    assert cancelled["job"]["status"] == "cancelled"
    assert cancelled["attempts"][0]["attempt"]["failureSummary"]["failures"][0]["failureType"] == "manual_cancellation"
    job = (await client.post("/jobs", json={"connectionId": GONG_POSTGRES_CONNECTION_ID, "jobType": "sync"})).json()
    clock.now += 20
    good = await job_info(client, job["jobId"])
    assert [a["attempt"]["status"] for a in good["attempts"]] == ["succeeded"]
    assert good["attempts"][0]["attempt"]["recordsSynced"] > 0


async def test_unknown_and_malformed_ids(client):
    missing = await client.post(JOBS_GET, json={"id": 999999})
    assert missing.status_code == 404 and "999999" in missing.json()["message"]
    for body in ({"id": "7"}, {}, {"id": True}):
        assert (await client.post(JOBS_GET, json=body)).status_code == 422


@pytest.mark.parametrize("status", [401, 403, 404])
async def test_a_closed_configuration_api_refuses_every_call(airbyte_sim: Simulator, raw_client, status: int):
    # A gateway's refusal, which config.yaml does not declare: checked by status only.
    airbyte_sim.config_api_refusal = status
    response = await raw_client.post(JOBS_GET, json={"id": 1})
    assert response.status_code == status


async def test_the_configuration_api_needs_the_bearer_token(airbyte_sim: Simulator):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(airbyte_sim))) as anonymous:
        response = await anonymous.post(JOBS_GET, json={"id": 1})
    assert response.status_code == 401


def test_the_checker_refuses_a_misspelt_failure(config_spec):
    schema = {"$ref": "#/components/schemas/JobInfoRead"}
    job = {"id": 1, "configType": "sync", "configId": "c", "createdAt": 1, "updatedAt": 2, "status": "failed"}
    failure = {"failureOrigin": "source", "failureType": "config_error", "timestamp": 1}
    good = {"job": job, "attempts": [{"attempt": {"id": 0, "status": "failed", "createdAt": 1, "updatedAt": 2,
                                                   "failureSummary": {"failures": [failure]}}}]}
    assert config_spec.body_errors(schema, good) == []
    assert config_spec.body_errors(schema, {**good, "job": {**job, "status": "done"}})
    bad_failure = {**failure, "failureOrigin": "gong"}
    assert config_spec.body_errors(schema, {"job": job, "attempts": [{"attempt": {
        **good["attempts"][0]["attempt"], "failureSummary": {"failures": [bad_failure]}}}]})
    assert config_spec.body_errors(schema, {"job": job, "attempts": [{"attempt": {
        **good["attempts"][0]["attempt"], "failureSumary": {"failures": [failure]}}}]})
