"""Quartz schedules evaluated, not guessed: next runs for every syntax Airbyte accepts, refusals that
name the field, and lateness that knows weekends and nights."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sophia_mcp.airbyte.models import Connection, Job
from sophia_mcp.airbyte.quartz import CronError, QuartzCron
from sophia_mcp.airbyte.schedule import basic_interval, overdue
from sophia_mcp.airbyte.status import lateness

# Saturday 5 December 2026, 01:00 UTC.
SATURDAY = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


# (expression, the next three runs after SATURDAY)
NEXT_RUNS = [
    ("0 0 */6 * * ?", ["2026-12-05 06:00:00", "2026-12-05 12:00:00", "2026-12-05 18:00:00"]),
    ("0 0 0/2 * * ?", ["2026-12-05 02:00:00", "2026-12-05 04:00:00", "2026-12-05 06:00:00"]),
    ("0 15,45 * * * ?", ["2026-12-05 01:15:00", "2026-12-05 01:45:00", "2026-12-05 02:15:00"]),
    ("30 * * * * ?", ["2026-12-05 01:00:30", "2026-12-05 01:01:30", "2026-12-05 01:02:30"]),
    ("0 0 8-18 ? * MON-FRI", ["2026-12-07 08:00:00", "2026-12-07 09:00:00", "2026-12-07 10:00:00"]),
    ("0 0 9 ? * 2-6", ["2026-12-07 09:00:00", "2026-12-08 09:00:00", "2026-12-09 09:00:00"]),  # 1 = Sunday
    ("0 0 2 * * ?", ["2026-12-05 02:00:00", "2026-12-06 02:00:00", "2026-12-07 02:00:00"]),
    ("0 0 12 L * ?", ["2026-12-31 12:00:00", "2027-01-31 12:00:00", "2027-02-28 12:00:00"]),
    ("0 0 12 L-3 * ?", ["2026-12-28 12:00:00", "2027-01-28 12:00:00", "2027-02-25 12:00:00"]),
    ("0 0 12 LW * ?", ["2026-12-31 12:00:00", "2027-01-29 12:00:00", "2027-02-26 12:00:00"]),
    ("0 0 12 15W * ?", ["2026-12-15 12:00:00", "2027-01-15 12:00:00", "2027-02-15 12:00:00"]),
    ("0 0 12 1W * ?", ["2027-01-01 12:00:00", "2027-02-01 12:00:00", "2027-03-01 12:00:00"]),  # Sat 1 May → Mon 3
    ("0 0 9 ? * 6#3", ["2026-12-18 09:00:00", "2027-01-15 09:00:00", "2027-02-19 09:00:00"]),
    ("0 0 9 ? * FRI#1", ["2027-01-01 09:00:00", "2027-02-05 09:00:00", "2027-03-05 09:00:00"]),
    ("0 0 9 ? * 6L", ["2026-12-25 09:00:00", "2027-01-29 09:00:00", "2027-02-26 09:00:00"]),
    ("0 0 9 ? * L", ["2026-12-05 09:00:00", "2026-12-12 09:00:00", "2026-12-19 09:00:00"]),  # alone: Saturday
    ("0 0 22-2 * * ?", ["2026-12-05 02:00:00", "2026-12-05 22:00:00", "2026-12-05 23:00:00"]),
    ("0 0 0 29 2 ?", ["2028-02-29 00:00:00", "2032-02-29 00:00:00", "2036-02-29 00:00:00"]),
    ("0 0 2 * * ? 2027", ["2027-01-01 02:00:00", "2027-01-02 02:00:00", "2027-01-03 02:00:00"]),
    ("0 30 6 1 JAN,jul ?", ["2027-01-01 06:30:00", "2027-07-01 06:30:00", "2028-01-01 06:30:00"]),
    ("0 0/20 9-10 ? * SUN", ["2026-12-06 09:00:00", "2026-12-06 09:20:00", "2026-12-06 09:40:00"]),
]


@pytest.mark.parametrize(("expression", "runs"), NEXT_RUNS, ids=[row[0] for row in NEXT_RUNS])
def test_next_runs(expression: str, runs: list[str]):
    assert QuartzCron.parse(expression).runs_after(SATURDAY, 3) == [at(run) for run in runs]


def test_the_next_run_is_strictly_after_the_moment():
    cron = QuartzCron.parse("0 0 */6 * * ?")
    assert cron.next_after(at("2026-12-05 06:00:00")) == at("2026-12-05 12:00:00")
    assert cron.next_after(at("2026-12-05 05:59:59")) == at("2026-12-05 06:00:00")


def test_an_expression_that_never_fires_again_has_no_next_run():
    assert QuartzCron.parse("0 0 0 31 2 ?").next_after(SATURDAY) is None
    assert QuartzCron.parse("0 0 0 * * ? 2020").next_after(SATURDAY) is None


# (expression, words the error must contain)
REFUSED = [
    ("0 */6 * *", "6 or 7 fields"),
    ("0 0 */6 * * ? 2027 x", "6 or 7 fields"),
    ("0 0 25 * * ?", "hours field has 25"),
    ("60 0 0 * * ?", "seconds field has 60"),
    ("0 0 0 * * *", "exactly one of the day-of-month and day-of-week"),
    ("0 0 0 ? * ?", "exactly one of the day-of-month and day-of-week"),
    ("0 0 */0 * * ?", "hours field '*/0' needs a step"),
    ("0 0 9 ? * 8", "day-of-week field has 8"),
    ("0 0 9 ? * 6#6", "`#n` needs n from 1 to 5"),
    ("0 0 9 ? * MON,6L", "day-of-week field has '6L'"),
    ("0 0 9 32 * ?", "day-of-month field has 32"),
    ("0 0 9 L-31 * ?", "`L-n` needs n from 0 to 30"),
    ("0 0 9 ? FOO *", "month field has 'FOO'"),
    ("? 0 0 * * ?", "seconds field has '?'"),
    ("0 0 1,,2 * * ?", "empty list item"),
]


@pytest.mark.parametrize(("expression", "words"), REFUSED, ids=[row[0] for row in REFUSED])
def test_refused_expressions_name_the_field(expression: str, words: str):
    with pytest.raises(CronError) as refused:
        QuartzCron.parse(expression)
    assert words in str(refused.value)


# (schedule, last job started, now, late?) — late when the run due after the last start is more
# than one interval (the schedule's own, at that moment) in the past.
LATENESS = [
    # Every six hours: due 06:00 after a 01:00 run; late once 12:00 has passed too.
    ("0 0 */6 * * ?", "2026-12-05 01:00:00", "2026-12-05 11:59:00", False),
    ("0 0 */6 * * ?", "2026-12-05 01:00:00", "2026-12-05 12:01:00", True),
    # Every two hours written as 0/2, not daily: late after four hours without a run.
    ("0 0 0/2 * * ?", "2026-12-05 00:00:00", "2026-12-05 04:30:00", True),
    # Twice an hour, not hourly.
    ("0 15,45 * * * ?", "2026-12-05 01:15:00", "2026-12-05 02:10:00", False),
    ("0 15,45 * * * ?", "2026-12-05 01:15:00", "2026-12-05 02:20:00", True),
    # Business hours on weekdays: Friday 18:00 is not late over the weekend nor Monday at 08:30...
    ("0 0 8-18 ? * MON-FRI", "2026-12-04 18:00:00", "2026-12-06 23:00:00", False),
    ("0 0 8-18 ? * MON-FRI", "2026-12-04 18:00:00", "2026-12-07 08:30:00", False),
    # ...but is by Monday 09:30, the 08:00 and 09:00 runs having passed.
    ("0 0 8-18 ? * MON-FRI", "2026-12-04 18:00:00", "2026-12-07 09:30:00", True),
    # Hourly in business hours: not late at night.
    ("0 0 8-18 * * ?", "2026-12-03 18:00:00", "2026-12-04 07:59:00", False),
    ("0 0 8-18 * * ?", "2026-12-03 18:00:00", "2026-12-04 09:01:00", True),
    # Weekdays at 09:00: Friday's run is not late on Sunday; Monday's missed run is late on Tuesday after 09:00.
    ("0 0 9 ? * MON-FRI", "2026-12-04 09:00:00", "2026-12-06 20:00:00", False),
    ("0 0 9 ? * MON-FRI", "2026-12-04 09:00:00", "2026-12-08 09:01:00", True),
    # Daily at 02:00.
    ("0 0 2 * * ?", "2026-12-04 02:00:00", "2026-12-06 01:59:00", False),
    ("0 0 2 * * ?", "2026-12-04 02:00:00", "2026-12-06 02:01:00", True),
    # Monthly, last day: a month's gap is not late; two are.
    ("0 0 12 L * ?", "2026-10-31 12:00:00", "2026-12-20 00:00:00", False),
    ("0 0 12 L * ?", "2026-10-31 12:00:00", "2027-01-01 00:00:00", True),
    # The third Friday of the month.
    ("0 0 9 ? * 6#3", "2026-11-20 09:00:00", "2027-01-10 00:00:00", False),
    ("0 0 9 ? * 6#3", "2026-11-20 09:00:00", "2027-01-16 00:00:00", True),
]


@pytest.mark.parametrize(("cron", "last", "now", "late"), LATENESS)
def test_lateness(cron: str, last: str, now: str, late: bool):
    assert (overdue("cron", cron, None, at(last), at(now)) is not None) is late


def test_basic_schedules_and_unreadable_ones():
    last = at("2026-12-05 00:00:00")
    assert basic_interval("Every 24 HOURS") == timedelta(days=1)
    assert basic_interval("whenever") is None
    assert overdue("basic", None, "Every 6 HOURS", last, last + timedelta(hours=11)) is None
    assert overdue("basic", None, "Every 6 HOURS", last, last + timedelta(hours=13)) is not None
    # Manual, or a cron that cannot be read: never called late.
    assert overdue("manual", None, None, last, last + timedelta(days=90)) is None
    assert overdue("cron", "every day", None, last, last + timedelta(days=90)) is None


def _connection(cron: str, created: str, status: str = "active") -> Connection:
    return Connection.model_validate({
        "connectionId": "c", "name": "Gong → Postgres", "sourceId": "s", "destinationId": "d", "workspaceId": "w",
        "status": status, "schedule": {"scheduleType": "cron", "cronExpression": cron},
        "createdAt": int(at(created).timestamp()),
    })


def _job(started: str) -> Job:
    return Job.model_validate({"jobId": 1, "status": "succeeded", "jobType": "sync", "connectionId": "c",
                               "startTime": started.replace(" ", "T") + "Z"})


def test_a_connection_that_never_ran_is_judged_from_its_creation():
    weekdays = _connection("0 0 9 ? * MON-FRI", "2026-12-05 10:00:00")  # made on a Saturday
    assert lateness(weekdays, None, at("2026-12-06 23:00:00")) is None  # Sunday: nothing was due yet
    assert lateness(weekdays, None, at("2026-12-07 09:30:00")) is None  # Monday's run is due, not overdue
    late = lateness(weekdays, None, at("2026-12-08 09:30:00"))
    assert late is not None and "never run; its first run was due Mon 2026-12-07 09:00 UTC" in late


def test_lateness_says_when_the_missed_run_was_due():
    six_hourly = _connection("0 0 */6 * * ?", "2026-11-01 00:00:00")
    late = lateness(six_hourly, _job("2026-12-05 01:00:00"), at("2026-12-05 13:00:00"))
    assert late is not None and "the run due Sat 2026-12-05 06:00 UTC (7.0 h ago) never started" in late
    assert lateness(six_hourly, _job("2026-12-05 01:00:00"), at("2026-12-05 11:00:00")) is None
    paused = _connection("0 0 */6 * * ?", "2026-11-01 00:00:00", status="inactive")
    assert lateness(paused, _job("2026-11-01 01:00:00"), at("2026-12-05 13:00:00")) is None
