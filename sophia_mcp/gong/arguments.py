"""Checks on caller values before they become query parameters.

Values are always bound as parameters, never written into SQL; these checks exist so that odd
input (NUL bytes, lone surrogates, megabytes of text) gets a clear answer instead of a driver error.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timezone

from sophia_mcp.gong.errors import InvalidArgumentError

MAX_TEXT = 200
# A point in time as callers give it: a date means its start (UTC), a naive time means UTC.
Moment = datetime | date | None
# Gong ids are numeric strings of up to 20 digits.
_GONG_ID = re.compile(r"[0-9]{1,20}")


def text(name: str, value: str | None, max_length: int = MAX_TEXT) -> str | None:
    """A trimmed search text, or None when empty."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{name} must be text.")
    value = value.strip()
    if not value:
        return None
    if len(value) > max_length:
        raise InvalidArgumentError(f"{name} is too long ({len(value)} characters); use at most {max_length}.")
    if "\x00" in value:
        raise InvalidArgumentError(f"{name} contains a NUL character, which no Gong field can hold.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InvalidArgumentError(f"{name} is not valid Unicode text.") from error
    return value


def gong_id(name: str, value: str | int | None) -> str:
    """A Gong id (call, user), as the text Airbyte stores in varchar columns."""
    cleaned = text(name, str(value) if isinstance(value, int) else value, max_length=40)
    if cleaned is None or not _GONG_ID.fullmatch(cleaned):
        raise InvalidArgumentError(
            f"{name} must be a numeric Gong id such as 7782342274025937895; search first to find one."
        )
    return cleaned


def contains_pattern(value: str) -> str:
    """An ILIKE pattern that matches `value` literally anywhere in a field."""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def limit(name: str, value: int | None, default: int, maximum: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgumentError(f"{name} must be a whole number from 1 to {maximum}.")
    return min(value, maximum)


def moment(name: str, value: Moment) -> datetime | None:
    """A timezone-aware instant; a date means its start, a naive time means UTC."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=timezone.utc)
    raise InvalidArgumentError(f"{name} must be a date or a date and time.")


def seconds(name: str, value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 7 * 24 * 3600:
        raise InvalidArgumentError(f"{name} must be a number of seconds from 0 to 604800.")
    return value


def choice(name: str, value: str | None, allowed: tuple[str, ...]) -> str | None:
    """One of `allowed`, matched case-insensitively, returned as spelt in `allowed`."""
    cleaned = text(name, value)
    if cleaned is None:
        return None
    for option in allowed:
        if option.lower() == cleaned.lower():
            return option
    raise InvalidArgumentError(f"{name} must be one of: {', '.join(allowed)}.")
