"""The simulator as a real HTTP server: in a thread for tests, and as `python -m sophia_mcp.sample.airbyte_sim`."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from sophia_mcp.sample.airbyte_sim import Simulator, serve_in_thread
from tests.fixtures.processes import free_port, wait_until_answers

CLI_START_TIMEOUT_SECONDS = 20


def _token(base_url: str, env: dict[str, str]) -> dict:
    body = {"client_id": env["AIRBYTE_CLIENT_ID"], "client_secret": env["AIRBYTE_CLIENT_SECRET"],
            "grant-type": "client_credentials"}
    return httpx.post(f"{base_url}/applications/token", json=body).json()


def test_the_url_fixture_serves_the_same_simulator_over_http(airbyte_sim, airbyte_sim_url, airbyte_sim_env):
    assert airbyte_sim_url.startswith("http://127.0.0.1:") and airbyte_sim_url.endswith("/v1")
    assert airbyte_sim_env["AIRBYTE_API_URL"] == airbyte_sim_url
    headers = {"Authorization": f"Bearer {_token(airbyte_sim_url, airbyte_sim_env)['access_token']}"}
    page = httpx.get(f"{airbyte_sim_url}/connections", headers=headers).json()
    assert page["next"].startswith(airbyte_sim_url)  # links carry the real host and port
    airbyte_sim.faults.queue_status(503)
    assert httpx.get(f"{airbyte_sim_url}/connections", headers=headers).status_code == 503
    assert airbyte_sim.requests["GET", "/connections"] == 2


@pytest.mark.anyio
async def test_the_transport_fixture_reaches_the_same_simulator(airbyte_sim, airbyte_sim_transport):
    async with httpx.AsyncClient(transport=airbyte_sim_transport, base_url="http://airbyte.test/v1") as raw:
        assert (await raw.get("/health")).status_code == 200
    assert airbyte_sim.requests["GET", "/health"] == 1


def test_serve_in_thread_takes_a_base_path_and_stops():
    base_url, stop = serve_in_thread(Simulator(), base_path="/api/public/v1")
    try:
        assert base_url.endswith("/api/public/v1")
        assert httpx.get(f"{base_url}/health").text == "Successful operation"
    finally:
        stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base_url}/health")


def test_the_command_line_prints_where_it_listens_and_serves_the_seed():
    port = free_port()
    command = [sys.executable, "-m", "sophia_mcp.sample.airbyte_sim", "--port", str(port), "--token-lifetime", "180"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        banner = [process.stderr.readline() for _ in range(6)]
        env = dict(line.strip().split("=", 1) for line in banner if "=" in line)
        base_url = f"http://127.0.0.1:{port}/v1"
        assert env["AIRBYTE_API_URL"] == base_url
        assert env["AIRBYTE_CONFIG_API_URL"] == f"http://127.0.0.1:{port}/api/v1"
        wait_until_answers(f"{base_url}/health", process, CLI_START_TIMEOUT_SECONDS)
        token = _token(base_url, env)
        assert token["expires_in"] == 180
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        workspaces = httpx.get(f"{base_url}/workspaces", headers=headers).json()["data"]
        assert [w["name"] for w in workspaces] == ["Sophia"]
        job = httpx.post(f"{env['AIRBYTE_CONFIG_API_URL']}/jobs/get", json={"id": 1}, headers=headers)
        assert job.status_code == 200 and job.json()["job"]["id"] == 1
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stderr.close()
