"""The embedding providers: the real local model, the OpenAI-compatible client, and the factory."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from pathlib import Path

import anyio
import httpx
import pytest
from pydantic import SecretStr

from sophia_mcp.search.embeddings.base import EmbeddingError
from sophia_mcp.search.embeddings.factory import embedder_from_settings
from sophia_mcp.search.embeddings.fastembed_provider import FastEmbedProvider
from sophia_mcp.search.embeddings.openai_provider import OpenAIEmbeddingProvider
from sophia_mcp.settings import EmbeddingSettings
from tests.fixtures.qdrant import MODEL_PATH

pytestmark = pytest.mark.anyio

# fastembed's own reference vector for "hello world" with this model (first five of 384 values).
HELLO_WORLD_START = [-0.034478, 0.03102, 0.00673, 0.02611, -0.039362]


async def test_the_local_model_gives_the_reference_vectors(embedder: FastEmbedProvider) -> None:
    vector = await embedder.embed_query("hello world")
    assert await embedder.dimension() == len(vector) == 384
    assert vector[:5] == pytest.approx(HELLO_WORLD_START, abs=1e-5)
    assert math.fsum(x * x for x in vector) == pytest.approx(1.0, abs=1e-5)
    # Embedded shortest first inside, returned in the order given.
    longer = "the quote is over our budget"
    documents = await embedder.embed_documents([longer, "hello world"])
    assert documents[0] == pytest.approx(await embedder.embed_query(longer), abs=1e-6)
    assert documents[1] == pytest.approx(vector, abs=1e-6)
    assert await embedder.embed_documents([]) == []


async def test_embedding_runs_off_the_event_loop(embedder: FastEmbedProvider) -> None:
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await anyio.sleep(0.005)

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(tick)
        started = time.monotonic()
        await embedder.embed_documents(["a sentence about renewals and budgets"] * 256)
        elapsed = time.monotonic() - started
        tasks.cancel_scope.cancel()
    # Had embedding held the loop, the ticker would not have run while it worked.
    assert ticks >= elapsed / 0.005 / 4


async def test_a_missing_model_folder_is_a_clear_error(tmp_path: Path) -> None:
    provider = FastEmbedProvider(model_path=tmp_path / "nowhere")
    with pytest.raises(EmbeddingError, match="is not a folder"):
        await provider.embed_query("hi")


async def test_an_unusable_model_folder_is_a_clear_error(tmp_path: Path) -> None:
    provider = FastEmbedProvider(model_path=tmp_path)  # exists, but holds no model
    with pytest.raises(EmbeddingError, match=f"could not load the fastembed model .* from {tmp_path}"):
        await provider.embed_query("hi")


def test_heavy_libraries_wait_for_first_use() -> None:
    code = (
        "import sys\n"
        "from sophia_mcp.settings import EmbeddingSettings, QdrantSettings\n"
        "from sophia_mcp.search.embeddings.factory import embedder_from_settings\n"
        "from sophia_mcp.search.store import SearchStore\n"
        "import sophia_mcp.search.indexer\n"
        "embedder = embedder_from_settings(EmbeddingSettings())\n"
        "SearchStore(QdrantSettings(QDRANT_PATH='/tmp/unused'), embedder)\n"
        "print([m for m in ('fastembed', 'onnxruntime', 'qdrant_client') if m in sys.modules])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def _openai_endpoint(
    requests: list[httpx.Request], failures: list[httpx.Response] | None = None
) -> httpx.MockTransport:
    """An OpenAI-compatible endpoint whose vectors are [index of the text, its length], answered
    out of order as the spec allows. Plumbing only: no test of search quality uses it."""
    pending = list(failures or [])

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if pending:
            return pending.pop(0)
        texts = json.loads(request.content)["input"]
        data = [
            {"object": "embedding", "index": i, "embedding": [float(i), float(len(t))]} for i, t in enumerate(texts)
        ]
        return httpx.Response(200, json={"object": "list", "data": data[::-1], "model": "m"})

    return httpx.MockTransport(answer)


async def test_openai_compatible_endpoint_in_batches_and_in_order() -> None:
    requests: list[httpx.Request] = []
    provider = OpenAIEmbeddingProvider(
        "text-embedding-3-small",
        url="https://llm.example/v1/",
        api_key=SecretStr("sk-test-key"),
        batch_size=2,
        transport=_openai_endpoint(requests),
    )
    vectors = await provider.embed_documents(["a", "bb", "ccc"])
    assert vectors == [[0.0, 1.0], [1.0, 2.0], [0.0, 3.0]]
    assert await provider.dimension() == 2
    assert [str(r.url) for r in requests] == ["https://llm.example/v1/embeddings"] * 2
    assert json.loads(requests[0].content) == {"model": "text-embedding-3-small", "input": ["a", "bb"]}
    assert requests[0].headers["authorization"] == "Bearer sk-test-key"
    await provider.aclose()


async def test_openai_compatible_endpoint_retries_rate_limits() -> None:
    requests: list[httpx.Request] = []
    busy = httpx.Response(429, headers={"Retry-After": "0"}, json={"error": {"message": "slow down"}})
    provider = OpenAIEmbeddingProvider("m", url="http://local:8000/v1", transport=_openai_endpoint(requests, [busy]))
    assert await provider.embed_query("hello") == [0.0, 5.0]
    assert len(requests) == 2
    assert "authorization" not in requests[0].headers  # no key configured, none sent
    await provider.aclose()


async def test_openai_compatible_errors_never_show_the_key() -> None:
    refused = httpx.Response(401, json={"error": {"message": "Incorrect API key provided: sk-secret-123"}})
    provider = OpenAIEmbeddingProvider(
        "m", url="https://llm.example/v1", api_key=SecretStr("sk-secret-123"), transport=_openai_endpoint([], [refused])
    )
    with pytest.raises(EmbeddingError) as caught:
        await provider.embed_query("hello")
    assert "answered 401: Incorrect API key provided: ***" in str(caught.value)
    assert "sk-secret-123" not in str(caught.value)
    await provider.aclose()


async def test_openai_compatible_answer_without_vectors_is_a_clear_error() -> None:
    odd = httpx.Response(200, json={"result": []})
    provider = OpenAIEmbeddingProvider("m", url="https://llm.example/v1", transport=_openai_endpoint([], [odd]))
    with pytest.raises(EmbeddingError, match=r"without OpenAI's `data\[\].embedding` list"):
        await provider.embed_query("hello")
    await provider.aclose()


async def test_the_factory_builds_what_the_settings_name() -> None:
    local = embedder_from_settings(EmbeddingSettings(SOPHIA_EMBEDDING_MODEL_PATH=str(MODEL_PATH)))
    assert (type(local), local.name, local.model) == (
        FastEmbedProvider,
        "fastembed",
        "sentence-transformers/all-MiniLM-L6-v2 (int8)",  # SOPHIA_EMBEDDING_QUANTIZE=auto, for a new index
    )
    remote = embedder_from_settings(
        EmbeddingSettings(
            SOPHIA_EMBEDDING_PROVIDER="openai",
            SOPHIA_EMBEDDING_MODEL="text-embedding-3-small",
            SOPHIA_EMBEDDING_URL="https://api.openai.com/v1",
            SOPHIA_EMBEDDING_API_KEY="sk-x",
        )
    )
    assert (type(remote), remote.name, remote.model) == (OpenAIEmbeddingProvider, "openai", "text-embedding-3-small")
    await remote.aclose()
