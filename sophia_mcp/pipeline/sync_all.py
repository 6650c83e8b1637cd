"""Trigger every active connection of the workspace (or those whose name matches), one outcome per connection,
and say so when the connection listing was cut short (then only the connections read were triggered)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import anyio
from pydantic import BaseModel

from sophia_mcp.airbyte.client import AirbyteClient
from sophia_mcp.airbyte.errors import AirbyteError
from sophia_mcp.airbyte.status import resolve_workspace

logger = logging.getLogger(__name__)

_CONCURRENCY = 4

SyncStatus = Literal["started", "already_running", "skipped", "failed"]


class SyncOutcome(BaseModel):
    connection_id: str
    name: str
    status: SyncStatus
    # One line for a person: the job started, the job already running, why skipped or what failed.
    outcome: str
    job_id: int | None = None


@dataclass(frozen=True)
class SyncRun:
    outcomes: list[SyncOutcome]
    # One line when the connection listing stopped early: the connections past it were not triggered.
    cut_short: str | None = None


async def sync_all(client: AirbyteClient, workspace_id: str | None, name_contains: str | None = None) -> SyncRun:
    """Start a sync on each chosen active connection of the one resolved workspace (the configured one, or
    the only one the credentials see), unless it already has a job running (then that job is reported).
    Inactive connections are listed as skipped. One failure does not stop the rest."""
    workspace_id, _ = await resolve_workspace(client, workspace_id)
    connections = await client.all_connections([workspace_id])
    cut_short = None
    if connections.truncated:
        cut_short = (
            f"Not all connections: Airbyte's connection list was cut short ({connections.truncated}), "
            f"so only the {len(connections)} connections read were considered; those past them were not synced."
        )
    needle = (name_contains or "").strip().casefold()
    chosen = [c for c in connections if needle in c.name.casefold() and c.workspace_id == workspace_id]
    outcomes: dict[str, SyncOutcome] = {}
    limiter = anyio.CapacityLimiter(_CONCURRENCY)

    async def trigger(connection_id: str, name: str) -> None:
        async with limiter:
            try:
                job, started = await client.start_job(connection_id)
            except AirbyteError as exc:
                logger.info("sync of %r not started: %s", name, exc)
                outcomes[connection_id] = SyncOutcome(
                    connection_id=connection_id, name=name, status="failed", outcome=f"failed: {exc}"
                )
                return
        if started:
            status: SyncStatus = "started"
            text = f"started sync job {job.job_id}"
        else:
            status, text = "already_running", f"already {job.status}: job {job.job_id}, not triggered twice"
        outcomes[connection_id] = SyncOutcome(
            connection_id=connection_id, name=name, status=status, outcome=text, job_id=job.job_id
        )

    async with anyio.create_task_group() as tg:
        for connection in chosen:
            if connection.status != "active":
                outcomes[connection.connection_id] = SyncOutcome(
                    connection_id=connection.connection_id,
                    name=connection.name,
                    status="skipped",
                    outcome=f"skipped: {connection.status}",
                )
                continue
            tg.start_soon(trigger, connection.connection_id, connection.name)
    return SyncRun([outcomes[c.connection_id] for c in chosen], cut_short)
