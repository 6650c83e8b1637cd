"""How often a connection's schedule should run, to tell when a connection is late.

Airbyte schedules are Quartz cron in UTC (`sec min hour day-of-month month day-of-week [year]`).
Only the expected interval matters here, so the common shapes are recognised and anything else
falls back to daily, which keeps the lateness check conservative.
"""

from __future__ import annotations

from datetime import timedelta

_BASIC_UNITS = {"minutes": 60, "hours": 3600, "days": 86400, "weeks": 604800, "months": 2678400}


def expected_interval(cron: str | None) -> timedelta | None:
    if not cron:
        return None
    fields = cron.split()
    if len(fields) < 6:
        return None
    _, minute, hour, day_of_month, _, day_of_week = fields[:6]
    if minute.startswith("*/") and hour in ("*", "*/1"):
        return timedelta(minutes=_step(minute))
    if hour.startswith("*/"):
        return timedelta(hours=_step(hour))
    if hour == "*":
        return timedelta(hours=1)
    if "," in hour:
        return timedelta(hours=24 / len(hour.split(",")))
    if day_of_week not in ("*", "?"):
        return timedelta(days=7)
    if day_of_month not in ("*", "?"):
        return timedelta(days=31)
    return timedelta(days=1)


def basic_interval(basic_timing: str | None) -> timedelta | None:
    """`basicTiming` such as 'Every 24 HOURS' from schedules of type `basic`."""
    if not basic_timing:
        return None
    parts = basic_timing.lower().split()
    if len(parts) == 3 and parts[0] == "every" and parts[1].isdigit() and parts[2] in _BASIC_UNITS:
        return timedelta(seconds=int(parts[1]) * _BASIC_UNITS[parts[2]])
    return None


def _step(field: str) -> int:
    value = field[2:]
    return int(value) if value.isdigit() and int(value) > 0 else 1
