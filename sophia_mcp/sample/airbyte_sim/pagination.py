"""Offset pagination exactly as the public API does it: `{data, next, previous}`.

Like the real API, `next` is set whenever the page has rows, even a last, short one; clients must
stop on a short page. `next_host` puts another host into the links, as self-managed installs
behind a proxy do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request

from sophia_mcp.sample.airbyte_sim.problems import bad_request

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def _page_bounds(request: Request) -> tuple[int, int]:
    """`limit` and `offset` from the query string, refused like the real API when out of range."""
    limit = _int_param(request, "limit", DEFAULT_LIMIT)
    offset = _int_param(request, "offset", 0)
    if not 1 <= limit <= MAX_LIMIT:
        raise bad_request(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    if offset < 0:
        raise bad_request(f"offset must be 0 or more, got {offset}")
    return limit, offset


def paginated(request: Request, rows: Sequence[dict[str, Any]], next_host: str | None) -> dict[str, Any]:
    limit, offset = _page_bounds(request)
    page = list(rows[offset : offset + limit])
    body: dict[str, Any] = {"data": page}
    if page:
        body["next"] = _link(request, limit, offset + limit, next_host)
    if offset > 0:
        body["previous"] = _link(request, limit, max(0, offset - limit), next_host)
    return body


def _link(request: Request, limit: int, offset: int, next_host: str | None) -> str:
    params = [(key, value) for key, value in request.query_params.multi_items() if key not in ("limit", "offset")]
    params += [("limit", str(limit)), ("offset", str(offset))]
    url = request.url.replace(query=urlencode(params))
    if next_host is not None:
        url = url.replace(netloc=next_host)
    return str(url)


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise bad_request(f"{name} must be an integer, got {raw!r}") from None
