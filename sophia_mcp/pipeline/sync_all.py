"""Trigger every active connection (or those whose name matches), one outcome line per connection."""

from __future__ import annotations

import logging

import anyio
from pydantic import BaseModel

from sophia_mcp.airbyte.client import AirbyteClient
from sophia_mcp.airbyte.errors import AirbyteError

logger = logging.getLogger(__name__)

_CONCURRENCY = 4


class SyncOutcome(BaseModel):
    connection_id: str
    name: str
    outcome: str
    job_id: int | None = None


async def sync_all(client: AirbyteClient, workspace_id: str | None, name_contains: str | None = None) -> list[SyncOutcome]:
    """Start a sync on each chosen active connection, unless it already has a job running (then that
    job is reported). Inactive connections are listed as skipped. One failure does not stop the rest."""
    connections = await client.all_connections([workspace_id] if workspace_id else None)
    needle = (name_contains or "").strip().casefold()
    chosen = [c for c in connections if needle in c.name.casefold()]
    outcomes: dict[str, SyncOutcome] = {}
    limiter = anyio.CapacityLimiter(_CONCURRENCY)

    async def trigger(connection_id: str, name: str) -> None:
        async with limiter:
            try:
                job, started = await client.start_job(connection_id)
            except AirbyteError as exc:
                logger.info("sync of %r not started: %s", name, exc)
                outcomes[connection_id] = SyncOutcome(connection_id=connection_id, name=name, outcome=f"failed: {exc}")
                return
        text = f"started sync job {job.job_id}" if started else f"already {job.status}: job {job.job_id}, not triggered twice"
        outcomes[connection_id] = SyncOutcome(connection_id=connection_id, name=name, outcome=text, job_id=job.job_id)

    async with anyio.create_task_group() as tg:
        for connection in chosen:
            if connection.status != "active":
                outcomes[connection.connection_id] = SyncOutcome(
                    connection_id=connection.connection_id, name=connection.name, outcome=f"skipped: {connection.status}"
                )
                continue
            tg.start_soon(trigger, connection.connection_id, connection.name)
    return [outcomes[c.connection_id] for c in chosen]
