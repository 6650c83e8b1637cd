"""Reading API requests: query parameters and bodies, refused as the real API refuses them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request

from sophia_mcp.sample.airbyte_sim.problems import bad_request, unprocessable


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def json_object(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        raise bad_request("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    return body


async def form_or_json(request: Request) -> dict[str, Any]:
    """The token endpoint accepts both encodings (api.yaml lists JSON and form bodies)."""
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return dict(await request.form())
    return await json_object(request)


def required_field(body: dict[str, Any], field: str, kind: type) -> Any:
    value = body.get(field)
    if not isinstance(value, kind) or value in ("", {}):
        raise unprocessable(f"The body of the request needs `{field}` ({kind.__name__}).")
    return value


def optional_field(body: dict[str, Any], field: str, kind: type, default: Any) -> Any:
    value = body.get(field, default)
    if not isinstance(value, kind):
        raise unprocessable(f"`{field}` must be a {kind.__name__}.")
    return value


def id_list(request: Request, name: str) -> list[str]:
    """An array parameter, sent repeated (`a=1&a=2`) or comma-separated (`a=1,2`)."""
    return [item.strip() for raw in request.query_params.getlist(name) for item in raw.split(",") if item.strip()]


def boolean(request: Request, name: str) -> bool:
    raw = request.query_params.get(name, "false").lower()
    if raw not in ("true", "false"):
        raise bad_request(f"{name} must be true or false, got {raw!r}")
    return raw == "true"


def choice(request: Request, name: str, allowed: tuple[str, ...]) -> str | None:
    value = request.query_params.get(name)
    if value is not None and value not in allowed:
        raise bad_request(f"{name} must be one of {list(allowed)}, got {value!r}")
    return value


def moment(request: Request, name: str) -> datetime | None:
    """A date-time parameter: ISO 8601, or epoch milliseconds as in the spec's examples."""
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        if raw.isdigit():
            return datetime.fromtimestamp(int(raw) / 1000, UTC)
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(f"{name} must be an ISO 8601 date-time, got {raw!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
