"""The embedded Postgres: a real server from a data folder, and the same data on the next start."""

import asyncio

import asyncpg

from sophia_mcp.postgres.embedded import start_embedded_postgres


async def _run(url: str, sql: str) -> object:
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetchval(sql)
    finally:
        await connection.close()


def test_a_second_start_on_the_same_folder_finds_the_data(server_tmp):
    folder = server_tmp / "pgdata"
    first = start_embedded_postgres(folder)
    try:
        asyncio.run(_run(first.url, "CREATE TABLE kept AS SELECT 42 AS answer"))
    finally:
        first.stop()

    second = start_embedded_postgres(folder)
    try:
        assert second.data_dir == folder.resolve()
        assert asyncio.run(_run(second.url, "SELECT answer FROM kept")) == 42
    finally:
        second.stop()
