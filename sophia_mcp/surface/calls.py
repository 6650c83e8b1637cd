"""Every tool call leaves one log line and its metrics: tool, duration, outcome, request id; never its
arguments (they can hold anything a caller typed). The line is at INFO (`SOPHIA_LOG_LEVEL=INFO`),
as text or JSON (`SOPHIA_LOG_FORMAT=json`); the metrics are in `GET /metrics`."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

import anyio
from mcp.server.mcpserver import Context

from sophia_mcp.observability import metrics

logger = logging.getLogger("sophia_mcp.calls")

P = ParamSpec("P")
R = TypeVar("R")


def _request_id(kwargs: dict[str, Any]) -> str | None:
    for value in kwargs.values():
        if isinstance(value, Context):
            try:
                return value.request_id
            except Exception:  # outside a request: nothing to name
                return None
    return None


def observed(tool: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    name = tool.__name__

    @functools.wraps(tool)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        started = time.perf_counter()
        outcome = "error"
        try:
            result = await tool(*args, **kwargs)
            outcome = "error" if getattr(result, "is_error", False) else "ok"
            return result
        except anyio.get_cancelled_exc_class():
            outcome = "cancelled"
            raise
        finally:
            seconds = time.perf_counter() - started
            metrics.tool_call(name, outcome, seconds)
            if logger.isEnabledFor(logging.INFO):
                request_id = _request_id(kwargs)
                logger.info(
                    "tool %s %s in %.1f ms (request %s)", name, outcome, seconds * 1000, request_id,
                    extra={"fields": {"tool": name, "outcome": outcome, "duration_ms": round(seconds * 1000, 2),
                                      "request_id": request_id}},
                )

    return wrapper
