"""What semantic search and the indexer raise. `str()` is safe to show and says what to change."""

from __future__ import annotations

import errno
import os

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


class StoreFullError(QdrantUnavailableError):
    """A write to the store found no room: the disk is full, or a file hit the size limit."""


# What the OS reports when a write finds no room: as an OSError, or in an engine's message text.
_NO_ROOM = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def _no_room(exc: BaseException) -> str | None:
    if isinstance(exc, OSError) and exc.errno in _NO_ROOM:
        return os.strerror(exc.errno)
    text = str(exc)
    return next((os.strerror(c) for c in _NO_ROOM if os.strerror(c) in text or f"os error {c}" in text), None)


def store_full_error(exc: BaseException, where: str = "") -> StoreFullError | None:
    """A StoreFullError naming the store, if `exc` or what caused it says a write found no room."""
    cause: BaseException | None = exc
    while cause is not None:
        if said := _no_room(cause):
            return StoreFullError(
                f"the disk holding the search index{f' ({where})' if where else ''} is full ({said}). Free disk space "
                "(or raise the file size limit, `ulimit -f`)"
            )
        cause = cause.__cause__ or cause.__context__
    return None
