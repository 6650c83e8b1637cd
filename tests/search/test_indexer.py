"""`sophia-mcp index` from real Gong tables in an embedded Postgres into a local Qdrant, with the real
model: what it writes, and that re-runs, new rows and interruptions leave exactly the right points."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from qdrant_client import QdrantClient

from sophia_mcp.sample.gong_data import load_sample_data
from sophia_mcp.gong.layout import CALL_TRANSCRIPTS, EXTENSIVE_CALLS, create_table_sql, quote_ident, table_name
from sophia_mcp.search.embeddings.fastembed_provider import FastEmbedProvider
from sophia_mcp.gong.queries.call_documents import CallDocument
from sophia_mcp.search.errors import EmbedderMismatchError, IndexSourceError, IndexTargetError, StoreBusyError
from sophia_mcp.search.indexer import IndexProgress, plan_points, run_index
from sophia_mcp.search.model import PayloadFields, SearchFilters, SearchMode
from sophia_mcp.search.qdrant import DENSE, INDEX_STATE_POINT_ID, Collection, StoredPoint, open_backend
from sophia_mcp.search.store import SearchStore
from sophia_mcp.settings import EmbeddingSettings, PostgresSettings, Settings
from tests.fixtures.qdrant import BACKENDS, MODEL_PATH, index_documents, local_qdrant
from tests.search.sample_calls import PRICING_CALL, SAMPLE_CALLS, make_call

pytestmark = pytest.mark.anyio

# Every test runs on both backends; the helpers below read which one from here.
KIND = {"embedded": "edge"}


@pytest.fixture(autouse=True, params=BACKENDS)
def backend_kind(request: pytest.FixtureRequest) -> str:
    KIND["embedded"] = request.param
    return request.param

EXTRACTED = datetime(2025, 6, 1, tzinfo=timezone.utc)
LATER = EXTRACTED + timedelta(days=1)


class GongTables:
    """Gong final tables in a schema of their own, filled as Airbyte's append syncs fill them:
    a new row for every version of a record."""

    def __init__(self, connection: asyncpg.Connection, url: str, schema: str, prefix: str) -> None:
        self.connection, self.url, self.schema, self.prefix = connection, url, schema, prefix

    def table(self, stream: str) -> str:
        return f"{quote_ident(self.schema)}.{quote_ident(table_name(stream, self.prefix))}"

    async def land(self, documents: Sequence[CallDocument], extracted_at: datetime = EXTRACTED) -> None:
        for document in documents:
            extensive = document.extensive or {}
            if extensive:
                await self.connection.execute(
                    f'INSERT INTO {self.table("extensiveCalls")} ("id", "startdatetime", "metaData", "content", '
                    '"parties", "context", "_airbyte_raw_id", "_airbyte_extracted_at", "_airbyte_meta") '
                    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, '{}')",
                    int(document.call_id),
                    datetime.fromisoformat(extensive["metaData"]["started"]),
                    *(json.dumps(extensive[key]) for key in ("metaData", "content", "parties", "context")),
                    str(uuid.uuid4()),
                    extracted_at,
                )
            if document.transcript is not None:
                await self.connection.execute(
                    f'INSERT INTO {self.table("callTranscripts")} ("callId", "started", "transcript", '
                    '"_airbyte_raw_id", "_airbyte_extracted_at", "_airbyte_meta") VALUES ($1, $2, $3, $4, $5, \'{}\')',
                    document.call_id,
                    datetime.fromisoformat(extensive["metaData"]["started"]) if extensive else None,
                    json.dumps(document.transcript),
                    str(uuid.uuid4()),
                    extracted_at,
                )

    async def drop(self, stream: str) -> None:
        await self.connection.execute(f"DROP TABLE {self.table(stream)}")


@pytest.fixture
async def gong(postgres_url: str) -> AsyncIterator[GongTables]:
    schema = f"gong_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(postgres_url)
    await connection.execute(f"CREATE SCHEMA {quote_ident(schema)}")
    for layout in (EXTENSIVE_CALLS, CALL_TRANSCRIPTS):
        await connection.execute(create_table_sql(layout, schema, "gong_"))
    yield GongTables(connection, postgres_url, schema, "gong_")
    await connection.execute(f"DROP SCHEMA {quote_ident(schema)} CASCADE")
    await connection.close()


def settings_for(gong: GongTables, qdrant_path: Path) -> Settings:
    return Settings(
        postgres=PostgresSettings(
            SOPHIA_POSTGRES_URL=gong.url, SOPHIA_GONG_SCHEMA=gong.schema, SOPHIA_GONG_TABLE_PREFIX=gong.prefix
        ),
        qdrant=local_qdrant(qdrant_path, embedded=KIND["embedded"]),
        embedding=EmbeddingSettings(SOPHIA_EMBEDDING_MODEL_PATH=str(MODEL_PATH)),
    )


def stored(qdrant_path: Path) -> dict[str, tuple[dict[str, Any], list[float]]]:
    """Every chunk point: id -> (payload, dense vector); the state point is left out."""
    if KIND["embedded"] == "edge":
        import qdrant_edge

        shard = qdrant_edge.EdgeShard.load(str(qdrant_path / "gong_calls"))
        try:
            records, _ = shard.scroll(qdrant_edge.ScrollRequest(limit=10_000, with_payload=True, with_vector=True))
        finally:
            shard.close()
        points = [(r.id, r.payload, r.vector) for r in records]
    else:
        client = QdrantClient(path=str(qdrant_path))
        try:
            found, _ = client.scroll("gong_calls", limit=10_000, with_payload=True, with_vectors=True)
        finally:
            client.close()
        points = [(p.id, p.payload, p.vector) for p in found]
    return {
        str(i): (payload or {}, vector[DENSE])  # type: ignore[index]
        for i, payload, vector in points
        if str(i) != INDEX_STATE_POINT_ID
    }


def expected_ids(documents: Sequence[CallDocument]) -> set[str]:
    return {point.id for document in documents for point in plan_points(document, PayloadFields())}


async def test_indexed_calls_answer_questions_by_meaning(
    gong: GongTables, tmp_path: Path, embedder: FastEmbedProvider
) -> None:
    await gong.land(SAMPLE_CALLS)
    seen: list[IndexProgress] = []
    report = await run_index(settings_for(gong, tmp_path), embedder=embedder, batch_calls=4, on_progress=seen.append)

    points = stored(tmp_path)
    assert set(points) == expected_ids(SAMPLE_CALLS)
    assert (report.calls_indexed, report.chunks_written, report.chunks_embedded) == (6, len(points), len(points))
    assert report.watermark == EXTRACTED
    assert seen == [IndexProgress(4, 6, seen[0].chunks_written), IndexProgress(6, 6, len(points))]

    payload = next(p for p, _ in points.values() if p["call_id"] == PRICING_CALL and p["chunk_key"] == "transcript:0")
    assert payload["title"] == "Acme Corp renewal check-in"
    assert payload["started"] == "2025-03-04T15:00:00+00:00"
    assert payload["account_ids"] == ["001-acme"] and payload["account_names"] == ["Acme Corp"]
    assert payload["primaryUserId"] == "u-ana" and payload["speaker"] == "Dana Lee"

    store = SearchStore(local_qdrant(tmp_path, embedded=KIND["embedded"]), embedder)
    try:
        hits = await store.search("they balked at the price", SearchFilters(account_name="acme"), limit=3)
    finally:
        await store.aclose()
    assert hits[0].call_id == PRICING_CALL


async def test_a_second_run_changes_nothing(gong: GongTables, tmp_path: Path, embedder: FastEmbedProvider) -> None:
    await gong.land(SAMPLE_CALLS)
    settings = settings_for(gong, tmp_path)
    await run_index(settings, embedder=embedder)
    before = stored(tmp_path)

    again = await run_index(settings, embedder=embedder)

    assert (again.calls_indexed, again.chunks_written, again.watermark) == (0, 0, EXTRACTED)
    assert stored(tmp_path) == before


async def test_a_resync_of_unchanged_calls_rewrites_the_same_points_without_embedding(
    gong: GongTables, tmp_path: Path, embedder: FastEmbedProvider
) -> None:
    await gong.land(SAMPLE_CALLS)
    settings = settings_for(gong, tmp_path)
    await run_index(settings, embedder=embedder)
    before = stored(tmp_path)

    await gong.land(SAMPLE_CALLS[:2], extracted_at=LATER)  # Airbyte sent two calls again, unchanged
    report = await run_index(settings, embedder=embedder)

    assert (report.calls_indexed, report.chunks_embedded) == (2, 0)
    assert report.chunks_written > 0 and report.watermark == LATER
    assert stored(tmp_path) == before


async def test_only_newer_rows_are_indexed_and_replaced_chunks_go(
    gong: GongTables, tmp_path: Path, embedder: FastEmbedProvider
) -> None:
    await gong.land(SAMPLE_CALLS)
    settings = settings_for(gong, tmp_path)
    await run_index(settings, embedder=embedder)

    pricing = SAMPLE_CALLS[0]
    shortened = dataclasses.replace(pricing, transcript=(pricing.transcript or [])[:1])
    newcomer = make_call(
        "7100",
        title="Wayne Enterprises legal review",
        started="2025-06-02T15:00:00Z",
        rep="u-ana",
        account=("001-wayne", "Wayne Enterprises"),
        brief="Wayne's lawyers redlined the liability cap and the data processing agreement.",
        key_points=["Liability cap redlines"],
        turns=[("buyer", "Our counsel marked up the indemnity clause and wants a lower liability cap.")],
    )
    await gong.land([shortened, newcomer], extracted_at=LATER)
    report = await run_index(settings, embedder=embedder)

    current = [shortened, newcomer, *SAMPLE_CALLS[1:]]
    assert report.calls_indexed == 2
    assert expected_ids([pricing]) - expected_ids([shortened])  # the shortened call lost chunks ...
    assert set(stored(tmp_path)) == expected_ids(current)  # ... and they are gone
    store = SearchStore(local_qdrant(tmp_path, embedded=KIND["embedded"]), embedder)
    try:
        hits = await store.search("contract terms pushback from their attorneys", limit=1, mode=SearchMode.SEMANTIC)
    finally:
        await store.aclose()
    assert hits[0].call_id == "7100"


async def test_an_interrupted_run_resumes_without_duplicates(
    gong: GongTables, tmp_path: Path, embedder: FastEmbedProvider
) -> None:
    await gong.land(SAMPLE_CALLS)
    settings = settings_for(gong, tmp_path)

    class Interrupted(Exception):
        pass

    def stop_after_first_batch(progress: IndexProgress) -> None:
        raise Interrupted

    with pytest.raises(Interrupted):
        await run_index(settings, embedder=embedder, batch_calls=2, on_progress=stop_after_first_batch)
    assert len(stored(tmp_path)) == len(expected_ids(SAMPLE_CALLS[:2]))

    resumed = await run_index(settings, embedder=embedder, batch_calls=2)

    assert resumed.calls_indexed == 4  # the first batch was done and is not redone
    assert set(stored(tmp_path)) == expected_ids(SAMPLE_CALLS)


async def test_transcripts_alone_are_enough(gong: GongTables, tmp_path: Path, embedder: FastEmbedProvider) -> None:
    await gong.drop("extensiveCalls")
    await gong.land([dataclasses.replace(SAMPLE_CALLS[0], extensive=None)])
    report = await run_index(settings_for(gong, tmp_path), embedder=embedder)

    payloads = [payload for payload, _ in stored(tmp_path).values()]
    assert report.calls_indexed == 1 and payloads
    assert {p["chunk_key"].split(":")[0] for p in payloads} == {"transcript"}
    # No parties without extensiveCalls: speakers keep Gong's ids.
    assert {p["speaker"] for p in payloads} <= {"Speaker rep", "Speaker buyer"}


async def test_without_call_tables_the_error_says_what_to_sync(
    gong: GongTables, tmp_path: Path, embedder: FastEmbedProvider
) -> None:
    await gong.drop("extensiveCalls")
    await gong.drop("callTranscripts")
    with pytest.raises(IndexSourceError, match=r"needs the Gong extensiveCalls or callTranscripts stream: .* no table"):
        await run_index(settings_for(gong, tmp_path), embedder=embedder)


async def test_a_collection_it_did_not_write_is_left_alone(
    gong: GongTables, tmp_path: Path, embedder: FastEmbedProvider
) -> None:
    # What Airbyte's destination would leave: points without the indexer's state point.
    backend = open_backend(local_qdrant(tmp_path, embedded=KIND["embedded"]))
    backend.create(384, PayloadFields())
    backend.upsert([StoredPoint("00000000-0000-0000-0000-000000000001", [0.1] * 384, None, {"text": "from Airbyte"})])
    backend.close()
    with pytest.raises(IndexTargetError, match="already holds 1 points that `sophia-mcp index` did not write"):
        await run_index(settings_for(gong, tmp_path), embedder=embedder)


async def test_a_collection_indexed_with_another_model_is_refused(
    gong: GongTables, tmp_path: Path, embedder: FastEmbedProvider
) -> None:
    await index_documents(local_qdrant(tmp_path, embedded=KIND["embedded"]), embedder, SAMPLE_CALLS[:1])

    class OtherModel:
        """Another 384-dimension model: same size, vectors that do not compare. It is refused
        before it embeds anything."""

        name, model = "fastembed", "BAAI/bge-small-en-v1.5"

        async def dimension(self) -> int:
            return 384

    with pytest.raises(EmbedderMismatchError, match="indexed with fastembed sentence-transformers/all-MiniLM-L6-v2"):
        await run_index(settings_for(gong, tmp_path), embedder=OtherModel())  # type: ignore[arg-type]


async def test_the_sample_data_indexes_the_latest_version_of_every_call(
    postgres_url: str, tmp_path: Path, embedder: FastEmbedProvider
) -> None:
    schema = f"sample_{uuid.uuid4().hex[:8]}"
    manifest = await load_sample_data(
        postgres_url, calls=40, schema=schema, streams=("extensiveCalls", "callTranscripts"), duplicate_rate=0.5
    )
    settings = Settings(
        postgres=PostgresSettings(SOPHIA_POSTGRES_URL=postgres_url, SOPHIA_GONG_SCHEMA=schema),
        qdrant=local_qdrant(tmp_path, embedded=KIND["embedded"]),
        embedding=EmbeddingSettings(SOPHIA_EMBEDDING_MODEL_PATH=str(MODEL_PATH)),
    )
    report = await run_index(settings, embedder=embedder)

    assert report.calls_indexed == len(manifest.calls)
    titles = {payload["call_id"]: payload["title"] for payload, _ in stored(tmp_path).values()}
    # Older versions carry a calendar title; only the latest row of each call may be indexed.
    assert titles == {call_id: facts.title for call_id, facts in manifest.calls.items()}
    store = SearchStore(local_qdrant(tmp_path, embedded=KIND["embedded"]), embedder)
    try:
        hits = await store.search("the customer balked at what we charge", limit=3)
    finally:
        await store.aclose()
    pricing = {call.id for call in manifest.calls_about("pricing_objection")}
    assert hits[0].call_id in pricing


async def test_an_index_run_refuses_a_store_another_process_holds(
    gong: GongTables, tmp_path: Path, embedder: FastEmbedProvider
) -> None:
    await gong.land(SAMPLE_CALLS[:1])
    settings = settings_for(gong, tmp_path)
    await run_index(settings, embedder=embedder)
    holder = Collection(settings.qdrant)  # as a running server holds its shard
    await holder.backend()
    try:
        with pytest.raises(StoreBusyError, match="another process|another instance"):
            await run_index(settings, embedder=embedder)
    finally:
        await holder.aclose()
