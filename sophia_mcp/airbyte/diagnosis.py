"""Why a connection fails and what to do: recent jobs, the failure streak, each distinct failure (from the
Configuration API), lateness, and one plain next step.

Two rounds of requests: the connection with its recent jobs, then the source's name with the newest
failed job's attempts. Failure details are optional: without them the diagnosis says why, and still
answers.
"""

from __future__ import annotations

from datetime import datetime, timezone

from pydantic import BaseModel

from sophia_mcp.airbyte.client import AirbyteClient
from sophia_mcp.airbyte.config_api import ConfigApiClient, FailureDetailsUnavailable, FailureReason, JobInfo
from sophia_mcp.airbyte.errors import AirbyteError
from sophia_mcp.airbyte.models import Connection, Job, Source
from sophia_mcp.airbyte.status import gather, lateness

RECENT_JOBS = 10
CREDENTIAL_WORDS = ("401", "403", "unauthori", "forbidden", "credential", "access key", "api key", "token", "scope")


class JobLine(BaseModel):
    id: int
    type: str
    status: str
    started: str


class FailureStreak(BaseModel):
    failed_jobs: int
    since: str
    newest_failed_job_id: int


class FailureLine(BaseModel):
    stream: str | None = None
    origin: str | None = None
    type: str | None = None
    message: str
    retryable: bool | None = None
    attempts: int = 1


class AttemptLine(BaseModel):
    attempt: int
    status: str
    failures: list[FailureLine] = []


class AttemptSummary(BaseModel):
    attempt: int
    status: str
    # Positions in the job's `failures` list: attempts often fail the same way, which is then said once.
    failures: list[int] = []


class JobFailures(BaseModel):
    """A job's attempts and their distinct failures, or why the failures are unavailable."""

    attempts: list[AttemptSummary] | None = None
    failures: list[FailureLine] | None = None
    failure_details_unavailable: str | None = None


class Diagnosis(BaseModel):
    connection_id: str
    name: str
    status: str
    source: str | None = None
    healthy: bool
    recent_jobs: list[JobLine]
    running_job_id: int | None = None
    failure_streak: FailureStreak | None = None
    failures: list[FailureLine] | None = None
    failure_details_unavailable: str | None = None
    late: str | None = None
    next_step: str


def distinct_failures(reasons: list[FailureReason]) -> list[FailureLine]:
    """One line per (stream, origin, type, message), counting how many attempts showed it."""
    lines: dict[tuple[object, ...], FailureLine] = {}
    for reason in reasons:
        key = (reason.stream, reason.origin, reason.failure_type, reason.message)
        if key in lines:
            lines[key].attempts += 1
        else:
            lines[key] = FailureLine(
                stream=reason.stream, origin=reason.origin, type=reason.failure_type,
                message=reason.message, retryable=reason.retryable,
            )
    return list(lines.values())


def attempt_lines(info: JobInfo) -> list[AttemptLine]:
    return [
        AttemptLine(attempt=a.number, status=a.status, failures=distinct_failures(a.failures)) for a in info.attempts
    ]


async def job_failures(config_api: ConfigApiClient, job_id: int) -> tuple[list[AttemptLine], str | None]:
    """Each attempt's failures, or why they are unavailable."""
    try:
        return attempt_lines(await config_api.job_info(job_id)), None
    except FailureDetailsUnavailable as exc:
        return [], str(exc)


async def job_with_failures(client: AirbyteClient, config_api: ConfigApiClient, job_id: int) -> tuple[Job, JobFailures]:
    """The job; when it failed or is incomplete, each attempt's failures too, or why they are unavailable."""
    job = await client.get_job(job_id)
    if job.status not in ("failed", "incomplete"):
        return job, JobFailures()
    attempts, unavailable = await job_failures(config_api, job.job_id)
    failures = _merged(attempts)
    index = {(f.stream, f.origin, f.type, f.message): number for number, f in enumerate(failures)}
    summaries = [
        AttemptSummary(
            attempt=a.attempt, status=a.status,
            failures=[index[(f.stream, f.origin, f.type, f.message)] for f in a.failures],
        )
        for a in attempts
    ]
    return job, JobFailures(
        attempts=summaries or None, failures=failures or None, failure_details_unavailable=unavailable
    )


def _streak(jobs: list[Job]) -> tuple[list[Job], Job | None]:
    """The failed jobs in a row, newest first, after any job still going; and that running job."""
    running = next((job for job in jobs[:1] if not job.is_final), None)
    finished = [job for job in jobs if job.is_final]
    streak: list[Job] = []
    for job in finished:
        if job.status != "failed":
            break
        streak.append(job)
    return streak, running


def next_step(
    connection: Connection,
    source: Source | None,
    streak: list[Job],
    failures: list[FailureLine],
    unavailable: str | None,
    late: str | None,
    never_ran: bool,
) -> str:
    """One plain next step, for the first problem that matters."""
    retry = f"airbyte_trigger_sync(connection_id={connection.connection_id!r})"
    source_name = source.name if source else "the source"
    if streak:
        newest = streak[0].job_id
        config = [f for f in failures if f.type == "config_error"]
        if config:
            failure = next((f for f in config if f.origin == "source"), config[0])
            stream = f" (stream {failure.stream})" if failure.stream else ""
            if failure.origin == "source":
                if any(word in failure.message.lower() for word in CREDENTIAL_WORDS):
                    return (
                        f"The {source_name} credentials were rejected{stream}: update the source {source_name!r} in "
                        f"Airbyte (its key, secret and their scopes), then retry with {retry}. Retrying before that "
                        "will fail the same way."
                    )
                return (
                    f"The source {source_name!r} rejected its configuration{stream}: fix it in Airbyte as the message "
                    f"says, then retry with {retry}."
                )
            return (
                f"The {failure.origin or 'destination'} rejected its configuration{stream}: fix the destination in "
                "Airbyte (for a Sophia destination: the SOPHIA_DEST_* setting, then airbyte_setup_pipeline(apply=true)), "
                f"then retry with {retry}."
            )
        if any(f.type == "manual_cancellation" for f in failures) and len(failures) == 1:
            return f"The last job was cancelled: start it again with {retry}."
        if any(f.type == "refresh_schema" for f in failures):
            return f"The source's schema changed: refresh it in the connection's settings in Airbyte, then retry with {retry}."
        if failures and all(f.retryable or f.type in ("transient_error", "heartbeat_timeout", "destination_timeout")
                            for f in failures):
            origin = failures[0].origin or "Airbyte"
            again = (
                f" It has failed {len(streak)} times in a row: if the retry fails too, look at the {origin} "
                "(rate limits, availability)." if len(streak) >= 3 else ""
            )
            return f"A transient failure ({origin}; Airbyte thinks a retry helps): retry with {retry}.{again}"
        if failures:
            return (
                f"An error in the {failures[0].origin or 'platform'}: retry once with {retry}; if it fails again, read "
                f"job {newest}'s logs in Airbyte."
            )
        why = f" ({unavailable.removeprefix('Failure details are unavailable: ').rstrip('.')})" if unavailable else ""
        failed = "The last job failed" if len(streak) == 1 else f"The last {len(streak)} jobs failed"
        return (
            f"{failed} and the failure details are unavailable{why}: retry once with {retry}; if it fails again, "
            f"read job {newest}'s logs in Airbyte."
        )
    if connection.status != "active":
        return (
            f"The connection is {connection.status}: nothing syncs until it is resumed with "
            f"airbyte_update_connection(connection_id={connection.connection_id!r}, status='active')."
        )
    if never_ran:
        return f"The connection has never run: start it with {retry}."
    if late:
        return f"The connection is late for its schedule: check that Airbyte's scheduler runs, or sync now with {retry}."
    return "Nothing to fix: the last job succeeded and the connection is on schedule."


async def diagnose(
    client: AirbyteClient, config_api: ConfigApiClient, connection_id: str, now: datetime | None = None
) -> Diagnosis:
    now = now or datetime.now(timezone.utc)
    connection, page = await gather(
        client.get_connection(connection_id), client.list_jobs(connection_id=connection_id, limit=RECENT_JOBS)
    )
    jobs = page.items
    streak, running = _streak(jobs)
    source, (attempts, unavailable) = await gather(
        _source_or_none(client, connection.source_id),
        job_failures(config_api, streak[0].job_id) if streak else _no_failures(),
    )
    failures = _merged(attempts)
    late = lateness(connection, jobs[0] if jobs else None, now)
    return Diagnosis(
        connection_id=connection.connection_id,
        name=connection.name,
        status=connection.status,
        source=f"{source.name} ({source.source_type})" if source else None,
        healthy=bool(jobs) and not streak and not late and connection.status == "active",
        recent_jobs=[JobLine(id=j.job_id, type=j.job_type, status=j.status, started=j.start_time) for j in jobs[:5]],
        running_job_id=running.job_id if running else None,
        failure_streak=FailureStreak(
            failed_jobs=len(streak), since=streak[-1].start_time, newest_failed_job_id=streak[0].job_id
        ) if streak else None,
        failures=failures or None,
        failure_details_unavailable=unavailable,
        late=late,
        next_step=_with_running(
            next_step(connection, source, streak, failures, unavailable, late, never_ran=not jobs), running, streak
        ),
    )


def _with_running(step: str, running: Job | None, streak: list[Job]) -> str:
    if running is None or not streak:
        return step
    return (
        f"{step} Job {running.job_id} is {running.status} now: airbyte_get_job(job_id={running.job_id}) tells whether "
        "it fails the same way."
    )


async def _source_or_none(client: AirbyteClient, source_id: str) -> Source | None:
    try:
        return await client.get_source(source_id)
    except AirbyteError:
        return None  # only its name is wanted: the diagnosis stands without it


async def _no_failures() -> tuple[list[AttemptLine], str | None]:
    return [], None


def _merged(attempts: list[AttemptLine]) -> list[FailureLine]:
    """The distinct failures across the attempts, each counted once per attempt that showed it."""
    merged: dict[tuple[object, ...], FailureLine] = {}
    for attempt in attempts:
        for line in attempt.failures:
            key = (line.stream, line.origin, line.type, line.message)
            if key in merged:
                merged[key].attempts += 1
            else:
                merged[key] = line.model_copy()
    return list(merged.values())
