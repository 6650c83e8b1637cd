"""The Airbyte public API client: one `httpx.AsyncClient`, retries within a deadline, typed models.

It knows nothing about MCP. Every failure leaves it as an `AirbyteError` subclass.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
import httpx
from pydantic import BaseModel, ValidationError

from sophia_mcp.observability import metrics
from sophia_mcp.airbyte.auth import ClientCredentialsAuth, StaticTokenAuth
from sophia_mcp.airbyte.errors import (
    AirbyteConflictError,
    AirbyteError,
    AirbyteRateLimitedError,
    AirbyteResponseError,
    AirbyteTooSlowError,
    AirbyteUnavailableError,
    error_from_response,
)
from sophia_mcp.airbyte.models import (
    FINAL_JOB_STATUSES,
    Connection,
    Destination,
    Job,
    Page,
    Source,
    StreamProperties,
    Workspace,
)
from sophia_mcp.errors import InvalidArgumentError
from sophia_mcp.retry import backoff_seconds, should_retry
from sophia_mcp.settings import AirbyteSettings

logger = logging.getLogger(__name__)

API_PAGE_LIMIT = 100
M = TypeVar("M", bound=BaseModel)
# The field that identifies an item of each listed kind, in the order they are looked for.
_KEY_FIELDS = ("connection_id", "destination_id", "source_id", "workspace_id", "job_id")


class Listing(list[M]):
    """Every item a listing read. `truncated` says why it stopped before the end, when it did."""

    truncated: str | None = None


def truncation_note(**listings: list[Any]) -> str | None:
    """One line saying which listings were cut short and why, or None when none was."""
    cut = [f"{name} ({listing.truncated})" for name, listing in listings.items() if getattr(listing, "truncated", None)]
    if not cut:
        return None
    return f"Airbyte's lists were cut short: {'; '.join(cut)}. What follows covers only the items read."


def _key(item: BaseModel) -> object:
    return next((getattr(item, name) for name in _KEY_FIELDS if hasattr(item, name)), item.model_dump_json())


class AirbyteClient:
    def __init__(
        self,
        settings: AirbyteSettings,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        self.settings = settings
        self.base_url = settings.api_url
        self._sleep = sleep
        self.auth: ClientCredentialsAuth | StaticTokenAuth | None = None
        if settings.access_token is not None:
            self.auth = StaticTokenAuth(settings.access_token)
        elif settings.client_id and settings.client_secret is not None:
            self.auth = ClientCredentialsAuth(
                f"{self.base_url}/applications/token", settings.client_id, settings.client_secret
            )
        self._http = httpx.AsyncClient(
            base_url=self.base_url + "/",
            auth=self.auth,
            transport=transport,
            timeout=httpx.Timeout(settings.request_timeout),
            headers={"Accept": "application/json", "User-Agent": "sophia-mcp"},
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
            event_hooks={"response": [_count_response]},
        )

    def __repr__(self) -> str:
        return f"AirbyteClient(base_url={self.base_url!r})"

    async def __aenter__(self) -> AirbyteClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # ---- transport -------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        idempotent: bool = True,
        deadline: float | None = None,
    ) -> Any:
        """Send one API request, retrying what is safe to retry, within the configured deadline (or the
        earlier `deadline`, a `time.monotonic()` value, when the request is part of a longer task)."""
        if self.auth is None:
            raise AirbyteError(
                "Airbyte credentials are not configured: set AIRBYTE_CLIENT_ID and AIRBYTE_CLIENT_SECRET "
                "(or AIRBYTE_ACCESS_TOKEN), and AIRBYTE_API_URL for a self-managed Airbyte."
            )
        what = f"{method} /{path.lstrip('/')}"
        deadline = min(time.monotonic() + self.settings.deadline, deadline or float("inf"))
        attempt = 0
        failure: AirbyteError | None = None
        while True:
            remaining = deadline - time.monotonic()
            try:
                # httpx's timeout bounds each read, not the whole answer: a server dripping a byte at a
                # time, or a slow token endpoint (the auth flow runs inside this call), would outlast
                # every deadline. The attempt as a whole gets what is left of the budget.
                with anyio.fail_after(max(0.0, remaining)):
                    response = await self._http.request(
                        method,
                        path.lstrip("/"),
                        params=_clean(params),
                        json=json,
                        timeout=max(0.1, min(self.settings.request_timeout, remaining)),
                    )
            except TimeoutError as exc:
                metrics.airbyte_response("timeout")
                # A retry cut short: the failure that made it retry says more (e.g. "unavailable: 503").
                raise (failure or self._too_slow(what)) from exc
            except httpx.InvalidURL as exc:
                # An argument no URL can carry (the ids are checked first; this is the last guard).
                raise InvalidArgumentError(f"an argument cannot be sent to Airbyte in a URL ({exc})") from exc
            except (AirbyteRateLimitedError, AirbyteUnavailableError) as exc:
                # Raised while fetching a token: the request itself was never sent.
                failure = exc
                wait = exc.retry_after if exc.retry_after is not None else backoff_seconds(attempt)
            except httpx.TransportError as exc:
                metrics.airbyte_response("network")
                sent = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                failure = _transport_error(exc, what)
                if sent and not idempotent:
                    raise failure from exc
                wait = backoff_seconds(attempt)
            else:
                logger.debug("%s -> %s", what, response.status_code)
                if response.is_success:
                    return _json_body(response, what)
                if not should_retry(response, idempotent):
                    raise error_from_response(response, what)
                failure = error_from_response(response, what)
                wait = failure.retry_after if failure.retry_after is not None else backoff_seconds(attempt)
            attempt += 1
            if attempt > self.settings.max_retries or time.monotonic() + wait >= deadline:
                raise failure
            logger.info("%s failed (%s); retry %d in %.1fs", what, type(failure).__name__, attempt, wait)
            metrics.airbyte_retry()
            await self._sleep(wait)

    def _too_slow(self, what: str) -> AirbyteTooSlowError:
        return AirbyteTooSlowError(
            f"Airbyte was too slow: {what} did not answer in time (the whole answer, retries included, must "
            f"arrive within the {self.settings.deadline:g}s SOPHIA_AIRBYTE_DEADLINE). Try again shortly; raise "
            "SOPHIA_AIRBYTE_DEADLINE if this Airbyte is always this slow."
        )

    async def health(self) -> bool:
        """`GET /health`: needs no auth, answers plain text."""
        limit = min(10.0, self.settings.request_timeout, self.settings.deadline)
        try:
            with anyio.fail_after(limit):
                response = await self._http.get("health", auth=None, timeout=limit)
        except TimeoutError as exc:
            raise self._too_slow("GET /health") from exc
        except httpx.TransportError as exc:
            raise _transport_error(exc, "GET /health") from exc
        return response.is_success

    async def _page(
        self, path: str, model: type[M], params: dict[str, Any], limit: int, offset: int, *, deadline: float | None = None
    ) -> Page[M]:
        if not 1 <= limit <= API_PAGE_LIMIT:
            raise InvalidArgumentError(f"limit must be between 1 and {API_PAGE_LIMIT}")
        body = await self.request("GET", path, params={**params, "limit": limit, "offset": offset}, deadline=deadline)
        items = [_parse(model, row, path) for row in _data(body, path)]
        # `next` is present even on the last page and may name the wrong host: trust only the count.
        return Page(items=items, next_offset=offset + limit if len(items) == limit else None)

    async def _all(self, path: str, model: type[M], params: dict[str, Any]) -> Listing[M]:
        """Every item of a list endpoint, page by page, within bounds a hostile or broken server cannot
        stretch: at most SOPHIA_AIRBYTE_MAX_PAGES pages, one SOPHIA_AIRBYTE_DEADLINE for the whole
        listing, and a stop when a page brings only ids already seen (an endpoint ignoring `offset`).
        Stopping early marks the result `truncated`, with the reason."""
        items: Listing[M] = Listing()
        seen: set[object] = set()
        deadline = time.monotonic() + self.settings.deadline
        offset = 0
        pages = 0
        while True:
            if pages >= self.settings.max_pages:
                items.truncated = f"stopped after {pages} pages (SOPHIA_AIRBYTE_MAX_PAGES)"
                break
            try:
                page = await self._page(path, model, params, API_PAGE_LIMIT, offset, deadline=deadline)
            except AirbyteTooSlowError:
                if not pages:
                    raise
                items.truncated = f"stopped at the {self.settings.deadline:g}s deadline after {pages} pages"
                break
            pages += 1
            new = [item for item in page.items if _key(item) not in seen]
            if page.items and not new:
                items.truncated = f"Airbyte sent page {pages} again (it may ignore `offset`)"
                break
            seen.update(_key(item) for item in new)
            items.extend(new)
            if page.next_offset is None:
                break
            offset = page.next_offset
        if items.truncated:
            logger.warning("GET /%s listing cut short: %s", path, items.truncated)
        return items

    # ---- resources -------------------------------------------------------------------------

    async def list_workspaces(self, limit: int = 20, offset: int = 0) -> Page[Workspace]:
        return await self._page("workspaces", Workspace, {}, limit, offset)

    async def all_workspaces(self) -> list[Workspace]:
        return await self._all("workspaces", Workspace, {})

    async def get_workspace(self, workspace_id: str) -> Workspace:
        return _parse(Workspace, await self.request("GET", f"workspaces/{_id(workspace_id, 'workspace')}"), "workspace")

    async def list_sources(self, workspace_ids: list[str] | None = None, limit: int = 20, offset: int = 0) -> Page[Source]:
        return await self._page("sources", Source, {"workspaceIds": _csv(workspace_ids)}, limit, offset)

    async def all_sources(self, workspace_ids: list[str] | None = None) -> list[Source]:
        return await self._all("sources", Source, {"workspaceIds": _csv(workspace_ids)})

    async def list_destinations(
        self, workspace_ids: list[str] | None = None, limit: int = 20, offset: int = 0
    ) -> Page[Destination]:
        return await self._page("destinations", Destination, {"workspaceIds": _csv(workspace_ids)}, limit, offset)

    async def all_destinations(self, workspace_ids: list[str] | None = None) -> list[Destination]:
        return await self._all("destinations", Destination, {"workspaceIds": _csv(workspace_ids)})

    async def list_connections(
        self, workspace_ids: list[str] | None = None, limit: int = 20, offset: int = 0
    ) -> Page[Connection]:
        return await self._page("connections", Connection, {"workspaceIds": _csv(workspace_ids)}, limit, offset)

    async def all_connections(self, workspace_ids: list[str] | None = None) -> list[Connection]:
        return await self._all("connections", Connection, {"workspaceIds": _csv(workspace_ids)})

    async def get_connection(self, connection_id: str) -> Connection:
        return _parse(Connection, await self.request("GET", f"connections/{_id(connection_id, 'connection')}"), "connection")

    async def get_stream_properties(self, source_id: str, destination_id: str | None = None) -> list[StreamProperties]:
        params = {"sourceId": _id(source_id, "source"), "destinationId": _id(destination_id, "destination") if destination_id else None}
        body = await self.request("GET", "streams", params=params)
        if not isinstance(body, list):
            raise AirbyteResponseError("GET /streams did not answer a list of stream properties")
        return [_parse(StreamProperties, row, "streams") for row in body]

    async def list_jobs(
        self,
        *,
        connection_id: str | None = None,
        workspace_ids: list[str] | None = None,
        status: str | None = None,
        job_type: str | None = None,
        limit: int = 20,
        offset: int = 0,
        newest_first: bool = True,
    ) -> Page[Job]:
        params = {
            "connectionId": _id(connection_id, "connection") if connection_id else None,
            "workspaceIds": _csv(workspace_ids),
            "status": status,
            "jobType": job_type,
            # Airbyte lists jobs oldest first unless asked otherwise.
            "orderBy": "createdAt|DESC" if newest_first else "createdAt|ASC",
        }
        return await self._page("jobs", Job, params, limit, offset)

    async def get_job(self, job_id: int) -> Job:
        return _parse(Job, await self.request("GET", f"jobs/{_job_id(job_id)}"), "job")

    async def cancel_job(self, job_id: int) -> Job:
        return _parse(Job, await self.request("DELETE", f"jobs/{_job_id(job_id)}"), "job")

    async def active_job(self, connection_id: str) -> Job | None:
        """The newest job of the connection that has not finished, if any."""
        page = await self.list_jobs(connection_id=connection_id, limit=5)
        return next((job for job in page.items if job.status not in FINAL_JOB_STATUSES), None)

    async def start_job(self, connection_id: str, job_type: str = "sync") -> tuple[Job, bool]:
        """Start a job unless one is already running. Returns the job and whether it is new.

        The POST is never repeated blindly: when its outcome is unknown (timeout, 5xx) or Airbyte
        says a job is already running, the running job is looked up and returned instead.
        """
        connection_id = _id(connection_id, "connection")
        running = await self.active_job(connection_id)
        if running is not None:
            return running, False
        payload = {"connectionId": connection_id, "jobType": job_type}
        for attempt in range(2):
            try:
                body = await self.request("POST", "jobs", json=payload, idempotent=False)
            except AirbyteConflictError:
                # Another caller started one between our look and our POST.
                running = await self.active_job(connection_id)
                if running is not None:
                    return running, False
                if attempt:
                    raise
                # That job ended before our second look. A 409 started nothing: safe to send again.
                continue
            except AirbyteUnavailableError:
                # The POST may have reached Airbyte before the failure: a job running now is ours.
                running = await self.active_job(connection_id)
                if running is None:
                    raise
                return running, True
            return _parse(Job, body, "job"), True
        raise AssertionError("unreachable")  # pragma: no cover

    # ---- writes used by the pipeline ----------------------------------------------------------

    async def create_destination(self, payload: dict[str, Any]) -> Destination:
        body = await self.request("POST", "destinations", json=payload, idempotent=False)
        return _parse(Destination, body, "destination")

    async def create_connection(self, payload: dict[str, Any]) -> Connection:
        body = await self.request("POST", "connections", json=payload, idempotent=False)
        return _parse(Connection, body, "connection")

    async def update_connection(self, connection_id: str, payload: dict[str, Any]) -> Connection:
        body = await self.request("PATCH", f"connections/{_id(connection_id, 'connection')}", json=payload)
        return _parse(Connection, body, "connection")

    # ---- operating the pipeline: diagnosis, alerts ----------------------------------------------

    async def get_source(self, source_id: str) -> Source:
        return _parse(Source, await self.request("GET", f"sources/{_id(source_id)}"), "source")

    async def update_workspace(self, workspace_id: str, payload: dict[str, Any]) -> Workspace:
        body = await self.request("PATCH", f"workspaces/{_id(workspace_id)}", json=payload)
        return _parse(Workspace, body, "workspace")


def _clean(params: dict[str, Any] | None) -> dict[str, Any] | None:
    if params is None:
        return None
    return {key: value for key, value in params.items() if value is not None}


def _csv(values: list[str] | None) -> str | None:
    return ",".join(_id(value, "workspace") for value in values) if values else None


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
MAX_JOB_ID = 2**63 - 1  # the API's job ids are int64


def _id(value: str, kind: str = "") -> str:
    """A workspace, source, destination or connection id: the public API uses UUIDs for all of them.
    Anything else (`.`, `..`, a path, a control character) is refused before a request is made."""
    text = value.strip() if isinstance(value, str) else ""
    if not _UUID.fullmatch(text):
        shown = repr(value[:40]) if isinstance(value, str) else type(value).__name__
        raise InvalidArgumentError(
            f"not a valid Airbyte id{' for a ' + kind if kind else ''}: {shown}; Airbyte ids are UUIDs such as "
            "'9f2c1a3e-5b7d-4c8e-a1f0-2b3c4d5e6f70' (list the resources to find them)"
        )
    return text.lower()


def _job_id(value: int) -> int:
    """A job id: a positive 64-bit integer, never a bool or a string."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_JOB_ID:
        raise InvalidArgumentError(f"not a valid job id: {str(value)[:40]!r}; job ids are positive whole numbers")
    return value


def _json_body(response: httpx.Response, what: str) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        raise AirbyteResponseError(
            f"Airbyte answered {what} with a body that is not JSON; a proxy may be in the way of AIRBYTE_API_URL."
        ) from exc


def _data(body: Any, path: str) -> list[Any]:
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise AirbyteResponseError(f"GET /{path} did not answer a list with `data`")
    return body["data"]


def _parse(model: type[M], row: Any, what: str) -> M:
    try:
        return model.model_validate(row)
    except ValidationError as exc:
        raise AirbyteResponseError(f"Airbyte answered a {what} in an unexpected shape: {exc.errors()[0]['msg']}") from exc


def _transport_error(exc: httpx.TransportError, what: str) -> AirbyteUnavailableError:
    if isinstance(exc, httpx.TimeoutException):
        reason = "did not answer in time"
    elif isinstance(exc, httpx.ConnectError):
        reason = "could not be reached"
    else:
        reason = "dropped the connection"
    return AirbyteUnavailableError(
        f"Airbyte {reason} ({what}). Check AIRBYTE_API_URL and the network, or try again shortly."
    )


async def _count_response(response: httpx.Response) -> None:
    """Every answer from Airbyte, token requests included, counted by status for GET /metrics."""
    metrics.airbyte_response(response.status_code)
