"""The seeded Sophia workspace: fixed ids and names that tests and the demo can rely on.

Full seed: workspace "Sophia"; source "Gong"; destinations "Sophia Postgres" and "Sophia Redis";
connections "Gong → Postgres" (every six hours, healthy), "Gong → Redis" (manual) and
"Gong transcripts → Postgres" (daily, last job failed: the Gong key may not read transcripts, so its
syncs keep failing); a few days of job history.
Half pipeline: the workspace, "Gong" and "Sophia Postgres" only (what the pipeline tool completes).
Configuration secrets are fake and the API masks them anyway.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sophia_mcp.sample.airbyte_sim.failures import TRANSCRIPTS_FORBIDDEN
from sophia_mcp.sample.airbyte_sim.state import Simulator


def seeded_id(kind: int, number: int) -> str:
    """A readable, valid UUID: `kind` tells the resource class apart, `number` the row."""
    return f"5091a000-{kind:04x}-4000-8000-{number:012x}"


WORKSPACE_ID = seeded_id(1, 1)
WORKSPACE_NAME = "Sophia"
GONG_SOURCE_ID = seeded_id(2, 1)
GONG_SOURCE_NAME = "Gong"
POSTGRES_DESTINATION_ID = seeded_id(3, 1)
POSTGRES_DESTINATION_NAME = "Sophia Postgres"
REDIS_DESTINATION_ID = seeded_id(3, 2)
REDIS_DESTINATION_NAME = "Sophia Redis"
GONG_POSTGRES_CONNECTION_ID = seeded_id(4, 1)
GONG_POSTGRES_CONNECTION_NAME = "Gong → Postgres"
GONG_REDIS_CONNECTION_ID = seeded_id(4, 2)
GONG_REDIS_CONNECTION_NAME = "Gong → Redis"
FAILING_CONNECTION_ID = seeded_id(4, 3)
FAILING_CONNECTION_NAME = "Gong transcripts → Postgres"
EVERY_SIX_HOURS = "0 0 */6 * * ?"
DAILY_AT_TWO = "0 0 2 * * ?"
# Extra rows start here, far from the named ones.
FIRST_EXTRA = 1000

GONG_CONFIGURATION = {"access_key": "sim-gong-key", "access_key_secret": "sim-gong-secret",
                      "start_date": "2024-01-01T00:00:00Z"}
POSTGRES_CONFIGURATION = {"host": "localhost", "port": 5432, "database": "sophia", "schema": "public",
                          "username": "airbyte", "password": "sim-pg-pass", "ssl_mode": {"mode": "disable"}}
REDIS_CONFIGURATION = {"host": "localhost", "port": 6379, "username": "default", "password": "sim-redis-pass",
                       "cache_type": "hash", "ssl": False}


def seeded(
    *,
    half_pipeline: bool = False,
    failing_backfill: bool | None = None,
    extra_sources: int = 0,
    extra_destinations: int = 0,
    extra_connections: int = 0,
    extra_jobs: int = 0,
    **options: Any,
) -> Simulator:
    """A simulator holding the Sophia workspace; `options` go to `Simulator`. `half_pipeline`: Gong source and
    "Sophia Postgres" only, no pipeline connection. `failing_backfill` (default: with the full seed) adds
    "Gong transcripts → Postgres", whose last job failed because the Gong key may not read transcripts.
    `extra_*` add that many more rows, to cross pages."""
    sim = Simulator(**options)
    _populate(sim, half_pipeline=half_pipeline, extra_sources=extra_sources, extra_destinations=extra_destinations,
              extra_connections=extra_connections, extra_jobs=extra_jobs,
              failing_backfill=not half_pipeline if failing_backfill is None else failing_backfill)
    return sim


def _populate(sim: Simulator, *, half_pipeline: bool, extra_sources: int, extra_destinations: int,
              extra_connections: int, extra_jobs: int, failing_backfill: bool) -> None:
    sim.add_workspace(WORKSPACE_NAME, WORKSPACE_ID)
    sim.add_source(GONG_SOURCE_NAME, "gong", WORKSPACE_ID, GONG_CONFIGURATION, GONG_SOURCE_ID)
    sim.add_destination(POSTGRES_DESTINATION_NAME, "postgres", WORKSPACE_ID, POSTGRES_CONFIGURATION,
                        POSTGRES_DESTINATION_ID)
    # (connection id, hours ago, minutes run, failed), put in order so job ids grow with time.
    history: list[tuple[str, float, float, bool]] = []
    if not half_pipeline:
        history += _add_pipeline(sim)
    if failing_backfill:
        history += _add_failing_backfill(sim)
    for number in range(FIRST_EXTRA, FIRST_EXTRA + extra_sources):
        sim.add_source(f"Extra source {number}", "file", WORKSPACE_ID,
                       {"dataset_name": f"extra_{number}", "format": "csv", "url": "https://example.com/extra.csv"},
                       seeded_id(2, number))
    for number in range(FIRST_EXTRA, FIRST_EXTRA + extra_destinations):
        sim.add_destination(f"Extra destination {number}", "dev-null", WORKSPACE_ID,
                            {"test_destination": {"test_destination_type": "SILENT"}}, seeded_id(3, number))
    for number in range(FIRST_EXTRA, FIRST_EXTRA + extra_connections):
        # Inactive, so "every active connection" logic is not swamped by rows added for paging.
        sim.add_connection(f"Extra connection {number}", GONG_SOURCE_ID, POSTGRES_DESTINATION_ID,
                           seeded_id(4, number), status="inactive",
                           configurations={"streams": [{"name": "users"}]})
    if extra_jobs:
        if not sim.connections:
            raise ValueError("extra_jobs needs a connection: use the full seed or extra_connections")
        target = next(iter(sim.connections))
        # Older than the named history: hourly runs before it.
        history += [(target, 24 * 7 + index, 3.0, False) for index in range(extra_jobs)]
    for connection_id, hours_ago, minutes, failed in sorted(history, key=lambda row: -row[1]):
        sim.add_past_job(connection_id, timedelta(hours=hours_ago), timedelta(minutes=minutes), fails=failed)


def _add_pipeline(sim: Simulator) -> list[tuple[str, float, float, bool]]:
    sim.add_destination(REDIS_DESTINATION_NAME, "redis", WORKSPACE_ID, REDIS_CONFIGURATION, REDIS_DESTINATION_ID)
    sim.add_connection(GONG_POSTGRES_CONNECTION_NAME, GONG_SOURCE_ID, POSTGRES_DESTINATION_ID,
                       GONG_POSTGRES_CONNECTION_ID,
                       schedule={"scheduleType": "cron", "cronExpression": EVERY_SIX_HOURS})
    sim.add_connection(GONG_REDIS_CONNECTION_NAME, GONG_SOURCE_ID, REDIS_DESTINATION_ID, GONG_REDIS_CONNECTION_ID,
                       configurations={"streams": [{"name": "users"}, {"name": "calls"}]})
    every_six_hours = [(GONG_POSTGRES_CONNECTION_ID, 2 + 6 * run, 4.0 + run % 3, False) for run in range(8)]
    return every_six_hours + [(GONG_REDIS_CONNECTION_ID, 26, 1.5, False)]


def _add_failing_backfill(sim: Simulator) -> list[tuple[str, float, float, bool]]:
    sim.add_connection(FAILING_CONNECTION_NAME, GONG_SOURCE_ID, POSTGRES_DESTINATION_ID, FAILING_CONNECTION_ID,
                       prefix="backfill_", schedule={"scheduleType": "cron", "cronExpression": DAILY_AT_TWO},
                       configurations={"streams": [{"name": "callTranscripts", "syncMode": "incremental_append"}]})
    sim.fail_connections.add(FAILING_CONNECTION_ID)
    sim.failures[FAILING_CONNECTION_ID] = TRANSCRIPTS_FORBIDDEN
    return [(FAILING_CONNECTION_ID, 46, 12.0, False), (FAILING_CONNECTION_ID, 22, 7.0, True)]
