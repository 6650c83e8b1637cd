"""An embedded collection: a Qdrant Edge shard (`qdrant-edge-py`, Qdrant's own engine in process:
HNSW, payload indexes, BM25 sparse vectors, query with prefetch and fusion) in
`QDRANT_PATH/<collection>`. A shard is held by one process at a time (its write-ahead log is
locked): the serving process owns it and indexes into it in the background.

qdrant-edge-py is beta and pinned in pyproject.toml; nothing outside this module touches its API
except the BM25 tokenizer in `qdrant.py`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sophia_mcp.search.errors import QdrantUnavailableError, SearchError, StoreBusyError, store_full_error
from sophia_mcp.search import qdrant
from sophia_mcp.search.model import PayloadFields, SearchFilters
from sophia_mcp.search.qdrant import (
    DENSE,
    INDEX_STATE_KEY,
    INDEX_STATE_POINT_ID,
    SPARSE,
    ChunkQuery,
    CollectionShape,
    FoundPoint,
    Sparse,
    StoredPoint,
)
from sophia_mcp.settings import QdrantSettings

CONFIG_FILE = "edge_config.json"


class EdgeBackend:
    serial = True  # one call at a time: a search never meets a half-applied batch
    groups_natively = False  # Edge has no groups API: the top chunks are grouped by call here

    def __init__(self, path: Path, collection: str) -> None:
        self._path = path
        self._collection = collection
        self.where = f"embedded shard {path}"
        self._shard: Any = None
        self._shape: CollectionShape | None = None

    @classmethod
    def open(cls, settings: QdrantSettings) -> EdgeBackend:
        """Opens the shard if it exists (a missing one is created by `create`). Blocking."""
        assert settings.path is not None
        backend = cls(Path(settings.path) / settings.collection, settings.collection)
        backend._load()
        return backend

    def _load(self) -> None:
        if not (self._path / CONFIG_FILE).is_file():
            return
        from qdrant_edge import EdgeShard

        try:
            self._shard = EdgeShard.load(str(self._path))
        except Exception as exc:
            message = str(exc)
            if "WouldBlock" in message or "lock" in message.lower():
                raise StoreBusyError(
                    f"the embedded search index {self._path} is held by another process: a running "
                    "`sophia-mcp serve` or `sophia-mcp demo` owns it and indexes it itself in the background. "
                    "Stop that process first, or point QDRANT_URL at a Qdrant server for a shared index."
                ) from None
            if full := store_full_error(exc, self.where):  # not corrupt: the folder must stay
                raise full from None
            raise QdrantUnavailableError(
                f"the embedded search index {self._path} cannot be opened ({type(exc).__name__}: {message}). "
                "It holds only what the indexer copied from Postgres: delete the folder and it is rebuilt "
                "(by the serving process, or `sophia-mcp index`)."
            ) from None

    # --- layout ---------------------------------------------------------------------------------

    def shape(self) -> CollectionShape | None:
        if self._shape is not None:
            return self._shape
        config_file = self._path / CONFIG_FILE
        if self._shard is None or not config_file.is_file():
            return None
        try:
            config = json.loads(config_file.read_text())
            vectors = config.get("vectors") or {}
            dense_name = DENSE if DENSE in vectors else next(iter(vectors))
            self._shape = CollectionShape(
                dense_name=dense_name or None,
                dimension=int(vectors[dense_name]["size"]),
                sparse_name=SPARSE if SPARSE in (config.get("sparse_vectors") or {}) else None,
            )
        except (ValueError, KeyError, StopIteration, TypeError) as exc:
            raise QdrantUnavailableError(
                f"the embedded search index {self._path} has an unreadable {CONFIG_FILE} ({exc}): delete the "
                "folder and it is rebuilt from Postgres"
            ) from None
        return self._shape

    def create(self, dimension: int, fields: PayloadFields) -> None:
        import qdrant_edge as q

        # Dense vectors stored as float16: half the memory (the largest part of a shard: 77 MB instead
        # of 154 MB at 100,000 chunks of 384 floats), for score differences below 1e-4 (cosine).
        config = q.EdgeConfig(
            vectors={
                DENSE: q.EdgeVectorParams(
                    size=dimension, distance=q.Distance.Cosine, datatype=q.VectorStorageDatatype.Float16
                )
            },
            sparse_vectors={SPARSE: q.EdgeSparseVectorParams(modifier=q.Modifier.Idf)},
        )
        self._path.mkdir(parents=True, exist_ok=True)
        self._shard = q.EdgeShard.create(str(self._path), config)
        keyword = q.PayloadSchemaType.Keyword
        indexes: dict[str, Any] = {
            fields.call_id: keyword,
            fields.rep_user_id: keyword,
            fields.account_ids: keyword,
            fields.started: q.PayloadSchemaType.Datetime,
            fields.account_names: q.TextIndexParams(tokenizer=q.TokenizerType.Word, lowercase=True),
        }
        for name, schema in indexes.items():
            self._shard.update(q.UpdateOperation.create_field_index(name, schema))
        self._shard.flush()
        self._shape = None

    # --- state and points -------------------------------------------------------------------------

    def _records(self, ids: Sequence[str], payload: Any, vectors: bool) -> list[Any]:
        if self._shard is None:
            return []
        return self._shard.retrieve(list(ids), with_payload=payload, with_vector=vectors)

    def read_state(self) -> dict[str, Any] | None:
        records = self._records([INDEX_STATE_POINT_ID], True, False)
        return records[0].payload.get(INDEX_STATE_KEY) if records and records[0].payload else None

    def write_state(self, state: dict[str, Any], dimension: int) -> None:
        import qdrant_edge as q

        # Unit vector: valid for cosine. No call id, so it never joins a group.
        marker = [1.0] + [0.0] * (dimension - 1)
        point = q.Point(id=INDEX_STATE_POINT_ID, vector={DENSE: marker}, payload={INDEX_STATE_KEY: state})
        self._require().update(q.UpdateOperation.upsert_points([point]))
        self._shard.flush()

    def stored(self, ids: Sequence[str], text_field: str) -> dict[str, tuple[Any, list[float], Sparse | None]]:
        found = {}
        for record in self._records(ids, [text_field], True):
            vector = record.vector if isinstance(record.vector, dict) else {}
            dense, sparse = vector.get(DENSE), vector.get(SPARSE)
            if isinstance(dense, list):
                found[str(record.id)] = (
                    (record.payload or {}).get(text_field),
                    dense,
                    Sparse(list(sparse.indices), list(sparse.values)) if sparse is not None else None,
                )
        return found

    def upsert(self, points: Sequence[StoredPoint]) -> None:
        import qdrant_edge as q

        edge_points = []
        for p in points:
            vector: dict[str, Any] = {DENSE: p.dense}
            if p.sparse is not None and p.sparse.indices:
                vector[SPARSE] = q.SparseVector(indices=p.sparse.indices, values=p.sparse.values)
            edge_points.append(q.Point(id=p.id, vector=vector, payload=p.payload))
        self._require().update(q.UpdateOperation.upsert_points(edge_points))

    def delete_other_chunks(self, call_field: str, call_ids: Sequence[str], keep: Sequence[str]) -> None:
        import qdrant_edge as q

        stale = q.Filter(
            must=[q.FieldCondition(key=call_field, match=q.MatchAny(any=list(call_ids)))],
            must_not=[q.HasIdCondition(point_ids=set(keep))] if keep else None,
        )
        self._require().update(q.UpdateOperation.delete_points_by_filter(stale))

    def count(self) -> int:
        import qdrant_edge as q

        return self._shard.count(q.CountRequest(exact=True)) if self._shard is not None else 0

    # --- queries ----------------------------------------------------------------------------------

    def query(self, query: ChunkQuery) -> list[FoundPoint]:
        import qdrant_edge as q

        if self._shard is None:
            return []
        where = build_filter(query.filters, query.fields)
        dense = q.Query.Nearest(query.dense, using=query.shape.dense_name) if query.dense is not None else None
        sparse = (
            q.Query.Nearest(q.SparseVector(indices=query.sparse.indices, values=query.sparse.values), using=query.shape.sparse_name)
            if query.sparse is not None
            else None
        )
        if dense is not None and sparse is not None:
            request = q.QueryRequest(
                limit=query.limit,
                prefetches=[
                    q.Prefetch(limit=query.prefetch_limit, query=dense, filter=where),
                    q.Prefetch(
                        limit=query.prefetch_limit, query=sparse, filter=where, score_threshold=query.sparse_min_score
                    ),
                ],
                query=q.Fusion.Rrf(k=qdrant.RRF_K, weights=list(qdrant.RRF_WEIGHTS)),
                filter=where,
                with_payload=query.payload,
            )
        else:
            request = q.QueryRequest(limit=query.limit, query=dense or sparse, filter=where, with_payload=query.payload)
        return [FoundPoint(str(p.id), p.score, p.payload or {}) for p in self._shard.query(request)]

    def query_groups(self, query: ChunkQuery, calls: int) -> list[tuple[Any, FoundPoint]]:
        raise NotImplementedError("Edge has no groups API")

    def flush(self) -> None:
        if self._shard is not None:
            self._shard.flush()

    def optimize(self) -> None:
        """Build the HNSW graph and merge segments. It holds the interpreter for as long as it runs
        (minutes at 100,000 points), so only `sophia-mcp index`, which owns the shard alone, calls it;
        the serving process searches the unoptimized segments (exact, with payload indexes)."""
        if self._shard is not None:
            self._shard.optimize()

    def close(self) -> None:
        if self._shard is not None:
            self._shard.close()
            self._shard = None

    def _require(self) -> Any:
        if self._shard is None:
            raise SearchError(f"the embedded search index {self._path} does not exist yet")
        return self._shard



def build_filter(filters: SearchFilters, fields: PayloadFields) -> Any:
    import qdrant_edge as q

    must: list[Any] = []
    start, end = filters.window()
    if start or end:
        must.append(q.FieldCondition(key=fields.started, range=q.RangeDateTime(gte=start, lt=end)))
    if filters.rep_user_id:
        must.append(q.FieldCondition(key=fields.rep_user_id, match=q.MatchValue(filters.rep_user_id)))
    if filters.account_id:
        must.append(q.FieldCondition(key=fields.account_ids, match=q.MatchValue(filters.account_id)))
    if filters.account_name:
        must.append(q.FieldCondition(key=fields.account_names, match=q.MatchText(filters.account_name)))
    if filters.call_id:
        as_text = q.FieldCondition(key=fields.call_id, match=q.MatchValue(filters.call_id))
        if filters.call_id.isdigit() and len(filters.call_id) < 19:
            as_number = q.FieldCondition(key=fields.call_id, match=q.MatchValue(int(filters.call_id)))
            must.append(q.Filter(should=[as_text, as_number]))
        else:
            must.append(as_text)
    return q.Filter(must=must) if must else None
