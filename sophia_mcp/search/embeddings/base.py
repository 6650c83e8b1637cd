"""The interface every embedding provider meets, so search and the indexer never know which one runs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

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
