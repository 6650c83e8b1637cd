"""Starting, waiting for and cancelling jobs, with the one-job-at-a-time rule and a typed outcome each.

Progress goes to a plain callback, so a caller (an MCP tool, the CLI) reports it its own way.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio

from sophia_mcp.airbyte.client import AirbyteClient
from sophia_mcp.airbyte.errors import AirbyteConflictError
from sophia_mcp.airbyte.models import Job

# Called at each poll with the job as it is and the seconds waited so far.
ProgressCallback = Callable[[Job, float], Awaitable[None]]


async def wait_for_job(
    client: AirbyteClient,
    job: Job,
    *,
    timeout: float,
    poll_interval: float,
    on_poll: ProgressCallback | None = None,
) -> tuple[Job, bool]:
    """Poll until the job is final or `timeout` seconds pass. Returns the last state and whether it finished."""
    started = time.monotonic()
    while not job.is_final:
        elapsed = time.monotonic() - started
        if on_poll is not None:
            await on_poll(job, elapsed)
        remaining = timeout - elapsed
        if remaining <= 0:
            return job, False
        await anyio.sleep(min(poll_interval, remaining))
        job = await client.get_job(job.job_id)
    return job, True


@dataclass(frozen=True)
class TriggerOutcome:
    """What starting (and perhaps waiting for) a job came to."""

    job: Job
    # False: the connection already had this job running, and no second one was started.
    started_new: bool
    waited: bool
    timeout: float

    @property
    def finished(self) -> bool:
        return self.job.is_final

    @property
    def message(self) -> str:
        job = self.job
        if self.started_new:
            text = f"Started {job.job_type} job {job.job_id}."
        else:
            text = f"A {job.job_type} job ({job.job_id}) was already under way; no second job was started."
        if self.finished:
            return f"{text} It ended {job.status}."
        if self.waited:
            return (
                f"{text} Stopped waiting after {self.timeout:g} s while it was {job.status}; the job keeps running in "
                f"Airbyte. Check it with airbyte_get_job(job_id={job.job_id})."
            )
        return f"{text} Follow it with airbyte_get_job(job_id={job.job_id})."


async def trigger_job(
    client: AirbyteClient,
    connection_id: str,
    job_type: str = "sync",
    *,
    wait: bool = False,
    timeout: float = 300,
    poll_interval: float = 3.0,
    on_progress: ProgressCallback | None = None,
) -> TriggerOutcome:
    """Start a job on the connection unless one is running (that one is returned), and with `wait`, poll
    it until it ends or `timeout` seconds pass (the job itself goes on)."""
    job, started_new = await client.start_job(connection_id, job_type)
    waited = wait and not job.is_final
    if waited:
        job, _ = await wait_for_job(client, job, timeout=timeout, poll_interval=poll_interval, on_poll=on_progress)
    return TriggerOutcome(job=job, started_new=started_new, waited=waited, timeout=timeout)


@dataclass(frozen=True)
class CancelOutcome:
    job: Job
    # False: the job had already ended, so there was nothing to cancel.
    cancelled: bool

    @property
    def message(self) -> str:
        if self.cancelled:
            return f"Cancelled job {self.job.job_id}."
        return f"Job {self.job.job_id} had already ended {self.job.status}; nothing to cancel."


async def cancel_job(client: AirbyteClient, job_id: int) -> CancelOutcome:
    """Cancel a job that is still going; a job that already ended is reported as it is, not as an error."""
    current = await client.get_job(job_id)
    if current.is_final:
        return CancelOutcome(job=current, cancelled=False)
    try:
        return CancelOutcome(job=await client.cancel_job(job_id), cancelled=True)
    except AirbyteConflictError:
        # It ended between our look and the cancel.
        current = await client.get_job(job_id)
        if current.is_final:
            return CancelOutcome(job=current, cancelled=False)
        raise
