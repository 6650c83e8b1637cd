"""Connections, streams and destinations: sync modes checked as Airbyte does, defaults filled in."""

from __future__ import annotations

import pytest

from sophia_mcp.sample.airbyte_sim import seeded
from sophia_mcp.sample.airbyte_sim.records import SECRET_MASK
from sophia_mcp.sample.airbyte_sim.seed import (
    EVERY_SIX_HOURS,
    GONG_POSTGRES_CONNECTION_ID,
    GONG_SOURCE_ID,
    POSTGRES_DESTINATION_ID,
    POSTGRES_DESTINATION_NAME,
    REDIS_DESTINATION_ID,
    WORKSPACE_ID,
)

pytestmark = pytest.mark.anyio

FULL_REFRESH_ONLY = {"users", "scorecards"}
INCREMENTAL = {"calls", "extensiveCalls", "answeredScorecards", "callTranscripts"}


def _new_connection(**fields) -> dict:
    return {"sourceId": GONG_SOURCE_ID, "destinationId": POSTGRES_DESTINATION_ID, **fields}


def _streams(*streams: tuple[str, str]) -> dict:
    return {"streams": [{"name": name, "syncMode": mode} for name, mode in streams]}


async def test_streams_tell_which_sync_modes_each_gong_stream_supports(client):
    params = {"sourceId": GONG_SOURCE_ID, "destinationId": POSTGRES_DESTINATION_ID}
    streams = {row["streamName"]: row for row in (await client.get("/streams", params=params)).json()}
    assert set(streams) == FULL_REFRESH_ONLY | INCREMENTAL
    for name in FULL_REFRESH_ONLY:
        assert streams[name]["syncModes"] == ["full_refresh_overwrite", "full_refresh_append"]
        assert streams[name]["sourceDefinedCursorField"] is False
    for name in INCREMENTAL:
        assert {"incremental_append", "incremental_deduped_history"} <= set(streams[name]["syncModes"])
    assert streams["extensiveCalls"]["defaultCursorField"] == ["startdatetime"]
    assert streams["answeredScorecards"]["sourceDefinedPrimaryKey"] == [["answeredScorecardId"]]


async def test_redis_cannot_deduplicate(client):
    params = {"sourceId": GONG_SOURCE_ID, "destinationId": REDIS_DESTINATION_ID}
    calls = next(row for row in (await client.get("/streams", params=params)).json() if row["streamName"] == "calls")
    assert "incremental_deduped_history" not in calls["syncModes"]
    body = {"sourceId": GONG_SOURCE_ID, "destinationId": REDIS_DESTINATION_ID,
            "configurations": _streams(("calls", "incremental_deduped_history"))}
    assert (await client.post("/connections", json=body)).status_code == 400


@pytest.mark.parametrize("stream", sorted(FULL_REFRESH_ONLY))
@pytest.mark.parametrize("mode", ["incremental_append", "incremental_deduped_history"])
async def test_an_unsupported_sync_mode_is_refused_and_nothing_is_created(airbyte_sim, client, stream, mode):
    before = len(airbyte_sim.connections)
    response = await client.post("/connections", json=_new_connection(configurations=_streams((stream, mode))))
    assert response.status_code == 400
    assert f"Cannot set sync mode to {mode} for stream {stream}" in response.json()["detail"]
    assert len(airbyte_sim.connections) == before


async def test_a_refused_patch_changes_nothing(client):
    path = f"/connections/{GONG_POSTGRES_CONNECTION_ID}"
    before = (await client.get(path)).json()
    streams = _streams(("calls", "incremental_append"), ("users", "incremental_append"))
    patch = {"name": "renamed", "configurations": streams}
    assert (await client.patch(path, json=patch)).status_code == 400
    assert (await client.get(path)).json() == before


async def test_a_patch_replaces_the_streams_and_schedule(client):
    path = f"/connections/{GONG_POSTGRES_CONNECTION_ID}"
    patch = {"configurations": _streams(("calls", "incremental_deduped_history")),
             "schedule": {"scheduleType": "manual"}, "prefix": "gong_"}
    patched = (await client.patch(path, json=patch)).json()
    assert patched["configurations"]["streams"] == [
        {"name": "calls", "syncMode": "incremental_deduped_history", "cursorField": ["started"], "primaryKey": [["id"]]}
    ]
    assert patched["schedule"] == {"scheduleType": "manual"}
    assert patched["prefix"] == "gong_"


async def test_a_new_connection_gets_every_stream_with_its_default_mode(client):
    created = (await client.post("/connections", json=_new_connection())).json()
    assert created["name"] == f"Gong → {POSTGRES_DESTINATION_NAME}"
    assert created["schedule"] == {"scheduleType": "manual"}
    assert created["status"] == "active"
    modes = {stream["name"]: stream["syncMode"] for stream in created["configurations"]["streams"]}
    assert modes == {**dict.fromkeys(FULL_REFRESH_ONLY, "full_refresh_overwrite"),
                     **dict.fromkeys(INCREMENTAL, "incremental_append")}
    assert (await client.get(f"/connections/{created['connectionId']}")).json() == created


async def test_an_unknown_stream_is_refused(client):
    body = _new_connection(configurations=_streams(("deals", "full_refresh_append")))
    response = await client.post("/connections", json=body)
    assert response.status_code == 400
    assert "deals" in response.json()["detail"]


async def test_a_cron_schedule_needs_a_quartz_expression(client):
    for schedule, problem_type in [({"scheduleType": "cron"}, "error:cron-validation/missing-cron-data"),
                                   ({"scheduleType": "cron", "cronExpression": "*/5 * * * *"},
                                    "error:cron-validation/invalid-expression")]:
        response = await client.post("/connections", json=_new_connection(schedule=schedule))
        assert response.json()["type"] == problem_type
    good = {"scheduleType": "cron", "cronExpression": EVERY_SIX_HOURS}
    assert (await client.post("/connections", json=_new_connection(schedule=good))).json()["schedule"] == good


async def test_a_deleted_connection_is_gone(client):
    path = f"/connections/{GONG_POSTGRES_CONNECTION_ID}"
    assert (await client.delete(path)).status_code == 204
    assert (await client.get(path)).status_code == 404
    sync = {"connectionId": GONG_POSTGRES_CONNECTION_ID, "jobType": "sync"}
    assert (await client.post("/jobs", json=sync)).status_code == 404


async def test_destinations_are_created_with_masked_secrets(airbyte_sim, client):
    configuration = {"destinationType": "redis", "host": "cache", "port": 6379, "username": "default",
                     "password": "sim-redis-pass", "cache_type": "hash"}
    body = {"name": "Second cache", "workspaceId": WORKSPACE_ID, "configuration": configuration}
    created = (await client.post("/destinations", json=body)).json()
    assert (created["destinationType"], created["name"]) == ("redis", "Second cache")
    assert created["configuration"]["password"] == SECRET_MASK
    assert airbyte_sim.destination(created["destinationId"]).configuration["password"] == "sim-redis-pass"


async def test_writing_back_a_masked_secret_keeps_the_stored_one(airbyte_sim, client):
    path = f"/destinations/{POSTGRES_DESTINATION_ID}"
    read = (await client.get(path)).json()
    await client.put(path, json={"name": read["name"], "configuration": {**read["configuration"], "port": 6432}})
    stored = airbyte_sim.destination(POSTGRES_DESTINATION_ID).configuration
    assert (stored["port"], stored["password"], stored["destinationType"]) == (6432, "sim-pg-pass", "postgres")


async def test_a_patch_changes_only_what_it_names(airbyte_sim, client):
    path = f"/destinations/{POSTGRES_DESTINATION_ID}"
    patched = (await client.patch(path, json={"configuration": {"schema": "gong"}})).json()
    assert patched["name"] == POSTGRES_DESTINATION_NAME
    assert (patched["configuration"]["schema"], patched["configuration"]["host"]) == ("gong", "localhost")


def test_the_half_pipeline_has_a_gong_source_and_postgres_but_no_connection():
    sim = seeded(half_pipeline=True)
    assert [s.type for s in sim.sources.values()] == ["gong"]
    destinations = [(d.name, d.type) for d in sim.destinations.values()]
    assert destinations == [(POSTGRES_DESTINATION_NAME, "postgres")]
    assert sim.connections == {} and sim.jobs == {}


def test_the_full_seed_has_three_connections_and_history():
    sim = seeded()
    assert len(sim.connections) == 3
    schedule = sim.connection(GONG_POSTGRES_CONNECTION_ID).schedule
    assert schedule == {"scheduleType": "cron", "cronExpression": EVERY_SIX_HOURS}
    assert len(sim.jobs) >= 10


def test_extra_jobs_need_a_connection():
    with pytest.raises(ValueError, match="needs a connection"):
        seeded(half_pipeline=True, extra_jobs=5)
