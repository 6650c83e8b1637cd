"""The Airbyte client against the simulator: tokens, retries, pagination, errors, secrets."""

from datetime import datetime, timedelta, timezone

import anyio
import httpx
import pytest

from sophia_mcp.airbyte.client import AirbyteClient
from sophia_mcp.airbyte.errors import (
    AirbyteAuthError,
    AirbyteNotFoundError,
    AirbyteRateLimitedError,
    AirbyteResponseError,
    AirbyteUnavailableError,
)
from sophia_mcp.sample.airbyte_sim import Simulator, create_app, seeded
from sophia_mcp.sample.airbyte_sim.seed import GONG_POSTGRES_CONNECTION_ID, WORKSPACE_ID
from tests.airbyte.conftest import SleepRecorder, sim_settings

pytestmark = pytest.mark.anyio


async def test_token_is_fetched_once_and_reused(client: AirbyteClient, airbyte_sim: Simulator):
    for _ in range(5):
        await client.list_workspaces()
    assert airbyte_sim.token_requests == 1


async def test_fifty_calls_at_expiry_make_exactly_one_token_request(client: AirbyteClient, airbyte_sim: Simulator):
    await client.list_workspaces()
    airbyte_sim.expire_tokens()

    async with anyio.create_task_group() as tg:
        for _ in range(50):
            tg.start_soon(client.get_connection, GONG_POSTGRES_CONNECTION_ID)
    assert airbyte_sim.token_requests == 2


async def test_token_is_refreshed_before_it_expires(airbyte_sim: Simulator, airbyte_sim_transport, sleeps):
    airbyte_sim.token_lifetime = 3  # refresh margin is a third of that: one second
    async with AirbyteClient(sim_settings(airbyte_sim), transport=airbyte_sim_transport, sleep=sleeps) as client:
        await client.list_workspaces()
        await anyio.sleep(2.1)
        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(client.list_workspaces)
    assert airbyte_sim.token_requests == 2
    # No call was refused: the refresh happened before Airbyte would have said 401.
    assert airbyte_sim.requests["GET", "/workspaces"] == 21


async def test_lists_walk_every_page_and_ignore_the_host_in_next(airbyte_sim_transport, sleeps):
    sim = seeded(extra_connections=250)
    sim.next_host = "wrong-host.internal:9999"
    transport = httpx.ASGITransport(app=create_app(sim))
    async with AirbyteClient(sim_settings(sim), transport=transport, sleep=sleeps) as client:
        connections = await client.all_connections([WORKSPACE_ID])
    assert len(connections) == 253
    assert len({c.connection_id for c in connections}) == 253
    assert sim.requests["GET", "/connections"] == 3


async def test_a_page_reports_the_next_offset_only_when_full(client: AirbyteClient):
    first = await client.list_connections(limit=2)
    assert first.next_offset == 2
    rest = await client.list_connections(limit=2, offset=2)
    assert len(rest.items) == 1 and rest.next_offset is None


async def test_429_with_retry_after_is_honoured(client: AirbyteClient, airbyte_sim: Simulator, sleeps: SleepRecorder):
    airbyte_sim.faults.queue_rate_limit(2, retry_after=3)
    workspaces = await client.list_workspaces()
    assert workspaces.items
    assert sleeps.waits == [3.0, 3.0]


async def test_429_with_retry_after_date_is_honoured(client, airbyte_sim: Simulator, sleeps: SleepRecorder):
    airbyte_sim.faults.queue_rate_limit(1, retry_after=datetime.now(timezone.utc) + timedelta(seconds=5))
    await client.list_workspaces()
    assert len(sleeps.waits) == 1 and 3.0 <= sleeps.waits[0] <= 5.0


async def test_429_without_retry_after_backs_off(client, airbyte_sim: Simulator, sleeps: SleepRecorder):
    airbyte_sim.faults.queue_rate_limit(3)
    await client.list_workspaces()
    assert len(sleeps.waits) == 3


async def test_a_429_storm_ends_in_a_rate_limit_error_not_a_hang(client, airbyte_sim: Simulator, sleeps):
    airbyte_sim.faults.queue_rate_limit(None)
    with pytest.raises(AirbyteRateLimitedError, match="rate limiting"):
        await client.list_workspaces()
    assert len(sleeps.waits) == client.settings.max_retries


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_gateway_errors_on_reads_are_retried(client, airbyte_sim: Simulator, status: int):
    airbyte_sim.faults.queue_status(status, 2)
    assert (await client.get_connection(GONG_POSTGRES_CONNECTION_ID)).name


async def test_html_error_pages_become_an_unavailable_error(client, airbyte_sim: Simulator):
    airbyte_sim.faults.queue_html_error(502, None)
    with pytest.raises(AirbyteUnavailableError, match="HTML error page") as caught:
        await client.list_workspaces()
    assert "<html" not in str(caught.value).lower()


async def test_malformed_json_is_a_typed_error(client, airbyte_sim: Simulator):
    airbyte_sim.faults.queue_malformed_json(1)
    with pytest.raises(AirbyteResponseError, match="not JSON"):
        await client.list_workspaces()


async def test_unknown_id_is_not_found(client):
    with pytest.raises(AirbyteNotFoundError, match="Check the id"):
        await client.get_connection("5091a000-0004-4000-8000-00000000ffff")


async def test_bad_credentials_say_what_to_check(airbyte_sim: Simulator, airbyte_sim_transport, sleeps):
    settings = sim_settings(airbyte_sim, AIRBYTE_CLIENT_SECRET="not-the-secret")
    async with AirbyteClient(settings, transport=airbyte_sim_transport, sleep=sleeps) as client:
        with pytest.raises(AirbyteAuthError, match="AIRBYTE_CLIENT_SECRET") as caught:
            await client.list_workspaces()
    assert "not-the-secret" not in str(caught.value)


async def test_static_token(airbyte_sim: Simulator, airbyte_sim_transport, sleeps):
    airbyte_sim.static_tokens.add("static-tok-1")
    settings = sim_settings(airbyte_sim, AIRBYTE_CLIENT_ID=None, AIRBYTE_CLIENT_SECRET=None,
                            AIRBYTE_ACCESS_TOKEN="static-tok-1")
    async with AirbyteClient(settings, transport=airbyte_sim_transport, sleep=sleeps) as client:
        assert (await client.list_workspaces()).items
    assert airbyte_sim.token_requests == 0


async def test_a_slow_answer_ends_at_the_deadline(airbyte_sim: Simulator, airbyte_sim_url: str):
    settings = sim_settings(airbyte_sim, AIRBYTE_API_URL=airbyte_sim_url, SOPHIA_AIRBYTE_REQUEST_TIMEOUT=0.5,
                            SOPHIA_AIRBYTE_DEADLINE=1.5)
    airbyte_sim.faults.queue_delay(5, None, path_prefix="/workspaces")
    async with AirbyteClient(settings) as client:
        started = anyio.current_time()
        with pytest.raises(AirbyteUnavailableError, match="did not answer in time"):
            await client.list_workspaces()
        assert anyio.current_time() - started < 3
        airbyte_sim.faults.clear()
        assert (await client.list_workspaces()).items


async def test_starting_a_sync_twice_returns_the_running_job(client, airbyte_sim: Simulator):
    airbyte_sim.job_running_seconds = 30
    first, started_first = await client.start_job(GONG_POSTGRES_CONNECTION_ID)
    second, started_second = await client.start_job(GONG_POSTGRES_CONNECTION_ID)
    assert started_first and not started_second
    assert second.job_id == first.job_id
    assert airbyte_sim.requests["POST", "/jobs"] == 1


async def test_a_job_post_is_not_repeated_after_a_gateway_error(client, airbyte_sim: Simulator):
    airbyte_sim.faults.queue_status(502, 1, path_prefix="/jobs")
    with pytest.raises(AirbyteUnavailableError, match="HTTP 502"):
        await client.request(
            "POST", "jobs", json={"connectionId": GONG_POSTGRES_CONNECTION_ID, "jobType": "sync"}, idempotent=False
        )
    assert airbyte_sim.requests["POST", "/jobs"] == 1


async def test_a_job_post_is_retried_after_a_429(client, airbyte_sim: Simulator):
    airbyte_sim.faults.queue_rate_limit(1, retry_after=0, path_prefix="/jobs")
    job, started = await client.start_job(GONG_POSTGRES_CONNECTION_ID)
    assert started and job.status in ("pending", "running")


async def test_secrets_stay_out_of_reprs(airbyte_sim: Simulator, client: AirbyteClient):
    await client.list_workspaces()
    token = client.auth._token
    for text in (repr(client), repr(client.auth), repr(client.settings), str(client.settings.model_dump())):
        assert airbyte_sim.client_secret not in text
        assert token not in text
