"""Opaque page cursors: what a page ended on, so the next page starts right after it.

A cursor is base64 of a small JSON object tagged with the listing it belongs to; anything else
given as a cursor is refused with a clear message rather than reaching a query.
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


def encode(kind: str, position: dict[str, Any]) -> str:
    payload = json.dumps({"k": kind, **position}, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode(kind: str, cursor: str | None, fields: dict[str, type]) -> dict[str, Any] | None:
    """The position in `cursor`, checked to hold `fields` of the given types; None for no cursor."""
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
            if not isinstance(position.get(name), expected) or isinstance(position.get(name), bool):
                raise ValueError
    except (ValueError, UnicodeError, binascii.Error) as error:
        raise _not_ours() from error
    return position


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
