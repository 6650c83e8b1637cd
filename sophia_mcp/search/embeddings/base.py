"""The interface every embedding provider meets, so search and the indexer never know which one runs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sophia_mcp.errors import SophiaError


class EmbeddingError(SophiaError):
    """The embedder could not be loaded or reached, or answered something unusable."""


class EmbeddingProvider(Protocol):
    """Turns text into vectors. Every vector of one provider has `await dimension()` floats.

    `dimension` is a coroutine because a provider may only learn it by loading its model or by
    asking its endpoint, and neither may happen before first use.
    """

    name: str
    model: str

    async def dimension(self) -> int: ...

    async def embed_query(self, text: str) -> list[float]: ...

    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]: ...

    async def aclose(self) -> None: ...


def follow_index(embedder: EmbeddingProvider, state: dict[str, Any] | None, *, exists: bool) -> None:
    """Lets a provider that can make either of two variants of its model (the local model's fp32 or
    int8, SOPHIA_EMBEDDING_QUANTIZE=auto) take the one of the index it is about to search or extend
    (`exists` False: a new index). Called before the provider's first `dimension()` for that index;
    providers with one variant have no `follow_index` and are left as they are."""
    follow = getattr(embedder, "follow_index", None)
    if follow is not None:
        follow(state.get("embedding_model") if state else None, exists=exists)
