"""A read-only repository over the session's sample database, and smaller special-purpose databases."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from sophia_mcp.gong.repository import GongRepository
from sophia_mcp.sample.gong_data import SampleManifest
from sophia_mcp.postgres.readonly import ReadOnlyPool

from tests.fixtures.postgres import GongSample

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
