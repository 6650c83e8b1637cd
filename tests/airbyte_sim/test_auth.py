"""Tokens: client credentials, lifetime, expiry, static tokens, and what needs none."""

from __future__ import annotations

import httpx
import pytest

from sophia_mcp.sample.airbyte_sim import create_app, seeded
from tests.airbyte_sim.conftest import ManualClock

pytestmark = pytest.mark.anyio

CREDENTIALS = {"client_id": "sophia-sim", "client_secret": "sim-pass", "grant-type": "client_credentials"}


async def test_client_credentials_get_a_bearer_token_with_the_configured_lifetime(airbyte_sim, client):
    airbyte_sim.token_lifetime = 180
    before = airbyte_sim.token_requests
    body = (await client.post("/applications/token", json=CREDENTIALS)).json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 180
    assert airbyte_sim.token_requests == before + 1
    ok = await client.get("/workspaces", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert ok.status_code == 200


async def test_wrong_credentials_are_refused(client):
    response = await client.post("/applications/token", json={**CREDENTIALS, "client_secret": "guess"})
    assert response.status_code == 401
    assert "access_token" not in response.text


async def test_expire_tokens_ends_every_issued_token(airbyte_sim, client):
    airbyte_sim.expire_tokens()
    response = await client.get("/workspaces")
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]
    await client.authenticate(airbyte_sim)
    assert (await client.get("/workspaces")).status_code == 200


async def test_a_token_expires_when_its_lifetime_has_passed():
    clock = ManualClock()
    sim = seeded(clock=clock, token_lifetime=180)
    token = sim.issue_token(sim.client_id, sim.client_secret)["access_token"]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(sim)), base_url="http://a.test/v1",
                                 headers={"Authorization": f"Bearer {token}"}) as raw:
        clock.now += 179
        assert (await raw.get("/workspaces")).status_code == 200
        clock.now += 1
        assert (await raw.get("/workspaces")).status_code == 401


@pytest.mark.parametrize("authorization", [None, "Bearer", "Bearer made-up", "Basic c29waGlhOnNpbQ=="])
async def test_requests_without_a_valid_bearer_token_are_refused(raw_client, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = await raw_client.get("/connections", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


async def test_static_tokens_are_always_accepted(airbyte_sim, raw_client):
    airbyte_sim.static_tokens.add("sim-static-token")
    airbyte_sim.expire_tokens()
    response = await raw_client.get("/connections", headers={"Authorization": "Bearer sim-static-token"})
    assert response.status_code == 200


async def test_health_needs_no_token_and_answers_plain_text(raw_client):
    response = await raw_client.get("/health")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")


async def test_a_self_managed_base_path_serves_the_same_api(airbyte_sim):
    app = create_app(airbyte_sim, base_path="/api/public/v1")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://airbyte.local") as raw:
        token = (await raw.post("/api/public/v1/applications/token", json=CREDENTIALS)).json()["access_token"]
        listed = await raw.get("/api/public/v1/workspaces", headers={"Authorization": f"Bearer {token}"})
        assert listed.json()["data"][0]["name"] == "Sophia"
        assert (await raw.get("/v1/health")).status_code == 404
