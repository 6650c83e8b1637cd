"""A collection on a Qdrant server, through qdrant-client (imported on first use: it takes over a
second). qdrant-client's local mode (a pure-Python scan of a folder, `SOPHIA_QDRANT_EMBEDDED=client`)
speaks the same API: the tests run this backend against it, and the speed benchmark compares it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sophia_mcp.search.errors import SearchError, StoreBusyError
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

if TYPE_CHECKING:
    from qdrant_client import QdrantClient, models


class ClientBackend:
    groups_natively: bool

    def __init__(self, client: QdrantClient, collection: str, *, where: str, local: bool) -> None:
        self._client = client
        self._collection = collection
        self.where = where
        self.serial = local  # local mode is not thread-safe
        # Local mode's groups API scores and builds every point of the collection (325 ms at
        # 10,000 chunks, against 6 ms for a top-50 query): group its top chunks in Python instead.
        self.groups_natively = not local
        self._shape: CollectionShape | None = None

    @classmethod
    def open(cls, settings: QdrantSettings) -> ClientBackend:
        from qdrant_client import QdrantClient

        if settings.url:
            api_key = settings.api_key.get_secret_value() if settings.api_key else None
            client = QdrantClient(url=settings.url, api_key=api_key)
            return cls(client, settings.collection, where=settings.url, local=False)
        try:
            client = QdrantClient(path=str(settings.path))
        except RuntimeError as exc:  # another process holds the folder's lock
            raise StoreBusyError(
                f"cannot open the Qdrant folder {settings.path}: {exc} Stop the other process "
                "(a running `sophia-mcp index` or server), or run a Qdrant server and set QDRANT_URL."
            ) from None
        return cls(client, settings.collection, where=f"local folder {settings.path}", local=True)

    # --- layout ---------------------------------------------------------------------------------

    def shape(self) -> CollectionShape | None:
        if not self._client.collection_exists(self._collection):
            self._shape = None
            return None
        self._shape = self._read_shape()
        return self._shape

    def _read_shape(self) -> CollectionShape:
        params = self._client.get_collection(self._collection).config.params
        vectors = params.vectors
        sparse = params.sparse_vectors or {}
        sparse_name = SPARSE if SPARSE in sparse else None
        if isinstance(vectors, dict):
            if DENSE in vectors:
                return CollectionShape(DENSE, vectors[DENSE].size, sparse_name)
            if len(vectors) != 1:
                raise SearchError(
                    f"Qdrant collection {self._collection!r} has several named vectors ({', '.join(vectors)}); "
                    f"semantic search reads one dense vector (or one named {DENSE!r})"
                )
            [(name, vector)] = vectors.items()
            return CollectionShape(name, vector.size, sparse_name)
        if vectors is None:
            raise SearchError(f"Qdrant collection {self._collection!r} has no dense vector")
        return CollectionShape(None, vectors.size, sparse_name)

    def create(self, dimension: int, fields: PayloadFields) -> None:
        from qdrant_client import models

        self._client.create_collection(
            self._collection,
            vectors_config={DENSE: models.VectorParams(size=dimension, distance=models.Distance.COSINE)},
            sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
        )
        if self.serial:
            return  # local mode scans every point and has no payload indexes
        keyword = models.PayloadSchemaType.KEYWORD
        indexes: dict[str, Any] = {
            fields.call_id: keyword,
            fields.rep_user_id: keyword,
            fields.account_ids: keyword,
            fields.started: models.PayloadSchemaType.DATETIME,
            fields.account_names: models.TextIndexParams(
                type=models.TextIndexType.TEXT, tokenizer=models.TokenizerType.WORD, lowercase=True
            ),
        }
        for name, schema in indexes.items():
            self._client.create_payload_index(self._collection, field_name=name, field_schema=schema)

    # --- state and points -------------------------------------------------------------------------

    def read_state(self) -> dict[str, Any] | None:
        points = self._client.retrieve(self._collection, ids=[INDEX_STATE_POINT_ID], with_payload=True)
        return points[0].payload.get(INDEX_STATE_KEY) if points and points[0].payload else None

    def write_state(self, state: dict[str, Any], dimension: int) -> None:
        from qdrant_client import models

        # A point needs a vector; a unit vector is valid for every distance. It has no call id,
        # so grouped search never returns it.
        shape = self._shape or self.shape()
        marker = [1.0] + [0.0] * (dimension - 1)
        vector: Any = {shape.dense_name: marker} if shape and shape.dense_name else marker
        point = models.PointStruct(id=INDEX_STATE_POINT_ID, vector=vector, payload={INDEX_STATE_KEY: state})
        self._client.upsert(self._collection, points=[point], wait=True)

    def stored(self, ids: Sequence[str], text_field: str) -> dict[str, tuple[Any, list[float], Sparse | None]]:
        records = self._client.retrieve(self._collection, ids=list(ids), with_payload=[text_field], with_vectors=True)
        found = {}
        for record in records:
            vector = record.vector
            if isinstance(vector, dict):
                dense, sparse = vector.get(DENSE), vector.get(SPARSE)
            else:
                dense, sparse = vector, None
            if isinstance(dense, list):
                found[str(record.id)] = (
                    (record.payload or {}).get(text_field),
                    dense,
                    Sparse(list(sparse.indices), list(sparse.values)) if sparse is not None else None,
                )
        return found

    def upsert(self, points: Sequence[StoredPoint]) -> None:
        from qdrant_client import models

        shape = self._shape or self.shape()
        structs = [models.PointStruct(id=p.id, vector=self._vector(p, shape), payload=p.payload) for p in points]
        self._client.upsert(self._collection, points=structs, wait=True)

    @staticmethod
    def _vector(point: StoredPoint, shape: CollectionShape | None) -> Any:
        from qdrant_client import models

        if shape is None or shape.dense_name is None:
            return point.dense
        vector: dict[str, Any] = {shape.dense_name: point.dense}
        if shape.sparse_name and point.sparse is not None:
            vector[shape.sparse_name] = models.SparseVector(indices=point.sparse.indices, values=point.sparse.values)
        return vector

    def delete_other_chunks(self, call_field: str, call_ids: Sequence[str], keep: Sequence[str]) -> None:
        from qdrant_client import models

        stale = models.Filter(
            must=[models.FieldCondition(key=call_field, match=models.MatchAny(any=list(call_ids)))],
            must_not=[models.HasIdCondition(has_id=list(keep))],
        )
        self._client.delete(self._collection, points_selector=stale, wait=True)

    def count(self) -> int:
        return self._client.count(self._collection, exact=True).count

    # --- queries ----------------------------------------------------------------------------------

    def query(self, query: ChunkQuery) -> list[FoundPoint]:
        result = self._client.query_points(self._collection, limit=query.limit, with_payload=query.payload, **self._ask(query))
        return [FoundPoint(str(p.id), p.score, p.payload or {}) for p in result.points]

    def query_groups(self, query: ChunkQuery, calls: int) -> list[tuple[Any, FoundPoint]]:
        result = self._client.query_points_groups(
            self._collection,
            group_by=query.fields.call_id,
            group_size=1,
            limit=calls,
            with_payload=query.payload,
            **self._ask(query),
        )
        return [
            (group.id, FoundPoint(str(group.hits[0].id), group.hits[0].score, group.hits[0].payload or {}))
            for group in result.groups
            if group.hits
        ]

    def _ask(self, query: ChunkQuery) -> dict[str, Any]:
        from qdrant_client import models

        where = build_filter(query.filters, query.fields)
        sparse = (
            models.SparseVector(indices=query.sparse.indices, values=query.sparse.values) if query.sparse else None
        )
        if query.dense is not None and sparse is not None:
            prefetch = [
                models.Prefetch(query=query.dense, using=query.shape.dense_name, limit=query.prefetch_limit, filter=where),
                models.Prefetch(
                    query=sparse,
                    using=query.shape.sparse_name,
                    limit=query.prefetch_limit,
                    filter=where,
                    score_threshold=query.sparse_min_score,
                ),
            ]
            fusion = models.RrfQuery(rrf=models.Rrf(k=qdrant.RRF_K, weights=list(qdrant.RRF_WEIGHTS)))
            return {"prefetch": prefetch, "query": fusion, "query_filter": where}
        if sparse is not None:
            return {"query": sparse, "using": query.shape.sparse_name, "query_filter": where}
        return {"query": query.dense, "using": query.shape.dense_name, "query_filter": where}

    def flush(self) -> None:
        pass

    def optimize(self) -> None:
        pass  # a server optimizes by itself; local mode has nothing to optimize

    def close(self) -> None:
        self._client.close()


def build_filter(filters: SearchFilters, fields: PayloadFields) -> models.Filter | None:
    from qdrant_client import models

    must: list[Any] = []
    start, end = filters.window()
    if start or end:
        must.append(models.FieldCondition(key=fields.started, range=models.DatetimeRange(gte=start, lt=end)))
    if filters.rep_user_id:
        must.append(models.FieldCondition(key=fields.rep_user_id, match=models.MatchValue(value=filters.rep_user_id)))
    if filters.account_id:
        must.append(models.FieldCondition(key=fields.account_ids, match=models.MatchValue(value=filters.account_id)))
    if filters.account_name:
        must.append(models.FieldCondition(key=fields.account_names, match=models.MatchText(text=filters.account_name)))
    if filters.call_id:
        must.append(_call_id_condition(filters.call_id, fields.call_id))
    return models.Filter(must=must) if must else None


def _call_id_condition(call_id: str, key: str) -> Any:
    """Gong call ids are digits; a collection may hold them as strings (the indexer, `callId`) or
    as integers (`extensiveCalls.id`), and a match is type-exact, so a numeric id tries both."""
    from qdrant_client import models

    as_text = models.FieldCondition(key=key, match=models.MatchValue(value=call_id))
    if not call_id.isdigit():
        return as_text
    as_number = models.FieldCondition(key=key, match=models.MatchValue(value=int(call_id)))
    return models.Filter(should=[as_text, as_number])

