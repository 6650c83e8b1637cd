"""Resources: the same data as the get-tools, addressable by URI, as compact JSON."""

import json
from collections.abc import Awaitable, Callable
from typing import TypeVar

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from pydantic import BaseModel

from sophia_mcp.surface.context import AppContext, app_context
from sophia_mcp.errors import SophiaError
from sophia_mcp.gong.repository import GongRepository

T = TypeVar("T", bound=BaseModel)

# A transcript resource holds this many characters of speech; the rest is read with the tool.
TRANSCRIPT_RESOURCE_CHARS = 40_000


def _json(data: object) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


async def airbyte_connection(connection_id: str, ctx: Context) -> str:
    """An Airbyte connection with its streams and schedule."""
    app = app_context(ctx)
    try:
        connection = await app.airbyte.get_connection(connection_id)
    except (SophiaError, ValueError) as exc:
        raise ResourceError(str(exc)) from exc
    return _json(connection.model_dump(mode="json", by_alias=True, exclude_none=True))


async def airbyte_job(job_id: str, ctx: Context) -> str:
    """An Airbyte job: type, status, timing, rows and bytes."""
    if not job_id.isdigit():
        raise ResourceError(f"job ids are numbers, not {job_id[:40]!r}")
    app = app_context(ctx)
    try:
        job = await app.airbyte.get_job(int(job_id))
    except SophiaError as exc:
        raise ResourceError(str(exc)) from exc
    return _json(job.model_dump(mode="json", by_alias=True, exclude_none=True))


async def _gong(ctx: Context, lookup: Callable[[GongRepository], Awaitable[T]]) -> T:
    """Run a Gong lookup; anticipated failures (not configured, not found, a stream missing, a bad
    id, a database problem) become a ResourceError with their actionable message."""
    try:
        return await lookup(app_context(ctx).gong)
    except (SophiaError, ToolError, ValueError) as exc:
        raise ResourceError(str(exc)) from exc


async def gong_call(call_id: str, ctx: Context) -> str:
    """One Gong call, as gong_get_call returns it: metadata, parties, CRM account and opportunities,
    brief, key points, topics, trackers, outcome, outline, interaction stats and scorecards."""
    call = await _gong(ctx, lambda gong: gong.get_call(call_id))
    return _json(call.model_dump(mode="json", exclude_none=True))


async def gong_call_transcript(call_id: str, ctx: Context) -> str:
    """A Gong call's transcript: speaker turns with names from the call's parties, up to about
    40,000 characters; a longer one says how to read the rest with gong_get_transcript."""
    page = await _gong(ctx, lambda gong: gong.get_transcript(call_id, max_chars=TRANSCRIPT_RESOURCE_CHARS))
    body = page.model_dump(mode="json", exclude_none=True)
    if page.next_cursor:
        body["more"] = (
            f"This is the start of the transcript, cut at about {TRANSCRIPT_RESOURCE_CHARS:,} characters. "
            f"Read on with the gong_get_transcript tool: call_id={page.call_id!r} and cursor=next_cursor."
        )
    return _json(body)


async def gong_user(user_id: str, ctx: Context) -> str:
    """A Gong user (the seller's team): name, email, title, active, manager."""
    user = await _gong(ctx, lambda gong: gong.get_user(user_id))
    return _json(user.model_dump(mode="json", exclude_none=True))


async def sophia_schema(ctx: Context, cached: str | None = None) -> str:
    """The Gong tables and columns the server finds in Postgres, how they map to Airbyte's Gong
    streams, what each stream feeds, and which are missing and why. Looks again on every read;
    `sophia://schema?cached=true` shows the discovery the tools are using instead."""
    use_cached = (cached or "").strip().lower() in ("1", "true", "yes")
    report = await _gong(ctx, lambda gong: gong.describe_schema(rediscover=not use_cached))
    return _json(report.model_dump(mode="json", exclude_none=True))


def register(server: MCPServer[AppContext]) -> None:
    server.resource("airbyte://connections/{connection_id}", mime_type="application/json")(airbyte_connection)
    server.resource("airbyte://jobs/{job_id}", mime_type="application/json")(airbyte_job)
    server.resource("gong://calls/{call_id}", mime_type="application/json")(gong_call)
    server.resource("gong://calls/{call_id}/transcript", mime_type="application/json")(gong_call_transcript)
    server.resource("gong://users/{user_id}", mime_type="application/json")(gong_user)
    # A template (with an optional query) rather than a static resource: in the SDK only template
    # functions receive the Context that holds the database pool. `sophia://schema` matches it.
    server.resource("sophia://schema{?cached}", mime_type="application/json")(sophia_schema)
