"""One typed error per way the Airbyte API can fail, each with a message that says what to do.

Airbyte answers errors as problem JSON (`title`, `detail`), as `{"message": ...}`, or, behind a
proxy, as an HTML page. All three become the same typed errors here.
"""

from __future__ import annotations

import json

import httpx

from sophia_mcp.retry import retry_after_seconds
from sophia_mcp.errors import SophiaError


class AirbyteError(SophiaError):
    """Base of every Airbyte failure. `str()` is safe to show to a user or a model."""

    status: int | None = None
    # Seconds the server asked to wait (Retry-After), when it did.
    retry_after: float | None = None

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status
        self.retry_after = retry_after


class AirbyteAuthError(AirbyteError):
    """The credentials were refused (401)."""


class AirbyteForbiddenError(AirbyteError):
    """The credentials are valid but lack access to this resource (403)."""


class AirbyteNotFoundError(AirbyteError):
    """The id does not exist, or not in a workspace these credentials see (404)."""


class AirbyteConflictError(AirbyteError):
    """The request conflicts with the current state, e.g. a sync is already running (409)."""


class AirbyteInvalidRequestError(AirbyteError):
    """Airbyte rejected the request's content (400/422)."""


class AirbyteRateLimitedError(AirbyteError):
    """Too many requests (429), still after the retries within the deadline."""


class AirbyteUnavailableError(AirbyteError):
    """Airbyte or a proxy in front of it failed (5xx, HTML page, timeout, connection refused)."""


class AirbyteTooSlowError(AirbyteUnavailableError):
    """A call, retries and token request included, did not finish within SOPHIA_AIRBYTE_DEADLINE."""


class AirbyteResponseError(AirbyteError):
    """Airbyte answered 2xx with a body that is not what the API documents."""


def describe_body(response: httpx.Response) -> str:
    """The human part of an error body, whatever shape it came in. Never echoes headers."""
    content_type = response.headers.get("content-type", "")
    if "html" in content_type or response.text.lstrip().lower().startswith(("<!doctype", "<html")):
        return "an HTML error page (usually a proxy or load balancer in front of Airbyte)"
    try:
        body = json.loads(response.text)
    except ValueError:
        text = response.text.strip()
        return text[:200] if text else "an empty body"
    if isinstance(body, dict):
        for key in ("detail", "message", "title", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value[:300]
    return "an unrecognised error body"


def error_from_response(response: httpx.Response, what: str) -> AirbyteError:
    """Map a failed response to a typed error. `what` names the request, e.g. 'GET /jobs/12'."""
    status = response.status_code
    detail = describe_body(response)
    if status == 401:
        return AirbyteAuthError(
            f"Airbyte refused the credentials for {what} ({detail}). Check AIRBYTE_CLIENT_ID and "
            "AIRBYTE_CLIENT_SECRET (or AIRBYTE_ACCESS_TOKEN) and that AIRBYTE_API_URL points at the "
            "right Airbyte.",
            status=status,
        )
    if status == 403:
        return AirbyteForbiddenError(
            f"No access for {what} ({detail}). The credentials work but their user lacks permission "
            "for this workspace or feature; check AIRBYTE_WORKSPACE_ID or the user's role.",
            status=status,
        )
    if status == 404:
        return AirbyteNotFoundError(
            f"Not found: {what} ({detail}). Check the id; list the resources to find valid ids.",
            status=status,
        )
    if status == 409:
        return AirbyteConflictError(f"Conflict on {what}: {detail}", status=status)
    if status in (400, 422):
        return AirbyteInvalidRequestError(f"Airbyte rejected {what}: {detail}", status=status)
    if status == 429:
        return AirbyteRateLimitedError(
            f"Airbyte is rate limiting requests ({what}); retried until the deadline. Wait a minute "
            "and try again.",
            status=status,
            retry_after=retry_after_seconds(response),
        )
    if status >= 500:
        return AirbyteUnavailableError(
            f"Airbyte is unavailable: {what} answered HTTP {status} with {detail}. Retried until the "
            "deadline; check the Airbyte status or try again shortly.",
            status=status,
            retry_after=retry_after_seconds(response),
        )
    return AirbyteError(f"Unexpected HTTP {status} for {what}: {detail}", status=status)
