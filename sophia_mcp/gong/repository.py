"""The Gong lookups: one object per server, over a read-only pool, that the MCP tools call.

The tables are discovered on first use (not at start-up, so the server starts without touching
the network) and kept. A lookup that needs a missing stream rediscovers once the last discovery is
a minute old, so enabling the stream in Airbyte works without a restart; a table that vanished
(MissingTableError) makes the next lookup rediscover.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio

from sophia_mcp.gong import arguments
from sophia_mcp.gong.arguments import Moment
from sophia_mcp.gong.errors import StreamMissingError
from sophia_mcp.gong.filters import CallFilters
from sophia_mcp.gong.models import (
    AccountActivity,
    CallDetail,
    CallPage,
    DataStatus,
    RepStats,
    SchemaReport,
    TranscriptPage,
    UserDetail,
    UserPage,
)
from sophia_mcp.gong.queries.accounts import account_activity
from sophia_mcp.gong.queries.call_detail import get_call
from sophia_mcp.gong.queries.calls import search_calls
from sophia_mcp.gong.queries.reps import rep_stats
from sophia_mcp.gong.queries.status import data_status
from sophia_mcp.gong.queries.transcripts import get_transcript
from sophia_mcp.gong.queries.users import get_user, list_users
from sophia_mcp.gong.schema import GongSchema, discover
from sophia_mcp.postgres.errors import MissingTableError
from sophia_mcp.postgres.readonly import ReadOnlyPool

T = TypeVar("T")


class GongRepository:
    def __init__(
        self, pool: ReadOnlyPool, schema: str = "public", table_prefix: str = "", rediscover_after_s: float = 60.0
    ) -> None:
        self._pool = pool
        self._schema_name = schema
        self._prefix = table_prefix
        self._rediscover_after_s = rediscover_after_s
        self._discovered: GongSchema | None = None
        self._lock = anyio.Lock()

    async def tables(self) -> GongSchema:
        """The discovered tables (discovering them the first time)."""
        discovered = self._discovered
        if discovered is None:
            async with self._lock:
                if self._discovered is None:
                    self._discovered = await discover(self._pool, self._schema_name, self._prefix)
                discovered = self._discovered
        return discovered

    async def refresh(self) -> GongSchema:
        """Discover the tables again, e.g. after a stream was enabled in Airbyte."""
        async with self._lock:
            self._discovered = await discover(self._pool, self._schema_name, self._prefix)
            return self._discovered

    async def describe_schema(self, *, rediscover: bool = True) -> SchemaReport:
        """The tables and columns found and how they map to Gong's streams. Rediscovers by default:
        this is where a user checks what the server sees now."""
        return (await (self.refresh() if rediscover else self.tables())).report()

    async def search_calls(
        self, filters: CallFilters | None = None, *, limit: int | None = None, cursor: str | None = None
    ) -> CallPage:
        """Calls newest first that match every filter (see CallFilters)."""
        filters = filters or CallFilters()
        size = arguments.limit("limit", limit, default=20, maximum=100)
        return await self._run(lambda schema: search_calls(self._pool, schema, filters, size, cursor))

    async def get_call(self, call_id: str, *, outline_chars: int = 1500) -> CallDetail:
        return await self._run(lambda schema: get_call(self._pool, schema, call_id, outline_chars))

    async def get_transcript(self, call_id: str, *, cursor: str | None = None, max_chars: int = 6000) -> TranscriptPage:
        return await self._run(lambda schema: get_transcript(self._pool, schema, call_id, cursor, max_chars))

    async def list_users(
        self, query: str | None = None, *, active: bool | None = None, limit: int | None = None, cursor: str | None = None
    ) -> UserPage:
        size = arguments.limit("limit", limit, default=50, maximum=200)
        return await self._run(lambda schema: list_users(self._pool, schema, query, active, size, cursor))

    async def get_user(self, user_id: str) -> UserDetail:
        return await self._run(lambda schema: get_user(self._pool, schema, user_id))

    async def account_activity(
        self, account: str, *, since: Moment = None, until: Moment = None, limit: int | None = None
    ) -> AccountActivity:
        size = arguments.limit("limit", limit, default=20, maximum=100)
        return await self._run(lambda schema: account_activity(self._pool, schema, account, since, until, size))

    async def rep_stats(
        self, *, since: Moment = None, until: Moment = None, rep: str | None = None, limit: int | None = None
    ) -> RepStats:
        """Defaults to the 30 days before `until` (itself defaulting to now)."""
        size = arguments.limit("limit", limit, default=50, maximum=500)
        return await self._run(lambda schema: rep_stats(self._pool, schema, since, until, rep, size))

    async def data_status(self, *, stale_after_hours: float = 24.0) -> DataStatus:
        # Always fresh: this is where a user checks whether a newly enabled stream has arrived.
        return await data_status(self._pool, await self.refresh(), stale_after_hours)

    async def _run(self, lookup: Callable[[GongSchema], Awaitable[T]]) -> T:
        schema = await self.tables()
        try:
            return await lookup(schema)
        except StreamMissingError:
            if time.monotonic() - schema.discovered_at < self._rediscover_after_s:
                raise
            return await lookup(await self.refresh())
        except MissingTableError:
            self._discovered = None
            raise
