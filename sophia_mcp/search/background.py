"""The serving process's own indexer for the embedded shard it owns: it indexes at start, then
whenever the Gong tables' newest `_airbyte_extracted_at` moves, checking at most every
`SOPHIA_INDEX_INTERVAL_SECONDS`. It writes through the search store's backend (an Edge shard admits
one opener), reports its progress on the store, and never stops the server: a failure (Postgres
down, a full disk) is reported on the store and logged, and the next check tries again.
"""

from __future__ import annotations

import logging
from datetime import datetime

import anyio

from sophia_mcp.errors import SophiaError
from sophia_mcp.search.errors import StoreFullError, store_full_error
from sophia_mcp.search.indexer import (
    DEFAULT_BATCH_CALLS,
    IndexProgress,
    IndexWriter,
    batch_pool,
    index_calls,
    open_source,
)
from sophia_mcp.search.store import IndexingStatus, SearchStore
from sophia_mcp.settings import Settings

logger = logging.getLogger(__name__)


def describe_failure(exc: BaseException) -> str:
    """One actionable line for what stopped an indexing run."""
    full = exc if isinstance(exc, StoreFullError) else store_full_error(exc)
    if full is not None:
        return f"{full}; indexing resumes where it stopped at the next check (semantic search answers from what is indexed meanwhile)."
    if isinstance(exc, SophiaError):
        said = str(exc).rstrip()
        return f"{said}{'' if said.endswith('.') else '.'} It is retried at the next check."
    return f"{type(exc).__name__}: {exc}. It is retried at the next check."


class BackgroundIndexer:
    def __init__(self, settings: Settings, store: SearchStore, *, batch_calls: int = DEFAULT_BATCH_CALLS) -> None:
        self._settings = settings
        self._store = store
        self._batch_calls = batch_calls
        self._seen: datetime | None = None
        self.runs = 0
        # From now on the store's collection is this indexer's to build: an absent one is "not yet".
        store.indexing = IndexingStatus(running=True)

    async def run_forever(self) -> None:
        """Index now, then whenever the data moves; cancelled with the server."""
        pool = batch_pool(self._settings.postgres, "sophia-mcp background index")
        async with pool:
            while True:
                await self.run_once(pool)
                await anyio.sleep(self._settings.qdrant.index_interval_s)

    async def run_once(self, pool: object) -> None:
        store = self._store
        try:
            source = await open_source(pool, self._settings.postgres)  # type: ignore[arg-type]
            newest = await source.newest_extracted_at()
            if self.runs and newest == self._seen:
                return
            store.indexing = IndexingStatus(running=True)

            def progress(p: IndexProgress) -> None:
                store.indexing = IndexingStatus(running=True, calls_done=p.calls_done, calls_total=p.calls_total)

            def start(total: int) -> None:
                store.indexing = IndexingStatus(running=True, calls_total=total)

            writer = IndexWriter(store.qdrant, store.fields)
            report = await index_calls(
                source,
                writer,
                store.embedder,
                fields=store.fields,
                batch_calls=self._batch_calls,
                on_progress=progress,
                on_start=start,
            )
            store.forget_shape()
            self._seen = newest
            self.runs += 1
            store.indexing = IndexingStatus(running=False, calls_done=report.calls_indexed, calls_total=report.calls_indexed)
            if report.calls_indexed:
                logger.info(
                    "indexed %d calls (%d chunks) in %.1f s", report.calls_indexed, report.chunks_written, report.seconds
                )
        except anyio.get_cancelled_exc_class():
            raise
        except Exception as exc:
            store.indexing = IndexingStatus(running=False, problem=describe_failure(exc))
            logger.warning("background indexing failed: %s", describe_failure(exc))
