"""Jobs move through pending, running and their outcome on the simulator's clock."""

from __future__ import annotations

import anyio
import httpx
import pytest

from sophia_mcp.sample.airbyte_sim import Simulator, seeded
from sophia_mcp.sample.airbyte_sim.seed import (
    FAILING_CONNECTION_ID,
    GONG_POSTGRES_CONNECTION_ID,
    GONG_REDIS_CONNECTION_ID,
    WORKSPACE_ID,
)
from tests.airbyte_sim.conftest import ManualClock, SpecCheckedClient

pytestmark = pytest.mark.anyio

SYNC = {"connectionId": GONG_POSTGRES_CONNECTION_ID, "jobType": "sync"}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def timed_sim(clock) -> Simulator:
    return seeded(clock=clock, job_pending_seconds=1.0, job_running_seconds=10.0)


@pytest.fixture
async def timed_client(timed_sim, spec):
    async with SpecCheckedClient(timed_sim, spec) as checked:
        await checked.authenticate(timed_sim)
        yield checked


async def _job(client: httpx.AsyncClient, job_id: int) -> dict:
    return (await client.get(f"/jobs/{job_id}")).json()


async def test_a_sync_goes_pending_running_succeeded_with_growing_counts(timed_client, clock):
    job = (await timed_client.post("/jobs", json=SYNC)).json()
    assert (job["status"], job["rowsSynced"]) == ("pending", 0)
    clock.now += 2
    early = await _job(timed_client, job["jobId"])
    clock.now += 5
    later = await _job(timed_client, job["jobId"])
    assert early["status"] == later["status"] == "running"
    assert 0 < early["rowsSynced"] < later["rowsSynced"]
    assert early["bytesSynced"] < later["bytesSynced"]
    clock.now += 100
    done = await _job(timed_client, job["jobId"])
    assert done["status"] == "succeeded"
    assert done["rowsSynced"] > later["rowsSynced"]
    assert done["duration"] == "PT11S"
    assert done["startTime"] == job["startTime"] and done["lastUpdatedAt"] > job["startTime"]


async def test_a_connection_marked_to_fail_ends_failed(timed_sim, timed_client, clock):
    timed_sim.fail_connections.add(GONG_POSTGRES_CONNECTION_ID)
    job = (await timed_client.post("/jobs", json=SYNC)).json()
    clock.now += 100
    assert (await _job(timed_client, job["jobId"]))["status"] == "failed"


async def test_a_second_job_while_one_is_unfinished_is_a_conflict(timed_sim, timed_client, clock):
    await timed_client.post("/jobs", json=SYNC)
    for _ in ("pending", "running"):
        refused = await timed_client.post("/jobs", json=SYNC)
        assert refused.status_code == 409
        assert refused.json()["title"] == "try-again-later"
        clock.now += 5
    clock.now += 100
    assert (await timed_client.post("/jobs", json=SYNC)).status_code == 200
    assert timed_sim.requests["POST", "/jobs"] == 4
    other = await timed_client.post("/jobs", json={**SYNC, "connectionId": GONG_REDIS_CONNECTION_ID})
    assert other.status_code == 200  # the lock is per connection


async def test_cancelling_a_running_job(timed_client, clock):
    job = (await timed_client.post("/jobs", json=SYNC)).json()
    clock.now += 3
    cancelled = (await timed_client.delete(f"/jobs/{job['jobId']}")).json()
    assert cancelled["status"] == "cancelled"
    clock.now += 100
    assert (await _job(timed_client, job["jobId"]))["status"] == "cancelled"
    assert (await timed_client.delete(f"/jobs/{job['jobId']}")).status_code == 409
    assert (await timed_client.post("/jobs", json=SYNC)).status_code == 200


async def test_jobs_are_instant_when_the_durations_are_zero(airbyte_sim, client):
    airbyte_sim.job_pending_seconds = airbyte_sim.job_running_seconds = 0
    job = (await client.post("/jobs", json={**SYNC, "jobType": "reset"})).json()
    assert (job["status"], job["jobType"], job["rowsSynced"]) == ("succeeded", "reset", 0)


async def test_the_fixture_runs_jobs_on_the_real_clock(client):
    job = (await client.post("/jobs", json=SYNC)).json()
    await anyio.sleep(0.15)
    assert (await _job(client, job["jobId"]))["status"] == "succeeded"


async def test_jobs_list_oldest_first_unless_ordered_newest_first(client):
    oldest_first = (await client.get("/jobs", params={"limit": 100})).json()["data"]
    newest_first = (await client.get("/jobs", params={"limit": 100, "orderBy": "createdAt|DESC"})).json()["data"]
    starts = [job["startTime"] for job in oldest_first]
    assert starts == sorted(starts)
    assert newest_first == oldest_first[::-1]


async def test_jobs_filter_by_connection_status_type_workspace_and_date(client):
    async def ids(**params) -> list[int]:
        return [job["jobId"] for job in (await client.get("/jobs", params={"limit": 100, **params})).json()["data"]]

    everything = await ids()
    failing = await ids(connectionId=FAILING_CONNECTION_ID)
    assert len(failing) == 2
    assert await ids(status="failed") == [failing[-1]]
    assert await ids(jobType="reset") == []
    assert await ids(workspaceIds=WORKSPACE_ID) == everything
    newest = (await client.get("/jobs", params={"orderBy": "createdAt|DESC", "limit": 1})).json()["data"][0]
    assert await ids(createdAtStart=newest["startTime"]) == [newest["jobId"]]
    assert await ids(createdAtEnd="2000-01-01T00:00:00Z") == []


async def test_the_seeded_history_shows_a_healthy_and_a_failing_connection(client):
    async def last_job(connection_id: str) -> dict:
        params = {"connectionId": connection_id, "orderBy": "createdAt|DESC", "limit": 1}
        return (await client.get("/jobs", params=params)).json()["data"][0]

    assert (await last_job(GONG_POSTGRES_CONNECTION_ID))["status"] == "succeeded"
    assert (await last_job(FAILING_CONNECTION_ID))["status"] == "failed"
