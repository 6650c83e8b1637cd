"""Postgres stopped and started again under a running server: tools fail clearly meanwhile, then
recover without restarting Sophia MCP, and no connection leaks."""

from __future__ import annotations

import asyncpg
import pytest
from mcp import Client

from sophia_mcp.sample.gong_data import load_sample_data
from sophia_mcp.postgres.embedded import start_embedded_postgres
from sophia_mcp.surface.server import build_server
from sophia_mcp.settings import PostgresSettings, Settings
from tests.e2e.conftest import error_text, tool_json

pytestmark = pytest.mark.anyio

POOL_SIZE = 3


async def sophia_connections(admin_url: str) -> int:
    connection = await asyncpg.connect(admin_url)
    try:
        return await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'sophia-mcp'"
        )
    finally:
        await connection.close()


async def test_tools_recover_after_postgres_restarts(server_tmp):
    data_dir = server_tmp / "pg"
    postgres = start_embedded_postgres(data_dir)
    try:
        await load_sample_data(postgres.url, calls=30, recommended_indexes=False)
        settings = Settings(
            postgres=PostgresSettings(SOPHIA_POSTGRES_URL=postgres.url, SOPHIA_POSTGRES_POOL_SIZE=POOL_SIZE)
        )
        async with Client(build_server(settings)) as client:
            before = tool_json(await client.call_tool("gong_search_calls", {"limit": 5}))
            assert len(before["calls"]) == 5

            postgres.stop()
            for _ in range(3):
                text = error_text(await client.call_tool("gong_search_calls", {"limit": 5}))
                assert "Postgres" in text and "Traceback" not in text
            # Airbyte-free tools that need no database keep answering meanwhile.
            assert (await client.list_tools()).tools

            postgres = start_embedded_postgres(data_dir)
            after = tool_json(await client.call_tool("gong_search_calls", {"limit": 5}))
            assert [c["id"] for c in after["calls"]] == [c["id"] for c in before["calls"]]
            for _ in range(20):
                tool_json(await client.call_tool("gong_get_call", {"call_id": after["calls"][0]["id"]}))
            assert await sophia_connections(postgres.url) <= POOL_SIZE
    finally:
        postgres.stop()
