"""Changing a connection: pause or resume, reschedule, rename; PATCH only what differs, checked first."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sophia_mcp.airbyte.client import AirbyteClient
from sophia_mcp.airbyte.models import Connection, Schedule
from sophia_mcp.airbyte.quartz import CronError, QuartzCron
from sophia_mcp.errors import InvalidArgumentError


@dataclass(frozen=True)
class ConnectionChange:
    connection: Connection
    # What the PATCH changed, e.g. "status: active → inactive"; empty when nothing differed (nothing sent).
    changes: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        if not self.changes:
            return "Nothing to change: the connection already was so (nothing was sent)."
        return "Changed " + "; ".join(self.changes) + "."


def schedule_request(schedule: str) -> dict[str, str]:
    """`manual`, or a Quartz cron expression checked as Airbyte checks it; a ValueError names the field."""
    text = " ".join(schedule.split())
    if text.lower() == "manual":
        return {"scheduleType": "manual"}
    try:
        QuartzCron.parse(text)
    except CronError as exc:
        raise InvalidArgumentError(f"schedule {text!r} is not `manual` or a Quartz cron expression Airbyte accepts: {exc}") from exc
    return {"scheduleType": "cron", "cronExpression": text}


def schedule_words(schedule: Schedule | dict[str, Any]) -> str:
    if isinstance(schedule, dict):
        schedule = Schedule.model_validate(schedule)
    if schedule.schedule_type == "cron" and schedule.cron_expression:
        return f"cron {schedule.cron_expression}"
    return schedule.basic_timing or schedule.schedule_type


async def update_connection(
    client: AirbyteClient,
    connection_id: str,
    *,
    status: str | None = None,
    schedule: str | None = None,
    name: str | None = None,
) -> ConnectionChange:
    """Check every argument before any request, read the connection, and PATCH only the fields that differ."""
    if status is None and schedule is None and name is None:
        raise InvalidArgumentError("give at least one of `status` (active or inactive), `schedule` or `name` to change")
    wanted_schedule = schedule_request(schedule) if schedule is not None else None
    if name is not None and not name.strip():
        raise InvalidArgumentError("`name` must not be blank")
    current = await client.get_connection(connection_id)
    patch: dict[str, Any] = {}
    changes: list[str] = []
    if status is not None and status != current.status:
        patch["status"] = status
        changes.append(f"status: {current.status} → {status}")
    if wanted_schedule is not None and not _same_schedule(current.schedule, wanted_schedule):
        patch["schedule"] = wanted_schedule
        changes.append(f"schedule: {schedule_words(current.schedule)} → {schedule_words(wanted_schedule)}")
    if name is not None and name.strip() != current.name:
        patch["name"] = name.strip()
        changes.append(f"name: {current.name!r} → {name.strip()!r}")
    if not patch:
        return ConnectionChange(current)
    updated = await client.update_connection(current.connection_id, patch)
    return ConnectionChange(updated, changes)


def _same_schedule(current: Schedule, wanted: dict[str, str]) -> bool:
    if current.schedule_type != wanted["scheduleType"]:
        return False
    return wanted["scheduleType"] != "cron" or " ".join((current.cron_expression or "").split()) == wanted["cronExpression"]
