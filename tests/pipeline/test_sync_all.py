"""`sync_all` against the simulator: every active connection once, never a second job, filters."""

from __future__ import annotations

import pytest

from sophia_mcp.sample.airbyte_sim.seed import (
    FAILING_CONNECTION_ID,
    GONG_POSTGRES_CONNECTION_ID,
    GONG_REDIS_CONNECTION_ID,
    WORKSPACE_ID,
)
from sophia_mcp.airbyte.errors import AirbyteError
from sophia_mcp.cli.pipeline import render_outcomes
from sophia_mcp.pipeline.sync_all import sync_all
from tests.pipeline.conftest import airbyte_client, fast_sim, sophia_settings

pytestmark = pytest.mark.anyio

SEEDED = [GONG_POSTGRES_CONNECTION_ID, GONG_REDIS_CONNECTION_ID, FAILING_CONNECTION_ID]


async def run(sim, workspace_id=WORKSPACE_ID, name_contains=None):
    async with airbyte_client(sim, sophia_settings(sim)) as client:
        return (await sync_all(client, workspace_id, name_contains)).outcomes


async def test_every_active_connection_is_triggered_once():
    sim = fast_sim()
    known_jobs = set(sim.jobs)
    outcomes = await run(sim)
    assert [o.connection_id for o in outcomes] == SEEDED
    assert all(o.status == "started" and o.outcome == f"started sync job {o.job_id}" for o in outcomes)
    assert sim.requests["POST", "/jobs"] == 3
    new_jobs = {job_id: sim.jobs[job_id] for job_id in set(sim.jobs) - known_jobs}
    assert sorted(job.connection_id for job in new_jobs.values()) == sorted(SEEDED)
    assert {o.job_id for o in outcomes} == set(new_jobs)


async def test_a_running_connection_is_reported_not_triggered_twice():
    sim = fast_sim()
    sim.job_running_seconds = 60
    first = await run(sim)
    second = await run(sim)
    assert sim.requests["POST", "/jobs"] == 3
    for before, after in zip(first, second, strict=True):
        assert after.job_id == before.job_id and after.status == "already_running"
        assert after.outcome == f"already running: job {before.job_id}, not triggered twice"


async def test_only_the_connection_still_running_is_left_alone():
    sim = fast_sim()
    sim.job_running_seconds = 60
    await run(sim, name_contains="Gong → Redis")
    sim.job_running_seconds = 0.1
    outcomes = {o.connection_id: o.status for o in await run(sim)}
    assert outcomes[GONG_REDIS_CONNECTION_ID] == "already_running"
    assert outcomes[GONG_POSTGRES_CONNECTION_ID] == "started"
    assert sim.requests["POST", "/jobs"] == 3


async def test_inactive_connections_are_skipped():
    sim = fast_sim()
    sim.connections[GONG_REDIS_CONNECTION_ID].status = "inactive"
    outcomes = {o.connection_id: o for o in await run(sim)}
    assert outcomes[GONG_REDIS_CONNECTION_ID].status == "skipped"
    assert outcomes[GONG_REDIS_CONNECTION_ID].outcome == "skipped: inactive"
    assert outcomes[GONG_REDIS_CONNECTION_ID].job_id is None
    assert sim.requests["POST", "/jobs"] == 2
    assert not any(job.connection_id == GONG_REDIS_CONNECTION_ID and not job.is_final(sim.clock())
                   for job in sim.jobs.values())


@pytest.mark.parametrize(
    ("needle", "expected"),
    [
        ("redis", [GONG_REDIS_CONNECTION_ID]),
        ("  POSTGRES ", [GONG_POSTGRES_CONNECTION_ID, FAILING_CONNECTION_ID]),
        ("transcripts", [FAILING_CONNECTION_ID]),
        ("salesforce", []),
    ],
)
async def test_the_name_filter_is_case_insensitive(needle: str, expected: list[str]):
    sim = fast_sim()
    outcomes = await run(sim, name_contains=needle)
    assert [o.connection_id for o in outcomes] == expected
    assert sim.requests["POST", "/jobs"] == len(expected)


async def test_without_a_workspace_the_only_visible_one_is_used():
    sim = fast_sim()
    assert [o.connection_id for o in await run(sim, workspace_id=None)] == SEEDED


async def test_only_the_resolved_workspace_is_touched():
    sim = fast_sim()
    other = sim.add_workspace("Other team")
    source = sim.add_source("Other Gong", "gong", other.workspace_id, {"access_key": "k"})
    destination = sim.add_destination("Other Postgres", "postgres", other.workspace_id, {"host": "elsewhere"})
    foreign = sim.add_connection("Other Gong → Postgres", source.id, destination.id)
    outcomes = await run(sim)
    assert [o.connection_id for o in outcomes] == SEEDED
    assert not any(job.connection_id == foreign.connection_id for job in sim.jobs.values())
    # With two workspaces visible and none configured, nothing is triggered: the caller must choose.
    with pytest.raises(AirbyteError, match="AIRBYTE_WORKSPACE_ID"):
        await run(sim, workspace_id=None)
    assert sim.requests["POST", "/jobs"] == 3


async def test_one_refused_trigger_does_not_stop_the_others():
    sim = fast_sim()
    # Three requests under /jobs pass, the fourth is refused: whichever connection it belongs to
    # (its job lookup or its POST), that one fails and the other two start.
    for _ in SEEDED:
        sim.faults.queue_delay(0.0, path_prefix="/jobs")
    sim.faults.queue_status(400, path_prefix="/jobs")
    outcomes = await run(sim)
    failed = [o for o in outcomes if o.status == "failed"]
    assert len(failed) == 1 and failed[0].job_id is None and failed[0].outcome.startswith("failed: ")
    assert sum(o.status == "started" for o in outcomes) == 2
    assert "failed: " in render_outcomes(outcomes)


async def test_a_half_pipeline_has_nothing_to_sync():
    sim = fast_sim(half_pipeline=True)
    assert await run(sim) == []
    assert render_outcomes([]) == "No connection matched."
