"""SOPHIA_EMBEDDING_QUANTIZE: the int8 copy of the real model, made locally once; an index built
with it answers as the fp32 one does and records it. `auto` (the default) builds a new index int8
and follows an existing one (an fp32 index from before keeps working); `int8` / `none` set
explicitly refuse the other variant clearly."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import anyio.to_thread
import pytest
from pydantic import ValidationError

from sophia_mcp.search.embeddings.base import EmbeddingError
from sophia_mcp.search.embeddings.factory import embedder_from_settings
from sophia_mcp.search.embeddings.fastembed_provider import FastEmbedProvider
from sophia_mcp.search.embeddings.quantized import source_digest
from sophia_mcp.search.errors import EmbedderMismatchError
from sophia_mcp.search.indexer import IndexWriter
from sophia_mcp.search.model import PayloadFields, SearchMode
from sophia_mcp.search.qdrant import Collection
from sophia_mcp.search.store import SearchStore
from sophia_mcp.settings import EmbeddingSettings
from tests.fixtures.qdrant import BACKENDS, MODEL_PATH, index_documents, local_qdrant, write_airbyte_collection
from tests.search.sample_calls import (
    ACME_API_CALL,
    COMPETITOR_CALL,
    ONBOARDING_CALL,
    PRICING_CALL,
    SAMPLE_CALLS,
    SECURITY_CALL,
)

pytestmark = pytest.mark.anyio

QUESTIONS = [
    ("they balked at the price", PRICING_CALL),
    ("who asked about compliance certifications", SECURITY_CALL),
    ("getting the new customer set up and trained", ONBOARDING_CALL),
    ("we are being compared to another product", COMPETITOR_CALL),
    ("developers asking about API limits and event notifications", ACME_API_CALL),
]


@pytest.fixture(scope="module")
def int8_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def int8(int8_cache: Path) -> FastEmbedProvider:
    return FastEmbedProvider(model_path=MODEL_PATH, quantize="int8", cache_dir=int8_cache)


async def test_the_int8_copy_is_made_once_beside_no_source_and_gives_close_vectors(
    int8: FastEmbedProvider, int8_cache: Path, embedder: FastEmbedProvider
) -> None:
    texts = ["hello world", "the quote is over our budget", "Dana Lee: we need SOC 2 before legal signs the MSA"]
    quantized = await int8.embed_documents(texts)
    exact = await embedder.embed_documents(texts)
    assert await int8.dimension() == 384
    for a, b in zip(quantized, exact, strict=True):
        assert math.fsum(x * x for x in a) == pytest.approx(1.0, abs=1e-4)
        assert math.fsum(x * y for x, y in zip(a, b, strict=True)) > 0.97

    # One copy in the cache, named after the source model's hash; the model folder is untouched.
    (copy,) = (int8_cache / "int8").iterdir()
    assert source_digest(MODEL_PATH)[:16] in copy.name
    assert sorted(p.name for p in MODEL_PATH.iterdir() if p.suffix == ".onnx") == ["model.onnx"]
    made = (copy / "model.onnx").stat().st_mtime_ns
    assert (copy / "model.onnx").stat().st_size < (MODEL_PATH / "model.onnx").stat().st_size

    # A second process (here: provider) reuses it instead of quantising again.
    again = FastEmbedProvider(model_path=MODEL_PATH, quantize="int8", cache_dir=int8_cache)
    # (Same batch, same vectors: dynamic quantisation scales activations per batch, so a text's int8
    # vector moves slightly with its batch companions; they stay within the cosine bound above.)
    for a, b in zip(await again.embed_documents(texts), quantized, strict=True):
        assert a == pytest.approx(b, abs=1e-6)
    assert [p.name for p in (int8_cache / "int8").iterdir()] == [copy.name]
    assert (copy / "model.onnx").stat().st_mtime_ns == made


@pytest.mark.parametrize("backend_kind", BACKENDS)
async def test_an_int8_index_answers_like_the_fp32_one_and_records_its_variant(
    tmp_path: Path, int8: FastEmbedProvider, embedder: FastEmbedProvider, backend_kind: str
) -> None:
    exact_settings = local_qdrant(tmp_path / "fp32", embedded=backend_kind)
    int8_settings = local_qdrant(tmp_path / "int8", embedded=backend_kind)
    await index_documents(exact_settings, embedder, SAMPLE_CALLS)
    await index_documents(int8_settings, int8, SAMPLE_CALLS)

    exact_store, int8_store = SearchStore(exact_settings, embedder), SearchStore(int8_settings, int8)
    try:
        for question, expected in QUESTIONS:
            for mode in (SearchMode.SEMANTIC, SearchMode.HYBRID):
                exact_hits = [hit.call_id for hit in await exact_store.search(question, limit=3, mode=mode)]
                int8_hits = [hit.call_id for hit in await int8_store.search(question, limit=3, mode=mode)]
                assert int8_hits[0] == exact_hits[0] == expected, (question, mode)
    finally:
        await exact_store.aclose()
        await int8_store.aclose()

    # Each index refuses the other variant, saying which setting to change.
    fp32_on_int8 = SearchStore(int8_settings, embedder)
    with pytest.raises(
        EmbedderMismatchError,
        match=r"indexed with fastembed sentence-transformers/all-MiniLM-L6-v2 \(int8\), not fastembed "
        r"sentence-transformers/all-MiniLM-L6-v2: .* Set SOPHIA_EMBEDDING_QUANTIZE=int8",
    ):
        await fp32_on_int8.search("anything")
    await fp32_on_int8.aclose()
    collection = Collection(exact_settings)
    try:
        with pytest.raises(EmbedderMismatchError, match=r"not fastembed .*\(int8\).* Set SOPHIA_EMBEDDING_QUANTIZE=none \(or unset it"):
            await IndexWriter(collection, PayloadFields()).prepare(int8)
    finally:
        await collection.aclose()


def test_without_the_onnx_package_the_error_says_what_to_install(tmp_path: Path) -> None:
    code = (
        "import sys, anyio\n"
        "sys.modules['onnx'] = None  # as if onnx had gone missing from the install\n"
        "from sophia_mcp.search.embeddings.fastembed_provider import FastEmbedProvider\n"
        "from sophia_mcp.search.embeddings.base import EmbeddingError\n"
        f"provider = FastEmbedProvider(model_path={str(MODEL_PATH)!r}, quantize='int8', cache_dir={str(tmp_path)!r})\n"
        "try:\n"
        "    anyio.run(provider.embed_query, 'hi')\n"
        "except EmbeddingError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert "reinstall sophia-mcp (onnx is one of its dependencies), or set SOPHIA_EMBEDDING_QUANTIZE=none" in done.stdout
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "int8").exists() or not any((tmp_path / "int8").iterdir())


async def test_a_cache_that_cannot_be_written_is_a_clear_error(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    provider = FastEmbedProvider(model_path=MODEL_PATH, quantize="int8", cache_dir=blocked)
    with pytest.raises(EmbeddingError, match="cannot write the int8 model copy into .* set SOPHIA_EMBEDDING_CACHE_DIR"):
        await provider.embed_query("hi")


async def test_the_setting_reaches_the_model_and_is_only_for_the_local_model() -> None:
    chosen = embedder_from_settings(
        EmbeddingSettings(SOPHIA_EMBEDDING_MODEL_PATH=str(MODEL_PATH), SOPHIA_EMBEDDING_QUANTIZE="int8")
    )
    assert chosen.model == "sentence-transformers/all-MiniLM-L6-v2 (int8)"
    fp32 = embedder_from_settings(EmbeddingSettings(SOPHIA_EMBEDDING_QUANTIZE="none"))
    assert fp32.model == "sentence-transformers/all-MiniLM-L6-v2"
    # Unset: auto, a new index is int8 for the default model, fp32 for another one.
    assert EmbeddingSettings().quantize == "auto"
    assert embedder_from_settings(EmbeddingSettings()).model == "sentence-transformers/all-MiniLM-L6-v2 (int8)"
    other = embedder_from_settings(EmbeddingSettings(SOPHIA_EMBEDDING_MODEL="BAAI/bge-small-en-v1.5"))
    assert other.model == "BAAI/bge-small-en-v1.5"
    # provider=openai: auto means no quantisation; int8 is refused.
    openai = EmbeddingSettings(SOPHIA_EMBEDDING_PROVIDER="openai", SOPHIA_EMBEDDING_URL="https://llm.example/v1")
    assert embedder_from_settings(openai).model == "sentence-transformers/all-MiniLM-L6-v2"
    with pytest.raises(ValidationError, match="SOPHIA_EMBEDDING_QUANTIZE is for the local fastembed model"):
        EmbeddingSettings(
            SOPHIA_EMBEDDING_PROVIDER="openai", SOPHIA_EMBEDDING_URL="https://llm.example/v1", SOPHIA_EMBEDDING_QUANTIZE="int8"
        )
    with pytest.raises(ValidationError, match="SOPHIA_EMBEDDING_QUANTIZE"):
        EmbeddingSettings(SOPHIA_EMBEDDING_QUANTIZE="int4")


async def _recorded_model(settings: object) -> str:
    collection = Collection(settings)  # type: ignore[arg-type]
    try:
        state = await collection.run(lambda b: b.read_state())
    finally:
        await collection.aclose()
    assert state is not None
    return state["embedding_model"]


@pytest.mark.parametrize("backend_kind", BACKENDS)
async def test_auto_keeps_an_fp32_index_from_before_and_builds_a_new_one_int8(
    tmp_path: Path, int8_cache: Path, embedder: FastEmbedProvider, backend_kind: str
) -> None:
    # An index built before int8 was the default: fp32, recorded as the plain model.
    old = local_qdrant(tmp_path / "old", embedded=backend_kind)
    await index_documents(old, embedder, SAMPLE_CALLS[:3])
    fp32_store = SearchStore(old, embedder)
    try:
        before = {q: [h.call_id for h in await fp32_store.search(q, limit=3)] for q, _ in QUESTIONS}
    finally:
        await fp32_store.aclose()

    def auto() -> FastEmbedProvider:  # a fresh process's provider with the setting unset
        return FastEmbedProvider(model_path=MODEL_PATH, quantize="auto", cache_dir=int8_cache)

    # auto searches it with the fp32 model: no refusal, the same hits.
    store = SearchStore(old, searcher := auto())
    try:
        assert {q: [h.call_id for h in await store.search(q, limit=3)] for q, _ in QUESTIONS} == before
        assert searcher.variant == "fp32 (follows the index)"
    finally:
        await store.aclose()

    # ... and extends it as fp32: the new calls are found, the index still records fp32.
    await index_documents(old, auto(), SAMPLE_CALLS[3:])
    assert await _recorded_model(old) == "sentence-transformers/all-MiniLM-L6-v2"
    store = SearchStore(old, embedder)  # the explicit fp32 model still fits it
    try:
        for question, expected in QUESTIONS:
            assert (await store.search(question, limit=1))[0].call_id == expected, question
    finally:
        await store.aclose()

    # A new index under auto is built int8 and recorded so; auto then follows it as int8.
    new = local_qdrant(tmp_path / "new", embedded=backend_kind)
    await index_documents(new, builder := auto(), SAMPLE_CALLS)
    assert builder.variant == "int8 copy (new index)"
    assert await _recorded_model(new) == "sentence-transformers/all-MiniLM-L6-v2 (int8)"
    store = SearchStore(new, searcher := auto())
    try:
        for question, expected in QUESTIONS:
            assert (await store.search(question, limit=1))[0].call_id == expected, question
        assert searcher.variant == "int8 copy (follows the index)"
    finally:
        await store.aclose()

    # An explicit setting still refuses the other variant, naming it.
    explicit = SearchStore(new, FastEmbedProvider(model_path=MODEL_PATH, quantize="none"))
    with pytest.raises(EmbedderMismatchError, match=r"Set SOPHIA_EMBEDDING_QUANTIZE=int8 \(or unset it"):
        await explicit.search("anything")
    await explicit.aclose()


async def test_auto_searches_a_collection_airbyte_wrote_with_the_fp32_model(
    tmp_path: Path, int8_cache: Path, embedder: FastEmbedProvider
) -> None:
    records = [
        ("8101", "Kim: The quote is well over what we budgeted; the price is the problem."),
        ("8102", "Lee: Let's schedule the training sessions for the new hires."),
    ]
    vectors = await embedder.embed_documents([text for _, text in records])
    write_airbyte_collection(tmp_path, "gong_transcripts", [(c, t, {}) for c, t in records], vectors)
    settings = local_qdrant(tmp_path, "gong_transcripts", "client", SOPHIA_QDRANT_CALL_ID_FIELD="callId")
    auto = FastEmbedProvider(model_path=MODEL_PATH, quantize="auto", cache_dir=int8_cache)
    store = SearchStore(settings, auto)
    try:
        assert (await store.search("they balked at the price", limit=1))[0].call_id == "8101"
        assert auto.variant == "fp32 (follows the index: no record of ours)"
    finally:
        await store.aclose()


def test_without_the_onnx_package_auto_builds_a_new_index_fp32_and_says_so(tmp_path: Path) -> None:
    code = (
        "import sys, anyio\n"
        "sys.modules['onnx'] = None  # as if onnx had gone missing from the install\n"
        "from sophia_mcp.search.embeddings.fastembed_provider import FastEmbedProvider\n"
        f"provider = FastEmbedProvider(model_path={str(MODEL_PATH)!r}, quantize='auto', cache_dir={str(tmp_path)!r})\n"
        "print(len(anyio.run(provider.embed_query, 'hi')), provider.model, '|', provider.variant)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert done.stdout.strip() == (
        "384 sentence-transformers/all-MiniLM-L6-v2 | fp32 (new index; the int8 copy could not be made)"
    )
    warnings = [line for line in done.stderr.splitlines() if "fp32 model" in line]
    assert len(warnings) == 1 and "onnx" in warnings[0]
    assert "Traceback" not in done.stderr


def _check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sophia_mcp", "check"], env=env, capture_output=True, text=True, timeout=180)


async def test_check_names_the_variant_and_why_and_what_to_change_on_a_mismatch(
    tmp_path: Path, embedder: FastEmbedProvider
) -> None:
    await index_documents(local_qdrant(tmp_path / "qdrant", embedded="edge"), embedder, SAMPLE_CALLS[:1])
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AIRBYTE_", "SOPHIA_", "QDRANT_"))}
    env = {
        **clean,
        "QDRANT_PATH": str(tmp_path / "qdrant"),
        "SOPHIA_EMBEDDING_MODEL_PATH": str(MODEL_PATH),
        "SOPHIA_EMBEDDING_CACHE_DIR": str(tmp_path / "models"),
    }
    explicit, auto, new = await anyio.to_thread.run_sync(
        lambda: (
            _check({**env, "SOPHIA_EMBEDDING_QUANTIZE": "int8"}),
            _check(env),
            _check({**env, "QDRANT_PATH": str(tmp_path / "nothing-yet")}),
        )
    )
    assert "  variant:          int8 copy (SOPHIA_EMBEDDING_QUANTIZE=int8)" in explicit.stdout
    assert "indexed with fastembed sentence-transformers/all-MiniLM-L6-v2, not" in explicit.stdout
    assert "Set SOPHIA_EMBEDDING_QUANTIZE=none (or unset it: auto follows the index)" in explicit.stdout
    assert "  variant:          fp32 (follows the index)" in auto.stdout
    assert "  status:           OK, 384-dimensional vectors match the embedder" in auto.stdout
    assert "  variant:          int8 copy (new index)" in new.stdout
    for done in (explicit, auto, new):
        assert "Traceback" not in done.stderr
