"""What the hub's operators get from `sophia-mcp serve --transport http`: Prometheus metrics and a
readiness check behind the token, liveness without it, one log line per tool call and per request
(JSON lines on stderr with SOPHIA_LOG_FORMAT=json), never a tool's arguments."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.e2e.conftest import error_text, tool_json
from tests.fixtures.processes import http_server_process

pytestmark = pytest.mark.anyio

TOKEN = "operators-token-0123456789abcdef"
ARGUMENT_MARKER = "zebra-argument-8841"


def client_for(base: str) -> Client:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    return Client(streamable_http_client(f"{base}/mcp", http_client=httpx2.AsyncClient(headers=headers, timeout=60)))


def sample(metrics: str, name: str, **labels: str) -> float:
    """The value of one sample of the Prometheus text, 0 when absent."""
    for line in metrics.splitlines():
        match = re.fullmatch(rf"{name}(?:\{{(.*)\}})? (\S+)", line)
        if match and all(f'{key}="{value}"' in (match.group(1) or "") for key, value in labels.items()):
            return float(match.group(2))
    return 0.0


async def test_metrics_readiness_and_log_lines(airbyte_sim_env, gong_postgres_url, tmp_path: Path):
    env = {**airbyte_sim_env, "SOPHIA_POSTGRES_URL": gong_postgres_url, "SOPHIA_HTTP_TOKEN": TOKEN,
           "SOPHIA_LOG_LEVEL": "INFO", "SOPHIA_LOG_FORMAT": "json"}
    log_path = tmp_path / "stderr.log"
    with open(log_path, "wb") as log, http_server_process(env, stderr=log) as (base, _):
        async with client_for(base) as client:
            tool_json(await client.call_tool("airbyte_list_connections", {}))
            tool_json(await client.call_tool("gong_search_calls", {"text": ARGUMENT_MARKER, "limit": 2}))
            error_text(await client.call_tool("airbyte_get_job", {"job_id": 987654321}))
        async with httpx.AsyncClient(base_url=base, timeout=30) as raw:
            auth = {"Authorization": f"Bearer {TOKEN}"}
            assert (await raw.get("/metrics")).status_code == 401
            assert (await raw.get("/readyz")).status_code == 401
            assert (await raw.get("/healthz")).json() == {"status": "ok"}
            scraped = await raw.get("/metrics", headers=auth)
            ready = await raw.get("/readyz", headers=auth)

    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    text = scraped.text
    assert sample(text, "sophia_tool_calls_total", tool="airbyte_list_connections", outcome="ok") == 1
    assert sample(text, "sophia_tool_calls_total", tool="gong_search_calls", outcome="ok") == 1
    assert sample(text, "sophia_tool_calls_total", tool="airbyte_get_job", outcome="error") == 1
    assert sample(text, "sophia_tool_call_seconds_count", tool="gong_search_calls") == 1
    assert sample(text, "sophia_tool_call_seconds_bucket", tool="gong_search_calls", le="+Inf") == 1
    assert sample(text, "sophia_airbyte_requests_total", status="200") >= 2  # the token, then the list
    assert sample(text, "sophia_airbyte_requests_total", status="404") >= 1
    assert "sophia_airbyte_retries_total" in text
    assert sample(text, "sophia_postgres_pool_connections", state="idle") >= 1
    assert sample(text, "sophia_postgres_pool_connections", state="in_use") == 0
    assert "sophia_postgres_pool_waiting 0.0" in text
    assert "# TYPE sophia_search_seconds histogram" in text
    assert TOKEN not in text and ARGUMENT_MARKER not in text

    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ready", "backends": {"airbyte": "ok", "postgres": "ok", "search": "off"}}

    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    calls = [line for line in lines if line["logger"] == "sophia_mcp.calls"]
    assert [(c["tool"], c["outcome"]) for c in calls] == [
        ("airbyte_list_connections", "ok"), ("gong_search_calls", "ok"), ("airbyte_get_job", "error")]
    for call in calls:
        assert call["level"] == "INFO" and call["duration_ms"] > 0 and call["request_id"]
    access = [line for line in lines if line["logger"] == "sophia_mcp.access"]
    assert {(a["method"], a["path"], a["status"]) for a in access} >= {
        ("POST", "/mcp", 200), ("GET", "/metrics", 401), ("GET", "/metrics", 200), ("GET", "/readyz", 200)}
    whole_log = log_path.read_text()
    assert ARGUMENT_MARKER not in whole_log and TOKEN not in whole_log
    assert airbyte_sim_env["AIRBYTE_CLIENT_SECRET"] not in whole_log


async def test_readiness_names_the_backend_that_fails(airbyte_sim_env):
    env = {**airbyte_sim_env, "SOPHIA_HTTP_TOKEN": TOKEN,
           "SOPHIA_POSTGRES_URL": "postgresql://reader:pg-secret-value@127.0.0.1:1/gong"}
    with http_server_process(env) as (base, _):
        async with httpx.AsyncClient(base_url=base, timeout=30) as raw:
            ready = await raw.get("/readyz", headers={"Authorization": f"Bearer {TOKEN}"})
            live = await raw.get("/healthz")
    assert ready.status_code == 503
    body = ready.json()
    assert body["failed"] == ["postgres"] and body["backends"]["airbyte"] == "ok"
    assert body["backends"]["postgres"].startswith("failed: ") and "127.0.0.1:1" in body["backends"]["postgres"]
    assert "pg-secret-value" not in ready.text
    assert live.status_code == 200  # liveness does not depend on the backends
