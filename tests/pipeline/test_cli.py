"""`sophia-mcp pipeline plan|apply|sync` as a user runs it: a subprocess against a real simulator server."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sophia_mcp.sample.airbyte_sim import Simulator
from tests.pipeline.conftest import fast_sim, writes

# Where the seeded "Sophia Postgres" writes: the pipeline reuses it.
POSTGRES_URL = "postgresql://airbyte_writer:cl1-s3cret@localhost:5432/sophia"


@pytest.fixture
def airbyte_sim() -> Simulator:
    """The half pipeline (overrides the shared fixture, so `airbyte_sim_url` serves it)."""
    return fast_sim(half_pipeline=True)


def sophia_mcp(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "SYSTEMROOT", "SOPHIA_GONG_SNAPSHOT_DIR") if key in os.environ}
    return subprocess.run(
        [sys.executable, "-m", "sophia_mcp", *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_pipeline_plan_apply_plan_sync(airbyte_sim: Simulator, airbyte_sim_env: dict[str, str]):
    env = {**airbyte_sim_env, "SOPHIA_DEST_POSTGRES_URL": POSTGRES_URL}

    plan = sophia_mcp(env, "pipeline", "plan")
    assert plan.returncode == 0, plan.stderr
    lines = plan.stdout.splitlines()
    assert lines[0].startswith("Workspace 5091a000-0001-") and "source Gong (" in lines[0]
    assert "  keep     destination  Sophia Postgres (5091a000-0003-4000-8000-000000000001)" in lines
    assert "  create   connection   Gong → Postgres" in lines
    assert "             stream users: full_refresh_overwrite" in lines
    assert "             stream calls: incremental_append" in lines
    assert lines[-1] == "1 change(s) to apply."
    assert writes(airbyte_sim) == {} and airbyte_sim.connections == {}

    apply = sophia_mcp(env, "pipeline", "apply")
    assert apply.returncode == 0, apply.stderr
    assert apply.stdout.splitlines()[-1] == "1 change(s) applied."
    assert [c.name for c in airbyte_sim.connections.values()] == ["Gong → Postgres"]

    again = sophia_mcp(env, "pipeline", "plan")
    assert again.returncode == 0 and again.stdout.splitlines()[-1] == "Nothing to change."

    sync = sophia_mcp(env, "pipeline", "sync", "--name", "postgres")
    assert sync.returncode == 0, sync.stderr
    assert sync.stdout.startswith("Gong → Postgres (") and ": started sync job " in sync.stdout
    assert airbyte_sim.requests["POST", "/jobs"] == 1

    for run in (plan, apply, again, sync):
        assert "cl1-s3cret" not in run.stdout + run.stderr


def test_pipeline_plan_with_problems_exits_1(airbyte_sim: Simulator, airbyte_sim_env: dict[str, str]):
    airbyte_sim.destinations.clear()
    plan = sophia_mcp({**airbyte_sim_env, "SOPHIA_AIRBYTE_SIMULATED": "true"}, "pipeline", "plan")
    assert plan.returncode == 1, plan.stderr
    assert "  problem: SOPHIA_DEST_POSTGRES_URL is not set" in plan.stdout
    assert plan.stdout.splitlines()[-1] == "(This Airbyte is the Sophia simulator, not a real Airbyte.)"
