"""The server warms semantic search up as it starts (model loaded, index opened, one question
answered) so that the first search finds it ready. What a user sees: a search sent at once, while
the warm-up runs, gets the same right answer as a later one; a warm-up that fails (no model) is
reported by every search with the message that says what to set, and the other tools answer."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from mcp import Client

from sophia_mcp.search.embeddings.base import EmbeddingError
from sophia_mcp.search.embeddings.fastembed_provider import FastEmbedProvider
from sophia_mcp.settings import EmbeddingSettings, Settings
from sophia_mcp.surface.context import open_app
from tests.e2e.conftest import error_text, stdio_params, tool_json
from tests.fixtures.qdrant import MODEL_PATH, index_documents, local_qdrant
from tests.search.sample_calls import PRICING_CALL, SAMPLE_CALLS, SECURITY_CALL

pytestmark = pytest.mark.anyio

PRICING_QUESTION = "they balked at the price"
SECURITY_QUESTION = "who asked about compliance certifications"


@pytest.fixture(scope="module")
def shard(tmp_path_factory: pytest.TempPathFactory, embedder: FastEmbedProvider) -> Path:
    path = tmp_path_factory.mktemp("warm-up-shard")
    anyio.run(index_documents, local_qdrant(path), embedder, SAMPLE_CALLS)
    return path


def settings_for(shard: Path, model_path: Path) -> Settings:
    return Settings(
        qdrant=local_qdrant(shard), embedding=EmbeddingSettings(SOPHIA_EMBEDDING_MODEL_PATH=str(model_path))
    )


async def test_searches_sent_while_the_server_warms_up_get_the_right_calls(shard: Path) -> None:
    async with open_app(settings_for(shard, MODEL_PATH)) as app:
        search = await app.search()
        # Sent at once and side by side, while the warm-up is loading the model and opening the shard.
        answers: dict[str, list[str]] = {}

        async def ask(question: str) -> None:
            answers[question] = [hit.call_id for hit in (await search.ask(question)).calls]

        async with anyio.create_task_group() as group:
            group.start_soon(ask, PRICING_QUESTION)
            group.start_soon(ask, SECURITY_QUESTION)
        assert answers[PRICING_QUESTION][0] == PRICING_CALL
        assert answers[SECURITY_QUESTION][0] == SECURITY_CALL
        # The same calls once everything is warm.
        assert [hit.call_id for hit in (await search.ask(PRICING_QUESTION)).calls] == answers[PRICING_QUESTION]


async def test_a_warm_up_without_its_model_leaves_the_message_to_every_search(shard: Path, tmp_path: Path) -> None:
    missing = tmp_path / "no-model-here"
    async with open_app(settings_for(shard, missing)) as app:
        await app.warm_search()  # what the server starts in the background: it never raises
        search = await app.search()
        for _ in range(2):  # tried again each time, with the same message
            with pytest.raises(EmbeddingError, match=f"SOPHIA_EMBEDDING_MODEL_PATH {missing} is not a folder"):
                await search.ask(PRICING_QUESTION)


async def test_over_stdio_the_first_search_after_initialize_answers_and_a_missing_model_is_named(
    shard: Path, tmp_path: Path
) -> None:
    env = {"QDRANT_PATH": str(shard), "SOPHIA_EMBEDDING_MODEL_PATH": str(MODEL_PATH)}
    async with Client(stdio_params(env)) as client:  # the search goes out as soon as initialize is answered
        first = tool_json(await client.call_tool("gong_semantic_search", {"question": PRICING_QUESTION}))
        assert first["calls"][0]["call_id"] == PRICING_CALL
        again = tool_json(await client.call_tool("gong_semantic_search", {"question": PRICING_QUESTION}))
        assert [c["call_id"] for c in again["calls"]] == [c["call_id"] for c in first["calls"]]

    missing = tmp_path / "no-model-here"
    async with Client(stdio_params({**env, "SOPHIA_EMBEDDING_MODEL_PATH": str(missing)})) as client:
        for _ in range(2):
            message = error_text(await client.call_tool("gong_semantic_search", {"question": PRICING_QUESTION}))
            assert f"SOPHIA_EMBEDDING_MODEL_PATH {missing} is not a folder" in message
        # The other tools keep answering: here Gong's says what to set, as it does without search.
        gong = error_text(await client.call_tool("gong_search_calls", {"limit": 3}))
        assert "SOPHIA_POSTGRES_URL" in gong
