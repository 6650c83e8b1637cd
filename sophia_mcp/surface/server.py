"""The MCP server: one `MCPServer` with the adapters opened in its lifespan and every part registered."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
from mcp.server import MCPServer

from sophia_mcp import __version__
from sophia_mcp.surface import prompts, resources
from sophia_mcp.surface.context import AppContext, open_app
from sophia_mcp.settings import Settings
from sophia_mcp.surface.tools import airbyte as airbyte_tools
from sophia_mcp.surface.tools import gong as gong_tools
from sophia_mcp.surface.tools import pipeline as pipeline_tools
from sophia_mcp.surface.tools import search as search_tools

INSTRUCTIONS = """\
Sophia MCP manages the Airbyte pipelines that carry Gong sales data and looks that data up, read-only.
Airbyte tools (airbyte_*) list and inspect workspaces, sources, destinations, connections and jobs,
start syncs and cancel jobs; airbyte_setup_pipeline plans the Gong pipeline.
Gong tools (gong_*) read the calls, transcripts, users, accounts and scorecards Airbyte landed in
Postgres; gong_semantic_search finds calls by meaning. Lists are paged: pass `next_cursor` back as
`cursor` for more. Ids in every result can be passed to the next tool."""


def build_server(
    settings: Settings | None = None,
    *,
    airbyte_transport: httpx.AsyncBaseTransport | None = None,
    startup: Callable[[AppContext], Awaitable[None]] | None = None,
) -> MCPServer[AppContext]:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(_: MCPServer[AppContext]) -> AsyncIterator[AppContext]:
        async with open_app(settings, airbyte_transport=airbyte_transport, startup=startup) as app:
            yield app

    server: MCPServer[AppContext] = MCPServer(
        "sophia-mcp",
        version=__version__,
        instructions=INSTRUCTIONS,
        lifespan=lifespan,
        log_level="WARNING",
    )
    airbyte_tools.register(server)
    pipeline_tools.register(server)
    gong_tools.register(server)
    search_tools.register(server)
    resources.register(server)
    prompts.register(server)
    return server
