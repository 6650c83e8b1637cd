"""When and how long to wait before retrying an Airbyte request."""

from __future__ import annotations

import random
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import httpx

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
# A 502/503/504 may come after the server acted on the request: only requests that are safe to
# repeat are retried on them. A 429 means the request was refused, so any request may retry.
ALWAYS_RETRYABLE_STATUSES = frozenset({429})


def retry_after_seconds(response: httpx.Response, now: datetime | None = None) -> float | None:
    """The wait `Retry-After` asks for, given as seconds or as an HTTP date; None if absent or bad."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def backoff_seconds(attempt: int, base: float = 0.5, cap: float = 10.0) -> float:
    """Exponential backoff with full jitter, so a burst of clients does not retry in lockstep."""
    return random.uniform(0, min(cap, base * (2**attempt)))


def should_retry(response: httpx.Response, idempotent: bool) -> bool:
    if response.status_code in ALWAYS_RETRYABLE_STATUSES:
        return True
    return idempotent and response.status_code in RETRYABLE_STATUSES
