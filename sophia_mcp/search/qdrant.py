"""What the reader (`store.py`) and the writer (`indexer.py`) share about a Qdrant collection,
whichever backend holds it: the layout, the index state point, the check that a collection fits
the embedder, the query they ask, and the backend interface itself.

Two backends implement `Backend` (`backends/`): a Qdrant server through qdrant-client
(`QDRANT_URL`), and Qdrant Edge, Qdrant's engine in process, for an embedded shard (`QDRANT_PATH`).
Their methods block: callers run them in a worker thread, one at a time for an embedded store.

Layout the indexer writes (the same on both backends, so an index built on one searches on the
other): a named dense vector `dense` (cosine) beside a named sparse vector `bm25` (BM25 term
weights, IDF applied by Qdrant), payload indexes for every filter, and one state point. A
collection written by Airbyte's Qdrant destination has one unnamed dense vector and no sparse one:
it is searched by meaning only.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import anyio
import anyio.to_thread

from sophia_mcp.errors import SophiaError
from sophia_mcp.search.errors import (
    CollectionNotFoundError,
    EmbedderMismatchError,
    QdrantNotConfiguredError,
    QdrantUnavailableError,
    VectorSizeMismatchError,
    store_full_error,
)
from sophia_mcp.search.model import PayloadFields, SearchFilters
from sophia_mcp.settings import QdrantSettings

T = TypeVar("T")

DENSE = "dense"
SPARSE = "bm25"
# The BM25 tokenizer (Qdrant's own: English stemming and stopwords); recorded in the index state
# so that queries are tokenized as the documents were.
SPARSE_MODEL = "qdrant-bm25-english"
# The indexer keeps its bookkeeping in one point of the collection, so the collection alone says
# how far indexing got and which model wrote it. The point has no call id, so it never joins a group.
INDEX_STATE_POINT_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "sophia-mcp:index-state"))
INDEX_STATE_KEY = "sophia_index_state"
# Reciprocal rank fusion of the dense and BM25 candidates, the same on both backends: score =
# sum of weight / (k + rank). Dense counts more: BM25 on a paraphrase matches stray words, while
# an exact name it finds usually sits among the dense candidates too (benchmarks/SEARCH.md).
RRF_K = 2
RRF_WEIGHTS = (1.0, 1.0)  # dense, BM25
# In hybrid mode only BM25 matches scoring at least this many times ln(points in the collection)
# join the fusion: a term's IDF is about ln(points / points with it), so a rare name or code scores
# above it and the stray common words of a paraphrase below (tuned on benchmarks/SEARCH.md's questions).
SPARSE_MIN_SCORE_PER_LN_POINTS = 1.3


def sparse_min_score(points: int) -> float:
    return SPARSE_MIN_SCORE_PER_LN_POINTS * math.log(max(points, 2))
# What an unknown collection's vector size most likely means, for the mismatch message.
MODELS_BY_DIMENSION = {
    384: "fastembed sentence-transformers/all-MiniLM-L6-v2 or BAAI/bge-small-en-v1.5",
    768: "fastembed BAAI/bge-base-en-v1.5 or nomic-ai/nomic-embed-text-v1.5",
    1024: "BAAI/bge-large-en-v1.5 or Cohere embed-english-v3.0",
    1536: "OpenAI text-embedding-3-small or text-embedding-ada-002 (Airbyte's default)",
    3072: "OpenAI text-embedding-3-large",
}


@dataclass(frozen=True)
class Sparse:
    indices: list[int]
    values: list[float]


@dataclass(frozen=True)
class CollectionShape:
    dense_name: str | None  # None for the single unnamed vector Airbyte's destination creates
    dimension: int
    sparse_name: str | None = None  # None when the collection has no BM25 vectors


@dataclass(frozen=True)
class StoredPoint:
    id: str
    dense: list[float]
    sparse: Sparse | None
    payload: dict[str, Any]


@dataclass(frozen=True)
class FoundPoint:
    id: str
    score: float
    payload: dict[str, Any]


@dataclass(frozen=True)
class ChunkQuery:
    """Top chunks for a dense vector, a sparse one, or both fused (reciprocal rank fusion)."""

    shape: CollectionShape
    dense: list[float] | None
    sparse: Sparse | None
    filters: SearchFilters
    fields: PayloadFields
    limit: int
    payload: list[str] = field(default_factory=list)
    sparse_min_score: float | None = None  # for the BM25 side of a hybrid query

    @property
    def prefetch_limit(self) -> int:
        """Candidates each side brings to the fusion."""
        return max(2 * self.limit, 40)


class Backend(Protocol):
    """One collection in one store. Blocking methods; `serial` says they must not overlap."""

    where: str
    serial: bool
    groups_natively: bool

    def shape(self) -> CollectionShape | None: ...
    def create(self, dimension: int, fields: PayloadFields) -> None: ...
    def read_state(self) -> dict[str, Any] | None: ...
    def write_state(self, state: dict[str, Any], dimension: int) -> None: ...
    def stored(self, ids: Sequence[str], text_field: str) -> dict[str, tuple[Any, list[float], Sparse | None]]: ...
    def upsert(self, points: Sequence[StoredPoint]) -> None: ...
    def delete_other_chunks(self, call_field: str, call_ids: Sequence[str], keep: Sequence[str]) -> None: ...
    def count(self) -> int: ...
    def query(self, query: ChunkQuery) -> list[FoundPoint]: ...
    def query_groups(self, query: ChunkQuery, calls: int) -> list[tuple[Any, FoundPoint]]: ...
    def flush(self) -> None: ...
    def optimize(self) -> None: ...
    def close(self) -> None: ...


def open_backend(settings: QdrantSettings) -> Backend:
    """The backend for the settings: a server, or the embedded store at QDRANT_PATH. Blocking."""
    if settings.url:
        from sophia_mcp.search.backends.client import ClientBackend

        return ClientBackend.open(settings)
    if settings.path:
        if settings.embedded == "client":
            from sophia_mcp.search.backends.client import ClientBackend

            return ClientBackend.open(settings)
        from sophia_mcp.search.backends.edge import EdgeBackend

        return EdgeBackend.open(settings)
    raise QdrantNotConfiguredError("semantic search needs QDRANT_URL (with QDRANT_API_KEY) or QDRANT_PATH")


class Collection:
    """One collection's backend, opened on first use and shared by the reader and the writer of a
    process (an embedded shard admits one opener). Runs blocking calls in worker threads, one at a
    time when the backend asks for it, with its failures turned into QdrantUnavailableError."""

    def __init__(self, settings: QdrantSettings, opener: Callable[[QdrantSettings], Backend] = open_backend) -> None:
        self.settings = settings
        self.name = settings.collection
        self._opener = opener
        self._backend: Backend | None = None
        self._limiter: anyio.CapacityLimiter | None = None
        self._opening = anyio.Lock()

    @property
    def where(self) -> str:
        return self.settings.url or f"{self.settings.path}"

    async def backend(self) -> Backend:
        async with self._opening:
            if self._backend is None:
                with qdrant_errors(self.where, self.name):
                    backend = await anyio.to_thread.run_sync(self._opener, self.settings)
                self._limiter = anyio.CapacityLimiter(1) if backend.serial else None
                self._backend = backend
            return self._backend

    async def run(self, call: Callable[[Backend], T]) -> T:
        backend = await self.backend()
        with qdrant_errors(backend.where, self.name):
            return await anyio.to_thread.run_sync(lambda: call(backend), limiter=self._limiter)

    async def aclose(self) -> None:
        async with self._opening:
            if self._backend is not None:
                backend, self._backend = self._backend, None
                await anyio.to_thread.run_sync(backend.close, limiter=self._limiter)


def require_shape(backend: Backend, collection: str) -> CollectionShape:
    shape = backend.shape()
    if shape is None:
        raise CollectionNotFoundError(
            f"Qdrant collection {collection!r} does not exist: run `sophia-mcp index` to build it, "
            "or set SOPHIA_QDRANT_COLLECTION to the collection Airbyte's Qdrant destination writes"
        )
    return shape


def check_fits(
    shape: CollectionShape,
    state: dict[str, Any] | None,
    collection: str,
    *,
    provider: str,
    model: str,
    dimension: int,
) -> None:
    """Raises EmbedderMismatchError unless the embedder's vectors compare with those stored: the
    size must match, and the model too when the indexer recorded it."""
    if shape.dimension == dimension:
        if state and (state["embedding_provider"], state["embedding_model"]) != (provider, model):
            # The int8 copy of a model (SOPHIA_EMBEDDING_QUANTIZE) records "<model> (int8)".
            if state["embedding_model"].removesuffix(" (int8)") == model.removesuffix(" (int8)"):
                fix = ("Set SOPHIA_EMBEDDING_QUANTIZE=int8" if state["embedding_model"].endswith(" (int8)")
                       else "Set SOPHIA_EMBEDDING_QUANTIZE=none") + (
                    " (or unset it: auto follows the index) to search it with the vectors it holds")
            else:
                fix = "Set SOPHIA_EMBEDDING_PROVIDER and SOPHIA_EMBEDDING_MODEL to that model"
            raise EmbedderMismatchError(
                f"Qdrant collection {collection!r} was indexed with {state['embedding_provider']} "
                f"{state['embedding_model']}, not {provider} {model}: vectors of two models do "
                f"not compare. {fix}, or re-index into a new SOPHIA_QDRANT_COLLECTION."
            )
        return
    if state:
        needed = f"it was indexed with {state['embedding_provider']} {state['embedding_model']}"
    else:
        needed = f"it was built with a {shape.dimension}-dimension model, e.g. " + MODELS_BY_DIMENSION.get(
            shape.dimension, "the one that wrote it"
        )
    raise VectorSizeMismatchError(
        f"Qdrant collection {collection!r} holds {shape.dimension}-dimension vectors but the embedder "
        f"{provider} {model} makes {dimension}: {needed}. Set SOPHIA_EMBEDDING_PROVIDER "
        "and SOPHIA_EMBEDDING_MODEL to that model, or re-index into a new SOPHIA_QDRANT_COLLECTION.",
        collection_dimension=shape.dimension,
        embedder_dimension=dimension,
    )


class Bm25Encoder:
    """BM25 sparse vectors with Qdrant's own tokenizer (qdrant-edge's `Bm25`: no download), for
    both backends, so that a query is tokenized exactly as the documents were."""

    def __init__(self) -> None:
        from qdrant_edge import Bm25

        self._model = Bm25()

    def document(self, text: str) -> Sparse:
        vector = self._model.embed_document(text)
        return Sparse(list(vector.indices), list(vector.values))

    def query(self, text: str) -> Sparse:
        vector = self._model.embed_query(text)
        return Sparse(list(vector.indices), list(vector.values))


def best_per_call(backend: Backend, query: ChunkQuery, calls: int) -> list[tuple[Any, FoundPoint]]:
    """The best chunk of each of the `calls` best calls. A server groups them itself; otherwise
    the top chunks are fetched and grouped here (the first chunk of a call in score order is its
    best), fetching more until enough calls turn up or the collection runs out. Blocking."""
    if backend.groups_natively:
        return backend.query_groups(query, calls)
    fetch = calls * 10
    while True:
        points = backend.query(_with_limit(query, fetch))
        best: dict[Any, FoundPoint] = {}
        for point in points:
            call_id = _payload_call_id(point.payload, query.fields.call_id)
            if call_id is not None:
                best.setdefault(call_id, point)
        if len(best) >= calls or len(points) < fetch:
            return list(best.items())[:calls]
        fetch *= 4


def _with_limit(query: ChunkQuery, limit: int) -> ChunkQuery:
    from dataclasses import replace

    return replace(query, limit=limit)


def _payload_call_id(payload: dict[str, Any], path: str) -> Any:
    from sophia_mcp.search.model import payload_value

    value = payload_value(payload, path)
    return value if isinstance(value, (str, int)) and not isinstance(value, bool) else None


@contextmanager
def qdrant_errors(where: str, collection: str) -> Iterator[None]:
    """Turns what a backend raises (httpx, grpc, ValueError, the engine's own errors) into a
    QdrantUnavailableError that names the store and collection; this program's errors pass."""
    try:
        yield
    except SophiaError:
        raise
    except Exception as exc:
        if full := store_full_error(exc, where):
            raise full from exc
        raise QdrantUnavailableError(
            f"Qdrant at {where} failed on collection {collection!r}: {type(exc).__name__}: {exc}"
        ) from exc
