"""Shared by the semantic-search tests: the real embedding model (loaded once), an embedded
Postgres, and the anyio backend."""

from __future__ import annotations

import pytest

from sophia_mcp.search.embeddings.fastembed_provider import FastEmbedProvider
from tests.fixtures.qdrant import MODEL_PATH


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def embedder() -> FastEmbedProvider:
    """all-MiniLM-L6-v2 from the shared model folder: real vectors, no download."""
    if not MODEL_PATH.is_dir():
        pytest.fail(f"the embedding model is missing at {MODEL_PATH} (set SOPHIA_EMBEDDING_MODEL_PATH)")
    return FastEmbedProvider(model_path=MODEL_PATH)


@pytest.fixture(scope="session")
def postgres_url(postgres_admin_url: str) -> str:
    """The tests' Postgres server; each indexer test makes its own schema in it."""
    return postgres_admin_url
