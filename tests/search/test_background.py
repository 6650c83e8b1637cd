"""The serving process's own indexer for its embedded shard: search answers while it works (what
is indexed so far, plus one line on its progress), it picks up new rows when the data moves, and a
failure is reported beside the answers instead of breaking them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import anyio
import pytest

from sophia_mcp.search.background import BackgroundIndexer
from sophia_mcp.search.embeddings.fastembed_provider import FastEmbedProvider
from sophia_mcp.search.indexer import batch_pool
from sophia_mcp.search.model import SearchMode
from sophia_mcp.search.store import SearchStore
from tests.fixtures.qdrant import MODEL_PATH
from tests.search.sample_calls import PRICING_CALL, SAMPLE_CALLS
from tests.search.test_indexer import KIND, LATER, GongTables, gong, settings_for  # noqa: F401  (fixture)

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def edge_shard() -> None:
    """The serving process indexes only an embedded Edge shard it owns."""
    KIND["embedded"] = "edge"


class PausingEmbedder(FastEmbedProvider):
    """The real model, stopping before its second batch of documents until told to go on."""

    def __init__(self, model_path: Path) -> None:
        super().__init__(model_path=model_path)
        self.batches = 0
        self.paused = anyio.Event()
        self.go_on = anyio.Event()

    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        self.batches += 1
        if self.batches == 2:
            self.paused.set()
            await self.go_on.wait()
        return await super().embed_documents(texts)


async def test_search_answers_during_the_first_indexing_with_one_progress_line(
    gong: GongTables, tmp_path: Path, embedder: FastEmbedProvider
) -> None:
    await gong.land(SAMPLE_CALLS)
    settings = settings_for(gong, tmp_path)
    pausing = PausingEmbedder(MODEL_PATH)
    store = SearchStore(settings.qdrant, pausing)
    indexer = BackgroundIndexer(settings, store, batch_calls=2)
    try:
        before = await store.answer("they balked at the price")  # nothing indexed, no shard yet
        assert before.hits == [] and before.note
        async with batch_pool(settings.postgres, "test") as pool, anyio.create_task_group() as tasks:
            tasks.start_soon(indexer.run_once, pool)
            await pausing.paused.wait()
            during = await store.answer("customer conversation", limit=10, mode=SearchMode.SEMANTIC)
            pausing.go_on.set()
        after = await store.answer("customer conversation", limit=10, mode=SearchMode.SEMANTIC)
    finally:
        await store.aclose()
    assert len(during.hits) == 2  # the first batch's two calls
    assert during.note == (
        "Indexing in progress: 2 of 6 changed calls indexed so far; results cover what is indexed."
    )
    assert len(after.hits) == len(SAMPLE_CALLS) and after.note is None
    assert after.as_of is not None and after.as_of.startswith("2025-06-01")


async def test_it_indexes_again_only_when_the_data_moves(
    gong: GongTables, tmp_path: Path, embedder: FastEmbedProvider
) -> None:
    await gong.land(SAMPLE_CALLS[:3])
    settings = settings_for(gong, tmp_path)
    store = SearchStore(settings.qdrant, embedder)
    indexer = BackgroundIndexer(settings, store)
    try:
        async with batch_pool(settings.postgres, "test") as pool:
            await indexer.run_once(pool)
            await indexer.run_once(pool)  # nothing moved: no run
            assert indexer.runs == 1
            await gong.land(SAMPLE_CALLS[3:], extracted_at=LATER)
            await indexer.run_once(pool)
            assert indexer.runs == 2
        hits = await store.search("customer conversation", limit=10)
    finally:
        await store.aclose()
    assert {hit.call_id for hit in hits} == {call.call_id for call in SAMPLE_CALLS}


async def test_a_failed_run_is_reported_beside_the_answers_and_retried(
    gong: GongTables, tmp_path: Path, embedder: FastEmbedProvider
) -> None:
    await gong.land(SAMPLE_CALLS)
    settings = settings_for(gong, tmp_path)
    store = SearchStore(settings.qdrant, embedder)
    indexer = BackgroundIndexer(settings, store)
    try:
        async with batch_pool(settings.postgres, "test") as pool:
            await indexer.run_once(pool)
            await gong.drop("extensiveCalls")
            await gong.drop("callTranscripts")
            await indexer.run_once(pool)
        answer = await store.answer("they balked at the price")
    finally:
        await store.aclose()
    # What was indexed still answers; the line says what stopped and that it is retried.
    assert answer.hits and answer.hits[0].call_id == PRICING_CALL
    assert answer.note and answer.note.startswith("Background indexing stopped: `sophia-mcp index` needs the Gong")
    assert "retried at the next check" in answer.note


async def test_a_full_disk_is_named_with_what_to_do() -> None:
    import errno

    from sophia_mcp.search.background import describe_failure
    from sophia_mcp.search.errors import QdrantUnavailableError

    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as exc:
            raise QdrantUnavailableError(f"Qdrant at x failed on collection 'gong_calls': {exc}") from exc
    except QdrantUnavailableError as failure:
        line = describe_failure(failure)
    assert line.startswith("the disk holding the search index is full (No space left on device). Free disk space")
    assert "indexing resumes where it stopped at the next check" in line
