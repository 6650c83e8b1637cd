"""Fault switches: answers the simulator gives instead of (or before) the real one.

Faults wait in a queue; each request takes the first fault that applies to its path and uses it
up (a fault with `count=None` stays until `clear()`). An unscoped fault applies to every path but
`/health`; a fault with `path_prefix` applies only to paths under it (relative to the base path,
e.g. "/jobs"). Faults act before authentication, as a proxy or gateway in front of Airbyte would.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from http import HTTPStatus

from starlette.responses import HTMLResponse, JSONResponse, Response

from sophia_mcp.sample.airbyte_sim.problems import service_unavailable, unexpected

HEALTH_PATH = "/health"
# A body cut off mid-way, as from a dropped or truncated upstream response.
MALFORMED_JSON = '{"data": [{"connectionId": "'


@dataclass
class Fault:
    """One fault. `answer` is None for a pure delay: the request then proceeds normally."""

    answer: str | None = None  # "status", "html" or "malformed"
    status: int = 200
    retry_after: int | datetime | None = None
    delay_seconds: float = 0.0
    path_prefix: str | None = None
    remaining: int | None = 1

    def applies_to(self, path: str) -> bool:
        if self.path_prefix is None:
            return path != HEALTH_PATH
        return path.startswith(self.path_prefix)

    def response(self) -> Response | None:
        if self.answer == "status":
            return _status_response(self.status, self.retry_after)
        if self.answer == "html":
            return HTMLResponse(_html_page(self.status), status_code=self.status)
        if self.answer == "malformed":
            return Response(MALFORMED_JSON, status_code=self.status, media_type="application/json")
        return None


class FaultPlan:
    """The queue of faults. Thread-safe: tests add faults while a server thread takes them."""

    def __init__(self) -> None:
        self._queue: list[Fault] = []
        self._lock = threading.Lock()

    def queue_status(
        self,
        status: int,
        count: int | None = 1,
        *,
        retry_after: int | datetime | None = None,
        path_prefix: str | None = None,
    ) -> None:
        """Answer `status` (429, 500, 502, 503, 504 …). `retry_after`: seconds, an aware datetime
        (sent as an HTTP date), or None for no Retry-After header."""
        self._add(Fault("status", status, retry_after, path_prefix=path_prefix, remaining=count))

    def queue_rate_limit(self, count: int | None = 1, *, retry_after: int | datetime | None = None,
                         path_prefix: str | None = None) -> None:
        self.queue_status(429, count, retry_after=retry_after, path_prefix=path_prefix)

    def queue_html_error(self, status: int = 502, count: int | None = 1, *, path_prefix: str | None = None) -> None:
        """Answer an HTML error page, as a proxy or load balancer does."""
        self._add(Fault("html", status, path_prefix=path_prefix, remaining=count))

    def queue_malformed_json(self, count: int | None = 1, *, path_prefix: str | None = None) -> None:
        """Answer 200 with a content type of JSON and a body that is not valid JSON."""
        self._add(Fault("malformed", 200, path_prefix=path_prefix, remaining=count))

    def queue_delay(self, seconds: float, count: int | None = 1, *, path_prefix: str | None = None) -> None:
        """Wait `seconds` before answering normally."""
        self._add(Fault(delay_seconds=seconds, path_prefix=path_prefix, remaining=count))

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()

    def pending(self) -> int:
        """How many faults are still queued (a permanent fault counts once)."""
        with self._lock:
            return len(self._queue)

    def take(self, path: str) -> Fault | None:
        """The fault for a request to `path`, used up by this call; None when none applies."""
        with self._lock:
            for index, fault in enumerate(self._queue):
                if not fault.applies_to(path):
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        del self._queue[index]
                return fault
        return None

    def _add(self, fault: Fault) -> None:
        if fault.remaining is not None and fault.remaining < 1:
            raise ValueError("count must be at least 1, or None for a permanent fault")
        with self._lock:
            self._queue.append(fault)


def _status_response(status: int, retry_after: int | datetime | None) -> Response:
    headers = {}
    if isinstance(retry_after, datetime):
        headers["Retry-After"] = format_datetime(retry_after, usegmt=True)
    elif retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    # 500 and 503 come from Airbyte itself as problems; 429 and gateway errors come from the
    # gateway in front of it, which answers `{"message": …}`.
    if status == 500:
        return unexpected().response(headers)
    if status == 503:
        return service_unavailable().response(headers)
    return JSONResponse({"message": _reason(status)}, status_code=status, headers=headers)


def _html_page(status: int) -> str:
    reason = _reason(status)
    return (
        f"<!DOCTYPE html>\n<html><head><title>{status} {reason}</title></head>"
        f"<body><center><h1>{status} {reason}</h1></center><hr><center>nginx</center></body></html>\n"
    )


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
