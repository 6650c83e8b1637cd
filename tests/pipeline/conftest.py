"""Pipeline tests run the real planner and Airbyte client against the simulator, in process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from sophia_mcp.airbyte.client import AirbyteClient
from sophia_mcp.sample.airbyte_sim import Simulator, create_app, seeded
from sophia_mcp.sample.airbyte_sim.seed import GONG_CONFIGURATION, GONG_SOURCE_ID, GONG_SOURCE_NAME, WORKSPACE_ID, WORKSPACE_NAME
from sophia_mcp.pipeline.plan import PipelinePlanner
from sophia_mcp.settings import (
    AirbyteSettings,
    EmbeddingSettings,
    PipelineSettings,
    PostgresSettings,
    QdrantSettings,
    Settings,
)

SIM_URL = "http://airbyte.test/v1"
WRITES = ("POST", "PATCH", "PUT", "DELETE")
# Settings the tests set themselves: never taken from the environment of whoever runs them.
OWN_VARIABLES = (
    "AIRBYTE_WORKSPACE_ID", "SOPHIA_PIPELINE_SOURCE_NAME", "SOPHIA_PIPELINE_CRON", "SOPHIA_DEST_POSTGRES_URL",
    "SOPHIA_DEST_REDIS_URL", "SOPHIA_DEST_QDRANT_URL", "SOPHIA_DEST_QDRANT_API_KEY", "SOPHIA_GONG_SCHEMA",
    "SOPHIA_GONG_TABLE_PREFIX", "SOPHIA_EMBEDDING_PROVIDER", "SOPHIA_EMBEDDING_URL", "SOPHIA_EMBEDDING_API_KEY",
    "SOPHIA_QDRANT_COLLECTION", "SOPHIA_QDRANT_CALL_ID_FIELD", "SOPHIA_QDRANT_TEXT_FIELD", "SOPHIA_AIRBYTE_SIMULATED",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in OWN_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def fast_sim(**options: Any) -> Simulator:
    return seeded(job_pending_seconds=0.0, job_running_seconds=0.1, **options)


def gong_only_sim() -> Simulator:
    """An empty workspace but for the Gong source: no destination, no connection."""
    sim = Simulator(job_pending_seconds=0.0, job_running_seconds=0.1)
    sim.add_workspace(WORKSPACE_NAME, WORKSPACE_ID)
    sim.add_source(GONG_SOURCE_NAME, "gong", WORKSPACE_ID, GONG_CONFIGURATION, GONG_SOURCE_ID)
    return sim


def sophia_settings(
    sim: Simulator,
    pipeline: dict[str, Any] | None = None,
    postgres: dict[str, Any] | None = None,
    embedding: dict[str, Any] | None = None,
    qdrant: dict[str, Any] | None = None,
    airbyte: dict[str, Any] | None = None,
) -> Settings:
    """Settings by environment variable name, as a user would write them."""
    return Settings(
        airbyte=AirbyteSettings(
            AIRBYTE_API_URL=SIM_URL,
            AIRBYTE_CLIENT_ID=sim.client_id,
            AIRBYTE_CLIENT_SECRET=sim.client_secret,
            SOPHIA_AIRBYTE_POLL_INTERVAL=0.05,
            **(airbyte or {}),
        ),
        pipeline=PipelineSettings(**(pipeline or {})),
        postgres=PostgresSettings(**(postgres or {})),
        embedding=EmbeddingSettings(**(embedding or {})),
        qdrant=QdrantSettings(**(qdrant or {})),
    )


@asynccontextmanager
async def airbyte_client(sim: Simulator, settings: Settings) -> AsyncIterator[AirbyteClient]:
    async with AirbyteClient(settings.airbyte, transport=httpx.ASGITransport(app=create_app(sim))) as client:
        yield client


@asynccontextmanager
async def planner(sim: Simulator, **settings: Any) -> AsyncIterator[PipelinePlanner]:
    """A planner for `sim`; keyword arguments as for `sophia_settings`."""
    config = sophia_settings(sim, **settings)
    async with airbyte_client(sim, config) as client:
        yield PipelinePlanner(client, config)


def writes(sim: Simulator) -> dict[tuple[str, str], int]:
    """Every request that could have changed something, except fetching a token."""
    return {
        key: count
        for key, count in sim.requests.items()
        if key[0] in WRITES and key != ("POST", "/applications/token") and count
    }
