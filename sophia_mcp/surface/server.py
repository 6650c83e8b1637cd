"""The MCP server: one `MCPServer` with the adapters opened in its lifespan and every part registered."""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from mcp.server import MCPServer
from mcp_types import ToolAnnotations

from sophia_mcp import __version__
from sophia_mcp.settings import Settings, Toolset
from sophia_mcp.surface import prompts, resources
from sophia_mcp.surface.calls import observed
from sophia_mcp.surface.context import AppContext, open_app
from sophia_mcp.surface.tools import airbyte, gong, pipeline, search
from sophia_mcp.surface.tools.shaping import add_tools

INSTRUCTIONS = """\
Sophia MCP manages the Airbyte pipelines that carry Gong sales data and looks that data up, read-only.
Airbyte tools (airbyte_*) list and inspect workspaces, sources, destinations, connections and jobs,
start syncs and cancel jobs; airbyte_setup_pipeline plans the Gong pipeline.
Gong tools (gong_*) read the calls, transcripts, users, accounts and scorecards Airbyte landed in
Postgres; gong_semantic_search finds calls by meaning. Lists are paged: pass `next_cursor` back as
`cursor` for more. Ids in every result can be passed to the next tool."""

# One kind of annotation per kind of tool.
READS_AIRBYTE = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True)
READS_DATA = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
CHANGES_AIRBYTE = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True)
# Setting a status, schedule or name twice leaves the same connection (or plan): idempotent, nothing deleted.
CONVERGES_AIRBYTE = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=True)
DESTROYS_IN_AIRBYTE = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=True)


@dataclass(frozen=True)
class ToolSpec:
    tool: Callable[..., Any]
    toolset: Toolset
    annotations: ToolAnnotations

    @property
    def name(self) -> str:
        return self.tool.__name__


# Every tool, its toolset (SOPHIA_TOOLSETS) and annotations (SOPHIA_READ_ONLY keeps the read-only
# ones). A tool function that is not listed here is not served (tests/e2e/test_server_surface.py).
TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(airbyte.airbyte_health, "airbyte", READS_AIRBYTE),
    ToolSpec(airbyte.airbyte_list_workspaces, "airbyte", READS_AIRBYTE),
    ToolSpec(airbyte.airbyte_list_sources, "airbyte", READS_AIRBYTE),
    ToolSpec(airbyte.airbyte_list_destinations, "airbyte", READS_AIRBYTE),
    ToolSpec(airbyte.airbyte_list_connections, "airbyte", READS_AIRBYTE),
    ToolSpec(airbyte.airbyte_get_connection, "airbyte", READS_AIRBYTE),
    ToolSpec(airbyte.airbyte_list_jobs, "airbyte", READS_AIRBYTE),
    ToolSpec(airbyte.airbyte_get_job, "airbyte", READS_AIRBYTE),
    ToolSpec(airbyte.airbyte_diagnose_connection, "airbyte", READS_AIRBYTE),
    ToolSpec(airbyte.airbyte_trigger_sync, "airbyte", CHANGES_AIRBYTE),
    ToolSpec(airbyte.airbyte_update_connection, "airbyte", CONVERGES_AIRBYTE),
    ToolSpec(airbyte.airbyte_cancel_job, "airbyte", DESTROYS_IN_AIRBYTE),
    ToolSpec(airbyte.airbyte_reset_connection, "airbyte", DESTROYS_IN_AIRBYTE),
    ToolSpec(pipeline.airbyte_setup_pipeline, "airbyte", CONVERGES_AIRBYTE),
    ToolSpec(pipeline.airbyte_sync_all, "airbyte", CHANGES_AIRBYTE),
    ToolSpec(gong.gong_search_calls, "gong", READS_DATA),
    ToolSpec(gong.gong_get_call, "gong", READS_DATA),
    ToolSpec(gong.gong_get_transcript, "gong", READS_DATA),
    ToolSpec(gong.gong_search_transcripts, "gong", READS_DATA),
    ToolSpec(gong.gong_list_deals, "gong", READS_DATA),
    ToolSpec(gong.gong_deal_brief, "gong", READS_DATA),
    ToolSpec(gong.gong_tracker_stats, "gong", READS_DATA),
    ToolSpec(gong.gong_scorecard_stats, "gong", READS_DATA),
    ToolSpec(gong.gong_changes_since, "gong", READS_DATA),
    ToolSpec(gong.gong_list_users, "gong", READS_DATA),
    ToolSpec(gong.gong_account_activity, "gong", READS_DATA),
    ToolSpec(gong.gong_rep_stats, "gong", READS_DATA),
    ToolSpec(gong.gong_data_status, "gong", READS_DATA),
    ToolSpec(search.gong_semantic_search, "search", READS_DATA),
)

# Which backend each toolset needs (the keys of Settings.backends_off()).
BACKEND_OF: dict[Toolset, str] = {"airbyte": "airbyte", "gong": "postgres", "search": "search"}
TOOLSET_LABEL: dict[Toolset, str] = {
    "airbyte": "Airbyte tools (airbyte_*)",
    "gong": "Gong tools (gong_*, from Postgres)",
    "search": "Semantic search (gong_semantic_search)",
}


def served_tools(settings: Settings) -> list[ToolSpec]:
    """The tools this configuration serves: the chosen toolsets, and only read-only tools if asked."""
    surface = settings.surface
    return [
        spec for spec in TOOLS
        if spec.toolset in surface.toolsets and (spec.annotations.read_only_hint or not surface.read_only)
    ]


def what_is_off(settings: Settings) -> list[str]:
    """One line per served toolset whose backend is off, saying why and what to set."""
    off = settings.backends_off()
    return [
        f"{TOOLSET_LABEL[toolset]}: {off[BACKEND_OF[toolset]]}"
        for toolset in settings.surface.toolsets
        if BACKEND_OF[toolset] in off
    ]


def instructions(settings: Settings) -> str:
    surface = settings.surface
    text = INSTRUCTIONS
    limits = []
    if set(surface.toolsets) != set(BACKEND_OF):
        limits.append(f"only the {', '.join(surface.toolsets)} tools are served (SOPHIA_TOOLSETS)")
    if surface.read_only:
        limits.append("only read-only tools are served (SOPHIA_READ_ONLY=true): nothing here changes Airbyte")
    if limits:
        text += "\nIn this server " + "; ".join(limits) + "."
    off = what_is_off(settings)
    if off:
        text += "\nOff in this server (these tools answer with what to set; everything else works):\n"
        text += "\n".join(f"- {line}" for line in off)
    return text


# The context of each server whose lifespan is running, for routes outside MCP (GET /readyz).
_running: weakref.WeakKeyDictionary[MCPServer[AppContext], AppContext] = weakref.WeakKeyDictionary()


def running_context(server: MCPServer[AppContext]) -> AppContext | None:
    """The server's adapters while it serves, else None."""
    return _running.get(server)


def build_server(
    settings: Settings | None = None,
    *,
    airbyte_transport: httpx.AsyncBaseTransport | None = None,
    startup: Callable[[AppContext], Awaitable[None]] | None = None,
) -> MCPServer[AppContext]:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(running: MCPServer[AppContext]) -> AsyncIterator[AppContext]:
        async with open_app(settings, airbyte_transport=airbyte_transport, startup=startup) as app:
            _running[running] = app
            try:
                yield app
            finally:
                _running.pop(running, None)

    server: MCPServer[AppContext] = MCPServer(
        "sophia-mcp",
        version=__version__,
        instructions=instructions(settings),
        lifespan=lifespan,
        log_level="WARNING",
    )
    served = served_tools(settings)
    for spec in served:
        add_tools(server, (observed(spec.tool),), spec.annotations)
    resources.register(server, settings.surface.toolsets)
    prompts.register(server, {spec.name for spec in served}, {spec.name: spec.toolset for spec in TOOLS})
    return server
