"""The Configuration API client: where it lives, one token shared with the public API, and a one-line
reason for every way the failure details can be missing."""

from __future__ import annotations

import httpx
import pytest

from sophia_mcp.airbyte.client import AirbyteClient
from sophia_mcp.airbyte.config_api import ConfigApiClient, FailureDetailsUnavailable, derived_config_api_url
from sophia_mcp.sample.airbyte_sim import Simulator
from sophia_mcp.sample.airbyte_sim.seed import FAILING_CONNECTION_ID, WORKSPACE_ID
from tests.airbyte.conftest import sim_settings

pytestmark = pytest.mark.anyio

CONFIG_URL = "http://airbyte.test/api/v1"


@pytest.mark.parametrize(
    ("api_url", "config_url"),
    [
        ("https://api.airbyte.com/v1", "https://cloud.airbyte.com/api/v1"),
        ("https://api.airbyte.com/v1/", "https://cloud.airbyte.com/api/v1"),
        ("http://airbyte.internal:8000/api/public/v1", "http://airbyte.internal:8000/api/v1"),
        ("https://airbyte.example.com/api/public/v1/", "https://airbyte.example.com/api/v1"),
        ("http://localhost:8006/v1", None),  # an older standalone API server: cannot be told
    ],
)
def test_the_configuration_api_url_is_derived_from_the_public_one(api_url: str, config_url: str | None):
    assert derived_config_api_url(api_url) == config_url


async def test_one_token_serves_both_apis(airbyte_sim: Simulator, airbyte_sim_transport: httpx.ASGITransport):
    settings = sim_settings(airbyte_sim, AIRBYTE_CONFIG_API_URL=CONFIG_URL)
    failed = max(j.job_id for j in airbyte_sim.jobs.values() if j.connection_id == FAILING_CONNECTION_ID)
    async with AirbyteClient(settings, transport=airbyte_sim_transport) as client:
        config_api = ConfigApiClient(settings, client.auth, transport=airbyte_sim_transport)
        try:
            await client.get_workspace(WORKSPACE_ID)
            info = await config_api.job_info(failed)
        finally:
            await config_api.aclose()
    assert info.job.status == "failed" and len(info.attempts) == 3
    assert info.attempts[0].failures[0].stream == "callTranscripts"
    assert airbyte_sim.token_requests == 1


async def test_without_a_derivable_url_nothing_is_sent_and_the_setting_is_named(
    airbyte_sim: Simulator, airbyte_sim_transport: httpx.ASGITransport
):
    settings = sim_settings(airbyte_sim)  # http://airbyte.test/v1: no Configuration API can be derived
    async with AirbyteClient(settings, transport=airbyte_sim_transport) as client:
        config_api = ConfigApiClient(settings, client.auth, transport=airbyte_sim_transport)
        try:
            with pytest.raises(FailureDetailsUnavailable, match="set AIRBYTE_CONFIG_API_URL"):
                await config_api.job_info(1)
            assert await config_api.unavailable_because() is not None
        finally:
            await config_api.aclose()
    assert sum(airbyte_sim.requests.values()) == 0


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ("malformed", "not JSON"),
        ("html", "HTTP 502"),
        ("unknown-job", "does not know job 999999"),
    ],
)
async def test_every_failure_is_one_line(airbyte_sim: Simulator, airbyte_sim_transport, fault: str, words: str):
    settings = sim_settings(airbyte_sim, AIRBYTE_CONFIG_API_URL=CONFIG_URL)
    job_id = 999999 if fault == "unknown-job" else 1
    if fault == "malformed":
        airbyte_sim.faults.queue_malformed_json(path_prefix="/api/v1")
    elif fault == "html":
        airbyte_sim.faults.queue_html_error(502, path_prefix="/api/v1")
    async with AirbyteClient(settings, transport=airbyte_sim_transport) as client:
        config_api = ConfigApiClient(settings, client.auth, transport=airbyte_sim_transport)
        try:
            with pytest.raises(FailureDetailsUnavailable) as unavailable:
                await config_api.job_info(job_id)
            # Neither of these is a refusal: the next call asks again, and gets the details.
            assert (await config_api.job_info(1)).job.job_id == 1
        finally:
            await config_api.aclose()
    assert words in str(unavailable.value) and "\n" not in str(unavailable.value)
