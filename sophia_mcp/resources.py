"""Resources: the same data as the get-tools, addressable by URI, as compact JSON."""

import json

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceError

from sophia_mcp.app import AppContext, app_context
from sophia_mcp.errors import SophiaError


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


def register(server: MCPServer[AppContext]) -> None:
    server.resource("airbyte://connections/{connection_id}", mime_type="application/json")(airbyte_connection)
    server.resource("airbyte://jobs/{job_id}", mime_type="application/json")(airbyte_job)
