"""The writer: Gong calls and transcripts from Postgres, chunked and embedded (dense and BM25),
into the collection. `sophia-mcp index` runs it once; the serving process runs it in the background
for the embedded shard it owns (`background.py`).

Each run picks up the calls with a row newer than the watermark (by `_airbyte_extracted_at`, in
either table), reads the latest row of each, and replaces the call's chunks. Point ids are
uuid5(call id, chunk key), so writing a call twice gives the same points, and a chunk whose text
did not change keeps its vectors instead of being embedded again. The watermark lives in a state
point of the collection and moves after each batch is written: an interrupted run resumes at the
first unfinished batch, and redoing a batch only rewrites the same points.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sophia_mcp.gong.queries.call_documents import CallDocument, CallDocumentSource
from sophia_mcp.gong.schema import discover
from sophia_mcp.postgres.readonly import ReadOnlyPool
from sophia_mcp.search.chunking import chunk_call
from sophia_mcp.search.embeddings.base import EmbeddingProvider, follow_index
from sophia_mcp.search.embeddings.factory import embedder_from_settings
from sophia_mcp.search.errors import IndexSourceError, IndexTargetError, SearchError, StoreFullError
from sophia_mcp.search.model import PayloadFields
from sophia_mcp.search.qdrant import SPARSE_MODEL, Bm25Encoder, Collection, Sparse, StoredPoint, check_fits
from sophia_mcp.settings import PostgresSettings, Settings

POINT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "sophia-mcp:gong-chunk")
# Calls per batch: each batch is embedded in one go and then moves the watermark, so it bounds
# both the work redone after an interruption and the gap between progress updates.
DEFAULT_BATCH_CALLS = 32
BEFORE_EVERYTHING = (datetime(1, 1, 1, tzinfo=timezone.utc), "")
# A batch job scans whole tables to find changed calls: far more room than a tool's query gets.
STATEMENT_TIMEOUT_MS = 600_000


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


def sparse_text(point: PlannedPoint, fields: PayloadFields) -> str:
    """What BM25 indexes: the chunk, plus the call's title and account names, so that an exact
    name finds every chunk of its calls."""
    extra = [point.payload.get(fields.title) or "", *(point.payload.get(fields.account_names) or [])]
    return " ".join([point.text, *extra])


# --- writing the collection -----------------------------------------------------------------------


class IndexWriter:
    """The collection the indexer owns: created on first run, its chunks replaced call by call."""

    def __init__(self, collection: Collection, fields: PayloadFields) -> None:
        self._qdrant = collection
        self._fields = fields
        self._dimension = 0

    async def prepare(self, embedder: EmbeddingProvider) -> tuple[datetime, str]:
        """Create the collection if needed, check it fits the embedder, and return the watermark."""
        self.ensure_room()
        shape = await self._qdrant.run(lambda b: b.shape())
        # SOPHIA_EMBEDDING_QUANTIZE=auto: an existing index keeps its variant, a new one gets int8.
        follow_index(embedder, await self._qdrant.run(lambda b: b.read_state()) if shape else None, exists=shape is not None)
        self._dimension = dimension = await embedder.dimension()
        if shape is None:
            await self._qdrant.run(lambda b: b.create(dimension, self._fields))
            shape = await self._qdrant.run(lambda b: b.shape())
            assert shape is not None
        state = await self._qdrant.run(lambda b: b.read_state())
        check_fits(shape, state, self._qdrant.name, provider=embedder.name, model=embedder.model, dimension=dimension)
        if state is None:
            await self._refuse_foreign_points()
            # Written before any chunk, so a run interrupted after its first upsert still finds
            # a collection it owns.
            await self.save_watermark(embedder, BEFORE_EVERYTHING)
            return BEFORE_EVERYTHING
        return datetime.fromisoformat(state["watermark_extracted_at"]), state["watermark_call_id"]

    def ensure_room(self) -> None:
        """Refuse to write to an embedded store whose disk is nearly full: Qdrant Edge writes through
        memory-mapped files, and a write that finds no room there kills the process (SIGBUS) instead
        of failing. A server's disk is the server's to watch."""
        settings = self._qdrant.settings
        if settings.url or not settings.path:
            return
        folder = Path(settings.path).absolute()
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        free_mb = shutil.disk_usage(folder).free // 2**20
        if free_mb < settings.index_min_free_mb:
            raise StoreFullError(
                f"the disk holding the search index ({settings.path}) is full: {free_mb} MB free, under the "
                f"{settings.index_min_free_mb} MB indexing keeps free (SOPHIA_INDEX_MIN_FREE_MB). Free disk space"
            )

    async def existing_vectors(self, points: Sequence[PlannedPoint]) -> dict[str, tuple[list[float], Sparse | None]]:
        """Stored vectors of the points whose text is unchanged, so they need no new embedding."""
        texts = {point.id: point.text for point in points}
        stored = await self._qdrant.run(lambda b: b.stored(list(texts), self._fields.text))
        return {
            point: (dense, sparse)
            for point, (text, dense, sparse) in stored.items()
            if text == texts.get(point) and sparse is not None
        }

    async def replace_calls(self, points: Sequence[StoredPoint], call_ids: Sequence[str]) -> None:
        """Upsert the calls' points, then delete the calls' other points (chunks that a call's new
        version no longer has)."""
        keep = [p.id for p in points]
        self.ensure_room()

        def write(backend: Any) -> None:
            if points:
                backend.upsert(points)
            backend.delete_other_chunks(self._fields.call_id, call_ids, keep)

        await self._qdrant.run(write)

    async def save_watermark(self, embedder: EmbeddingProvider, watermark: tuple[datetime, str]) -> None:
        state = {
            "embedding_provider": embedder.name,
            "embedding_model": embedder.model,
            "dimension": self._dimension,
            "sparse_model": SPARSE_MODEL,
            "watermark_extracted_at": watermark[0].isoformat(),
            "watermark_call_id": watermark[1],
        }
        dimension = self._dimension
        await self._qdrant.run(lambda b: b.write_state(state, dimension))

    async def _refuse_foreign_points(self) -> None:
        """A collection with points but no index state was written by someone else (e.g. Airbyte's
        Qdrant destination): mixing the indexer's chunks into it would spoil both."""
        count = await self._qdrant.run(lambda b: b.count())
        if count:
            raise IndexTargetError(
                f"Qdrant collection {self._qdrant.name!r} already holds {count} points that `sophia-mcp index` "
                "did not write; choose another SOPHIA_QDRANT_COLLECTION for the index"
            )


# --- the job ------------------------------------------------------------------------------------


async def index_calls(
    source: CallDocumentSource,
    writer: IndexWriter,
    embedder: EmbeddingProvider,
    *,
    fields: PayloadFields,
    batch_calls: int = DEFAULT_BATCH_CALLS,
    on_progress: ProgressCallback | None = None,
    bm25: Bm25Encoder | None = None,
    on_start: Callable[[int], None] | None = None,
) -> IndexReport:
    started = time.monotonic()
    bm25 = bm25 or Bm25Encoder()
    watermark = await writer.prepare(embedder)
    changed = await source.changed_calls(watermark)
    if on_start is not None:
        on_start(len(changed))
    written = embedded = 0
    for start in range(0, len(changed), batch_calls):
        batch = changed[start : start + batch_calls]
        documents = await source.load(batch)
        planned = [point for document in documents for point in plan_points(document, fields)]
        reusable = await writer.existing_vectors(planned)
        fresh = [point for point in planned if point.id not in reusable]
        fresh_dense = dict(
            zip((p.id for p in fresh), await embedder.embed_documents([p.text for p in fresh]), strict=True)
        )
        points = [
            StoredPoint(
                id=point.id,
                dense=reusable[point.id][0] if point.id in reusable else fresh_dense[point.id],
                sparse=reusable[point.id][1] if point.id in reusable else bm25.document(sparse_text(point, fields)),
                payload=point.payload,
            )
            for point in planned
        ]
        await writer.replace_calls(points, [call_id for call_id, _ in batch])
        watermark = (batch[-1][1], batch[-1][0])
        await writer.save_watermark(embedder, watermark)
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


def batch_pool(postgres: PostgresSettings, application_name: str) -> ReadOnlyPool:
    """A one-connection read-only pool for the indexer: the list of changed calls is one row per
    call, and a batch of transcripts is large, so a tool's row and byte caps do not apply."""
    if postgres.url is None:
        raise IndexSourceError("indexing for semantic search reads the Gong tables: set SOPHIA_POSTGRES_URL")
    return ReadOnlyPool.from_settings(
        postgres,
        statement_timeout_ms=STATEMENT_TIMEOUT_MS,
        max_rows=100_000_000,
        max_bytes=10_000_000_000,
        max_size=1,
        application_name=application_name,
    )


async def open_source(pool: ReadOnlyPool, postgres: PostgresSettings) -> CallDocumentSource:
    gong = await discover(pool, postgres.gong_schema, postgres.table_prefix)
    source = CallDocumentSource(pool, gong)
    if not source.usable:
        raise IndexSourceError(
            "`sophia-mcp index` needs the Gong extensiveCalls or callTranscripts stream: "
            f"extensiveCalls: {gong.problems['extensiveCalls']}; "
            f"callTranscripts: {gong.problems['callTranscripts']}. "
            "Sync those streams first, or fix SOPHIA_GONG_SCHEMA and SOPHIA_GONG_TABLE_PREFIX."
        )
    return source


async def run_index(
    settings: Settings,
    *,
    embedder: EmbeddingProvider | None = None,
    batch_calls: int = DEFAULT_BATCH_CALLS,
    on_progress: ProgressCallback | None = None,
) -> IndexReport:
    """Index what changed since the last run, with the connections and model the settings name."""
    if not settings.qdrant.configured:
        raise SearchError("`sophia-mcp index` writes to Qdrant: set QDRANT_URL (with QDRANT_API_KEY) or QDRANT_PATH")
    pool = batch_pool(settings.postgres, "sophia-mcp index")
    fields = PayloadFields.from_settings(settings.qdrant)
    collection = Collection(settings.qdrant)
    await collection.backend()  # an embedded shard held by a server is refused before any work
    chosen = embedder or embedder_from_settings(settings.embedding)
    try:
        async with pool:
            source = await open_source(pool, settings.postgres)
            writer = IndexWriter(collection, fields)
            report = await index_calls(
                source, writer, chosen, fields=fields, batch_calls=batch_calls, on_progress=on_progress
            )
            if report.chunks_written:
                # This run owns the store alone: an embedded shard builds its HNSW graph now.
                await collection.run(lambda b: b.optimize())
            return report
    finally:
        await collection.aclose()
        if embedder is None:
            await chosen.aclose()
