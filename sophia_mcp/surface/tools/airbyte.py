"""The Airbyte tools: thin wrappers that validate, call the Airbyte client, and shape compact results."""

from collections.abc import Callable
from typing import Annotated, Any, Generic, Literal, Self, TypeVar

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult
from pydantic import BaseModel, Field

from sophia_mcp.airbyte.models import Connection, Job, Page
from sophia_mcp.airbyte.status import HealthReport, connection_with_jobs, connections_with_last_jobs, health_report
from sophia_mcp.airbyte.control import update_connection
from sophia_mcp.airbyte.diagnosis import Diagnosis, JobFailures, diagnose, job_with_failures
from sophia_mcp.airbyte.jobs import TriggerOutcome, cancel_job, trigger_job
from sophia_mcp.surface.context import AppContext, app_context
from sophia_mcp.surface.tools.shaping import compact, cursor_from_offset, offset_from_cursor, tool_errors

SIMULATOR_NOTE = "This Airbyte is the Sophia simulator (demo data), not a real Airbyte."
Row = TypeVar("Row", bound=BaseModel)


Limit = Annotated[int, Field(ge=1, le=100, description="Items per page (1-100).")]
Cursor = Annotated[str | None, Field(description="`next_cursor` from the previous page; omit for the first page.")]
WorkspaceId = Annotated[
    str | None, Field(description="Workspace to list; defaults to AIRBYTE_WORKSPACE_ID, else every workspace visible.")
]
ConnectionId = Annotated[str, Field(min_length=1, max_length=64, description="A connectionId from airbyte_list_connections.")]
JobId = Annotated[int, Field(ge=0, description="A jobId from airbyte_list_jobs or airbyte_trigger_sync.")]


class JobRow(BaseModel):
    id: int
    connection_id: str
    type: str
    status: str
    started: str
    updated: str | None = None
    duration: str | None = None
    rows: int | None = None
    bytes: int | None = None

    @classmethod
    def of(cls, job: Job) -> "JobRow":
        return cls(
            id=job.job_id,
            connection_id=job.connection_id,
            type=job.job_type,
            status=job.status,
            started=job.start_time,
            updated=job.last_updated_at,
            duration=job.duration,
            rows=job.rows_synced,
            bytes=job.bytes_synced,
        )


class WorkspaceRow(BaseModel):
    id: str
    name: str


class SourceRow(BaseModel):
    id: str
    name: str
    type: str


class DestinationRow(BaseModel):
    id: str
    name: str
    type: str


class ConnectionBasics(BaseModel):
    """What every answer about a connection starts with."""

    id: str
    name: str
    status: str
    schedule: str

    @staticmethod
    def of(connection: Connection) -> dict[str, str]:
        schedule = schedule_text(connection)
        return {"id": connection.connection_id, "name": connection.name, "status": connection.status, "schedule": schedule}


class ConnectionRow(ConnectionBasics):
    source_id: str
    destination_id: str
    streams: int
    last_job: JobRow | None = None


class StreamRow(BaseModel):
    name: str
    sync_mode: str | None = None
    cursor: list[str] | None = None
    primary_key: list[list[str]] | None = None


class ConnectionDetail(ConnectionBasics):
    workspace_id: str
    source_id: str
    destination_id: str
    prefix: str | None = None
    streams: list[StreamRow]
    recent_jobs: list[JobRow]
    note: str | None = None


class RowPage(BaseModel, Generic[Row]):
    """One page of a list tool's rows, with the cursor for the next page."""

    items: list[Row]
    next_cursor: str | None = None
    note: str | None = None

    @classmethod
    def of(cls, page: Page[Any], row: Callable[[Any], Row], note: str | None) -> Self:
        return cls(items=[row(item) for item in page.items], next_cursor=cursor_from_offset(page.next_offset), note=note)


class WorkspaceList(RowPage[WorkspaceRow]):
    pass


class SourceList(RowPage[SourceRow]):
    pass


class DestinationList(RowPage[DestinationRow]):
    pass


class ConnectionList(RowPage[ConnectionRow]):
    pass


class JobList(RowPage[JobRow]):
    pass


class JobResult(BaseModel):
    job: JobRow
    message: str | None = None
    note: str | None = None


class JobDetail(JobFailures):
    job: JobRow
    note: str | None = None


class DiagnosisResult(Diagnosis):
    note: str | None = None


class ConnectionUpdate(ConnectionBasics):
    changed: list[str]
    message: str
    note: str | None = None


class TriggerResult(BaseModel):
    job: JobRow
    started_new: bool
    finished: bool
    message: str
    note: str | None = None

    @classmethod
    def of(cls, outcome: TriggerOutcome, note: str | None) -> "TriggerResult":
        return cls(
            job=JobRow.of(outcome.job),
            started_new=outcome.started_new,
            finished=outcome.finished,
            message=outcome.message,
            note=note,
        )


class Health(HealthReport):
    note: str | None = None


def schedule_text(connection: Connection) -> str:
    schedule = connection.schedule
    if schedule.schedule_type == "cron" and schedule.cron_expression:
        return f"cron {schedule.cron_expression} UTC"
    if schedule.schedule_type == "basic" and schedule.basic_timing:
        return schedule.basic_timing
    return schedule.schedule_type


def simulator_note(app: AppContext) -> str | None:
    """Said with every Airbyte answer when the Airbyte is the demo's simulator."""
    return SIMULATOR_NOTE if app.settings.airbyte.simulated else None


def _workspaces(app: AppContext, workspace_id: str | None) -> list[str] | None:
    chosen = workspace_id or app.settings.airbyte.workspace_id
    return [chosen] if chosen else None


@tool_errors
async def airbyte_health(ctx: Context) -> Annotated[CallToolResult, Health]:
    """Check Airbyte end to end: API reachable, token obtained, workspace resolved, counts of sources,
    destinations and connections, connections whose last job failed, and connections late for their schedule."""
    app = app_context(ctx)
    report = await health_report(app.airbyte, app.settings.airbyte.workspace_id)
    return compact(Health(**report.model_dump(), note=simulator_note(app)))


@tool_errors
async def airbyte_list_workspaces(ctx: Context, limit: Limit = 20, cursor: Cursor = None) -> Annotated[CallToolResult, WorkspaceList]:
    """List the Airbyte workspaces these credentials can see."""
    app = app_context(ctx)
    page = await app.airbyte.list_workspaces(limit=limit, offset=offset_from_cursor(cursor))
    return compact(WorkspaceList.of(page, lambda w: WorkspaceRow(id=w.workspace_id, name=w.name), simulator_note(app)))


@tool_errors
async def airbyte_list_sources(
    ctx: Context, workspace_id: WorkspaceId = None, limit: Limit = 20, cursor: Cursor = None
) -> Annotated[CallToolResult, SourceList]:
    """List Airbyte sources (id, name, connector type), e.g. to find the Gong source."""
    app = app_context(ctx)
    page = await app.airbyte.list_sources(_workspaces(app, workspace_id), limit=limit, offset=offset_from_cursor(cursor))
    return compact(SourceList.of(page, lambda s: SourceRow(id=s.source_id, name=s.name, type=s.source_type), simulator_note(app)))


@tool_errors
async def airbyte_list_destinations(
    ctx: Context, workspace_id: WorkspaceId = None, limit: Limit = 20, cursor: Cursor = None
) -> Annotated[CallToolResult, DestinationList]:
    """List Airbyte destinations (id, name, connector type: postgres, redis, qdrant…)."""
    app = app_context(ctx)
    page = await app.airbyte.list_destinations(
        _workspaces(app, workspace_id), limit=limit, offset=offset_from_cursor(cursor)
    )
    return compact(DestinationList.of(
        page, lambda d: DestinationRow(id=d.destination_id, name=d.name, type=d.destination_type), simulator_note(app)
    ))


@tool_errors
async def airbyte_list_connections(
    ctx: Context,
    workspace_id: WorkspaceId = None,
    limit: Annotated[int, Field(ge=1, le=50, description="Connections per page (1-50).")] = 20,
    cursor: Cursor = None,
) -> Annotated[CallToolResult, ConnectionList]:
    """List Airbyte connections with their status, schedule and last job (status, start, rows)."""
    app = app_context(ctx)
    page, jobs = await connections_with_last_jobs(
        app.airbyte, _workspaces(app, workspace_id), limit=limit, offset=offset_from_cursor(cursor)
    )

    def row(c: Connection) -> ConnectionRow:
        return ConnectionRow(
            **ConnectionBasics.of(c),
            source_id=c.source_id,
            destination_id=c.destination_id,
            streams=len(c.configurations.streams),
            last_job=JobRow.of(jobs[c.connection_id]) if c.connection_id in jobs else None,
        )

    return compact(ConnectionList.of(page, row, simulator_note(app)))


@tool_errors
async def airbyte_get_connection(
    ctx: Context,
    connection_id: ConnectionId,
    recent_jobs: Annotated[int, Field(ge=0, le=20, description="How many recent jobs to include.")] = 5,
) -> Annotated[CallToolResult, ConnectionDetail]:
    """One connection: its streams with sync modes, cursor and primary key, schedule, status and recent jobs."""
    app = app_context(ctx)
    connection, jobs = await connection_with_jobs(app.airbyte, connection_id, recent_jobs)
    detail = ConnectionDetail(
        **ConnectionBasics.of(connection),
        workspace_id=connection.workspace_id,
        source_id=connection.source_id,
        destination_id=connection.destination_id,
        prefix=connection.prefix or None,
        streams=[
            StreamRow(name=s.name, sync_mode=s.sync_mode, cursor=s.cursor_field or None, primary_key=s.primary_key or None)
            for s in connection.configurations.streams
        ],
        recent_jobs=[JobRow.of(j) for j in jobs],
        note=simulator_note(app),
    )
    return compact(detail)


@tool_errors
async def airbyte_list_jobs(
    ctx: Context,
    connection_id: Annotated[str | None, Field(max_length=64, description="Only this connection's jobs.")] = None,
    status: Annotated[
        Literal["pending", "queued", "running", "incomplete", "failed", "succeeded", "cancelled"] | None,
        Field(description="Only jobs in this status."),
    ] = None,
    job_type: Annotated[Literal["sync", "reset", "refresh", "clear"] | None, Field(description="Only this type.")] = None,
    workspace_id: WorkspaceId = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Annotated[CallToolResult, JobList]:
    """List jobs, newest first, optionally for one connection, status or type."""
    app = app_context(ctx)
    page = await app.airbyte.list_jobs(
        connection_id=connection_id,
        workspace_ids=None if connection_id else _workspaces(app, workspace_id),
        status=status,
        job_type=job_type,
        limit=limit,
        offset=offset_from_cursor(cursor),
    )
    return compact(JobList.of(page, JobRow.of, simulator_note(app)))


@tool_errors
async def airbyte_get_job(ctx: Context, job_id: JobId) -> Annotated[CallToolResult, JobDetail]:
    """One job: type, status, start, last update, duration, rows and bytes synced. For a failed or incomplete
    job, each attempt's failures too (stream, origin, type, message, retryable), from Airbyte's Configuration API."""
    app = app_context(ctx)
    job, failures = await job_with_failures(app.airbyte, app.airbyte_config, job_id)
    return compact(JobDetail(job=JobRow.of(job), **failures.model_dump(), note=simulator_note(app)))


@tool_errors
async def airbyte_trigger_sync(
    ctx: Context,
    connection_id: ConnectionId,
    wait: Annotated[bool, Field(description="Wait for the job to finish, reporting progress.")] = False,
    timeout_seconds: Annotated[
        int, Field(ge=1, le=3600, description="With wait: stop waiting after this long (the job keeps running).")
    ] = 300,
) -> Annotated[CallToolResult, TriggerResult]:
    """Start a sync of one connection. If the connection already has a job running, that job is returned
    instead of starting a second. With wait=true, polls the job with progress until it finishes or the
    time limit passes."""
    app = app_context(ctx)

    async def report(current: Job, elapsed: float) -> None:
        rows = f", {current.rows_synced} rows" if current.rows_synced else ""
        await ctx.report_progress(elapsed, timeout_seconds, f"job {current.job_id}: {current.status}{rows}")

    outcome = await trigger_job(
        app.airbyte,
        connection_id,
        wait=wait,
        timeout=timeout_seconds,
        poll_interval=app.settings.airbyte.poll_interval,
        on_progress=report,
    )
    return compact(TriggerResult.of(outcome, simulator_note(app)))


@tool_errors
async def airbyte_cancel_job(ctx: Context, job_id: JobId) -> Annotated[CallToolResult, JobResult]:
    """Cancel a running or pending job. Data already written by the job stays."""
    app = app_context(ctx)
    outcome = await cancel_job(app.airbyte, job_id)
    return compact(JobResult(job=JobRow.of(outcome.job), message=outcome.message, note=simulator_note(app)))


@tool_errors
async def airbyte_diagnose_connection(ctx: Context, connection_id: ConnectionId) -> Annotated[CallToolResult, DiagnosisResult]:
    """Why a connection fails and what to do, in one call: recent jobs, the current failure streak (since when,
    how many), each distinct failure with its stream, origin, type, message and whether a retry helps (from
    Airbyte's Configuration API), whether it is late for its schedule, and one plain next step."""
    app = app_context(ctx)
    diagnosis = await diagnose(app.airbyte, app.airbyte_config, connection_id)
    return compact(DiagnosisResult(**diagnosis.model_dump(), note=simulator_note(app)))


@tool_errors
async def airbyte_update_connection(
    ctx: Context,
    connection_id: ConnectionId,
    status: Annotated[
        Literal["active", "inactive"] | None, Field(description="inactive pauses the connection; active resumes it.")
    ] = None,
    schedule: Annotated[
        str | None,
        Field(
            max_length=120,
            description="`manual`, or a Quartz cron expression in UTC, seconds first: `0 0 */6 * * ?` every six "
            "hours, `0 0 9 ? * MON-FRI` weekdays at 09:00.",
        ),
    ] = None,
    name: Annotated[str | None, Field(min_length=1, max_length=200, description="A new name.")] = None,
) -> Annotated[CallToolResult, ConnectionUpdate]:
    """Pause or resume a connection (status), change its schedule (Quartz cron or manual) or rename it. Checks the
    cron before sending, sends only what differs from the connection now, and answers with the connection as it is."""
    app = app_context(ctx)
    change = await update_connection(app.airbyte, connection_id, status=status, schedule=schedule, name=name)
    connection = change.connection
    return compact(
        ConnectionUpdate(
            **ConnectionBasics.of(connection),
            changed=change.changes,
            message=change.message,
            note=simulator_note(app),
        )
    )


@tool_errors
async def airbyte_reset_connection(
    ctx: Context,
    connection_id: ConnectionId,
    job_type: Annotated[
        Literal["refresh", "clear", "reset"],
        Field(
            description="refresh: re-sync every stream from the start (keeps data until replaced); clear: delete the "
            "synced data from the destination; reset: clear, then sync again."
        ),
    ],
) -> Annotated[CallToolResult, TriggerResult]:
    """Re-sync from scratch or delete a connection's data in its destination (refresh, clear or reset). Rewrites or
    deletes destination data. If the connection already has a job running, that job is returned and none is started."""
    app = app_context(ctx)
    outcome = await trigger_job(app.airbyte, connection_id, job_type)
    return compact(TriggerResult.of(outcome, simulator_note(app)))
