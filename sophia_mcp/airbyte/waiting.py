"""Wait for a job to finish, reporting each poll, and give up at a time limit (the job goes on)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import anyio

from sophia_mcp.airbyte.client import AirbyteClient
from sophia_mcp.airbyte.models import Job

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
