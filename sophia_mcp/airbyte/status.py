"""What state the pipelines are in: last job per connection, failures, lateness, a health report."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime, timedelta, timezone
from typing import TypeVar

import anyio
from pydantic import BaseModel

from sophia_mcp.airbyte.client import AirbyteClient, truncation_note
from sophia_mcp.airbyte.errors import AirbyteError
from sophia_mcp.airbyte.models import Connection, Job, Page
from sophia_mcp.airbyte.schedule import overdue

_LOOKUP_CONCURRENCY = 8
T = TypeVar("T")


async def gather(*calls: Awaitable[T]) -> list[T]:
    """Run the calls concurrently; the first failure (Airbyte's, or an id refused before sending) is raised as
    itself, not in an exception group."""
    results: list[T | None] = [None] * len(calls)
    failures: list[AirbyteError | ValueError] = []

    async def run(index: int, call: Awaitable[T]) -> None:
        try:
            results[index] = await call
        except (AirbyteError, ValueError) as exc:
            failures.append(exc)

    async with anyio.create_task_group() as tg:
        for index, call in enumerate(calls):
            tg.start_soon(run, index, call)
    if failures:
        raise failures[0]
    return results  # type: ignore[return-value]


async def last_jobs(client: AirbyteClient, connections: list[Connection]) -> dict[str, Job]:
    """The newest job of each connection: one request per connection, a few at a time."""
    limiter = anyio.CapacityLimiter(_LOOKUP_CONCURRENCY)

    async def newest(connection_id: str) -> Job | None:
        async with limiter:
            page = await client.list_jobs(connection_id=connection_id, limit=1)
        return page.items[0] if page.items else None

    jobs = await gather(*(newest(c.connection_id) for c in connections))
    return {c.connection_id: job for c, job in zip(connections, jobs, strict=True) if job is not None}


async def connections_with_last_jobs(
    client: AirbyteClient, workspace_ids: list[str] | None, limit: int, offset: int
) -> tuple[Page[Connection], dict[str, Job]]:
    """One page of connections, with the newest job of each."""
    page = await client.list_connections(workspace_ids, limit=limit, offset=offset)
    return page, await last_jobs(client, page.items)


async def connection_with_jobs(client: AirbyteClient, connection_id: str, recent: int) -> tuple[Connection, list[Job]]:
    """The connection and its `recent` newest jobs, asked for at once."""
    if not recent:
        return await client.get_connection(connection_id), []
    connection, page = await gather(
        client.get_connection(connection_id), client.list_jobs(connection_id=connection_id, limit=recent)
    )
    return connection, page.items


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def lateness(connection: Connection, last_job: Job | None, now: datetime) -> str | None:
    """Why a scheduled, active connection is late, or None when it is on time or unscheduled."""
    schedule = connection.schedule
    if connection.status != "active" or schedule.schedule_type not in ("cron", "basic"):
        return None
    if last_job is None:
        # Judged from its creation: a weekday connection made on a Saturday is not late on Sunday.
        if connection.created_at is None:
            return "scheduled but has never run"
        created = datetime.fromtimestamp(connection.created_at, timezone.utc)
        late = overdue(schedule.schedule_type, schedule.cron_expression, schedule.basic_timing, created, now)
        if late is None:
            return None
        return f"scheduled but has never run; its first run was due {late.due:%a %Y-%m-%d %H:%M} UTC"
    started = parse_time(last_job.start_time)
    if started is None:
        return None
    late = overdue(schedule.schedule_type, schedule.cron_expression, schedule.basic_timing, started, now)
    if late is None:
        return None
    return (
        f"last job started {_hours(now - started)} ago; the run due {late.due:%a %Y-%m-%d %H:%M} UTC "
        f"({_hours(now - late.due)} ago) never started, and the schedule runs every {_hours(late.interval)} there"
    )


def _hours(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


class ConnectionProblem(BaseModel):
    connection_id: str
    name: str
    problem: str
    last_job_id: int | None = None


class HealthReport(BaseModel):
    api_url: str
    reachable: bool
    authenticated: bool = False
    workspace_id: str | None = None
    workspace_name: str | None = None
    sources: int | None = None
    destinations: int | None = None
    connections: int | None = None
    failing: list[ConnectionProblem] = []
    late: list[ConnectionProblem] = []
    problems: list[str] = []


async def resolve_workspace(client: AirbyteClient, configured: str | None) -> tuple[str, str]:
    """The workspace to work in: the configured one, or the only one the credentials see."""
    if configured:
        workspace = await client.get_workspace(configured)
        return workspace.workspace_id, workspace.name
    workspaces = await client.all_workspaces()
    if len(workspaces) == 1:
        return workspaces[0].workspace_id, workspaces[0].name
    if not workspaces:
        raise AirbyteError("These credentials see no Airbyte workspace; check the user's permissions.")
    names = ", ".join(f"{w.name} ({w.workspace_id})" for w in workspaces[:10])
    raise AirbyteError(f"These credentials see {len(workspaces)} workspaces; set AIRBYTE_WORKSPACE_ID to one of: {names}")


async def health_report(client: AirbyteClient, workspace_id: str | None, now: datetime | None = None) -> HealthReport:
    now = now or datetime.now(timezone.utc)
    report = HealthReport(api_url=client.base_url, reachable=False)
    try:
        report.reachable = await client.health()
    except AirbyteError as exc:
        report.problems.append(str(exc))
        return report
    if not report.reachable:
        report.problems.append("GET /health did not answer 200; Airbyte may be starting or unhealthy.")
    try:
        report.workspace_id, report.workspace_name = await resolve_workspace(client, workspace_id)
        report.authenticated = True
        scope = [report.workspace_id]
        sources, destinations, connections = await gather(
            client.all_sources(scope), client.all_destinations(scope), client.all_connections(scope)
        )
        report.sources, report.destinations, report.connections = len(sources), len(destinations), len(connections)
        if note := truncation_note(sources=sources, destinations=destinations, connections=connections):
            report.problems.append(note)
        jobs = await last_jobs(client, connections)
    except AirbyteError as exc:
        report.problems.append(str(exc))
        return report
    for connection in connections:
        job = jobs.get(connection.connection_id)
        if job is not None and job.status == "failed":
            report.failing.append(
                ConnectionProblem(
                    connection_id=connection.connection_id,
                    name=connection.name,
                    problem=f"last {job.job_type} job {job.job_id} failed; airbyte_diagnose_connection says why",
                    last_job_id=job.job_id,
                )
            )
        late = lateness(connection, job, now)
        if late:
            report.late.append(
                ConnectionProblem(
                    connection_id=connection.connection_id,
                    name=connection.name,
                    problem=late,
                    last_job_id=job.job_id if job else None,
                )
            )
    return report
