"""Opaque page cursors: what a page ended on, so the next page starts right after it.

A cursor is base64 of a small JSON object tagged with the listing it belongs to; anything else
given as a cursor is refused with a clear message rather than reaching a query. A forged one (well
formed, but with a number out of range, a NUL or a lone surrogate in a text) is refused with the same
message as a garbled one: the driver never sees it.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timedelta, timezone
from typing import Any

from sophia_mcp.gong.errors import InvalidArgumentError

MAX_CURSOR = 400
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# Integer fields are declared by their range: INT32 for what a query binds as `int`, INT64 for
# `bigint` (a plain `int` in a field list means INT64).
INT32 = (0, 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
Field = type | tuple[int, int]


def encode(kind: str, position: dict[str, Any]) -> str:
    payload = json.dumps({"k": kind, **position}, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode(kind: str, cursor: str | None, fields: dict[str, Field]) -> dict[str, Any] | None:
    """The position in `cursor`, checked to hold `fields` of the given types and ranges (a `(low,
    high)` pair is an int within it); None for no cursor."""
    if cursor is None or (isinstance(cursor, str) and not cursor.strip()):
        return None
    try:
        if not isinstance(cursor, str) or len(cursor) > MAX_CURSOR:
            raise ValueError
        padded = cursor.strip() + "=" * (-len(cursor.strip()) % 4)
        position = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if not isinstance(position, dict) or position.get("k") != kind:
            raise ValueError
        for name, expected in fields.items():
            if not _valid(position.get(name), expected):
                raise ValueError
    except (ValueError, UnicodeError, binascii.Error) as error:
        raise _not_ours() from error
    return position


def _valid(value: Any, expected: Field) -> bool:
    if isinstance(value, bool):
        return False
    if expected is int:
        expected = INT64
    if isinstance(expected, tuple):
        low, high = expected
        return isinstance(value, int) and low <= value <= high
    if not isinstance(value, expected):
        return False
    if isinstance(value, str):
        # Postgres refuses NUL in text and the driver cannot encode a lone surrogate.
        return "\x00" not in value and not any("\ud800" <= ch <= "\udfff" for ch in value)
    return True


def micros(moment: datetime) -> int:
    """A timestamp as whole microseconds since 1970: exact, unlike a float, and short."""
    delta = moment - EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> datetime:
    try:
        return EPOCH + timedelta(microseconds=value)
    except OverflowError as error:
        raise _not_ours() from error


def _not_ours() -> InvalidArgumentError:
    return InvalidArgumentError(
        "cursor is not one this tool returned; pass next_cursor from the previous page unchanged, "
        "or leave it out to start from the beginning."
    )
