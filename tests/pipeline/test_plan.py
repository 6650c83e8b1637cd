"""The pipeline plan against the simulator: diff by name, apply, idempotence, drift, secrets."""

from __future__ import annotations

import logging

import pytest

from sophia_mcp.airbyte.errors import AirbyteError
from sophia_mcp.sample.airbyte_sim import catalog
from sophia_mcp.sample.airbyte_sim.catalog import INCREMENTAL_MODES, StreamSpec
from sophia_mcp.sample.airbyte_sim.problems import ProblemError
from sophia_mcp.sample.airbyte_sim.seed import (
    DAILY_AT_TWO,
    EVERY_SIX_HOURS,
    GONG_CONFIGURATION,
    GONG_POSTGRES_CONNECTION_ID,
    GONG_REDIS_CONNECTION_ID,
    GONG_SOURCE_ID,
    POSTGRES_CONFIGURATION,
    POSTGRES_DESTINATION_ID,
    REDIS_DESTINATION_ID,
    WORKSPACE_ID,
)
from sophia_mcp.cli.pipeline import render_plan
from sophia_mcp.pipeline.plan import PipelinePlan
from tests.pipeline.conftest import fast_sim, gong_only_sim, planner, writes

pytestmark = pytest.mark.anyio

FULL_REFRESH_ONLY = {"users", "scorecards"}
GONG_STREAMS = ["users", "calls", "extensiveCalls", "scorecards", "answeredScorecards", "callTranscripts"]
EXPECTED_MODES = {
    name: "full_refresh_overwrite" if name in FULL_REFRESH_ONLY else "incremental_append" for name in GONG_STREAMS
}
# A writer password with characters that must be percent-encoded in a URL.
PASSWORD = "wr1ter/Pa55@sophia"
POSTGRES_URL = "postgresql://airbyte_writer:wr1ter%2FPa55%40sophia@db.example.test:6543/sophia?sslmode=require"
# Where the seeded "Sophia Postgres" writes (host, port, database; schema public).
SEEDED_POSTGRES_URL = "postgresql://airbyte:an0ther-pw@localhost:5432/sophia"


def step_map(plan: PipelinePlan) -> dict[tuple[str, str], str]:
    return {(step.kind, step.name): step.action for step in plan.steps}


def planned_modes(plan: PipelinePlan, name: str) -> dict[str, str]:
    step = next(s for s in plan.steps if s.kind == "connection" and s.name == name)
    return dict(d.removeprefix("stream ").split(": ") for d in step.details if d.startswith("stream "))


def stored_modes(sim, connection_id: str) -> dict[str, str]:
    return {s["name"]: s["syncMode"] for s in sim.connections[connection_id].streams}


def connection_named(sim, name: str):
    found = [c for c in sim.connections.values() if c.name == name and not c.deleted]
    assert len(found) == 1, [c.name for c in sim.connections.values()]
    return found[0]


# ---- a half pipeline: the destination exists, the connection does not -------------------------------


async def test_plan_on_a_half_pipeline_creates_the_connection_only():
    sim = fast_sim(half_pipeline=True)
    async with planner(sim) as p:
        plan = await p.plan()
    assert plan.workspace_id == WORKSPACE_ID
    assert plan.source == f"Gong ({GONG_SOURCE_ID})"
    assert [(s.action, s.kind, s.name, s.id) for s in plan.steps] == [
        ("keep", "destination", "Sophia Postgres", POSTGRES_DESTINATION_ID),
        ("create", "connection", "Gong → Postgres", None),
    ]
    assert planned_modes(plan, "Gong → Postgres") == EXPECTED_MODES
    assert f"schedule cron {EVERY_SIX_HOURS} UTC" in plan.steps[1].details
    assert (plan.changes, plan.applied, plan.problems) == (1, False, [])
    # Planning reads; it never writes.
    assert writes(sim) == {} and sim.connections == {}
    assert sim.requests["GET", "/streams"] == 1


async def test_apply_creates_the_connection_and_a_second_apply_changes_nothing():
    sim = fast_sim(half_pipeline=True)
    async with planner(sim) as p:
        applied = await p.plan(apply=True)
        assert (applied.changes, applied.applied) == (1, True)
        created = connection_named(sim, "Gong → Postgres")
        assert applied.steps[1].id == created.connection_id
        assert (created.source_id, created.destination_id) == (GONG_SOURCE_ID, POSTGRES_DESTINATION_ID)
        assert created.schedule == {"scheduleType": "cron", "cronExpression": EVERY_SIX_HOURS}
        assert created.status == "active" and created.prefix == ""
        assert stored_modes(sim, created.connection_id) == EXPECTED_MODES
        assert writes(sim) == {("POST", "/connections"): 1}

        sim.requests.clear()
        again = await p.plan(apply=True)
    assert (again.changes, again.applied, again.problems) == (0, False, [])
    assert [s.action for s in again.steps] == ["keep", "keep"]
    assert again.steps[1].id == created.connection_id
    assert writes(sim) == {}
    assert len(sim.connections) == 1


async def test_the_full_seed_is_already_the_pipeline():
    sim = fast_sim()
    async with planner(sim) as p:
        plan = await p.plan(apply=True)
    assert step_map(plan) == {("destination", "Sophia Postgres"): "keep", ("connection", "Gong → Postgres"): "keep"}
    assert plan.changes == 0 and writes(sim) == {}


# ---- drift ----------------------------------------------------------------------------------------------


def _manual(connection) -> str:
    connection.schedule = {"scheduleType": "manual"}
    return "schedule: manual → cron 0 0 */6 * * ?"


def _daily(connection) -> str:
    connection.schedule = {"scheduleType": "cron", "cronExpression": DAILY_AT_TWO}
    return f"schedule: {DAILY_AT_TWO} → cron 0 0 */6 * * ?"


def _calls_full_refresh(connection) -> str:
    next(s for s in connection.streams if s["name"] == "calls").update(syncMode="full_refresh_append", cursorField=[])
    return "stream calls: full_refresh_append → incremental_append"


def _transcripts_dropped(connection) -> str:
    connection.streams = [s for s in connection.streams if s["name"] != "callTranscripts"]
    return "stream callTranscripts: not synced → incremental_append"


@pytest.mark.parametrize("drift", [_manual, _daily, _calls_full_refresh, _transcripts_dropped])
async def test_a_drifted_connection_is_updated(drift):
    sim = fast_sim()
    connection = sim.connections[GONG_POSTGRES_CONNECTION_ID]
    expected_change = drift(connection)
    async with planner(sim) as p:
        plan = await p.plan()
        step = plan.steps[1]
        assert (step.action, step.kind, step.id) == ("update", "connection", GONG_POSTGRES_CONNECTION_ID)
        assert step.details == [expected_change]
        assert plan.changes == 1 and writes(sim) == {}

        applied = await p.plan(apply=True)
        assert applied.applied
        assert writes(sim) == {("PATCH", "/connections/{connectionId}"): 1}
        assert connection.schedule == {"scheduleType": "cron", "cronExpression": EVERY_SIX_HOURS}
        assert stored_modes(sim, GONG_POSTGRES_CONNECTION_ID) == EXPECTED_MODES

        after = await p.plan()
    assert after.changes == 0 and after.steps[1].action == "keep"


async def test_both_schedule_and_mode_drift_are_one_update():
    sim = fast_sim()
    connection = sim.connections[GONG_POSTGRES_CONNECTION_ID]
    changes = [_manual(connection), _calls_full_refresh(connection)]
    async with planner(sim) as p:
        plan = await p.plan(apply=True)
    assert plan.steps[1].details == changes and plan.changes == 1
    assert writes(sim) == {("PATCH", "/connections/{connectionId}"): 1}


async def test_the_same_cron_written_with_other_spacing_is_not_drift():
    sim = fast_sim()
    sim.connections[GONG_POSTGRES_CONNECTION_ID].schedule = {"scheduleType": "cron", "cronExpression": "0  0 */6 * *  ?"}
    async with planner(sim, pipeline={"SOPHIA_PIPELINE_CRON": " 0 0 */6 * * ? "}) as p:
        plan = await p.plan(apply=True)
    assert plan.changes == 0 and writes(sim) == {}


async def test_an_inactive_connection_is_kept_and_said_to_be_inactive():
    sim = fast_sim()
    sim.connections[GONG_POSTGRES_CONNECTION_ID].status = "inactive"
    async with planner(sim) as p:
        plan = await p.plan(apply=True)
    assert plan.steps[1].action == "keep" and "status inactive" in plan.steps[1].details[0]
    assert writes(sim) == {}


async def test_a_custom_schedule_from_settings():
    sim = fast_sim(half_pipeline=True)
    async with planner(sim, pipeline={"SOPHIA_PIPELINE_CRON": DAILY_AT_TWO}) as p:
        await p.plan(apply=True)
        assert connection_named(sim, "Gong → Postgres").schedule["cronExpression"] == DAILY_AT_TWO
        assert (await p.plan()).changes == 0


async def test_a_unix_cron_is_refused_before_anything_is_written():
    sim = fast_sim(half_pipeline=True)
    async with planner(sim, pipeline={"SOPHIA_PIPELINE_CRON": "0 */6 * * *"}) as p:
        plan = await p.plan(apply=True)
    assert step_map(plan)["connection", "Gong → Postgres"] == "blocked"
    assert any("SOPHIA_PIPELINE_CRON" in problem and "Quartz" in problem for problem in plan.problems)
    assert writes(sim) == {} and sim.connections == {}


# ---- destinations from settings, and their secrets -------------------------------------------------------


async def test_an_empty_workspace_gets_destination_and_connection_in_one_apply(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)
    sim = gong_only_sim()
    async with planner(sim, pipeline={"SOPHIA_DEST_POSTGRES_URL": POSTGRES_URL}) as p:
        plan = await p.plan()
        assert [(s.action, s.kind, s.name) for s in plan.steps] == [
            ("create", "destination", "Sophia Postgres"),
            ("create", "connection", "Gong → Postgres"),
        ]
        assert plan.steps[0].details == [
            "type postgres", "host=db.example.test", "port=6543", "database=sophia", "schema=public",
        ]
        # Without the destination yet, modes come from what the source supports.
        assert planned_modes(plan, "Gong → Postgres") == EXPECTED_MODES
        assert (plan.changes, plan.problems) == (2, []) and writes(sim) == {}

        applied = await p.plan(apply=True)
        again = await p.plan(apply=True)
    assert (applied.changes, applied.applied) == (2, True)
    assert writes(sim) == {("POST", "/destinations"): 1, ("POST", "/connections"): 1}
    (destination,) = sim.destinations.values()
    assert destination.name == "Sophia Postgres" and destination.type == "postgres"
    # The writer account reached Airbyte, decoded from the URL ...
    assert {key: destination.configuration[key] for key in ("host", "port", "database", "schema", "username")} == {
        "host": "db.example.test", "port": 6543, "database": "sophia", "schema": "public", "username": "airbyte_writer",
    }
    assert destination.configuration["password"] == PASSWORD
    assert destination.configuration["ssl_mode"] == {"mode": "require"}
    created = connection_named(sim, "Gong → Postgres")
    assert applied.steps[0].id == destination.id and applied.steps[1].id == created.connection_id
    assert created.destination_id == destination.id
    assert stored_modes(sim, created.connection_id) == EXPECTED_MODES
    assert again.changes == 0 and [s.action for s in again.steps] == ["keep", "keep"]
    # ... and nowhere else.
    for shown in (plan, applied, again):
        for text in (shown.model_dump_json(), render_plan(shown)):
            assert PASSWORD not in text and "wr1ter%2FPa55" not in text and "wr1ter" not in text
    assert caplog.records, "nothing was logged: the check below would prove nothing"
    assert "wr1ter" not in caplog.text


async def test_an_existing_destination_is_kept_and_its_credentials_not_sent_again():
    sim = fast_sim(half_pipeline=True)
    async with planner(sim, pipeline={"SOPHIA_DEST_POSTGRES_URL": SEEDED_POSTGRES_URL}) as p:
        plan = await p.plan(apply=True)
    assert [s.action for s in plan.steps] == ["keep", "create"]
    assert writes(sim) == {("POST", "/connections"): 1}
    assert sim.destinations[POSTGRES_DESTINATION_ID].configuration["password"] == POSTGRES_CONFIGURATION["password"]


@pytest.mark.parametrize(
    ("url", "settings", "difference"),
    [
        (POSTGRES_URL, {}, "host localhost (settings: db.example.test)"),
        ("postgresql://airbyte:pw@localhost:5432/other_db", {}, "database sophia (settings: other_db)"),
        ("postgresql://airbyte:pw@localhost:5432/sophia", {"SOPHIA_GONG_SCHEMA": "gong"}, "schema public (settings: gong)"),
    ],
    ids=["other-host", "other-database", "other-schema"],
)
async def test_a_destination_writing_elsewhere_is_a_conflict_that_apply_refuses(url, settings, difference):
    sim = fast_sim(half_pipeline=True)
    async with planner(sim, pipeline={"SOPHIA_DEST_POSTGRES_URL": url}, postgres=settings) as p:
        plan = await p.plan()
        applied = await p.plan(apply=True)
    for shown in (plan, applied):
        assert [(s.action, s.kind) for s in shown.steps] == [("conflict", "destination"), ("blocked", "connection")]
        assert difference in shown.steps[0].details[0]
        assert any("writes elsewhere" in problem and POSTGRES_DESTINATION_ID in problem for problem in shown.problems)
        assert "pw" not in render_plan(shown) and "wr1ter" not in render_plan(shown)
    assert not applied.applied and any(problem.startswith("Nothing was applied") for problem in applied.problems)
    assert writes(sim) == {}


async def test_without_the_postgres_url_a_missing_destination_blocks_the_pipeline():
    sim = gong_only_sim()
    async with planner(sim) as p:
        plan = await p.plan(apply=True)
    assert [(s.action, s.kind) for s in plan.steps] == [("blocked", "destination"), ("blocked", "connection")]
    assert plan.changes == 0 and not plan.applied
    assert len(plan.problems) == 1 and "SOPHIA_DEST_POSTGRES_URL is not set" in plan.problems[0]
    assert writes(sim) == {} and sim.requests["GET", "/streams"] == 0


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # A password with an unencoded "/" ends the host part: the port is then the password's start.
        ("postgresql://writer:Zq9/xK@db.example.test/sophia", "must look like postgresql://"),
        ("mysql://writer:Zq9xK@db.example.test/sophia", "must look like postgresql://"),
        ("postgresql://:Zq9xK@db.example.test/sophia", "has no user"),
        ("postgresql://writer:Zq9xK@db.example.test/sophia?sslmode=verify-full", "verify-full need certificates"),
    ],
)
async def test_a_bad_postgres_url_is_a_problem_that_never_quotes_it(url: str, expected: str):
    sim = gong_only_sim()
    async with planner(sim, pipeline={"SOPHIA_DEST_POSTGRES_URL": url}) as p:
        plan = await p.plan(apply=True)
    assert [s.action for s in plan.steps] == ["blocked", "blocked"]
    assert len(plan.problems) == 1 and expected in plan.problems[0]
    assert "Zq9" not in plan.model_dump_json()
    assert writes(sim) == {}


async def test_a_url_without_sslmode_asks_for_ssl_when_available():
    sim = gong_only_sim()
    async with planner(sim, pipeline={"SOPHIA_DEST_POSTGRES_URL": "postgres://writer:pw@db.example.test/sophia"}) as p:
        await p.plan(apply=True)
    (destination,) = sim.destinations.values()
    assert destination.configuration["ssl_mode"] == {"mode": "prefer"} and destination.configuration["port"] == 5432


async def test_the_schema_and_table_prefix_the_server_reads_are_where_airbyte_writes():
    sim = gong_only_sim()
    settings = {
        "pipeline": {"SOPHIA_DEST_POSTGRES_URL": POSTGRES_URL},
        "postgres": {"SOPHIA_GONG_SCHEMA": "gong", "SOPHIA_GONG_TABLE_PREFIX": "gong_"},
    }
    async with planner(sim, **settings) as p:
        await p.plan(apply=True)
        again = await p.plan()
    (destination,) = sim.destinations.values()
    assert destination.configuration["schema"] == "gong"
    assert connection_named(sim, "Gong → Postgres").prefix == "gong_"
    assert again.changes == 0 and again.problems == []


async def test_a_connection_writing_another_prefix_is_reported_not_changed():
    sim = fast_sim()
    async with planner(sim, postgres={"SOPHIA_GONG_TABLE_PREFIX": "gong_"}) as p:
        plan = await p.plan(apply=True)
    assert plan.changes == 0 and writes(sim) == {}
    assert len(plan.problems) == 1 and "SOPHIA_GONG_TABLE_PREFIX=" in plan.problems[0]


async def test_redis_when_configured_updates_the_seeded_manual_connection():
    sim = fast_sim()
    async with planner(sim, pipeline={"SOPHIA_DEST_REDIS_URL": "redis://default:r3dis-pw@localhost:6379"}) as p:
        plan = await p.plan(apply=True)
    assert step_map(plan) == {
        ("destination", "Sophia Postgres"): "keep",
        ("connection", "Gong → Postgres"): "keep",
        ("destination", "Sophia Redis"): "keep",
        ("connection", "Gong → Redis"): "update",
    }
    redis = sim.connections[GONG_REDIS_CONNECTION_ID]
    assert redis.destination_id == REDIS_DESTINATION_ID
    assert redis.schedule == {"scheduleType": "cron", "cronExpression": EVERY_SIX_HOURS}
    assert stored_modes(sim, GONG_REDIS_CONNECTION_ID) == EXPECTED_MODES
    assert writes(sim) == {("PATCH", "/connections/{connectionId}"): 1}
    assert "r3dis-pw" not in plan.model_dump_json()


async def test_redis_is_created_beside_postgres():
    sim = fast_sim(half_pipeline=True)
    url = "rediss://cache:r3dis%20pw@cache.example.com"
    async with planner(sim, pipeline={"SOPHIA_DEST_REDIS_URL": url}) as p:
        plan = await p.plan(apply=True)
    assert [(s.action, s.name) for s in plan.steps] == [
        ("keep", "Sophia Postgres"), ("create", "Gong → Postgres"), ("create", "Sophia Redis"), ("create", "Gong → Redis"),
    ]
    redis = next(d for d in sim.destinations.values() if d.name == "Sophia Redis")
    assert redis.configuration | {"password": None} == {
        "destinationType": "redis", "host": "cache.example.com", "port": 6379, "username": "cache", "password": None,
        "cache_type": "hash", "ssl": True,
    }
    assert redis.configuration["password"] == "r3dis pw"
    assert "r3dis" not in plan.model_dump_json()


QDRANT = {"SOPHIA_DEST_QDRANT_URL": "https://qdrant.example.com:6333", "SOPHIA_DEST_QDRANT_API_KEY": "qdr-key-123"}
OPENAI = {"SOPHIA_EMBEDDING_PROVIDER": "openai", "SOPHIA_EMBEDDING_URL": "https://embed.example.com/v1",
          "SOPHIA_EMBEDDING_API_KEY": "emb-key-456"}


async def test_qdrant_gets_the_call_content_streams_deduplicated():
    sim = fast_sim(half_pipeline=True)
    async with planner(sim, pipeline=QDRANT, embedding=OPENAI) as p:
        plan = await p.plan(apply=True)
        again = await p.plan()
    assert [(s.action, s.name) for s in plan.steps][2:] == [("create", "Sophia Qdrant"), ("create", "Gong → Qdrant")]
    assert "url=https://qdrant.example.com:6333" in plan.steps[2].details
    qdrant = connection_named(sim, "Gong → Qdrant")
    assert stored_modes(sim, qdrant.connection_id) == {
        "extensiveCalls": "incremental_deduped_history", "callTranscripts": "incremental_deduped_history",
    }
    destination = sim.destinations[qdrant.destination_id].configuration
    assert destination["indexing"]["auth_method"] == {"mode": "api_key_auth", "api_key": "qdr-key-123"}
    assert destination["embedding"]["api_key"] == "emb-key-456"
    assert {"from_field": "callId", "to_field": "call_id"} in destination["processing"]["field_name_mappings"]
    text = plan.model_dump_json()
    assert "qdr-key-123" not in text and "emb-key-456" not in text
    assert again.changes == 0


async def test_qdrant_without_an_embedding_endpoint_is_a_problem():
    sim = fast_sim(half_pipeline=True)
    async with planner(sim, pipeline=QDRANT) as p:
        plan = await p.plan(apply=True)
    assert step_map(plan)["destination", "Sophia Qdrant"] == "blocked"
    assert step_map(plan)["connection", "Gong → Qdrant"] == "blocked"
    assert step_map(plan)["connection", "Gong → Postgres"] == "create"  # the rest still goes ahead
    assert any("SOPHIA_EMBEDDING_URL" in problem for problem in plan.problems)
    assert [d.name for d in sim.destinations.values()] == ["Sophia Postgres"]


# ---- sync modes from GET /streams ----------------------------------------------------------------------------


async def test_a_stream_that_refuses_incremental_gets_full_refresh(monkeypatch: pytest.MonkeyPatch):
    # This source's `calls` has no cursor: the simulator offers it, and accepts it, as full refresh only.
    streams = tuple(StreamSpec("calls", ("id",)) if s.name == "calls" else s for s in catalog.GONG_STREAMS)
    monkeypatch.setitem(catalog.STREAMS_BY_SOURCE_TYPE, "gong", streams)
    sim = fast_sim(half_pipeline=True)
    with pytest.raises(ProblemError):  # the simulator would refuse an incremental `calls`
        sim.add_connection("probe", GONG_SOURCE_ID, POSTGRES_DESTINATION_ID,
                           configurations={"streams": [{"name": "calls", "syncMode": "incremental_append"}]})
    async with planner(sim) as p:
        plan = await p.plan(apply=True)
    expected = EXPECTED_MODES | {"calls": "full_refresh_overwrite"}
    assert planned_modes(plan, "Gong → Postgres") == expected
    assert stored_modes(sim, connection_named(sim, "Gong → Postgres").connection_id) == expected


async def test_a_destination_that_refuses_incremental_gets_full_refresh_everywhere(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(catalog.UNSUPPORTED_BY_DESTINATION, "postgres", frozenset(INCREMENTAL_MODES))
    sim = fast_sim(half_pipeline=True)
    async with planner(sim) as p:
        plan = await p.plan(apply=True)
    assert set(planned_modes(plan, "Gong → Postgres").values()) == {"full_refresh_overwrite"}
    assert plan.applied


# ---- what cannot be planned -----------------------------------------------------------------------------------


async def test_no_gong_source_is_a_clear_problem():
    sim = fast_sim(half_pipeline=True)
    del sim.sources[GONG_SOURCE_ID]
    async with planner(sim) as p:
        plan = await p.plan(apply=True)
    assert plan.steps == [] and plan.changes == 0 and plan.source is None
    assert plan.problems == [
        "The workspace has no Gong source; create the Gong source in Airbyte first (it holds the Gong API key)."
    ]
    assert writes(sim) == {}
    assert "problem: The workspace has no Gong source" in render_plan(plan)


async def test_a_named_source_that_does_not_exist_is_a_problem():
    sim = fast_sim(half_pipeline=True)
    async with planner(sim, pipeline={"SOPHIA_PIPELINE_SOURCE_NAME": "Gong EU"}) as p:
        plan = await p.plan()
    assert "no source named 'Gong EU' (SOPHIA_PIPELINE_SOURCE_NAME)" in plan.problems[0]


async def test_two_gong_sources_need_a_name():
    sim = fast_sim(half_pipeline=True)
    sim.add_source("Gong EU", "gong", WORKSPACE_ID, GONG_CONFIGURATION)
    async with planner(sim) as p:
        assert "SOPHIA_PIPELINE_SOURCE_NAME" in (await p.plan()).problems[0]
    async with planner(sim, pipeline={"SOPHIA_PIPELINE_SOURCE_NAME": "Gong"}) as p:
        plan = await p.plan()
    assert plan.problems == [] and plan.source == f"Gong ({GONG_SOURCE_ID})"


async def test_two_destinations_with_the_pipeline_name_are_not_guessed_between():
    sim = fast_sim(half_pipeline=True)
    sim.add_destination("Sophia Postgres", "postgres", WORKSPACE_ID, POSTGRES_CONFIGURATION)
    async with planner(sim) as p:
        plan = await p.plan(apply=True)
    assert [s.action for s in plan.steps] == ["blocked", "blocked"]
    assert "Several destinations are named 'Sophia Postgres'" in plan.problems[0]
    assert writes(sim) == {}


async def test_a_connection_with_the_pipeline_name_but_other_ends_is_not_touched():
    sim = fast_sim()
    other = sim.add_destination("Other Postgres", "postgres", WORKSPACE_ID, POSTGRES_CONFIGURATION)
    sim.connections[GONG_POSTGRES_CONNECTION_ID].destination_id = other.id
    async with planner(sim) as p:
        plan = await p.plan(apply=True)
    assert step_map(plan)["connection", "Gong → Postgres"] == "blocked"
    assert "cannot re-point a connection" in plan.problems[0]
    assert writes(sim) == {}


async def test_an_apply_that_fails_half_way_says_so_and_the_next_apply_finishes():
    sim = gong_only_sim()
    # GET /connections (listing) passes; the POST /connections after it is refused.
    sim.faults.queue_delay(0.0, path_prefix="/connections")
    sim.faults.queue_status(400, path_prefix="/connections")
    async with planner(sim, pipeline={"SOPHIA_DEST_POSTGRES_URL": POSTGRES_URL}) as p:
        with pytest.raises(AirbyteError) as failure:
            await p.plan(apply=True)
        assert "stopped at create connection 'Gong → Postgres'" in str(failure.value)
        assert "wr1ter" not in str(failure.value)
        assert [d.name for d in sim.destinations.values()] == ["Sophia Postgres"] and sim.connections == {}
        finished = await p.plan(apply=True)
    assert [s.action for s in finished.steps] == ["keep", "create"]
    assert len(sim.destinations) == 1 and len(sim.connections) == 1
