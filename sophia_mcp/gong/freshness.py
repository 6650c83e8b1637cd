"""How old the Gong data is: the newest `_airbyte_extracted_at` of each table, read at most once a
minute, so that every answer can say `as_of` (and `stale` past SOPHIA_STALE_AFTER_HOURS) for the
price of a dictionary lookup.

Each maximum is an index-only step backwards on the `_airbyte_extracted_at` index that
destination-postgres always creates: one short statement for every table at once.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import anyio

from sophia_mcp.gong import layout
from sophia_mcp.gong.schema import GongSchema
from sophia_mcp.postgres.readonly import ReadOnlyPool

DEFAULT_STALE_AFTER_HOURS = 24.0
CACHE_SECONDS = 60.0


@dataclass(frozen=True)
class DataAge:
    """`as_of`: the newest extraction among the tables read (None when they are empty);
    `stale`: it is older than the configured age."""

    as_of: datetime | None
    stale: bool


class Freshness:
    def __init__(self, pool: ReadOnlyPool, stale_after_hours: float = DEFAULT_STALE_AFTER_HOURS) -> None:
        self._pool = pool
        self.stale_after = timedelta(hours=stale_after_hours)
        self._newest: dict[str, datetime | None] = {}
        self._read_at = -CACHE_SECONDS
        self._read_for: GongSchema | None = None
        self._lock = anyio.Lock()

    async def newest(self, schema: GongSchema) -> dict[str, datetime | None]:
        """Stream -> its newest `_airbyte_extracted_at`, for every table found (at most a minute old)."""
        if self._fresh(schema):
            return self._newest
        async with self._lock:
            if not self._fresh(schema):
                self._newest = await self._read(schema)
                self._read_at, self._read_for = time.monotonic(), schema
        return self._newest

    async def age(self, schema: GongSchema, streams: Iterable[str]) -> DataAge:
        newest = await self.newest(schema)
        found = [moment for stream in streams if (moment := newest.get(stream)) is not None]
        as_of = max(found) if found else None
        stale = as_of is None or datetime.now(timezone.utc) - as_of > self.stale_after
        return DataAge(as_of=as_of, stale=stale)

    def _fresh(self, schema: GongSchema) -> bool:
        return self._read_for is schema and time.monotonic() - self._read_at < CACHE_SECONDS

    async def _read(self, schema: GongSchema) -> dict[str, datetime | None]:
        streams = list(schema.tables)
        if not streams:
            return {}
        figures = ", ".join(
            f"(SELECT max({schema.tables[s].col('t', layout.EXTRACTED_AT)}) FROM {schema.tables[s].sql} t)"
            for s in streams
        )
        row = await self._pool.fetchrow(f"SELECT {figures}")
        return {stream: row[index] if row else None for index, stream in enumerate(streams)}
