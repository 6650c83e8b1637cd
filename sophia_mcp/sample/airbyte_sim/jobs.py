"""A job's life, computed from the simulator's clock: pending, then running, then its outcome.

Nothing runs in the background: a job's status, progress and timestamps are derived from how much
clock time has passed since it was created, so a test controls them through the clock and the
durations, and a stopped event loop never leaves a job half-way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

FINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled"})
# A failed job stops having written this share of its rows.
FAILED_PROGRESS = 0.5


@dataclass
class Job:
    job_id: int
    connection_id: str
    job_type: str
    created_wall: datetime
    created_clock: float
    pending_seconds: float
    running_seconds: float
    fails: bool
    rows_total: int
    bytes_total: int
    cancelled_clock: float | None = None

    def elapsed(self, now: float) -> float:
        end = now if self.cancelled_clock is None else min(now, self.cancelled_clock)
        return min(max(0.0, end - self.created_clock), self.pending_seconds + self.running_seconds)

    def status(self, now: float) -> str:
        if self.cancelled_clock is not None and now >= self.cancelled_clock:
            return "cancelled"
        elapsed = now - self.created_clock
        if elapsed < self.pending_seconds:
            return "pending"
        if elapsed < self.pending_seconds + self.running_seconds:
            return "running"
        return "failed" if self.fails else "succeeded"

    def is_final(self, now: float) -> bool:
        return self.status(now) in FINAL_STATUSES

    def progress(self, now: float) -> float:
        """Share of the rows written so far, 0 to 1."""
        if self.running_seconds <= 0:
            done = 1.0 if self.elapsed(now) >= self.pending_seconds else 0.0
        else:
            done = (self.elapsed(now) - self.pending_seconds) / self.running_seconds
        done = min(1.0, max(0.0, done))
        return min(done, FAILED_PROGRESS) if self.fails else done

    def last_updated(self, now: float) -> datetime:
        return self.created_wall + timedelta(seconds=self.elapsed(now))

    def to_api(self, now: float) -> dict[str, Any]:
        progress = self.progress(now)
        return {
            "jobId": self.job_id,
            "status": self.status(now),
            "jobType": self.job_type,
            "startTime": iso_utc(self.created_wall),
            "connectionId": self.connection_id,
            "lastUpdatedAt": iso_utc(self.last_updated(now)),
            "duration": iso_duration(self.elapsed(now)),
            "bytesSynced": int(self.bytes_total * progress),
            "rowsSynced": int(self.rows_total * progress),
        }


def iso_utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_duration(seconds: float) -> str:
    """ISO 8601 duration as Airbyte writes it, e.g. PT8H6M12S."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}H" if hours else "", f"{minutes}M" if minutes else "", f"{secs}S" if secs or not whole else ""]
    return "PT" + "".join(parts)
