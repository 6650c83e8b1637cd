"""The read-only pool: the database refuses every write, slow queries end with a typed error and
the pool keeps serving, results are capped, and failures to connect say what to fix."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest

from sophia_mcp.postgres.errors import (
    InvalidInputError,
    MissingTableError,
    PostgresAuthError,
    PostgresError,
    PostgresUnavailableError,
    QueryFailedError,
    QueryTimeoutError,
    ReadOnlyViolationError,
    ResultTooLargeError,
    describe_target,
)
from sophia_mcp.postgres.readonly import ReadOnlyPool
from sophia_mcp.sample.databases import database_url, recreate_database

pytestmark = pytest.mark.anyio

WRITES = [
    "INSERT INTO probe VALUES (2)",
    "UPDATE probe SET n = 3",
    "DELETE FROM probe",
    "TRUNCATE probe",
    "DROP TABLE probe",
    "CREATE TABLE intruder (n int)",
    "CREATE TEMP TABLE intruder (n int)",
    "ALTER TABLE probe ADD COLUMN m int",
    "SELECT nextval('probe_seq')",
    "DO $$ BEGIN EXECUTE 'DROP TABLE probe'; END $$",
    "WITH gone AS (DELETE FROM probe RETURNING n) SELECT * FROM gone",
    "SELECT 1; DROP TABLE probe",
    "COMMIT; DROP TABLE probe",
    "SET TRANSACTION READ WRITE",
]


@pytest.fixture(scope="module")
def probe_url(postgres_admin_url: str) -> str:
    async def build() -> str:
        url = await recreate_database(postgres_admin_url, "sophia_test_readonly")
        connection = await asyncpg.connect(url)
        await connection.execute("CREATE TABLE probe (n int); INSERT INTO probe VALUES (1); CREATE SEQUENCE probe_seq")
        await connection.close()
        return url

    return asyncio.run(build())


@pytest.fixture
async def pool(probe_url: str) -> AsyncIterator[ReadOnlyPool]:
    async with ReadOnlyPool(probe_url, statement_timeout_ms=300) as opened:
        yield opened


async def _probe_state(url: str) -> tuple[object, ...]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch("SELECT n FROM probe ORDER BY n")
        tables = await connection.fetch("SELECT relname FROM pg_class WHERE relname IN ('intruder', 'probe') ORDER BY 1")
        sequence = await connection.fetchval("SELECT last_value FROM probe_seq")
        return tuple(r["n"] for r in rows), tuple(r["relname"] for r in tables), sequence
    finally:
        await connection.close()


async def test_sessions_are_read_only_with_the_configured_timeout(pool):
    assert await pool.fetchval("SHOW default_transaction_read_only") == "on"
    assert await pool.fetchval("SHOW transaction_read_only") == "on"
    assert await pool.fetchval("SHOW statement_timeout") == "300ms"


@pytest.mark.parametrize("statement", WRITES)
async def test_the_database_refuses_every_write_through_the_pool(pool, probe_url, statement):
    before = await _probe_state(probe_url)
    with pytest.raises(PostgresError) as caught:
        async with pool.session() as session:
            await session.fetch(statement)
    assert isinstance(caught.value, (ReadOnlyViolationError, QueryFailedError))
    assert await _probe_state(probe_url) == before
    assert await pool.fetchval("SELECT count(*) FROM probe") == 1


async def test_a_session_setting_made_inside_a_transaction_does_not_outlive_it(pool):
    await pool.fetch("SET default_transaction_read_only = off")
    # One connection in the pool is now reused; the rollback undid the setting.
    assert await pool.fetchval("SHOW default_transaction_read_only") == "on"
    with pytest.raises(ReadOnlyViolationError):
        await pool.fetch("INSERT INTO probe VALUES (9)")


async def test_a_slow_query_ends_with_a_timeout_error_and_the_pool_keeps_serving(pool):
    started = time.monotonic()
    with pytest.raises(QueryTimeoutError, match="longer than 0.3 s"):
        await pool.fetch("SELECT pg_sleep(5)")
    assert time.monotonic() - started < 3
    results = await asyncio.gather(
        *(pool.fetch("SELECT pg_sleep(5)") for _ in range(3)), pool.fetchval("SELECT 42"), return_exceptions=True
    )
    assert all(isinstance(r, QueryTimeoutError) for r in results[:3])
    assert results[3] == 42
    assert await pool.fetchval("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%'") == 0


async def test_results_are_capped_in_rows_and_bytes(probe_url):
    async with ReadOnlyPool(probe_url, max_rows=10, max_bytes=1000) as pool:
        assert len(await pool.fetch("SELECT generate_series(1, 10)")) == 10
        with pytest.raises(ResultTooLargeError, match="more than 10 rows"):
            await pool.fetch("SELECT generate_series(1, 11)")
        with pytest.raises(ResultTooLargeError, match="larger than 1 kB"):
            await pool.fetch("SELECT repeat('x', 2000)")
        assert await pool.fetchval("SELECT 1") == 1


async def test_a_missing_table_is_a_typed_error(pool):
    with pytest.raises(MissingTableError, match="SOPHIA_GONG_SCHEMA"):
        await pool.fetch('SELECT * FROM "extensiveCalls"')


async def test_a_value_postgres_cannot_hold_is_a_typed_error(pool):
    with pytest.raises(InvalidInputError):
        await pool.fetch("SELECT $1::text", "a\x00b")


async def test_connection_refused_names_the_server_and_never_the_password():
    async with ReadOnlyPool("postgresql://sophia:s3cret-pw@127.0.0.1:9/gong") as pool:
        with pytest.raises(PostgresUnavailableError) as caught:
            await pool.ping()
    message = str(caught.value)
    assert "127.0.0.1:9/gong" in message and "connection refused" in message
    assert "s3cret-pw" not in message


async def test_an_unknown_database_says_so(probe_url):
    async with ReadOnlyPool(database_url(probe_url, "no_such_database")) as pool:
        with pytest.raises(PostgresAuthError, match="no such database"):
            await pool.ping()


def test_describe_target_keeps_host_port_and_database_only():
    assert describe_target("postgresql://u:pw@db.example.test:6543/gong?sslmode=require") == "db.example.test:6543/gong"
    assert describe_target("postgresql://postgres:@/postgres?host=/tmp/pg") == "/tmp/pg/postgres"


async def test_transactions_end_after_the_answer_and_connections_come_back(probe_url):
    """A unit of work ends (ROLLBACK, release) in the background: the next one on a pool of one
    still gets a connection that is out of its transaction, and a cancelled query gives its back."""
    async with ReadOnlyPool(probe_url, statement_timeout_ms=2000, max_size=1) as pool:
        for n in range(20):
            assert await pool.fetchval("SELECT $1::int", n) == n
            assert await pool.fetchval("SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction'") == 0
        task = asyncio.ensure_future(pool.fetch("SELECT pg_sleep(5)"))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        started = time.monotonic()
        await pool.settle()
        assert await pool.fetchval("SELECT 1") == 1
        assert time.monotonic() - started < 2
        assert await pool.fetchval("SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(5)' "
                                   "AND state = 'active'") == 0
