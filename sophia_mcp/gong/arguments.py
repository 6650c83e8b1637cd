"""Checks on caller values before they become query parameters.

Values are always bound as parameters, never written into SQL; these checks exist so that odd
input (NUL bytes, lone surrogates, megabytes of text) gets a clear answer instead of a driver error.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from sophia_mcp.gong.errors import InvalidArgumentError
from sophia_mcp.gong.filters import MAX_TEXT, clean_text

# A point in time as callers give it: a date means its start (UTC), a naive time means UTC
# (filters.utc_moment reads it so).
Moment = datetime | date | None
# Gong ids are numeric strings of up to 20 digits.
_GONG_ID = re.compile(r"[0-9]{1,20}")


def text(name: str, value: str | None, max_length: int = MAX_TEXT) -> str | None:
    """A trimmed search text, or None when empty."""
    if value is not None and not isinstance(value, str):
        raise InvalidArgumentError(f"{name} must be text.")
    if value is not None and len(value.strip()) > max_length:
        raise InvalidArgumentError(f"{name} is too long ({len(value.strip())} characters); use at most {max_length}.")
    try:
        return clean_text(value)
    except ValueError as error:
        raise InvalidArgumentError(f"{name} {error}.") from error


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
