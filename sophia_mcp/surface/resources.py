"""Resources: the same data as the get-tools, addressable by URI, as compact JSON.

URI parameters are checked like tool arguments before anything is asked of a backend: a bad one
(`airbyte://jobs/²`, `airbyte://connections/..`) gets a ResourceError that says what is expected,
and nothing reaches the log, let alone a traceback.
"""

import functools
import json
import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import ParamSpec, TypeVar

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from pydantic import BaseModel

from sophia_mcp.airbyte.diagnosis import job_with_failures
from sophia_mcp.surface.context import AppContext, app_context
from sophia_mcp.errors import SophiaError
from sophia_mcp.gong.repository import GongRepository

T = TypeVar("T", bound=BaseModel)
P = ParamSpec("P")
R = TypeVar("R")

logger = logging.getLogger(__name__)

# A transcript resource holds this many characters of speech; the rest is read with the tool.
TRANSCRIPT_RESOURCE_CHARS = 40_000
# Job ids are positive int64 values written with ASCII digits (`str.isdigit` also accepts "²").
_JOB_ID = re.compile(r"[0-9]{1,19}")
_MAX_JOB_ID = 2**63 - 1
_TRUE, _FALSE = ("1", "true", "yes"), ("", "0", "false", "no")


def _json(data: object) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def _shown(value: object) -> str:
    return repr(str(value)[:40])


def resource_errors(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Anticipated failures (a bad parameter, not configured, not found, a backend down) become a
    ResourceError with their actionable message; a bug becomes a plain one, logged once."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except ResourceError:
            raise
        except (SophiaError, ToolError, ValueError) as exc:
            raise ResourceError(str(exc)) from exc
        except Exception as exc:
            logger.exception("resource %s failed unexpectedly", fn.__name__)
            raise ResourceError(f"Internal error reading this resource ({type(exc).__name__}); the server logged it.") from exc

    return wrapper


def job_id_param(value: str) -> int:
    if not isinstance(value, str) or not _JOB_ID.fullmatch(value) or not 1 <= int(value) <= _MAX_JOB_ID:
        raise ResourceError(
            f"job_id must be a positive whole number written with the digits 0-9, not {_shown(value)}; "
            "airbyte_list_jobs lists them"
        )
    return int(value)


def flag_param(name: str, value: str | None) -> bool:
    text = (value or "").strip().lower()
    if text not in _TRUE + _FALSE:
        raise ResourceError(f"{name} must be true or false, not {_shown(value)}")
    return text in _TRUE


@resource_errors
async def airbyte_connection(connection_id: str, ctx: Context) -> str:
    """An Airbyte connection with its streams and schedule."""
    # The client refuses anything but a UUID before making a request.
    connection = await app_context(ctx).airbyte.get_connection(connection_id)
    return _json(connection.model_dump(mode="json", by_alias=True, exclude_none=True))


@resource_errors
async def airbyte_job(job_id: str, ctx: Context) -> str:
    """An Airbyte job: type, status, timing, rows and bytes; for a failed or incomplete job, each attempt's
    failures too (or why they are unavailable), as airbyte_get_job shows them."""
    app = app_context(ctx)
    job, failures = await job_with_failures(app.airbyte, app.airbyte_config, job_id_param(job_id))
    return _json({**job.model_dump(mode="json", by_alias=True, exclude_none=True),
                  **failures.model_dump(mode="json", exclude_none=True)})


async def _gong(ctx: Context, lookup: Callable[[GongRepository], Awaitable[T]]) -> T:
    """Run a Gong lookup (the repository checks the ids; `resource_errors` shapes its failures)."""
    return await lookup(app_context(ctx).gong)


@resource_errors
async def gong_call(call_id: str, ctx: Context) -> str:
    """One Gong call, as gong_get_call returns it: metadata, parties, CRM account and opportunities,
    brief, key points, topics, trackers, outcome, outline, interaction stats and scorecards."""
    call = await _gong(ctx, lambda gong: gong.get_call(call_id))
    return _json(call.model_dump(mode="json", exclude_none=True))


@resource_errors
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


@resource_errors
async def gong_user(user_id: str, ctx: Context) -> str:
    """A Gong user (the seller's team): name, email, title, active, manager."""
    user = await _gong(ctx, lambda gong: gong.get_user(user_id))
    return _json(user.model_dump(mode="json", exclude_none=True))


@resource_errors
async def sophia_schema(ctx: Context, cached: str | None = None) -> str:
    """The Gong tables and columns the server finds in Postgres, how they map to Airbyte's Gong
    streams, what each stream feeds, and which are missing and why. Looks again on every read;
    `sophia://schema?cached=true` shows the discovery the tools are using instead."""
    use_cached = flag_param("cached", cached)
    report = await _gong(ctx, lambda gong: gong.describe_schema(rediscover=not use_cached))
    return _json(report.model_dump(mode="json", exclude_none=True))


def register(server: MCPServer[AppContext], toolsets: Iterable[str] = ("airbyte", "gong")) -> None:
    """The resources of the served toolsets: airbyte:// with the Airbyte tools, gong:// and sophia:// with the Gong tools."""
    toolsets = set(toolsets)
    if "airbyte" in toolsets:
        server.resource("airbyte://connections/{connection_id}", mime_type="application/json")(airbyte_connection)
        server.resource("airbyte://jobs/{job_id}", mime_type="application/json")(airbyte_job)
    if "gong" not in toolsets:
        return
    server.resource("gong://calls/{call_id}", mime_type="application/json")(gong_call)
    server.resource("gong://calls/{call_id}/transcript", mime_type="application/json")(gong_call_transcript)
    server.resource("gong://users/{user_id}", mime_type="application/json")(gong_user)
    # A template (with an optional query) rather than a static resource: in the SDK only template
    # functions receive the Context that holds the database pool. `sophia://schema` matches it.
    server.resource("sophia://schema{?cached}", mime_type="application/json")(sophia_schema)
