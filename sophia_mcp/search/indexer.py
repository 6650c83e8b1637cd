"""`sophia-mcp index`: Gong calls and transcripts from Postgres, chunked and embedded, into Qdrant.

The only writer to Qdrant. Each run picks up the calls with a row newer than the watermark (by
`_airbyte_extracted_at`, in either table), reads the latest row of each, and replaces the call's
chunks. Point ids are uuid5(call id, chunk key), so writing a call twice gives the same points, and
a chunk whose text did not change keeps its vector instead of being embedded again. The watermark
lives in a state point of the collection and moves after each batch is written: an interrupted run
resumes at the first unfinished batch, and redoing a batch only rewrites the same points.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import anyio.to_thread

from sophia_mcp.gong.layout import EXTRACTED_AT
from sophia_mcp.gong.schema import GongSchema, discover
from sophia_mcp.postgres.readonly import ReadOnlyPool
from sophia_mcp.search.chunking import chunk_call
from sophia_mcp.search.embeddings.base import EmbeddingProvider
from sophia_mcp.search.embeddings.factory import embedder_from_settings
from sophia_mcp.search.store import (
    INDEX_STATE_KEY,
    INDEX_STATE_POINT_ID,
    PayloadFields,
    SearchError,
    check_embedder_fits,
    open_qdrant,
    qdrant_errors,
    read_index_state,
)
from sophia_mcp.settings import QdrantSettings, Settings

if TYPE_CHECKING:
    from qdrant_client import QdrantClient

T = TypeVar("T")

POINT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "sophia-mcp:gong-chunk")
EXTENSIVE_JSON = ("metaData", "content", "parties", "context")
# Calls per batch: each batch is embedded in one go and then moves the watermark, so it bounds
# both the work redone after an interruption and the gap between progress updates.
DEFAULT_BATCH_CALLS = 32
BEFORE_EVERYTHING = (datetime(1, 1, 1, tzinfo=timezone.utc), "")
# A batch job scans whole tables to find changed calls: far more room than a tool's query gets.
STATEMENT_TIMEOUT_MS = 600_000


class IndexSourceError(SearchError):
    """The Gong tables the indexer reads are missing or unreadable."""


class IndexTargetError(SearchError):
    """The collection cannot take the indexer's points."""


@dataclass(frozen=True)
class CallDocument:
    """The latest `extensiveCalls` and `callTranscripts` rows of one call (either may be missing)."""

    call_id: str
    extensive: Mapping[str, Any] | None = None
    transcript: Sequence[Mapping[str, Any]] | None = None
    transcript_started: datetime | None = None


@dataclass(frozen=True)
class IndexProgress:
    calls_done: int
    calls_total: int
    chunks_written: int


@dataclass(frozen=True)
class IndexReport:
    calls_indexed: int
    chunks_written: int
    chunks_embedded: int  # the written chunks whose text was new or changed
    watermark: datetime | None
    seconds: float


ProgressCallback = Callable[[IndexProgress], None]


def point_id(call_id: str, chunk_key: str) -> str:
    return str(uuid.uuid5(POINT_NAMESPACE, f"{call_id}:{chunk_key}"))


# --- reading Postgres -------------------------------------------------------------------------


class PostgresCallSource:
    """The calls of the Gong tables Airbyte writes, through the read-only pool.

    Works with `extensiveCalls` (metadata and call-level content), `callTranscripts` or both.
    """

    def __init__(self, pool: ReadOnlyPool, gong: GongSchema) -> None:
        self._pool = pool
        self._extensive = gong.tables.get("extensiveCalls")
        self._transcripts = gong.tables.get("callTranscripts")
        if self._extensive is None and self._transcripts is None:
            raise IndexSourceError(
                "`sophia-mcp index` needs the Gong extensiveCalls or callTranscripts stream: "
                f"extensiveCalls: {gong.problems['extensiveCalls']}; "
                f"callTranscripts: {gong.problems['callTranscripts']}. "
                "Sync those streams first, or fix SOPHIA_GONG_SCHEMA and SOPHIA_GONG_TABLE_PREFIX."
            )

    async def changed_calls(self, after: tuple[datetime, str]) -> list[tuple[str, datetime]]:
        """(call id, newest extracted_at) of each call with a row past the watermark, oldest first.

        The watermark is (extracted_at, call id), so calls sharing one timestamp are neither
        skipped nor redone when a run stops between them.
        """
        touched = []
        for table, call_id in ((self._extensive, "id"), (self._transcripts, "callId")):
            if table is not None:
                at = table.col("t", EXTRACTED_AT)
                touched.append(
                    f"SELECT {table.col('t', call_id)}::text AS call_id, {at} AS at "
                    f"FROM {table.sql} AS t WHERE {at} >= $1"
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
            rows = await self._pool.fetch(
                f'SELECT DISTINCT ON ({key}) {key}::text AS call_id, {table.col("t", "metaData")} AS "metaData", '
                f"{table.col('t', 'content')} AS content, {table.col('t', 'parties')} AS parties, "
                f"{table.col('t', 'context')} AS context FROM {table.sql} AS t WHERE {key} = ANY($1) "
                f"ORDER BY {key}, {table.col('t', EXTRACTED_AT)} DESC",
                wanted,
            )
            extensive = {row["call_id"]: {name: _json(row[name]) for name in EXTENSIVE_JSON} for row in rows}
        if self._transcripts is not None:
            table = self._transcripts
            key = table.col("t", "callId")
            rows = await self._pool.fetch(
                f"SELECT DISTINCT ON ({key}) {key} AS call_id, {table.col('t', 'started')} AS started, "
                f"{table.col('t', 'transcript')} AS transcript FROM {table.sql} AS t WHERE {key} = ANY($1::text[]) "
                f"ORDER BY {key}, {table.col('t', EXTRACTED_AT)} DESC",
                ids,
            )
            transcripts = {
                row["call_id"]: {"started": row["started"], "transcript": _json(row["transcript"])} for row in rows
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


def _json(value: str | None) -> Any:
    """A jsonb column's value: the pool hands jsonb over as text."""
    return json.loads(value) if value is not None else None


# --- shaping points -----------------------------------------------------------------------------


def call_payload(document: CallDocument, fields: PayloadFields) -> dict[str, Any]:
    """The fields every chunk of a call carries, for filters and for showing a hit."""
    extensive = document.extensive or {}
    meta = extensive.get("metaData") or {}
    started = _utc_iso(meta.get("started")) or _utc_iso(document.transcript_started)
    accounts = [
        obj
        for system in extensive.get("context") or []
        for obj in system.get("objects") or []
        if str(obj.get("objectType") or "").lower() == "account"
    ]
    return {
        fields.call_id: document.call_id,
        fields.title: meta.get("title"),
        fields.started: started,
        fields.rep_user_id: meta.get("primaryUserId"),
        fields.account_ids: [str(obj["objectId"]) for obj in accounts if obj.get("objectId")],
        fields.account_names: [name for obj in accounts if (name := _field(obj, "name"))],
    }


def _field(crm_object: Mapping[str, Any], name: str) -> str | None:
    for field in crm_object.get("fields") or []:
        if str(field.get("name") or "").lower() == name and field.get("value"):
            return str(field["value"])
    return None


def _utc_iso(value: datetime | str | None) -> str | None:
    """RFC 3339 in UTC, the form Qdrant's datetime filter and index read."""
    if not value:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat()


@dataclass(frozen=True)
class PlannedPoint:
    id: str
    text: str
    payload: dict[str, Any]


def plan_points(document: CallDocument, fields: PayloadFields) -> list[PlannedPoint]:
    extensive = document.extensive or {}
    shared = call_payload(document, fields)
    chunks = chunk_call(extensive.get("content"), extensive.get("parties"), document.transcript)
    return [
        PlannedPoint(
            id=point_id(document.call_id, chunk.key),
            text=chunk.text,
            payload={
                **shared,
                "chunk_key": chunk.key,
                fields.text: chunk.text,
                fields.speaker: chunk.speaker,
                fields.offset_seconds: chunk.offset_seconds,
            },
        )
        for chunk in chunks
    ]


# --- writing Qdrant -----------------------------------------------------------------------------


class QdrantIndexTarget:
    """The collection the indexer owns: created on first run, its chunks replaced call by call."""

    def __init__(self, client: QdrantClient, settings: QdrantSettings, fields: PayloadFields) -> None:
        self._client = client
        self._settings = settings
        self._collection = settings.collection
        self._local = settings.path is not None and not settings.url
        self._fields = fields
        # Local mode is not thread-safe: one call at a time.
        self._limiter = anyio.CapacityLimiter(1) if self._local else None
        self._dimension = 0

    async def prepare(self, embedder: EmbeddingProvider) -> tuple[datetime, str]:
        """Create the collection if needed, check it fits the embedder, and return the watermark."""
        self._dimension = await embedder.dimension()
        if not await self._run(lambda: self._client.collection_exists(self._collection)):
            await self._run(self._create)
        with qdrant_errors(self._settings):
            await check_embedder_fits(self._client, self._collection, embedder, limiter=self._limiter)
        state = await self._run(lambda: read_index_state(self._client, self._collection))
        if state is None:
            await self._refuse_foreign_points()
            # Written before any chunk, so a run interrupted after its first upsert still finds
            # a collection it owns.
            await self.save_watermark(embedder, BEFORE_EVERYTHING)
            return BEFORE_EVERYTHING
        return datetime.fromisoformat(state["watermark_extracted_at"]), state["watermark_call_id"]

    async def existing_vectors(self, points: Sequence[PlannedPoint]) -> dict[str, list[float]]:
        """Stored vectors of the points whose text is unchanged, so they need no new embedding."""
        texts = {point.id: point.text for point in points}
        records = await self._run(
            lambda: self._client.retrieve(
                self._collection, ids=list(texts), with_payload=[self._fields.text], with_vectors=True
            )
        )
        return {
            str(record.id): record.vector
            for record in records
            if isinstance(record.vector, list)
            and (record.payload or {}).get(self._fields.text) == texts[str(record.id)]
        }

    async def replace_calls(
        self, points: Sequence[PlannedPoint], vectors: Sequence[list[float]], call_ids: Sequence[str]
    ) -> None:
        """Upsert the calls' points, then delete the calls' other points (chunks that a call's new
        version no longer has)."""
        from qdrant_client import models

        if points:
            structs = [
                models.PointStruct(id=p.id, vector=v, payload=p.payload) for p, v in zip(points, vectors, strict=True)
            ]
            await self._run(lambda: self._client.upsert(self._collection, points=structs, wait=True))
        kept = models.HasIdCondition(has_id=[p.id for p in points])
        stale = models.Filter(
            must=[models.FieldCondition(key=self._fields.call_id, match=models.MatchAny(any=list(call_ids)))],
            must_not=[kept],
        )
        await self._run(lambda: self._client.delete(self._collection, points_selector=stale, wait=True))

    async def save_watermark(self, embedder: EmbeddingProvider, watermark: tuple[datetime, str]) -> None:
        from qdrant_client import models

        state = {
            "embedding_provider": embedder.name,
            "embedding_model": embedder.model,
            "dimension": self._dimension,
            "watermark_extracted_at": watermark[0].isoformat(),
            "watermark_call_id": watermark[1],
        }
        # A point needs a vector; a unit vector is valid for every distance. It has no call id,
        # so grouped search never returns it.
        marker = [1.0] + [0.0] * (self._dimension - 1)
        point = models.PointStruct(id=INDEX_STATE_POINT_ID, vector=marker, payload={INDEX_STATE_KEY: state})
        await self._run(lambda: self._client.upsert(self._collection, points=[point], wait=True))

    def _create(self) -> None:
        from qdrant_client import models

        self._client.create_collection(
            self._collection,
            vectors_config=models.VectorParams(size=self._dimension, distance=models.Distance.COSINE),
        )
        if self._local:
            return  # local mode scans every point and has no payload indexes
        keyword = models.PayloadSchemaType.KEYWORD
        indexes: dict[str, Any] = {
            self._fields.call_id: keyword,
            self._fields.rep_user_id: keyword,
            self._fields.account_ids: keyword,
            self._fields.started: models.PayloadSchemaType.DATETIME,
            self._fields.account_names: models.TextIndexParams(
                type=models.TextIndexType.TEXT, tokenizer=models.TokenizerType.WORD, lowercase=True
            ),
        }
        for field, schema in indexes.items():
            self._client.create_payload_index(self._collection, field_name=field, field_schema=schema)

    async def _refuse_foreign_points(self) -> None:
        """A collection with points but no index state was written by someone else (e.g. Airbyte's
        Qdrant destination): mixing the indexer's chunks into it would spoil both."""
        count = await self._run(lambda: self._client.count(self._collection, exact=True).count)
        if count:
            raise IndexTargetError(
                f"Qdrant collection {self._collection!r} already holds {count} points that `sophia-mcp index` "
                "did not write; choose another SOPHIA_QDRANT_COLLECTION for the index"
            )

    async def _run(self, call: Callable[[], T]) -> T:
        with qdrant_errors(self._settings):
            return await anyio.to_thread.run_sync(call, limiter=self._limiter)


# --- the job ------------------------------------------------------------------------------------


async def index_calls(
    source: PostgresCallSource,
    target: QdrantIndexTarget,
    embedder: EmbeddingProvider,
    *,
    fields: PayloadFields,
    batch_calls: int = DEFAULT_BATCH_CALLS,
    on_progress: ProgressCallback | None = None,
) -> IndexReport:
    started = time.monotonic()
    watermark = await target.prepare(embedder)
    changed = await source.changed_calls(watermark)
    written = embedded = 0
    for start in range(0, len(changed), batch_calls):
        batch = changed[start : start + batch_calls]
        documents = await source.load(batch)
        points = [point for document in documents for point in plan_points(document, fields)]
        reusable = await target.existing_vectors(points)
        fresh = [point for point in points if point.id not in reusable]
        fresh_vectors = dict(
            zip((p.id for p in fresh), await embedder.embed_documents([p.text for p in fresh]), strict=True)
        )
        vectors = [reusable.get(point.id) or fresh_vectors[point.id] for point in points]
        await target.replace_calls(points, vectors, [call_id for call_id, _ in batch])
        watermark = (batch[-1][1], batch[-1][0])
        await target.save_watermark(embedder, watermark)
        written += len(points)
        embedded += len(fresh)
        if on_progress is not None:
            on_progress(IndexProgress(start + len(batch), len(changed), written))
    return IndexReport(
        calls_indexed=len(changed),
        chunks_written=written,
        chunks_embedded=embedded,
        watermark=watermark[0] if watermark != BEFORE_EVERYTHING else None,
        seconds=round(time.monotonic() - started, 3),
    )


async def run_index(
    settings: Settings,
    *,
    embedder: EmbeddingProvider | None = None,
    batch_calls: int = DEFAULT_BATCH_CALLS,
    on_progress: ProgressCallback | None = None,
) -> IndexReport:
    """Index what changed since the last run, with the connections and model the settings name."""
    if settings.postgres.url is None:
        raise IndexSourceError("`sophia-mcp index` reads the Gong tables: set SOPHIA_POSTGRES_URL")
    fields = PayloadFields.from_settings(settings.qdrant)
    pool = ReadOnlyPool.from_settings(
        settings.postgres,
        statement_timeout_ms=STATEMENT_TIMEOUT_MS,
        # The list of changed calls is one row per call, and a batch of transcripts is large:
        # the caps that keep a tool's answer small do not apply to this batch job.
        max_rows=100_000_000,
        max_bytes=10_000_000_000,
        max_size=1,
        application_name="sophia-mcp index",
    )
    with qdrant_errors(settings.qdrant):
        client = await anyio.to_thread.run_sync(open_qdrant, settings.qdrant)
    chosen = embedder or embedder_from_settings(settings.embedding)
    try:
        async with pool:
            gong = await discover(pool, settings.postgres.gong_schema, settings.postgres.table_prefix)
            source = PostgresCallSource(pool, gong)
            target = QdrantIndexTarget(client, settings.qdrant, fields)
            return await index_calls(
                source, target, chosen, fields=fields, batch_calls=batch_calls, on_progress=on_progress
            )
    finally:
        await anyio.to_thread.run_sync(client.close)
        if embedder is None:
            await chosen.aclose()
