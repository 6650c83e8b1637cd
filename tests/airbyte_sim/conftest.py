"""Clients for the simulator tests. `client` checks every answer against the Airbyte spec.

The simulator fixtures themselves (`airbyte_sim` …) come from tests/fixtures/airbyte_sim.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from sophia_mcp.sample.airbyte_sim import Simulator, create_app
from tests.airbyte_sim.openapi import CONFIG_ROOT, SPEC_DIR, ApiSpec, ConfigSpec

BASE_URL = "http://airbyte.test/v1"
CONFIG_URL = "http://airbyte.test/api/v1"


@pytest.fixture(scope="session")
def spec() -> ApiSpec:
    if not (SPEC_DIR / "api.yaml").exists():
        pytest.skip(f"the Airbyte spec (api.yaml) is not at {SPEC_DIR}")
    return ApiSpec.load()


@pytest.fixture(scope="session")
def config_spec() -> ConfigSpec:
    return ConfigSpec.load()


class ManualClock:
    """A clock that moves only when a test sets `now`: job and token timing without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class SpecCheckedClient(httpx.AsyncClient):
    """An authenticated client that fails the test on any answer the spec does not allow.

    `seen` records (method, path template, status) of every answer, to assert coverage.
    """

    def __init__(self, sim: Simulator, spec: ApiSpec, config_spec: ConfigSpec | None = None) -> None:
        super().__init__(transport=httpx.ASGITransport(app=create_app(sim)), base_url=BASE_URL,
                         event_hooks={"response": [self._check]})
        self.spec = spec
        self.config_spec = config_spec or ConfigSpec.load()
        self.seen: set[tuple[str, str | None, int]] = set()

    async def authenticate(self, sim: Simulator) -> None:
        token = await self.post("/applications/token", json={
            "client_id": sim.client_id, "client_secret": sim.client_secret, "grant-type": "client_credentials"})
        self.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

    async def _check(self, response: httpx.Response) -> None:
        await response.aread()
        method = response.request.method
        path = response.request.url.path
        if path.startswith(CONFIG_ROOT + "/v1/"):
            self.seen.add((method, path, response.status_code))
            errors = self.config_spec.response_errors(response, method, path)
            assert not errors, f"{method} {response.request.url} -> {response.status_code} breaks config.yaml: {errors}"
            return
        template = self.spec.template_of(path.removeprefix("/v1"))
        self.seen.add((method, template, response.status_code))
        errors = self.spec.response_errors(response, method, template)
        assert not errors, f"{method} {response.request.url} -> {response.status_code} breaks the spec: {errors}"


@pytest.fixture
async def client(airbyte_sim: Simulator, spec: ApiSpec, config_spec: ConfigSpec) -> AsyncIterator[SpecCheckedClient]:
    async with SpecCheckedClient(airbyte_sim, spec, config_spec) as checked:
        await checked.authenticate(airbyte_sim)
        yield checked


@pytest.fixture
async def raw_client(airbyte_sim: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    """Unchecked and unauthenticated: for faults, which break the spec on purpose."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(airbyte_sim)), base_url=BASE_URL) as raw:
        yield raw
