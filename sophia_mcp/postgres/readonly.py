"""The only way this program talks to the Gong database: a pool whose sessions cannot write.

Read-only three times over, so that no single missed setting makes it writable:
- every connection starts with `default_transaction_read_only=on` (a startup parameter);
- every unit of work runs in `BEGIN READ ONLY`, with `SET LOCAL statement_timeout` (which also
  holds behind a transaction-mode pgbouncer that drops startup parameters);
- SQL comes only from this program's own code; caller values travel as bind parameters.
The README also asks users to connect with a role that has nothing but SELECT.

A unit of work ends (ROLLBACK, then release to the pool) in a task of its own, after the answer is
back with the caller: one round trip less on every lookup, and a cancelled request still returns its
connection cleanly.

Results are capped in rows and bytes, so no answer can flood the assistant. The caps are checked
on what came back (a cursor would cost one more round trip per query); every query here carries
its own LIMIT, so they are a backstop, and `statement_timeout` bounds what a query can produce.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from sophia_mcp.observability import metrics
from sophia_mcp.errors import NotConfiguredError
from sophia_mcp.postgres.errors import (
    QUERY_FAILURES,
    PostgresError,
    ResultTooLargeError,
    connection_error,
    describe_target,
    query_error,
)
from sophia_mcp.settings import PostgresSettings

# Added to the server-side timeout for the client-side one, so that the server's clearer
# cancellation normally wins and the client's only catches a server that stopped answering.
CLIENT_TIMEOUT_GRACE_S = 2.0


class ReadOnlySession:
    """One connection inside one read-only transaction: several queries, one snapshot."""

    def __init__(self, connection: asyncpg.Connection, pool: ReadOnlyPool) -> None:
        self._connection = connection
        self._pool = pool

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        """Rows of a query this program wrote; `args` are bound as parameters, never formatted in."""
        return await self.fetch_bulk(sql, *args, max_rows=self._pool.max_rows, max_bytes=self._pool.max_bytes)

    async def fetch_bulk(
        self, sql: str, *args: Any, max_rows: int, max_bytes: int | None, timeout_ms: int | None = None
    ) -> list[asyncpg.Record]:
        """`fetch` with caps of its own: for this program's in-process summaries, which read a row
        per call once and never hand them to a caller as they are. `timeout_ms` raises the
        statement timeout for this statement only (SET LOCAL, undone by the transaction's end).
        `max_bytes=None` skips measuring the rows (a Python loop over every value: a third of a
        second at 100,000 rows) for a statement whose rows are small by construction."""
        pool = self._pool
        client_timeout = pool.client_timeout_s
        try:
            if timeout_ms is not None:
                # This program's own integer, not caller text.
                await self._connection.execute(f"SET LOCAL statement_timeout = {int(timeout_ms)}")
                client_timeout = timeout_ms / 1000 + CLIENT_TIMEOUT_GRACE_S
            rows = await self._connection.fetch(sql, *args, timeout=client_timeout)
        except QUERY_FAILURES as error:
            raise query_error(error, pool.target, pool.statement_timeout_ms) from error
        if len(rows) > max_rows:
            raise ResultTooLargeError(
                f"The answer has more than {max_rows} rows. Narrow the filters or ask for fewer rows."
            )
        if max_bytes is not None and sum(_record_bytes(row) for row in rows) > max_bytes:
            raise ResultTooLargeError(
                f"The answer is larger than {max_bytes // 1000} kB. Narrow the filters or ask for less."
            )
        return rows

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        rows = await self.fetch(sql, *args)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, *args: Any) -> Any:
        row = await self.fetchrow(sql, *args)
        return row[0] if row is not None else None


class ReadOnlyPool:
    """A pool of read-only Postgres sessions. `open()` touches no network; connections are made
    when first needed, so a server that is down at start-up only fails the calls that need it."""

    def __init__(
        self,
        url: str,
        *,
        statement_timeout_ms: int = 5000,
        max_rows: int = 5000,
        max_bytes: int = 5_000_000,
        max_size: int = 10,
        application_name: str = "sophia-mcp",
    ) -> None:
        if statement_timeout_ms <= 0:
            raise ValueError("statement_timeout_ms must be positive")
        self._url = url
        self.target = describe_target(url)
        self.statement_timeout_ms = int(statement_timeout_ms)
        self.client_timeout_s = self.statement_timeout_ms / 1000 + CLIENT_TIMEOUT_GRACE_S
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self._max_size = max_size
        self._application_name = application_name
        self._pool: asyncpg.Pool | None = None
        # Transactions being ended in the background (see session()).
        self._ending: set[asyncio.Task[None]] = set()
        self._waiting = 0
        metrics.watch_pool(self)

    @property
    def identity(self) -> str:
        """The server, database and role this pool connects to, without any password: for naming
        what is kept about this database (e.g. a hash of it for a local cache file)."""
        parts = urlsplit(self._url)
        netloc = parts.netloc.rsplit("@", 1)
        if len(netloc) == 2:
            netloc[0] = netloc[0].split(":", 1)[0]
        query = "&".join(item for item in parts.query.split("&") if not item.lower().startswith("password="))
        return urlunsplit(parts._replace(netloc="@".join(netloc), query=query))

    def stats(self) -> tuple[int, int, int]:
        """(connections in use, idle connections, sessions waiting for one), for GET /metrics."""
        if self._pool is None:
            return 0, 0, self._waiting
        idle = self._pool.get_idle_size()
        return self._pool.get_size() - idle, idle, self._waiting

    @classmethod
    def from_settings(cls, settings: PostgresSettings, **overrides: Any) -> ReadOnlyPool:
        """The pool the settings describe (SOPHIA_POSTGRES_URL, its timeout and size); `overrides`
        change any keyword of the constructor, e.g. a batch job's caps and application name."""
        if settings.url is None:
            raise NotConfiguredError(
                "The Gong database is not configured: set SOPHIA_POSTGRES_URL to the Postgres where Airbyte "
                "lands Gong data (a read-only role)."
            )
        options: dict[str, Any] = {
            "statement_timeout_ms": settings.statement_timeout_ms,
            "max_size": settings.pool_max_size,
            **overrides,
        }
        return cls(settings.url.get_secret_value(), **options)

    async def open(self) -> None:
        if self._pool is not None:
            return
        self._pool = await asyncpg.create_pool(
            self._url,
            min_size=0,
            max_size=self._max_size,
            timeout=self.client_timeout_s,
            reset=_nothing_to_reset,
            server_settings={
                "default_transaction_read_only": "on",
                "statement_timeout": str(self.statement_timeout_ms),
                # A transaction left open by a stuck client must not hold locks against Airbyte's syncs.
                "idle_in_transaction_session_timeout": str(self.statement_timeout_ms * 2),
                "application_name": self._application_name,
            },
        )

    async def settle(self) -> None:
        """Wait until every transaction being ended in the background is over."""
        while self._ending:
            await asyncio.gather(*self._ending, return_exceptions=True)

    async def close(self) -> None:
        await self.settle()
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    async def __aenter__(self) -> ReadOnlyPool:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[ReadOnlySession]:
        """A read-only transaction for several queries that should see the same snapshot."""
        if self._pool is None:
            raise PostgresError("The Postgres pool is not open (call open() first).")
        self._waiting += 1
        try:
            connection = await self._pool.acquire()
        except QUERY_FAILURES as error:
            raise connection_error(error, self.target) from error
        finally:
            self._waiting -= 1
        try:
            try:
                await self._begin(connection)
            except PostgresError:
                # A connection that cannot even begin is broken: the pool replaces a terminated one
                # (unless the pool already took it back when it was lost).
                with contextlib.suppress(asyncpg.InterfaceError):
                    connection.terminate()
                raise
            yield ReadOnlySession(connection, self)
        finally:
            # Not awaited: the caller has its rows. The connection goes back to the pool only once
            # the transaction is over, and close() waits for these.
            task = asyncio.get_running_loop().create_task(self._end(connection, self._pool))
            self._ending.add(task)
            task.add_done_callback(self._ending.discard)

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        async with self.session() as session:
            return await session.fetch(sql, *args)

    async def fetch_bulk(
        self, sql: str, *args: Any, max_rows: int, max_bytes: int | None, timeout_ms: int | None = None
    ) -> list[asyncpg.Record]:
        async with self.session() as session:
            return await session.fetch_bulk(sql, *args, max_rows=max_rows, max_bytes=max_bytes, timeout_ms=timeout_ms)

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        async with self.session() as session:
            return await session.fetchrow(sql, *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        async with self.session() as session:
            return await session.fetchval(sql, *args)

    async def ping(self) -> None:
        """Raise a typed error if the server cannot be reached or refuses the role."""
        await self.fetchval("SELECT 1")

    async def _begin(self, connection: asyncpg.Connection) -> None:
        # One round trip; the timeout is this program's own integer, not caller text. The final
        # SELECT takes the snapshot, after which not even SET TRANSACTION READ WRITE is accepted.
        begin = f"BEGIN READ ONLY; SET LOCAL statement_timeout = {self.statement_timeout_ms}; SELECT 1"
        try:
            await connection.execute(begin, timeout=self.client_timeout_s)
        except QUERY_FAILURES as error:
            raise query_error(error, self.target, self.statement_timeout_ms) from error

    async def _end(self, connection: asyncpg.Connection, pool: asyncpg.Pool | None) -> None:
        # ROLLBACK, not COMMIT: nothing was written, it ends a transaction an error aborted, and it
        # undoes any session SET made inside, so no setting outlives the transaction.
        try:
            if not connection.is_closed() and connection.is_in_transaction():
                await connection.execute("ROLLBACK", timeout=self.client_timeout_s)
        except asyncpg.InterfaceError:
            # The pool already took the connection back (it was lost, or the pool closed): nothing
            # is left to end or to release.
            return
        except QUERY_FAILURES:
            # The connection is unusable; terminating it lets the pool open a fresh one.
            connection.terminate()
        if pool is not None:
            await pool.release(connection)


async def _nothing_to_reset(connection: asyncpg.Connection) -> None:
    """Sessions change no state that outlives a transaction, so the pool's default reset
    (`RESET ALL` and friends, one more round trip per query) has nothing to undo."""


def _record_bytes(record: Sequence[Any]) -> int:
    # Text and json arrive as str, bytea as bytes; everything else is a small fixed-size value.
    return sum(len(value) if isinstance(value, (str, bytes)) else 8 for value in record)
