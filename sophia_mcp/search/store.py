"""The reader: questions answered from one collection, one best passage per call. Never writes.

The backend is opened, and the collection checked against the embedder, on first use (a
collection built with another model answers nonsense, so it is refused with a message naming the
model it needs). Blocking backend calls run in worker threads, one at a time for an embedded
store. When the serving process owns an embedded shard, its background indexer writes through this
store's backend (`run`), and the store reports the indexing progress beside what is found so far.

The server warms the store up as it starts (`warm_up`): the model loaded, the collection opened
and checked, one question answered, so that the first real question finds everything ready. A
question that comes sooner waits for what is still loading (the embedder and the collection each
load once, under a lock); a step that failed is tried again by the next question, which reports it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import anyio

from sophia_mcp.observability import metrics
from sophia_mcp.search.embeddings.base import EmbeddingProvider, follow_index
from sophia_mcp.search.errors import CollectionNotFoundError, SearchError
from sophia_mcp.search.model import PayloadFields, SearchFilters, SearchMode, SemanticHit, hit_from_payload
from sophia_mcp.search.qdrant import (
    Backend,
    Bm25Encoder,
    ChunkQuery,
    CollectionShape,
    best_per_call,
    Collection,
    check_fits,
    require_shape,
    sparse_min_score,
)
from sophia_mcp.settings import QdrantSettings

T = TypeVar("T")

# Asked once by `warm_up`: any text does; a short one keeps the warm-up short.
WARM_UP_QUESTION = "pricing objections"


@dataclass(frozen=True)
class IndexingStatus:
    """How far the serving process's background indexer has got."""

    running: bool
    calls_done: int = 0
    calls_total: int = 0
    problem: str | None = None

    def line(self) -> str | None:
        if self.problem:
            return f"Background indexing stopped: {self.problem}"
        if self.running and not self.calls_total:
            return "Indexing is starting: looking for new calls; results cover what is indexed."
        if self.running:
            return (
                f"Indexing in progress: {self.calls_done} of {self.calls_total} changed calls indexed so far; "
                "results cover what is indexed."
            )
        return None


@dataclass(frozen=True)
class Answer:
    hits: list[SemanticHit]
    mode: SearchMode
    note: str | None = None
    as_of: str | None = None


class SearchStore:
    """Answers questions from one collection, on a Qdrant server or an embedded Edge shard."""

    def __init__(
        self,
        settings: QdrantSettings,
        embedder: EmbeddingProvider,
        *,
        fields: PayloadFields | None = None,
        collection: Collection | None = None,
    ) -> None:
        self._settings = settings
        self._embedder = embedder
        self._fields = fields or PayloadFields.from_settings(settings)
        self.qdrant = collection or Collection(settings)
        self._shape: CollectionShape | None = None
        self._points = 0  # counted when the collection is checked, for the BM25 threshold
        self._bm25: Bm25Encoder | None = None
        self.indexing: IndexingStatus | None = None  # set by a background indexer that owns the store

    @property
    def collection(self) -> str:
        return self._settings.collection

    @property
    def embedder(self) -> EmbeddingProvider:
        return self._embedder

    @property
    def fields(self) -> PayloadFields:
        return self._fields

    async def run(self, call: Callable[[Backend], T]) -> T:
        return await self.qdrant.run(call)

    async def check(self) -> CollectionShape:
        """Verifies the collection exists and fits the embedder; raises a SearchError if not."""
        if self._shape is None:
            shape = await self.run(lambda b: require_shape(b, self.collection))
            state = await self.run(lambda b: b.read_state())
            follow_index(self._embedder, state, exists=True)
            dimension = await self._embedder.dimension()
            check_fits(
                shape,
                state,
                self.collection,
                provider=self._embedder.name,
                model=self._embedder.model,
                dimension=dimension,
            )
            self._points = await self.run(lambda b: b.count())
            self._shape = shape
        return self._shape

    async def warm_up(self) -> None:
        """Reads which model variant the index holds (SOPHIA_EMBEDDING_QUANTIZE=auto), loads the model,
        opens the collection, then answers one question (the first query of a
        process pays for reading the index's files and the model's first run). Raises what the
        first question would raise; it is raised again by the next question.

        One step after the other: loaded side by side in two threads, each took its own malloc
        arena (a server without Postgres held 45 MB more at 100,000 chunks), for no time saved:
        opening an Edge shard holds the interpreter, so the model's Python-side loading waits anyway."""
        try:
            await self._follow_the_index()
            await self._embedder.dimension()
            await self.qdrant.backend()
        except Exception:  # noqa: BLE001 - answered below, by the question that needs the step
            pass
        await self.answer(WARM_UP_QUESTION, limit=1)

    async def _follow_the_index(self) -> None:
        """The model variant of the index (SOPHIA_EMBEDDING_QUANTIZE=auto), known before it loads."""
        shape = await self.run(lambda b: b.shape())
        follow_index(self._embedder, await self.run(lambda b: b.read_state()) if shape else None, exists=shape is not None)

    def forget_shape(self) -> None:
        """The collection was (re)created: check it again before the next question."""
        self._shape = None

    async def search(
        self,
        question: str,
        filters: SearchFilters | None = None,
        limit: int = 5,
        mode: SearchMode = SearchMode.HYBRID,
    ) -> list[SemanticHit]:
        """The `limit` calls whose best chunk is nearest to the question, best first."""
        return (await self.answer(question, filters, limit, mode)).hits

    async def answer(
        self,
        question: str,
        filters: SearchFilters | None = None,
        limit: int = 5,
        mode: SearchMode = SearchMode.HYBRID,
    ) -> Answer:
        """The hits, the mode used, and a note when the answer is partial or the mode had to change."""
        progress = self.indexing.line() if self.indexing else None
        try:
            shape = await self.check()
        except CollectionNotFoundError:
            if self.indexing is None:
                raise
            # The serving process builds its own shard: nothing is indexed yet.
            return Answer([], mode, progress or "The search index is empty: indexing has not started yet.")
        note = None
        if shape.sparse_name is None and mode is not SearchMode.SEMANTIC:
            if mode is SearchMode.KEYWORD:
                raise SearchError(
                    f"Qdrant collection {self.collection!r} has no BM25 vectors (it was not written by "
                    "`sophia-mcp index`): use mode `semantic`, or index into a new SOPHIA_QDRANT_COLLECTION."
                )
            mode, note = SearchMode.SEMANTIC, "This collection has no BM25 vectors, so the search was by meaning only."
        with metrics.search_stage("embed"):
            dense = await self._embedder.embed_query(question) if mode is not SearchMode.KEYWORD else None
        sparse = self._sparse().query(question) if mode is not SearchMode.SEMANTIC else None
        query = ChunkQuery(
            shape=shape,
            dense=dense,
            sparse=sparse,
            filters=filters or SearchFilters(),
            fields=self._fields,
            limit=limit,
            payload=self._fields.for_hits(),
            sparse_min_score=sparse_min_score(self._points),
        )
        with metrics.search_stage("query"):
            # The index state (its age) is read in the same worker-thread trip as the hits.
            best, state = await self.run(lambda b: (best_per_call(b, query, limit), b.read_state()))
        hits = [hit_from_payload(call_id, point.score, point.payload, self._fields) for call_id, point in best]
        as_of = state.get("watermark_extracted_at") if state else None
        if as_of and as_of.startswith("0001-"):
            as_of = None
        return Answer(hits, mode, " ".join(part for part in (note, progress) if part) or None, as_of)

    def _sparse(self) -> Bm25Encoder:
        if self._bm25 is None:
            self._bm25 = Bm25Encoder()
        return self._bm25

    async def aclose(self) -> None:
        await self.qdrant.aclose()
        self._shape = None
