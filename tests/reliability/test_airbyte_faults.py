"""Airbyte faults through the real server and the official MCP client: every call ends, in time,
with a result or a message that says what happened; the next call works."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import anyio
import httpx
import pytest

from sophia_mcp.sample.airbyte_sim import Simulator, create_app, serve_in_thread
from sophia_mcp.sample.airbyte_sim.seed import (
    FAILING_CONNECTION_ID,
    GONG_POSTGRES_CONNECTION_ID,
    GONG_REDIS_CONNECTION_ID,
)
from tests.e2e.conftest import error_text, tool_json
from tests.reliability.support import (
    CALL_LIMIT_SECONDS,
    assert_clear_answer,
    fast_sim,
    list_tools,
    minimal_arguments,
    reliability_settings,
    served,
    text_of,
)

pytestmark = pytest.mark.anyio

DEADLINE = 2.0
# Longer than any deadline here: the answer "never comes" (and the simulator's shutdown waits it out).
SILENCE = 2.0
# Scheduling, the last request's own time and the MCP round trip, on a loaded 2-core machine.
SLACK = 1.5
# A mixed burst: each entry is one tool call; together they hit lists, single lookups and jobs.
BURST = [
    ("airbyte_list_connections", {}),  # 1 + one job lookup per connection
    ("airbyte_get_connection", {"connection_id": GONG_POSTGRES_CONNECTION_ID}),
    ("airbyte_list_jobs", {"connection_id": FAILING_CONNECTION_ID}),
    ("airbyte_get_job", {"job_id": 1}),
    ("airbyte_list_workspaces", {}),
]


@pytest.fixture
def sim() -> Simulator:
    return fast_sim()


async def timed_call(client, name: str, arguments: dict) -> tuple[object, float]:
    started = time.monotonic()
    with anyio.fail_after(CALL_LIMIT_SECONDS):
        result = await client.call_tool(name, arguments)
    return result, time.monotonic() - started


async def burst(client, calls: int) -> list:
    results: list = [None] * calls

    async def one(index: int) -> None:
        name, arguments = BURST[index % len(BURST)]
        results[index] = (name, arguments, await client.call_tool(name, arguments))

    with anyio.fail_after(CALL_LIMIT_SECONDS):
        async with anyio.create_task_group() as tg:
            for index in range(calls):
                tg.start_soon(one, index)
    return results


async def assert_a_lasting_fault_is_clear(client, sim: Simulator, expected: str, deadline: float) -> None:
    """A burst of 10 calls during a fault already queued for good: each a clear error saying `expected` and
    quoting no HTML page, all within the deadline; once the fault clears, the next call works."""
    started = time.monotonic()
    results = await burst(client, 10)
    elapsed = time.monotonic() - started
    for name, arguments, result in results:
        assert_clear_answer(name, arguments, result)
        text = error_text(result)
        assert expected in text, text
        assert "<html" not in text.lower() and "nginx" not in text
    assert elapsed < deadline + SLACK, f"the fault held calls for {elapsed:.1f} s"
    sim.faults.clear()
    tool_json(await client.call_tool("airbyte_list_connections", {}))


# ---- tokens ------------------------------------------------------------------------------------


async def test_token_revoked_in_the_middle_of_a_burst_of_50_makes_one_token_request(sim: Simulator):
    async with served(sim) as client:
        tool_json(await client.call_tool("airbyte_list_workspaces", {}))
        tokens_before, requests_before = sim.token_requests, sum(sim.requests.values())

        async def expire_mid_burst() -> None:
            # Once a good part of the burst has reached Airbyte with the old token, end it.
            while sum(sim.requests.values()) < requests_before + 40:
                await anyio.sleep(0)
            sim.expire_tokens()

        async with anyio.create_task_group() as tg:
            tg.start_soon(expire_mid_burst)
            results = await burst(client, 50)
    for name, arguments, result in results:
        assert not result.is_error, (name, arguments, text_of(result))
    assert sim.token_requests - tokens_before == 1
    # The expiry really landed mid-burst: requests were refused (and retried) after it.
    assert sum(sim.requests.values()) - requests_before > 40 + 1


async def test_50_calls_arriving_when_the_token_is_due_make_one_token_request():
    # Tokens of 3 s: the client refreshes a third of the lifetime early, at 2 s.
    sim = fast_sim(token_lifetime=3)
    async with served(sim) as client:
        tool_json(await client.call_tool("airbyte_list_workspaces", {}))
        tokens_before = sim.token_requests
        await anyio.sleep(2.1)
        results = await burst(client, 50)
    assert all(not result.is_error for _, _, result in results)
    assert sim.token_requests - tokens_before == 1


async def test_refused_client_credentials_are_a_clear_error_not_a_retry_loop(sim: Simulator):
    settings = reliability_settings(sim, AIRBYTE_CLIENT_SECRET="not-the-secret")
    async with served(sim, settings) as client:
        result, elapsed = await timed_call(client, "airbyte_list_connections", {})
    text = error_text(result)
    assert "AIRBYTE_CLIENT_SECRET" in text and "not-the-secret" not in text
    assert elapsed < 1.0 and sim.token_requests == 1


# ---- 429 storms --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "retry_after",
    [None, 1, 120, "date"],
    ids=["no-retry-after", "retry-after-1s", "retry-after-beyond-deadline", "retry-after-as-date"],
)
async def test_a_429_storm_ends_within_the_deadline_with_a_rate_limit_message(sim: Simulator, retry_after):
    async with served(sim) as client:  # SOPHIA_AIRBYTE_DEADLINE=2
        tool_json(await client.call_tool("airbyte_list_workspaces", {}))
        if retry_after == "date":
            retry_after = datetime.now(UTC) + timedelta(seconds=1)
        sim.faults.queue_rate_limit(None, retry_after=retry_after)
        await assert_a_lasting_fault_is_clear(client, sim, "rate limit", DEADLINE)


async def test_a_short_429_storm_is_ridden_out(sim: Simulator):
    async with served(sim) as client:
        # Within SOPHIA_AIRBYTE_MAX_RETRIES (4): one backoff of at most 0.5 s, then two immediate retries.
        sim.faults.queue_rate_limit(1)
        sim.faults.queue_rate_limit(2, retry_after=0)
        result, elapsed = await timed_call(client, "airbyte_list_connections", {})
    assert len(tool_json(result)["items"]) == 3
    assert elapsed < DEADLINE


async def test_429_on_the_token_endpoint_is_retried_then_reported(sim: Simulator):
    async with served(sim) as client:
        sim.faults.queue_rate_limit(2, retry_after=0, path_prefix="/applications/token")
        tool_json(await client.call_tool("airbyte_list_workspaces", {}))
        sim.expire_tokens()
        sim.faults.queue_rate_limit(None, retry_after=1, path_prefix="/applications/token")
        result, elapsed = await timed_call(client, "airbyte_list_workspaces", {})
        assert "rate limit" in error_text(result) and elapsed < DEADLINE + SLACK
        sim.faults.clear()
        tool_json(await client.call_tool("airbyte_list_workspaces", {}))


# ---- 5xx and HTML pages ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (("status", 500), "HTTP 500"),
        (("status", 502), "HTTP 502"),
        (("status", 503), "HTTP 503"),
        (("status", 504), "HTTP 504"),
        (("html", 502), "HTML error page"),
        (("html", 404), "Not found"),
        (("html", 401), "refused"),
    ],
    ids=lambda v: "-".join(map(str, v)) if isinstance(v, tuple) else None,
)
async def test_a_lasting_error_is_clear_within_the_deadline_and_the_next_call_works(sim: Simulator, fault, expected):
    deadline = 1.5
    async with served(sim, reliability_settings(sim, SOPHIA_AIRBYTE_DEADLINE=deadline)) as client:
        tool_json(await client.call_tool("airbyte_list_workspaces", {}))
        kind, status = fault
        if kind == "status":
            sim.faults.queue_status(status, None)
        else:
            sim.faults.queue_html_error(status, None)
        await assert_a_lasting_fault_is_clear(client, sim, expected, deadline)


async def test_during_an_airbyte_outage_every_tool_answers_as_it_can(sim: Simulator):
    """Each listed tool, with valid arguments, before, during and after a lasting proxy outage: a tool that
    asks Airbyte anything says it is unavailable, within the deadline; one that asks nothing answers exactly
    as before; all recover."""
    async with served(sim, reliability_settings(sim, SOPHIA_AIRBYTE_DEADLINE=1)) as client:
        tools = await list_tools(client)
        calls = {name: minimal_arguments(tool.input_schema) for name, tool in tools.items()}
        before = {name: await client.call_tool(name, arguments) for name, arguments in calls.items()}
        sim.faults.queue_html_error(503, None)
        asked_airbyte = set()
        for name, arguments in calls.items():
            sent_before = _faultable_requests(sim)
            result, elapsed = await timed_call(client, name, arguments)
            assert_clear_answer(name, arguments, result)
            assert elapsed < 1 + SLACK, (name, elapsed)
            if _faultable_requests(sim) > sent_before:
                asked_airbyte.add(name)
                assert "unavailable" in text_of(result), (name, text_of(result))
            else:
                assert text_of(result) == text_of(before[name]), (name, text_of(result))
        # The claim is about the Airbyte tools: each of them met the outage (none answered from elsewhere).
        assert {"airbyte_health", "airbyte_list_connections", "airbyte_get_job"} <= asked_airbyte
        sim.faults.clear()
        for name, arguments in calls.items():
            result = await client.call_tool(name, arguments)
            assert result.is_error == before[name].is_error, (name, text_of(result))


def _faultable_requests(sim: Simulator) -> int:
    """Requests that reached the simulator's routes, but for `GET /health`, which the outage spares."""
    return sum(count for (method, path), count in sim.requests.items() if path != "/health")


async def test_a_few_5xx_are_ridden_out(sim: Simulator):
    async with served(sim) as client:
        sim.faults.queue_status(503, 1)
        sim.faults.queue_html_error(502, 1)
        sim.faults.queue_status(504, 1, retry_after=0)
        results = await burst(client, 10)
    for name, arguments, result in results:
        assert not result.is_error, (name, text_of(result))


# ---- malformed bodies --------------------------------------------------------------------------


@pytest.mark.parametrize("path_prefix", [None, "/jobs", "/connections", "/applications/token"])
async def test_a_malformed_json_body_is_a_clear_error_and_the_next_call_works(sim: Simulator, path_prefix):
    async with served(sim) as client:
        if path_prefix != "/applications/token":
            tool_json(await client.call_tool("airbyte_list_workspaces", {}))
        sim.faults.queue_malformed_json(1, path_prefix=path_prefix)
        result, _ = await timed_call(client, "airbyte_list_connections", {})
        assert_clear_answer("airbyte_list_connections", {}, result)
        text = error_text(result)
        assert "not JSON" in text or "access_token" in text, text
        assert '{"data"' not in text
        tool_json(await client.call_tool("airbyte_list_connections", {}))


# ---- a response that never comes -----------------------------------------------------------------


@pytest.fixture
def sim_over_http(sim: Simulator):
    """The simulator behind a real uvicorn server: only real sockets time out."""
    base_url, stop = serve_in_thread(sim)
    try:
        yield base_url
    finally:
        sim.faults.clear()
        stop()


async def test_a_response_that_never_comes_times_out_clearly_and_the_next_call_works(sim: Simulator, sim_over_http: str):
    settings = reliability_settings(
        sim, api_url=sim_over_http, SOPHIA_AIRBYTE_REQUEST_TIMEOUT=0.4, SOPHIA_AIRBYTE_DEADLINE=1
    )
    async with served(sim, settings, real_http=True) as client:
        tool_json(await client.call_tool("airbyte_list_workspaces", {}))
        sim.faults.queue_delay(SILENCE, None, path_prefix="/connections")
        result, elapsed = await timed_call(client, "airbyte_get_connection", {"connection_id": GONG_POSTGRES_CONNECTION_ID})
        text = error_text(result)
        assert "did not answer in time" in text and "GET /connections/" in text, text
        assert elapsed < 1 + SLACK
        # Other paths were never stuck behind the silent one.
        tool_json(await client.call_tool("airbyte_list_jobs", {"limit": 1}))
        sim.faults.clear()
        detail = tool_json(await client.call_tool("airbyte_get_connection", {"connection_id": GONG_POSTGRES_CONNECTION_ID}))
        assert detail["id"] == GONG_POSTGRES_CONNECTION_ID


async def test_a_silent_token_endpoint_times_out_clearly(sim: Simulator, sim_over_http: str):
    settings = reliability_settings(
        sim, api_url=sim_over_http, SOPHIA_AIRBYTE_REQUEST_TIMEOUT=0.4, SOPHIA_AIRBYTE_DEADLINE=1
    )
    async with served(sim, settings, real_http=True) as client:
        sim.faults.queue_delay(SILENCE, None, path_prefix="/applications/token")
        result, elapsed = await timed_call(client, "airbyte_list_workspaces", {})
        assert "did not answer in time" in error_text(result) and elapsed < 1 + SLACK
        sim.faults.clear()
        tool_json(await client.call_tool("airbyte_list_workspaces", {}))


class LoseJobResponses(httpx.AsyncBaseTransport):
    """A network that delivers `POST /jobs` to Airbyte and loses the answer (a timeout after sending)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "POST" and request.url.path.endswith("/jobs"):
            await response.aclose()
            raise httpx.ReadTimeout("lost on the way back", request=request)
        return response


async def test_a_sync_whose_answer_is_lost_is_found_not_started_twice(sim: Simulator):
    sim.job_running_seconds = 60
    transport = LoseJobResponses(httpx.ASGITransport(app=create_app(sim)))
    async with served(sim, transport=transport) as client:
        first = tool_json(await client.call_tool("airbyte_trigger_sync", {"connection_id": GONG_REDIS_CONNECTION_ID}))
        again = tool_json(await client.call_tool("airbyte_trigger_sync", {"connection_id": GONG_REDIS_CONNECTION_ID}))
    assert sim.requests["POST", "/jobs"] == 1
    assert first["job"]["status"] in ("pending", "running") and again["job"]["id"] == first["job"]["id"]
    assert again["started_new"] is False
    unfinished = [j for j in sim.jobs.values() if j.connection_id == GONG_REDIS_CONNECTION_ID and not j.is_final(sim.clock())]
    assert len(unfinished) == 1


class AnotherCallerRaces(httpx.AsyncBaseTransport):
    """Another caller starts a sync between our look for a running job and our POST, and that sync
    ends between Airbyte's 409 and our second look (seen under load: 100 clients, 1-second syncs)."""

    def __init__(self, sim: Simulator, connection_id: str) -> None:
        self.sim = sim
        self.connection_id = connection_id
        self.inner = httpx.ASGITransport(app=create_app(sim))
        self.other_job: int | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        is_jobs = request.url.path.endswith("/jobs")
        if is_jobs and request.method == "GET" and self.other_job is None:
            self.other_job = self.sim.start_job(self.connection_id, "sync").job_id
        if is_jobs and request.method == "POST" and response.status_code == 409:
            self.sim.cancel_job(self.other_job)
        return response


async def test_a_sync_refused_for_a_job_that_has_since_ended_is_started(sim: Simulator):
    sim.job_running_seconds = 60
    transport = AnotherCallerRaces(sim, GONG_REDIS_CONNECTION_ID)
    async with served(sim, transport=transport) as client:
        result = await client.call_tool("airbyte_trigger_sync", {"connection_id": GONG_REDIS_CONNECTION_ID})
    started = tool_json(result)
    assert started["started_new"] is True and started["job"]["id"] != transport.other_job
    unfinished = [j for j in sim.jobs.values() if j.connection_id == GONG_REDIS_CONNECTION_ID and not j.is_final(sim.clock())]
    assert [j.job_id for j in unfinished] == [started["job"]["id"]]
