"""A job's life, computed from the simulator's clock: pending, then running, then its outcome.

Nothing runs in the background: a job's status, progress and timestamps are derived from how much
clock time has passed since it was created, so a test controls them through the clock and the
durations, and a stopped event loop never leaves a job half-way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sophia_mcp.sample.airbyte_sim.failures import ATTEMPTS_BEFORE_GIVING_UP, CANCELLED, Failure

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
    failure: Failure | None  # why it fails, or None when it succeeds
    rows_total: int
    bytes_total: int
    cancelled_clock: float | None = None

    @property
    def fails(self) -> bool:
        return self.failure is not None

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


    def to_config_api(self, now: float) -> dict[str, Any]:
        """The Configuration API's `JobInfoRead`: the job and its attempts, with failure summaries."""
        status = self.status(now)
        created = _epoch(self.created_wall)
        updated = _epoch(self.last_updated(now))
        job: dict[str, Any] = {
            "id": self.job_id,
            "configType": CONFIG_TYPES[self.job_type],
            "configId": self.connection_id,
            "createdAt": created,
            "updatedAt": updated,
            "status": status,
        }
        if status != "pending":
            job["startedAt"] = created + int(self.pending_seconds)
        return {"job": job, "attempts": self._attempts(status, now)}

    def _attempts(self, status: str, now: float) -> list[dict[str, Any]]:
        if status == "pending":
            return []
        started = self.created_wall + timedelta(seconds=self.pending_seconds)
        ended = self.last_updated(now)
        if status == "running":
            outcomes: list[tuple[str, Failure | None]] = [("running", None)]
        elif status == "succeeded":
            outcomes = [("succeeded", None)]
        elif status == "cancelled":
            outcomes = [("failed", CANCELLED)]
        else:
            outcomes = [("failed", self.failure)] * ATTEMPTS_BEFORE_GIVING_UP
        span = (ended - started) / len(outcomes)
        rows = int(self.rows_total * self.progress(now))
        attempts = []
        for number, (attempt_status, failure) in enumerate(outcomes):
            begin, end = started + span * number, started + span * (number + 1)
            attempt: dict[str, Any] = {
                "id": number,
                "status": attempt_status,
                "createdAt": _epoch(begin),
                "updatedAt": _epoch(end),
                "recordsSynced": rows if attempt_status == "succeeded" else 0,
                "bytesSynced": int(self.bytes_total * self.progress(now)) if attempt_status == "succeeded" else 0,
                "totalStats": {"recordsEmitted": rows, "bytesEmitted": int(self.bytes_total * self.progress(now)),
                               "recordsCommitted": rows if attempt_status == "succeeded" else 0},
            }
            if attempt_status != "running":
                attempt["endedAt"] = _epoch(end)
            if failure is not None:
                attempt["failureSummary"] = {
                    "failures": [failure.to_api(_epoch(end) * 1000)],
                    "partialSuccess": False,
                }
            attempts.append({"attempt": attempt})
        return attempts


# Public API job types -> the Configuration API's JobConfigType.
CONFIG_TYPES = {"sync": "sync", "reset": "reset_connection", "refresh": "refresh", "clear": "clear"}


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def iso_utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_duration(seconds: float) -> str:
    """ISO 8601 duration as Airbyte writes it, e.g. PT8H6M12S."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}H" if hours else "", f"{minutes}M" if minutes else "", f"{secs}S" if secs or not whole else ""]
    return "PT" + "".join(parts)
