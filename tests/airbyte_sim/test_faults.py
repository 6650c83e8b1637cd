"""Each fault switch answers as the failure it imitates, for as long as it was queued."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest

pytestmark = pytest.mark.anyio


@pytest.fixture
def auth(airbyte_sim) -> dict[str, str]:
    token = airbyte_sim.issue_token(airbyte_sim.client_id, airbyte_sim.client_secret)["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def test_rate_limit_with_retry_after_seconds(airbyte_sim, raw_client, auth):
    airbyte_sim.faults.queue_rate_limit(retry_after=7)
    limited = await raw_client.get("/connections", headers=auth)
    assert (limited.status_code, limited.headers["retry-after"]) == (429, "7")
    assert (await raw_client.get("/connections", headers=auth)).status_code == 200


async def test_rate_limit_with_retry_after_as_an_http_date(airbyte_sim, raw_client, auth):
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=30)
    airbyte_sim.faults.queue_rate_limit(retry_after=when)
    limited = await raw_client.get("/connections", headers=auth)
    assert parsedate_to_datetime(limited.headers["retry-after"]) == when


async def test_rate_limit_without_retry_after(airbyte_sim, raw_client, auth):
    airbyte_sim.faults.queue_rate_limit(count=2)
    for _ in range(2):
        limited = await raw_client.get("/connections", headers=auth)
        assert limited.status_code == 429 and "retry-after" not in limited.headers
    assert (await raw_client.get("/connections", headers=auth)).status_code == 200


@pytest.mark.parametrize(("status", "shape"), [(500, "problem"), (502, "message"), (503, "problem"), (504, "message")])
async def test_server_errors_come_as_airbyte_problems_or_gateway_messages(airbyte_sim, raw_client, auth, status, shape):
    airbyte_sim.faults.queue_status(status)
    response = await raw_client.get("/jobs", headers=auth)
    assert response.status_code == status
    body = response.json()
    assert (body["status"] == status) if shape == "problem" else ("message" in body)


async def test_server_errors_are_spec_problems(airbyte_sim, raw_client, auth, spec):
    for status in (500, 503):
        airbyte_sim.faults.queue_status(status)
        assert spec.problem_errors((await raw_client.get("/jobs", headers=auth)).json()) == []


async def test_an_html_error_page_from_a_proxy(airbyte_sim, raw_client, auth):
    airbyte_sim.faults.queue_html_error(502)
    response = await raw_client.get("/jobs", headers=auth)
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.startswith("<!DOCTYPE html>")


async def test_a_malformed_json_body(airbyte_sim, raw_client, auth):
    airbyte_sim.faults.queue_malformed_json()
    response = await raw_client.get("/connections", headers=auth)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        response.json()


async def test_a_slow_answer_then_a_normal_one(airbyte_sim, raw_client, auth):
    airbyte_sim.faults.queue_delay(0.2)
    started = time.monotonic()
    assert (await raw_client.get("/workspaces", headers=auth)).status_code == 200
    assert time.monotonic() - started >= 0.2


async def test_a_scoped_fault_waits_for_its_path(airbyte_sim, raw_client, auth):
    airbyte_sim.faults.queue_status(503, path_prefix="/jobs")
    assert (await raw_client.get("/connections", headers=auth)).status_code == 200
    assert (await raw_client.get("/jobs/1", headers=auth)).status_code == 503
    assert airbyte_sim.faults.pending() == 0


async def test_health_is_spared_unless_the_fault_names_it(airbyte_sim, raw_client):
    airbyte_sim.faults.queue_status(503)
    assert (await raw_client.get("/health")).status_code == 200
    airbyte_sim.faults.clear()
    airbyte_sim.faults.queue_status(503, path_prefix="/health")
    assert (await raw_client.get("/health")).status_code == 503


async def test_a_permanent_fault_lasts_until_cleared(airbyte_sim, raw_client, auth):
    airbyte_sim.faults.queue_status(504, count=None)
    for _ in range(3):
        assert (await raw_client.get("/jobs", headers=auth)).status_code == 504
    airbyte_sim.faults.clear()
    assert (await raw_client.get("/jobs", headers=auth)).status_code == 200


async def test_faults_act_before_authentication_and_the_token_endpoint_is_not_spared(airbyte_sim, raw_client):
    airbyte_sim.faults.queue_status(503, count=2)
    assert (await raw_client.get("/jobs")).status_code == 503
    token = await raw_client.post("/applications/token", json={"client_id": "sophia-sim", "client_secret": "sim-pass"})
    assert token.status_code == 503


async def test_every_request_is_counted_by_path_template_faulted_or_not(airbyte_sim, raw_client, auth):
    airbyte_sim.faults.queue_status(502, path_prefix="/jobs")
    body = {"connectionId": "5091a000-0004-4000-8000-000000000002", "jobType": "sync"}
    assert (await raw_client.post("/jobs", headers=auth, json=body)).status_code == 502
    assert (await raw_client.post("/jobs", headers=auth, json=body)).status_code == 200
    await raw_client.get("/jobs/3", headers=auth)
    await raw_client.get("/jobs/4", headers=auth)
    assert airbyte_sim.requests["POST", "/jobs"] == 2
    assert airbyte_sim.requests["GET", "/jobs/{jobId}"] == 2


def test_a_fault_needs_a_positive_count(airbyte_sim):
    with pytest.raises(ValueError):
        airbyte_sim.faults.queue_status(500, count=0)
