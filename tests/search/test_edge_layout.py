"""Edge shards store dense vectors as float16 (half the memory). A shard written before that, with
float32 vectors, keeps working as it is: searched, and indexed into, without being rebuilt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sophia_mcp.search.backends.edge import CONFIG_FILE
from sophia_mcp.search.embeddings.fastembed_provider import FastEmbedProvider
from sophia_mcp.search.model import PayloadFields
from sophia_mcp.search.qdrant import open_backend
from sophia_mcp.search.store import SearchStore
from tests.fixtures.qdrant import index_documents, local_qdrant
from tests.search.sample_calls import PRICING_CALL, SAMPLE_CALLS, SECURITY_CALL

pytestmark = pytest.mark.anyio


def dense_datatype(path: Path) -> str | None:
    return json.loads((path / "gong_calls" / CONFIG_FILE).read_text())["vectors"]["dense"].get("datatype")


async def test_a_new_shard_keeps_float16_vectors_and_finds_the_calls(tmp_path: Path, embedder: FastEmbedProvider) -> None:
    settings = local_qdrant(tmp_path)
    await index_documents(settings, embedder, SAMPLE_CALLS)
    assert dense_datatype(tmp_path) == "float16"
    store = SearchStore(settings, embedder)
    try:
        assert (await store.search("they balked at the price"))[0].call_id == PRICING_CALL
    finally:
        await store.aclose()


async def test_a_float32_shard_from_before_is_searched_and_indexed_into_as_it_is(
    tmp_path: Path, embedder: FastEmbedProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    import qdrant_edge

    settings = local_qdrant(tmp_path)
    made = qdrant_edge.EdgeVectorParams
    with monkeypatch.context() as patch:  # `create` as it was: no datatype, so float32
        patch.setattr(qdrant_edge, "EdgeVectorParams", lambda *a, datatype=None, **k: made(*a, **k))
        backend = open_backend(settings)
        backend.create(384, PayloadFields())
        backend.close()
    assert dense_datatype(tmp_path) is None

    # Indexed in two runs, the second into the shard as the first left it.
    security = next(call for call in SAMPLE_CALLS if call.call_id == SECURITY_CALL)
    await index_documents(settings, embedder, [call for call in SAMPLE_CALLS if call is not security])
    await index_documents(settings, embedder, [security])

    store = SearchStore(settings, embedder)
    try:
        assert (await store.search("they balked at the price"))[0].call_id == PRICING_CALL
        assert (await store.search("who asked about compliance certifications"))[0].call_id == SECURITY_CALL
    finally:
        await store.aclose()
    assert dense_datatype(tmp_path) is None  # kept as it was, not rewritten
