"""What the server opens once per process and hands to every tool: settings and the adapters.

Nothing here touches the network before `initialize` is answered: the Postgres pool connects on
first query. Semantic search warms up in the background as the server starts (the embedding model
loaded, the index opened, one question answered) so that the first search finds it ready; a search
that comes sooner waits for it, and a warm-up that fails is reported by the first search instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
import logging
from dataclasses import dataclass, field

import anyio
import httpx
from anyio.abc import TaskGroup
from mcp.server.mcpserver import Context

from sophia_mcp.airbyte.client import AirbyteClient
from sophia_mcp.airbyte.config_api import ConfigApiClient
from sophia_mcp.errors import NotConfiguredError, SophiaError
from sophia_mcp.gong.repository import GongRepository
from sophia_mcp.gong.snapshot import snapshot_dir
from sophia_mcp.postgres.readonly import ReadOnlyPool
from sophia_mcp.search.service import SemanticSearch
from sophia_mcp.search.store import IndexingStatus, SearchStore
from sophia_mcp.settings import PostgresSettings, Settings

logger = logging.getLogger(__name__)


@dataclass
class AppContext:
    settings: Settings
    _airbyte: AirbyteClient | None = None
    _airbyte_config: ConfigApiClient | None = None
    _gong: GongRepository | None = None
    _search: SemanticSearch | None = None
    _search_lock: anyio.Lock = field(default_factory=anyio.Lock)
    _pool: ReadOnlyPool | None = None
    _background: TaskGroup | None = None
    # Set while a startup hook (the demo's embedded Postgres) is still bringing the Gong database up.
    starting: str | None = None

    @property
    def airbyte(self) -> AirbyteClient:
        if self._airbyte is None:
            if self.settings.airbyte.off_reason:
                raise NotConfiguredError(f"Airbyte is off: {self.settings.airbyte.off_reason} Then restart the server.")
            raise NotConfiguredError(
                "Airbyte is not configured: set AIRBYTE_CLIENT_ID and AIRBYTE_CLIENT_SECRET (or "
                "AIRBYTE_ACCESS_TOKEN), and AIRBYTE_API_URL for a self-managed Airbyte, then restart the server."
            )
        return self._airbyte

    @property
    def airbyte_config(self) -> ConfigApiClient:
        """Airbyte's Configuration API (failure reasons), on the same credentials as `airbyte`."""
        self.airbyte  # noqa: B018 - when Airbyte is not configured, says what to set
        if self._airbyte_config is None:
            raise NotConfiguredError("Airbyte's Configuration API client was not opened with the server.")
        return self._airbyte_config

    @property
    def gong(self) -> GongRepository:
        if self._gong is None:
            if self.starting:
                raise NotConfiguredError(self.starting)
            if self.settings.postgres.off_reason:
                raise NotConfiguredError(
                    f"The Gong database is off: {self.settings.postgres.off_reason} Then restart the server."
                )
            raise NotConfiguredError(
                "The Gong database is not configured: set SOPHIA_POSTGRES_URL to the Postgres where Airbyte "
                "lands Gong data (a read-only role), then restart the server."
            )
        return self._gong

    async def search(self) -> SemanticSearch:
        """Semantic search; the store opens Qdrant on first question (importing its client takes seconds)."""
        off_reason = self.settings.qdrant.off_reason or self.settings.embedding.off_reason
        if off_reason:
            raise NotConfiguredError(
                f"Semantic search is off: {off_reason} Then restart the server. Keyword search "
                "(gong_search_calls) works without it."
            )
        if not self.settings.qdrant.configured:
            raise NotConfiguredError(
                "Semantic search is not configured: set QDRANT_URL (and QDRANT_API_KEY) or QDRANT_PATH, "
                "then restart the server. Keyword search (gong_search_calls) works without it."
            )
        async with self._search_lock:
            if self._search is None:
                from sophia_mcp.search.embeddings.factory import embedder_from_settings

                store = SearchStore(self.settings.qdrant, embedder_from_settings(self.settings.embedding))
                if self.starting and self.settings.qdrant.owned_shard:
                    store.indexing = IndexingStatus(running=True)  # the indexer starts with the database
                self._search = SemanticSearch(
                    store, lambda: self._gong, stale_after_hours=self.settings.postgres.stale_after_hours
                )
            return self._search

    async def warm_search(self) -> None:
        """Semantic search made ready in the background (see the module docstring). Never raises:
        what failed is tried again, and reported, by the first search."""
        try:
            await (await self.search()).store.warm_up()
        except anyio.get_cancelled_exc_class():
            raise
        except Exception as exc:  # noqa: BLE001 - a warm-up only logs; the first search answers the error
            logger.warning("semantic search is not ready: %s (each search reports it until fixed)", exc)

    async def attach_postgres(self, postgres: PostgresSettings) -> None:
        """Open the Gong database; an embedded Edge shard is then indexed from it in the background."""
        self.settings.postgres = postgres
        pool = ReadOnlyPool.from_settings(postgres)
        await pool.open()
        self._pool = pool
        self._gong = GongRepository(
            pool,
            postgres.gong_schema,
            postgres.table_prefix,
            stale_after_hours=postgres.stale_after_hours,
            snapshot_dir=snapshot_dir(postgres.gong_snapshot_dir),
        )
        self.starting = None
        if self._background is not None:
            # The cross-call Gong answers need a summary that takes seconds to read on large data.
            self._background.start_soon(self._gong.warm)
        if self.settings.qdrant.owned_shard and self._background is not None:
            # The embedded shard is this process's own: it indexes it in the background.
            from sophia_mcp.search.background import BackgroundIndexer

            self._background.start_soon(BackgroundIndexer(self.settings, (await self.search()).store).run_forever)

    async def readiness(self, timeout: float = 5.0) -> dict[str, str]:
        """Each backend: `ok`, `off` (not configured: its tools say what to set) or `failed: why`.
        The configured ones are asked at once, each within `timeout` seconds."""
        off = self.settings.backends_off()
        states = {name: "off" for name in ("airbyte", "postgres", "search") if name in off}

        async def probe(name: str, check: Callable[[], Awaitable[object]]) -> None:
            try:
                with anyio.fail_after(timeout):
                    await check()
                states[name] = "ok"
            except TimeoutError:
                states[name] = f"failed: no answer within {timeout:g} s"
            except SophiaError as exc:
                states[name] = f"failed: {exc}"

        async def airbyte() -> None:
            await self.airbyte.list_workspaces(limit=1)  # reachable, and the credentials are accepted

        async def postgres() -> None:
            if self._pool is None:  # the demo's embedded Postgres is still starting
                raise NotConfiguredError(self.starting or "the Gong database is not open yet")
            await self._pool.ping()

        async def search() -> None:
            from sophia_mcp.search.errors import CollectionNotFoundError

            try:
                await (await self.search()).store.check()
            except CollectionNotFoundError:
                if not self.settings.qdrant.owned_shard:
                    raise  # this process builds its own shard: an empty one is being indexed

        async with anyio.create_task_group() as group:
            for name, check in (("airbyte", airbyte), ("postgres", postgres), ("search", search)):
                if name not in states:
                    group.start_soon(probe, name, check)
        return {name: states[name] for name in ("airbyte", "postgres", "search")}


def app_context(ctx: Context) -> AppContext:
    return ctx.request_context.lifespan_context


@asynccontextmanager
async def open_app(
    settings: Settings,
    airbyte_transport: httpx.AsyncBaseTransport | None = None,
    startup: Callable[[AppContext], Awaitable[None]] | None = None,
) -> AsyncIterator[AppContext]:
    """`startup`, if given, runs in the background while the server already answers (the demo
    brings its embedded Postgres up there and then calls `attach_postgres`)."""
    app = AppContext(settings=settings)
    try:
        if settings.airbyte.configured:
            app._airbyte = AirbyteClient(settings.airbyte, transport=airbyte_transport)
            app._airbyte_config = ConfigApiClient(settings.airbyte, app._airbyte.auth, transport=airbyte_transport)
        async with anyio.create_task_group() as background:
            app._background = background
            if "search" in settings.surface.toolsets and "search" not in settings.backends_off():
                background.start_soon(app.warm_search)
            if settings.postgres.url is not None:
                await app.attach_postgres(settings.postgres)
            if startup is not None:
                app.starting = "The Gong database is still starting (a few seconds on a first start); ask again shortly."
                background.start_soon(startup, app)
            yield app
            background.cancel_scope.cancel()
    finally:
        if app._search is not None:
            await app._search.store.aclose()
        if app._pool is not None:
            await app._pool.close()
        if app._airbyte_config is not None:
            await app._airbyte_config.aclose()
        if app._airbyte is not None:
            await app._airbyte.aclose()
