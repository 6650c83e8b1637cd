"""The store interface's shared suite: every test here runs against both backends (`edge`: a
Qdrant Edge shard; `client`: qdrant-client's local mode, which speaks the Qdrant server's API),
with the real model: quality, modes, grouping, filters, and the errors a misconfigured collection
gives. Collections written by Airbyte's Qdrant destination (server only) close the file."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path

import anyio
import pytest
from qdrant_client import QdrantClient, models

from sophia_mcp.search.embeddings.fastembed_provider import FastEmbedProvider
from sophia_mcp.search.errors import (
    CollectionNotFoundError,
    EmbedderMismatchError,
    QdrantNotConfiguredError,
    SearchError,
    StoreBusyError,
    VectorSizeMismatchError,
)
from sophia_mcp.search.model import PayloadFields, SearchFilters, SearchMode
from sophia_mcp.search.qdrant import Collection, open_backend
from sophia_mcp.search.store import SearchStore
from sophia_mcp.settings import QdrantSettings
from tests.fixtures.qdrant import BACKENDS, index_documents, local_qdrant, write_airbyte_collection
from tests.search.sample_calls import (
    ACME_API_CALL,
    COMPETITOR_CALL,
    DISCOVERY_CALL,
    ONBOARDING_CALL,
    PRICING_CALL,
    REP_BEN,
    SAMPLE_CALLS,
    SECURITY_CALL,
)

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module", params=BACKENDS)
def backend_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def indexed_path(tmp_path_factory: pytest.TempPathFactory, embedder: FastEmbedProvider, backend_kind: str) -> Path:
    path = tmp_path_factory.mktemp(f"qdrant-{backend_kind}")
    anyio.run(index_documents, local_qdrant(path, embedded=backend_kind), embedder, SAMPLE_CALLS)
    return path


@pytest.fixture
async def store(indexed_path: Path, embedder: FastEmbedProvider, backend_kind: str) -> AsyncIterator[SearchStore]:
    store = SearchStore(local_qdrant(indexed_path, embedded=backend_kind), embedder)
    yield store
    await store.aclose()


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("they balked at the price", PRICING_CALL),
        ("prospect said it costs too much", PRICING_CALL),
        ("who asked about compliance certifications", SECURITY_CALL),
        ("getting the new customer set up and trained", ONBOARDING_CALL),
        ("we are being compared to another product", COMPETITOR_CALL),
        ("developers asking about API limits and event notifications", ACME_API_CALL),
        ("fast growing team that needs help coaching", DISCOVERY_CALL),
    ],
)
async def test_a_question_in_other_words_finds_the_call(store: SearchStore, question: str, expected: str) -> None:
    hits = await store.search(question, limit=3, mode=SearchMode.SEMANTIC)
    assert hits[0].call_id == expected
    # Hybrid keeps what meaning finds among its best.
    assert expected in [hit.call_id for hit in await store.search(question, limit=3)]


async def test_a_hit_is_one_compact_passage_with_speaker_time_and_call_details(store: SearchStore) -> None:
    hits = await store.search("the customer says the cost per seat is too steep", limit=1)
    hit = hits[0]
    assert (hit.call_id, hit.title, hit.started) == (
        PRICING_CALL,
        "Acme Corp renewal check-in",
        "2025-03-04T15:00:00+00:00",
    )
    assert "too steep" in hit.passage and len(hit.passage) <= 401
    # The passage is the exchange that opens the call; speaker and time are its longest turn's.
    assert hit.passage.startswith("Ana Rivera: Thanks for making time today.")
    assert (hit.speaker, hit.offset_seconds) == ("Dana Lee", 15.0)
    assert 0 < hit.score <= 1


async def test_results_are_grouped_one_hit_per_call(store: SearchStore) -> None:
    # Every call has several chunks (brief, key points, turns): ungrouped, the best calls would repeat.
    hits = await store.search("customer conversation", limit=10)
    call_ids = [hit.call_id for hit in hits]
    assert len(call_ids) == len(set(call_ids)) == len(SAMPLE_CALLS)
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (SearchFilters(account_name="acme"), {PRICING_CALL, ACME_API_CALL}),
        (SearchFilters(account_id="001-globex"), {SECURITY_CALL}),
        (SearchFilters(rep_user_id=REP_BEN), {SECURITY_CALL, COMPETITOR_CALL, ACME_API_CALL}),
        (
            SearchFilters(started_from=datetime(2025, 4, 1), started_to=datetime(2025, 5, 10, tzinfo=timezone.utc)),
            {ONBOARDING_CALL, COMPETITOR_CALL, ACME_API_CALL},
        ),
        (  # from is inclusive, to exclusive (as in gong_search_calls): the calls starting at each end
            SearchFilters(
                started_from=datetime(2025, 4, 20, 16, tzinfo=timezone.utc),
                started_to=datetime(2025, 5, 6, 15, tzinfo=timezone.utc),
            ),
            {COMPETITOR_CALL},
        ),
        (SearchFilters(call_id=DISCOVERY_CALL), {DISCOVERY_CALL}),
        (SearchFilters(account_name="acme", rep_user_id=REP_BEN), {ACME_API_CALL}),
    ],
)
async def test_filters_narrow_the_calls(store: SearchStore, filters: SearchFilters, expected: set[str]) -> None:
    hits = await store.search("they balked at the price", filters, limit=10)
    assert {hit.call_id for hit in hits} == expected


@pytest.mark.parametrize("mode", list(SearchMode))
@pytest.mark.parametrize(
    ("question", "filters", "limit"),
    [
        ("they balked at the price", SearchFilters(), 3),
        ("customer conversation", SearchFilters(), 10),
        ("security and compliance", SearchFilters(rep_user_id=REP_BEN), 2),
        ("rollout plans", SearchFilters(started_from=datetime(2025, 4, 1)), 5),
    ],
)
async def test_both_backends_give_the_same_calls(
    indexed_path: Path,
    embedder: FastEmbedProvider,
    backend_kind: str,
    tmp_path: Path,
    question: str,
    filters: SearchFilters,
    limit: int,
    mode: SearchMode,
) -> None:
    # The other backend, indexed from the same calls: an index built on one answers like the other.
    other = "client" if backend_kind == "edge" else "edge"
    await index_documents(local_qdrant(tmp_path, embedded=other), embedder, SAMPLE_CALLS)
    answers = []
    for path, kind in ((indexed_path, backend_kind), (tmp_path, other)):
        store = SearchStore(local_qdrant(path, embedded=kind), embedder)
        answers.append([hit.call_id for hit in await store.search(question, filters, limit=limit, mode=mode)])
        await store.aclose()
    assert answers[0] == answers[1]


@pytest.mark.parametrize(
    ("question", "expected"),
    [("Snowflake", ACME_API_CALL), ("Salesforce sync", COMPETITOR_CALL), ("SAML", SECURITY_CALL), ("Hooli", DISCOVERY_CALL)],
)
async def test_keyword_mode_finds_exact_names(store: SearchStore, question: str, expected: str) -> None:
    hits = await store.search(question, limit=3, mode=SearchMode.KEYWORD)
    assert hits[0].call_id == expected


async def test_keyword_mode_finds_nothing_for_words_no_call_has(store: SearchStore) -> None:
    assert await store.search("zeppelin", limit=3, mode=SearchMode.KEYWORD) == []


async def test_hybrid_keeps_meaning_and_adds_exact_names(store: SearchStore) -> None:
    # Meaning alone: the paraphrase finds the pricing call in hybrid mode as in semantic mode.
    assert (await store.search("they balked at the price", limit=1))[0].call_id == PRICING_CALL
    # An exact name the dense model does not know: hybrid ranks its call first.
    assert (await store.search("Hooli", limit=1))[0].call_id == DISCOVERY_CALL


async def test_grouping_here_fetches_more_when_one_call_fills_the_top(
    tmp_path: Path, embedder: FastEmbedProvider, backend_kind: str
) -> None:
    from sophia_mcp.gong.queries.call_documents import CallDocument

    turns = [
        {"speakerId": "b", "sentences": [{"start": i * 1000, "text": f"The cost is too high for us, point {i}. " * 8}]}
        for i in range(30)
    ]
    busy = CallDocument("busy", transcript=turns)
    quiet = CallDocument("quiet", transcript=[{"speakerId": "r", "sentences": [{"start": 0, "text": "Here is the training plan."}]}])
    settings = local_qdrant(tmp_path, embedded=backend_kind)
    await index_documents(settings, embedder, [busy, quiet])
    store = SearchStore(settings, embedder)
    try:
        hits = await store.search("they balked at the price", limit=2, mode=SearchMode.SEMANTIC)
    finally:
        await store.aclose()
    assert [hit.call_id for hit in hits] == ["busy", "quiet"]


async def test_a_missing_collection_says_how_to_build_it(
    indexed_path: Path, embedder: FastEmbedProvider, backend_kind: str
) -> None:
    store = SearchStore(local_qdrant(indexed_path, collection="nope", embedded=backend_kind), embedder)
    try:
        with pytest.raises(CollectionNotFoundError, match=r"'nope' does not exist: run `sophia-mcp index`"):
            await store.search("anything")
    finally:
        await store.aclose()


def _collection_with(settings: QdrantSettings, size: int, state: dict[str, object] | None = None) -> None:
    backend = open_backend(settings)
    try:
        backend.create(size, PayloadFields())
        if state is not None:
            backend.write_state(state, size)
    finally:
        backend.close()


async def test_a_collection_of_another_vector_size_names_the_model_it_needs(
    tmp_path: Path, embedder: FastEmbedProvider, backend_kind: str
) -> None:
    settings = local_qdrant(tmp_path, embedded=backend_kind)
    _collection_with(settings, 1536)
    store = SearchStore(settings, embedder)
    with pytest.raises(VectorSizeMismatchError) as caught:
        await store.search("anything")
    await store.aclose()
    message = str(caught.value)
    assert "holds 1536-dimension vectors" in message
    assert "sentence-transformers/all-MiniLM-L6-v2 makes 384" in message
    assert "text-embedding-3-small" in message and "SOPHIA_EMBEDDING_MODEL" in message
    assert (caught.value.collection_dimension, caught.value.embedder_dimension) == (1536, 384)


async def test_the_model_recorded_by_the_indexer_is_named_and_enforced(
    tmp_path: Path, embedder: FastEmbedProvider, backend_kind: str
) -> None:
    settings = local_qdrant(tmp_path, embedded=backend_kind)
    state = {"embedding_provider": "fastembed", "embedding_model": "BAAI/bge-small-en-v1.5", "dimension": 384}
    _collection_with(settings, 384, state)
    store = SearchStore(settings, embedder)
    # Same size, other model: the vectors would not compare, so it is refused all the same.
    with pytest.raises(EmbedderMismatchError, match=r"indexed with fastembed BAAI/bge-small-en-v1.5, not fastembed"):
        await store.search("anything")
    await store.aclose()


async def test_no_qdrant_configured_is_a_clear_error(embedder: FastEmbedProvider) -> None:
    store = SearchStore(QdrantSettings(), embedder)
    with pytest.raises(QdrantNotConfiguredError, match=r"QDRANT_URL .* or QDRANT_PATH"):
        await store.search("anything")


async def test_a_folder_held_by_another_opener_is_a_clear_error(
    indexed_path: Path, embedder: FastEmbedProvider, backend_kind: str
) -> None:
    settings = local_qdrant(indexed_path, embedded=backend_kind)
    holder = Collection(settings)
    await holder.backend()
    store = SearchStore(settings, embedder)
    try:
        with pytest.raises(StoreBusyError, match="another process|another instance"):
            await store.search("anything")
    finally:
        await holder.aclose()


async def test_a_corrupt_shard_is_a_clear_error(tmp_path: Path, embedder: FastEmbedProvider) -> None:
    settings = local_qdrant(tmp_path)
    await index_documents(settings, embedder, SAMPLE_CALLS[:1])
    for segment in (tmp_path / "gong_calls" / "segments").iterdir():
        for part in segment.rglob("*"):
            if part.is_file():
                part.write_bytes(b"garbage")
    store = SearchStore(settings, embedder)
    try:
        with pytest.raises(SearchError, match="delete the folder"):
            await store.search("anything")
    finally:
        await store.aclose()


async def test_an_airbyte_destination_collection_is_searchable_with_the_field_settings(
    tmp_path: Path, embedder: FastEmbedProvider
) -> None:
    # What destination-qdrant writes from `callTranscripts`: random point ids, the chunk text in
    # `text`, the record's other fields beside it, and Airbyte's own `_ab_*` fields.
    records = [
        ("8101", "2025-02-01T10:00:00Z", "Dana: The figure in your proposal is much higher than our budget allows."),
        ("8101", "2025-02-01T10:00:00Z", "Ana: I can check whether a longer contract lowers the yearly cost."),
        ("8102", "2025-02-03T10:00:00Z", "Sam: Our admins need SAML single sign-on and audit logs."),
        ("8103", "2025-02-05T10:00:00Z", "Lee: Let's schedule the training sessions for the new hires."),
    ]
    vectors = await embedder.embed_documents([text for _, _, text in records])
    write_airbyte_collection(
        tmp_path, "gong_transcripts", [(call_id, text, {"started": started}) for call_id, started, text in records], vectors
    )
    settings = local_qdrant(tmp_path, "gong_transcripts", "client", SOPHIA_QDRANT_CALL_ID_FIELD="callId")
    store = SearchStore(settings, embedder)
    try:
        hits = await store.search("they balked at the price", limit=5)
        assert [hit.call_id for hit in hits][:1] == ["8101"]
        assert sorted(hit.call_id for hit in hits) == ["8101", "8102", "8103"]  # two chunks of 8101, one hit
        assert hits[0].started == "2025-02-01T10:00:00Z" and hits[0].title is None
        dated = await store.search("cost", SearchFilters(started_from=datetime(2025, 2, 2)), limit=5)
        assert {hit.call_id for hit in dated} == {"8102", "8103"}
        only = await store.search("cost", SearchFilters(call_id="8103"), limit=5)
        assert [hit.call_id for hit in only] == ["8103"]
        # No BM25 vectors: hybrid falls back to meaning and says so; keyword names what to do.
        answer = await store.answer("cost", limit=5)
        assert answer.mode is SearchMode.SEMANTIC and "no BM25 vectors" in (answer.note or "")
        with pytest.raises(SearchError, match="use mode `semantic`"):
            await store.search("cost", mode=SearchMode.KEYWORD)
    finally:
        await store.aclose()


async def test_nested_record_fields_work_as_payload_paths(tmp_path: Path, embedder: FastEmbedProvider) -> None:
    # From `extensiveCalls`, the record's metadata is nested and `id` is an integer.
    client = QdrantClient(path=str(tmp_path))
    client.create_collection("calls", vectors_config=models.VectorParams(size=384, distance=models.Distance.COSINE))
    text = "Call brief: the buyer pushed back hard on the cost of the renewal."
    client.upsert(
        "calls",
        [
            models.PointStruct(
                id=str(uuid.uuid4()),
                vector=await embedder.embed_query(text),
                payload={"text": text, "id": 8201, "metaData": {"title": "Renewal", "started": "2025-01-01T09:00:00Z"}},
            )
        ],
    )
    client.close()
    fields = PayloadFields(call_id="id", title="metaData.title", started="metaData.started")
    store = SearchStore(local_qdrant(tmp_path, "calls", "client"), embedder, fields=fields)
    try:
        hits = await store.search("objection about the price", SearchFilters(call_id="8201"))
        assert [(hit.call_id, hit.title, hit.started) for hit in hits] == [("8201", "Renewal", "2025-01-01T09:00:00Z")]
    finally:
        await store.aclose()
