"""What the search indexer reads: each changed call's latest `extensiveCalls` and `callTranscripts`
rows, found by `_airbyte_extracted_at` past a watermark."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sophia_mcp.gong.layout import EXTRACTED_AT
from sophia_mcp.gong.queries.common import loads
from sophia_mcp.gong.schema import GongSchema
from sophia_mcp.gong.sql import newest_first
from sophia_mcp.postgres.readonly import ReadOnlyPool

EXTENSIVE_JSON = ("metaData", "content", "parties", "context")


@dataclass(frozen=True)
class CallDocument:
    """The latest `extensiveCalls` and `callTranscripts` rows of one call (either may be missing)."""

    call_id: str
    extensive: Mapping[str, Any] | None = None
    transcript: Sequence[Mapping[str, Any]] | None = None
    transcript_started: datetime | None = None


class CallDocumentSource:
    """The calls of the Gong tables Airbyte writes, through a read-only pool.

    Works with `extensiveCalls` (metadata and call-level content), `callTranscripts` or both
    (`usable` says whether either is there).
    """

    def __init__(self, pool: ReadOnlyPool, gong: GongSchema) -> None:
        self._pool = pool
        self._extensive = gong.tables.get("extensiveCalls")
        self._transcripts = gong.tables.get("callTranscripts")

    @property
    def usable(self) -> bool:
        return bool(self._touched())

    def _touched(self) -> list[tuple[Any, str]]:
        return [(t, c) for t, c in ((self._extensive, "id"), (self._transcripts, "callId")) if t is not None]

    async def newest_extracted_at(self) -> datetime | None:
        """The newest `_airbyte_extracted_at` of the tables read: when it moves, there is work."""
        parts = [f"SELECT max({t.col('t', EXTRACTED_AT)}) AS at FROM {t.sql} AS t" for t, _ in self._touched()]
        return await self._pool.fetchval(f"SELECT max(at) FROM ({' UNION ALL '.join(parts)}) AS newest")

    async def changed_calls(self, after: tuple[datetime, str]) -> list[tuple[str, datetime]]:
        """(call id, newest extracted_at) of each call with a row past the watermark, oldest first.

        The watermark is (extracted_at, call id), so calls sharing one timestamp are neither
        skipped nor redone when a run stops between them.
        """
        touched = []
        for table, call_id in self._touched():
            at = table.col("t", EXTRACTED_AT)
            touched.append(
                f"SELECT {table.col('t', call_id)}::text AS call_id, {at} AS at FROM {table.sql} AS t WHERE {at} >= $1"
            )
        rows = await self._pool.fetch(
            f"SELECT call_id, max(at) AS newest FROM ({' UNION ALL '.join(touched)}) AS touched "
            "WHERE call_id IS NOT NULL GROUP BY call_id HAVING (max(at), call_id) > ($1, $2) "
            "ORDER BY newest, call_id",
            *after,
        )
        return [(row["call_id"], row["newest"]) for row in rows]

    async def load(self, calls: Sequence[tuple[str, datetime]]) -> list[CallDocument]:
        ids = [call_id for call_id, _ in calls]
        extensive: dict[str, dict[str, Any]] = {}
        transcripts: dict[str, dict[str, Any]] = {}
        if self._extensive is not None:
            table = self._extensive
            # `extensiveCalls.id` is bigint: comparing it as bigint keeps its index usable.
            wanted = [int(i) for i in ids if i.isdigit()] if table.is_numeric("id") else ids
            key = table.col("t", "id")
            columns = ", ".join(f'{table.col("t", name)} AS "{name}"' for name in EXTENSIVE_JSON)
            rows = await self._pool.fetch(
                f"SELECT DISTINCT ON ({key}) {key}::text AS call_id, {columns} FROM {table.sql} AS t "
                f"WHERE {key} = ANY($1) ORDER BY {key}, {newest_first(table, 't')}",
                wanted,
            )
            extensive = {row["call_id"]: {name: loads(row[name]) for name in EXTENSIVE_JSON} for row in rows}
        if self._transcripts is not None:
            table = self._transcripts
            key = table.col("t", "callId")
            rows = await self._pool.fetch(
                f"SELECT DISTINCT ON ({key}) {key} AS call_id, {table.col('t', 'started')} AS started, "
                f"{table.col('t', 'transcript')} AS transcript FROM {table.sql} AS t WHERE {key} = ANY($1::text[]) "
                f"ORDER BY {key}, {newest_first(table, 't')}",
                ids,
            )
            transcripts = {
                row["call_id"]: {"started": row["started"], "transcript": loads(row["transcript"])} for row in rows
            }
        return [
            CallDocument(
                call_id=call_id,
                extensive=extensive.get(call_id),
                transcript=transcripts.get(call_id, {}).get("transcript"),
                transcript_started=transcripts.get(call_id, {}).get("started"),
            )
            for call_id, _ in calls
        ]
