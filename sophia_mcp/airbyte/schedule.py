"""When a connection's schedule wanted its next run, to tell when a connection is late.

Airbyte schedules are Quartz cron in UTC (evaluated by `quartz.py`) or, on older connections,
`basic` ("Every 24 HOURS"). A connection is late when the run due after its last job's start is
more than one interval in the past, the interval being the schedule's own at that moment: so a
weekday schedule is not late over a weekend, nor a business-hours one at night.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sophia_mcp.airbyte.quartz import CronError, QuartzCron

_BASIC_UNITS = {"minutes": 60, "hours": 3600, "days": 86400, "weeks": 604800, "months": 2678400}


@dataclass(frozen=True)
class Overdue:
    """The run that should have started: when, and the schedule's interval after it."""

    due: datetime
    interval: timedelta


def basic_interval(basic_timing: str | None) -> timedelta | None:
    """`basicTiming` such as 'Every 24 HOURS' from schedules of type `basic`."""
    if not basic_timing:
        return None
    parts = basic_timing.lower().split()
    if len(parts) == 3 and parts[0] == "every" and parts[1].isdigit() and parts[2] in _BASIC_UNITS:
        return timedelta(seconds=int(parts[1]) * _BASIC_UNITS[parts[2]])
    return None


def next_due(schedule_type: str, cron_expression: str | None, basic_timing: str | None,
             last_start: datetime) -> Overdue | None:
    """The run due after `last_start`, with the interval to the one after it; None when unscheduled,
    unreadable, or never firing again."""
    if schedule_type == "cron" and cron_expression:
        try:
            cron = QuartzCron.parse(cron_expression)
        except CronError:
            return None
        due = cron.next_after(last_start)
        following = cron.next_after(due) if due is not None else None
        return Overdue(due, following - due) if due is not None and following is not None else None
    if schedule_type == "basic":
        interval = basic_interval(basic_timing)
        return Overdue(last_start + interval, interval) if interval else None
    return None


def overdue(schedule_type: str, cron_expression: str | None, basic_timing: str | None,
            last_start: datetime, now: datetime) -> Overdue | None:
    """The overdue run when the connection is late, else None."""
    due = next_due(schedule_type, cron_expression, basic_timing, last_start)
    return due if due is not None and now - due.due > due.interval else None
