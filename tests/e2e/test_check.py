"""`sophia-mcp check`: what is configured and whether each backend answers, never a secret."""

import os
import subprocess
import sys

from tests.e2e.conftest import REPO


def run_check(env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AIRBYTE_", "SOPHIA_", "QDRANT_"))}
    return subprocess.run(
        [sys.executable, "-m", "sophia_mcp", "check"], env={**clean, **env}, cwd=REPO,
        capture_output=True, text=True, timeout=120,
    )


def test_check_reports_each_backend_without_secrets(airbyte_sim_env: dict[str, str], gong_postgres_url: str):
    done = run_check({**airbyte_sim_env, "SOPHIA_POSTGRES_URL": gong_postgres_url, "SOPHIA_HTTP_TOKEN": "tok-abcdef123456"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "status:           OK, workspace Sophia" in done.stdout
    assert f"failure details:  available from {airbyte_sim_env['AIRBYTE_CONFIG_API_URL']}" in done.stdout
    assert "Gong streams found: users, calls, extensiveCalls, scorecards, answeredScorecards, callTranscripts" in done.stdout
    assert "HTTP token:         set" in done.stdout
    for secret in (airbyte_sim_env["AIRBYTE_CLIENT_SECRET"], "tok-abcdef123456"):
        assert secret not in done.stdout + done.stderr


def test_check_says_why_failure_details_are_unavailable(airbyte_sim, airbyte_sim_env: dict[str, str]):
    airbyte_sim.config_api_refusal = 403
    done = run_check(airbyte_sim_env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "failure details:  Failure details are unavailable: the Configuration API at" in done.stdout
    assert "(HTTP 403)" in done.stdout


def test_check_fails_clearly_when_a_backend_is_down(airbyte_sim_env: dict[str, str]):
    done = run_check({**airbyte_sim_env, "AIRBYTE_CLIENT_SECRET": "wrong-secret",
                      "SOPHIA_POSTGRES_URL": "postgresql://reader:pg-secret-value@127.0.0.1:1/gong"})
    assert done.returncode == 1
    assert "Airbyte refused the client credentials" in done.stdout
    assert "Cannot reach Postgres at 127.0.0.1:1/gong" in done.stdout
    assert "wrong-secret" not in done.stdout and "pg-secret-value" not in done.stdout
    assert "Traceback" not in done.stderr


def test_check_lists_what_is_off_and_why(gong_postgres_url: str):
    done = run_check({"AIRBYTE_CLIENT_ID": "${AIRBYTE_CLIENT_ID}", "AIRBYTE_CLIENT_SECRET": "abc-secret-9",
                      "SOPHIA_POSTGRES_URL": gong_postgres_url, "SOPHIA_READ_ONLY": "true"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Tools served:       " in done.stdout and "read-only tools only" in done.stdout
    assert "off:              Airbyte tools (airbyte_*): AIRBYTE_CLIENT_ID is the placeholder '${AIRBYTE_CLIENT_ID}'" in done.stdout
    assert "off:              Semantic search (gong_semantic_search): QDRANT_URL" in done.stdout
    assert "Gong tools" not in done.stdout.split("Tools served:")[1]
    assert "abc-secret-9" not in done.stdout + done.stderr
