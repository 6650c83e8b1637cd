"""Pipeline tools: plan or apply the Sophia pipeline, and trigger every connection."""

from typing import Annotated

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult
from pydantic import BaseModel, Field

from sophia_mcp.surface.context import app_context
from sophia_mcp.pipeline.plan import PipelinePlan, PipelinePlanner
from sophia_mcp.pipeline.sync_all import SyncOutcome, sync_all
from sophia_mcp.surface.tools.airbyte import simulator_note
from sophia_mcp.surface.tools.shaping import compact, tool_errors


class PlanResult(PipelinePlan):
    note: str | None = None


class SyncAllResult(BaseModel):
    connections: list[SyncOutcome]
    started: int
    # False when Airbyte's connection list was cut short: connections past it were not synced.
    complete: bool = True
    note: str | None = None


@tool_errors
async def airbyte_setup_pipeline(
    ctx: Context,
    apply: Annotated[
        bool, Field(description="false (default): only show the plan. true: create and update what the plan lists.")
    ] = False,
) -> Annotated[CallToolResult, PlanResult]:
    """Plan (default) or apply the Sophia pipeline in Airbyte: the Gong source to a Postgres destination (and
    Redis/Qdrant when configured), each stream incremental where supported else full refresh, every six hours.
    Idempotent by name: applying twice changes nothing. Destination credentials come from server settings."""
    app = app_context(ctx)
    plan = await PipelinePlanner(app.airbyte, app.settings).plan(apply=apply)
    return compact(PlanResult(**plan.model_dump(), note=simulator_note(app)))


@tool_errors
async def airbyte_sync_all(
    ctx: Context,
    name_contains: Annotated[
        str | None, Field(max_length=200, description="Only connections whose name contains this (case-insensitive).")
    ] = None,
) -> Annotated[CallToolResult, SyncAllResult]:
    """Start a sync on every active connection (or those matching a name); one line per connection. A connection
    that already has a job running is reported, not triggered twice. `complete` is false, with a note, when
    Airbyte's connection list was cut short."""
    app = app_context(ctx)
    run = await sync_all(app.airbyte, app.settings.airbyte.workspace_id, name_contains)
    started = sum(o.status == "started" for o in run.outcomes)
    note = " ".join(line for line in (run.cut_short, simulator_note(app)) if line) or None
    return compact(SyncAllResult(connections=run.outcomes, started=started, complete=run.cut_short is None, note=note))
