"""What semantic search and the indexer raise. `str()` is safe to show and says what to change."""

from __future__ import annotations

from sophia_mcp.errors import SophiaError


class SearchError(SophiaError):
    """Base of every semantic-search failure."""


class QdrantNotConfiguredError(SearchError):
    pass


class QdrantUnavailableError(SearchError):
    """Qdrant could not be reached or opened, or failed a request."""


class StoreBusyError(QdrantUnavailableError):
    """An embedded store's folder is held by another process."""


class CollectionNotFoundError(SearchError):
    pass


class EmbedderMismatchError(SearchError):
    """The collection's vectors come from another model than the configured embedder."""


class VectorSizeMismatchError(EmbedderMismatchError):
    """The collection's vectors do not even have the embedder's size."""

    def __init__(self, message: str, *, collection_dimension: int, embedder_dimension: int) -> None:
        super().__init__(message)
        self.collection_dimension = collection_dimension
        self.embedder_dimension = embedder_dimension


class IndexSourceError(SearchError):
    """The Gong tables the indexer reads are missing or unreadable."""


class IndexTargetError(SearchError):
    """The collection cannot take the indexer's points."""
