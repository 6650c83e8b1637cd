"""Quartz cron expressions, as Airbyte schedules them (UTC): parsed, checked, and stepped to the next run.

`sec min hour day-of-month month day-of-week [year]`, with `*`, `?`, ranges, lists, `/` steps, names
(JAN-DEC, SUN-SAT), `L` (last day, `L-3`, `LW`; in day-of-week `6L`, the last Friday), `W` (nearest
weekday, `15W`) and `#` (`6#3`, the third Friday). Day-of-week counts 1 = Sunday to 7 = Saturday, and
exactly one of day-of-month and day-of-week must be `?`, as Quartz requires.

Written here because no maintained Python cron library evaluates Quartz as Airbyte does: croniter
numbers weekdays from 0 = Sunday, reads `6L` and `LW` as errors and ORs the two day fields; cronsim
has no seconds field and no `?`.
"""

from __future__ import annotations

import calendar
from bisect import bisect_left
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sophia_mcp.errors import InvalidArgumentError

MONTHS = {name: number for number, name in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1)}
WEEKDAYS = {name: number for number, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), start=1)}
FIELD_NAMES = ("seconds", "minutes", "hours", "day-of-month", "month", "day-of-week", "year")
LAST_YEAR = 2099
# How far ahead to look for a next run before calling the expression one that never fires again.
SEARCH_YEARS = 30
EXAMPLE = "e.g. `0 0 */6 * * ?` for every six hours, or `0 0 9 ? * MON-FRI` for 09:00 on weekdays"


class CronError(InvalidArgumentError):
    """The expression is not one Quartz (and so Airbyte) accepts; the message names the field."""


@dataclass(frozen=True)
class _DayOfMonth:
    days: frozenset[int] = frozenset()
    last_offset: int | None = None  # `L` (0) or `L-n`
    last_weekday: bool = False  # `LW`
    nearest_weekday: int | None = None  # `15W`

    def matches(self, day: date) -> bool:
        length = calendar.monthrange(day.year, day.month)[1]
        if self.last_offset is not None:
            return day.day == length - self.last_offset
        if self.last_weekday:
            return day.day == _nearest_weekday(day.year, day.month, length, length)
        if self.nearest_weekday is not None:
            return self.nearest_weekday <= length and day.day == _nearest_weekday(
                day.year, day.month, self.nearest_weekday, length
            )
        return day.day in self.days


@dataclass(frozen=True)
class _DayOfWeek:
    weekdays: frozenset[int] = frozenset()  # Quartz numbers: 1 = Sunday
    last_of: int | None = None  # `6L`: the last Friday of the month
    nth: tuple[int, int] | None = None  # `6#3`: (Friday, third)

    def matches(self, day: date) -> bool:
        weekday = _quartz_weekday(day)
        if self.last_of is not None:
            return weekday == self.last_of and day.day + 7 > calendar.monthrange(day.year, day.month)[1]
        if self.nth is not None:
            return weekday == self.nth[0] and (day.day - 1) // 7 + 1 == self.nth[1]
        return weekday in self.weekdays


@dataclass(frozen=True)
class QuartzCron:
    expression: str
    seconds: tuple[int, ...]
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    day_rule: _DayOfMonth | _DayOfWeek
    months: frozenset[int]
    years: frozenset[int] | None

    @classmethod
    def parse(cls, expression: str) -> QuartzCron:
        fields = expression.split()
        if len(fields) not in (6, 7):
            raise CronError(
                f"a Quartz cron expression has 6 or 7 fields (seconds first), got {len(fields)}: {EXAMPLE}"
            )
        day_of_month, day_of_week = fields[3], fields[5]
        if (day_of_month == "?") == (day_of_week == "?"):
            raise CronError(
                "exactly one of the day-of-month and day-of-week fields must be `?` (Quartz cannot use both): "
                + EXAMPLE
            )
        rule = _day_of_week(day_of_week) if day_of_month == "?" else _day_of_month(day_of_month)
        return cls(
            expression=" ".join(fields),
            seconds=tuple(sorted(_values(fields[0], 0, 59, "seconds"))),
            minutes=tuple(sorted(_values(fields[1], 0, 59, "minutes"))),
            hours=tuple(sorted(_values(fields[2], 0, 23, "hours"))),
            day_rule=rule,
            months=frozenset(_values(fields[4], 1, 12, "month", MONTHS)),
            years=frozenset(_values(fields[6], 1970, LAST_YEAR, "year")) if len(fields) == 7 else None,
        )

    def next_after(self, moment: datetime) -> datetime | None:
        """The first run strictly after `moment` (UTC), or None when the expression never fires again."""
        moment = moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
        start = moment.replace(microsecond=0) + timedelta(seconds=1)
        day = start.date()
        earliest = start.time()
        end = min(LAST_YEAR, start.year + SEARCH_YEARS)
        while day.year <= end:
            if self._runs_on(day):
                at = self._first_time(earliest)
                if at is not None:
                    return datetime.combine(day, at, tzinfo=timezone.utc)
            day += timedelta(days=1)
            earliest = time(0, 0, 0)
        return None

    def runs_after(self, moment: datetime, count: int) -> list[datetime]:
        runs: list[datetime] = []
        while len(runs) < count:
            following = self.next_after(moment)
            if following is None:
                break
            runs.append(following)
            moment = following
        return runs

    def _runs_on(self, day: date) -> bool:
        if self.years is not None and day.year not in self.years:
            return False
        return day.month in self.months and self.day_rule.matches(day)

    def _first_time(self, earliest: time) -> time | None:
        for hour in self.hours[bisect_left(self.hours, earliest.hour):]:
            for minute in self.minutes[bisect_left(self.minutes, earliest.minute) if hour == earliest.hour else 0:]:
                same_minute = hour == earliest.hour and minute == earliest.minute
                index = bisect_left(self.seconds, earliest.second) if same_minute else 0
                if index < len(self.seconds):
                    return time(hour, minute, self.seconds[index])
        return None


def parse(expression: str) -> QuartzCron:
    return QuartzCron.parse(expression)


def _quartz_weekday(day: date) -> int:
    return day.isoweekday() % 7 + 1


def _nearest_weekday(year: int, month: int, target: int, length: int) -> int:
    """Quartz's `W`: the weekday nearest the target day, never crossing into another month."""
    weekday = calendar.weekday(year, month, target)  # 0 = Monday
    if weekday == 5:  # Saturday: Friday before, or Monday after when the 1st
        return target + 2 if target == 1 else target - 1
    if weekday == 6:  # Sunday: Monday after, or Friday before when the month's last day
        return target - 2 if target == length else target + 1
    return target


def _number(text: str, low: int, high: int, field: str, names: dict[str, int] | None) -> int:
    upper = text.upper()
    if names and upper in names:
        return names[upper]
    if not text.isdigit():
        known = f" or a name ({', '.join(names)})" if names else ""
        raise CronError(f"the {field} field has {text!r}, not a number from {low} to {high}{known}")
    value = int(text)
    if not low <= value <= high:
        raise CronError(f"the {field} field has {value}, outside {low}-{high}")
    return value


def _values(text: str, low: int, high: int, field: str, names: dict[str, int] | None = None) -> set[int]:
    values: set[int] = set()
    for part in text.split(","):
        if not part:
            raise CronError(f"the {field} field {text!r} has an empty list item")
        base, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or not 0 < int(step_text) <= high:
                raise CronError(f"the {field} field {part!r} needs a step from 1 to {high} after `/`")
            step = int(step_text)
        if base == "*":
            first, last = low, high
        elif "-" in base:
            first_text, _, last_text = base.partition("-")
            first = _number(first_text, low, high, field, names)
            last = _number(last_text, low, high, field, names)
        else:
            first = _number(base, low, high, field, names)
            last = high if step_text else first
        if first <= last:
            values.update(range(first, last + 1, step))
        else:  # a range that wraps, e.g. 22-2 in hours or FRI-MON
            span = list(range(first, high + 1)) + list(range(low, last + 1))
            values.update(span[::step])
    return values


def _day_of_month(text: str) -> _DayOfMonth:
    field = "day-of-month"
    upper = text.upper()
    if upper == "L":
        return _DayOfMonth(last_offset=0)
    if upper == "LW":
        return _DayOfMonth(last_weekday=True)
    if upper.startswith("L-"):
        offset = upper[2:]
        if not offset.isdigit() or not 0 <= int(offset) <= 30:
            raise CronError(f"the {field} field {text!r}: `L-n` needs n from 0 to 30")
        return _DayOfMonth(last_offset=int(offset))
    if upper.endswith("W"):
        return _DayOfMonth(nearest_weekday=_number(text[:-1], 1, 31, field, None))
    if "L" in upper or "W" in upper:
        raise CronError(f"the {field} field {text!r}: `L` and `W` stand alone (`L`, `L-3`, `LW`, `15W`)")
    return _DayOfMonth(days=frozenset(_values(text, 1, 31, field)))


def _day_of_week(text: str) -> _DayOfWeek:
    field = "day-of-week"
    upper = text.upper()
    if upper == "L":
        return _DayOfWeek(weekdays=frozenset({7}))  # alone, `L` means Saturday
    if upper.endswith("L") and "," not in upper and "-" not in upper:
        return _DayOfWeek(last_of=_number(text[:-1], 1, 7, field, WEEKDAYS))
    if "#" in upper:
        weekday_text, _, nth_text = text.partition("#")
        if not nth_text.isdigit() or not 1 <= int(nth_text) <= 5:
            raise CronError(f"the {field} field {text!r}: `#n` needs n from 1 to 5 (the nth weekday of the month)")
        return _DayOfWeek(nth=(_number(weekday_text, 1, 7, field, WEEKDAYS), int(nth_text)))
    return _DayOfWeek(weekdays=frozenset(_values(text, 1, 7, field, WEEKDAYS)))
