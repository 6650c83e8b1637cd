"""Turn domain results and failures into what a model reads: compact JSON, cursors, clear errors."""

from __future__ import annotations

import functools
import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, ParamSpec, TypeVar

from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, ValidationError

from sophia_mcp.errors import InvalidArgumentError, SophiaError

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

# The hard cap on one result; lists and texts page well below it.
MAX_RESULT_CHARS = 60_000


def compact(model: BaseModel) -> CallToolResult:
    """The result as compact JSON without nulls, both as text and as structured content."""
    data = model.model_dump(mode="json", exclude_none=True)
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    if len(text) > MAX_RESULT_CHARS:
        raise ToolError(
            f"The result is {len(text)} characters, over the {MAX_RESULT_CHARS} cap; ask for fewer items "
            "(a smaller `limit`) or narrower filters."
        )
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)


def offset_from_cursor(cursor: str | None) -> int:
    if cursor is None or cursor == "":
        return 0
    # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
    if not (cursor.isascii() and cursor.isdigit()) or len(cursor) > 9:
        raise ToolError("`cursor` must be the `next_cursor` value of a previous page, or omitted for the first page.")
    return int(cursor)


def cursor_from_offset(offset: int | None) -> str | None:
    return None if offset is None else str(offset)


def tool_errors(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Show anticipated failures to the model as a `ToolError` with their actionable message."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except ToolError:
            raise
        except InvalidArgumentError as exc:
            raise ToolError(f"Invalid argument: {exc}") from exc
        except SophiaError as exc:
            logger.info("%s: %s", fn.__name__, exc)
            raise ToolError(str(exc)) from exc
        except ValidationError as exc:
            # The arguments were validated before the call: this is a backend's data that does not fit
            # a model. Say which backend; never echo the values (they are the backend's data).
            backend = _backend_of(exc, fn.__name__)
            fields = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or '(root)'}: {e['type']}" for e in exc.errors(include_input=False)[:5]
            )
            logger.warning("%s: %s answered data that does not fit %s (%s)", fn.__name__, backend, exc.title, fields)
            raise ToolError(
                f"Upstream error: {backend} answered data this server cannot read (it does not fit {exc.title}). "
                "Nothing was changed; the server logged which fields. Check that the data comes from a "
                "supported version, or report it."
            ) from None
        except ValueError as exc:
            # Raised by our own checks without the InvalidArgumentError type: its message is ours, shown
            # as it is, without a label it may not deserve.
            logger.info("%s: %s", fn.__name__, exc)
            raise ToolError(str(exc)) from exc
        except Exception as exc:
            # A bug, not bad input: the traceback goes to the server's log, the model gets a plain answer.
            logger.exception("%s failed unexpectedly", fn.__name__)
            raise ToolError(
                f"Internal error in {fn.__name__} ({type(exc).__name__}); the server logged the details. "
                "Retrying may help; if it persists, report it."
            ) from exc

    return wrapper


# Where a failure was raised says which backend's data it was reading.
_BACKENDS = (
    ("sophia_mcp.airbyte", "Airbyte"),
    ("sophia_mcp.pipeline", "Airbyte"),
    ("sophia_mcp.gong", "Postgres (the Gong tables)"),
    ("sophia_mcp.postgres", "Postgres (the Gong tables)"),
    ("sophia_mcp.search", "the search backend (Qdrant or the embedding endpoint)"),
)


def _backend_of(exc: BaseException, tool: str) -> str:
    """The backend whose data raised `exc`: from the deepest domain frame of its traceback, else
    from the tool's name."""
    found = None
    traceback = exc.__traceback__
    while traceback is not None:
        module = traceback.tb_frame.f_globals.get("__name__", "")
        found = next((name for prefix, name in _BACKENDS if module.startswith(prefix)), found)
        traceback = traceback.tb_next
    if found:
        return found
    if tool.startswith("airbyte_"):
        return "Airbyte"
    return "the search backend (Qdrant or the embedding endpoint)" if "semantic" in tool else "Postgres (the Gong tables)"


def add_tools(server: Any, tools: Iterable[Callable[..., Any]], annotations: ToolAnnotations) -> None:
    """Register tools with their docstring, unwrapped to one paragraph, as the description."""
    for tool in tools:
        description = " ".join(inspect.cleandoc(tool.__doc__ or "").split())
        server.add_tool(tool, description=description, annotations=annotations)
