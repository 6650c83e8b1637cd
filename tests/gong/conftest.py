"""A read-only repository over the session's sample database, and smaller special-purpose databases."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from sophia_mcp.gong.repository import GongRepository
from sophia_mcp.sample.gong_data import SampleManifest, load_sample_data
from sophia_mcp.postgres.readonly import ReadOnlyPool

from tests.fixtures.postgres import GongSample, recreate_database

PARTIAL_SCHEMA = "airbyte_gong"
PARTIAL_PREFIX = "gong_"


@pytest.fixture
def manifest(gong_sample: GongSample) -> SampleManifest:
    return gong_sample.manifest


@pytest.fixture
async def pool(gong_postgres_url: str) -> AsyncIterator[ReadOnlyPool]:
    async with ReadOnlyPool(gong_postgres_url) as opened:
        yield opened


@pytest.fixture
def repo(pool: ReadOnlyPool) -> GongRepository:
    return GongRepository(pool)


@pytest.fixture(scope="session")
def partial_gong(postgres_admin_url: str) -> GongSample:
    """An installation that syncs only calls and users, into its own schema and with a stream prefix."""

    async def build() -> GongSample:
        url = await recreate_database(postgres_admin_url, "sophia_test_gong_partial")
        manifest = await load_sample_data(
            url, calls=300, seed=11, schema=PARTIAL_SCHEMA, prefix=PARTIAL_PREFIX, streams=("calls", "users")
        )
        return GongSample(url, manifest)

    return asyncio.run(build())
