"""Airbyte's Configuration API, read for one thing the public API lacks: why a job failed.

`POST {root}/jobs/get` with `{"id": JOB_ID}` answers `JobInfoRead` (config.yaml): the job's attempts,
each with a `failureSummary`. The root is AIRBYTE_CONFIG_API_URL, or derived from AIRBYTE_API_URL
(Cloud: https://cloud.airbyte.com/api/v1; self-managed `…/api/public/v1` → `…/api/v1`). It takes
the public API's bearer token. Airbyte calls this API internal: when it refuses (401/403/404), cannot
be reached or answers nonsense, `FailureDetailsUnavailable` says why in one line, and callers answer
without the details. A refusal is remembered for a while, so a closed API costs one request, not one
per call.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import anyio
import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sophia_mcp.airbyte.errors import AirbyteError
from sophia_mcp.settings import AIRBYTE_CLOUD_URL, AirbyteSettings

logger = logging.getLogger(__name__)

AIRBYTE_CLOUD_CONFIG_URL = "https://cloud.airbyte.com/api/v1"
SELF_MANAGED_PUBLIC_SUFFIX = "/api/public/v1"
# The details are a bonus: never wait long for them.
CONFIG_API_TIMEOUT_SECONDS = 10.0
REFUSAL_MEMORY_SECONDS = 300.0
MESSAGE_CHARS = 300


class FailureDetailsUnavailable(AirbyteError):
    """The Configuration API could not give failure details; `str()` says why and what to set."""


def derived_config_api_url(api_url: str) -> str | None:
    """The Configuration API root that goes with a public API URL, when it can be told."""
    api_url = api_url.rstrip("/")
    if api_url == AIRBYTE_CLOUD_URL:
        return AIRBYTE_CLOUD_CONFIG_URL
    if api_url.endswith(SELF_MANAGED_PUBLIC_SUFFIX):
        return api_url.removesuffix(SELF_MANAGED_PUBLIC_SUFFIX) + "/api/v1"
    return None


class _ConfigModel(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class StreamDescriptor(_ConfigModel):
    name: str
    namespace: str | None = None


class FailureReason(_ConfigModel):
    origin: str | None = Field(None, alias="failureOrigin")
    failure_type: str | None = Field(None, alias="failureType")
    external_message: str | None = Field(None, alias="externalMessage")
    retryable: bool | None = None
    timestamp: int | None = None
    stream_descriptor: StreamDescriptor | None = Field(None, alias="streamDescriptor")

    @property
    def stream(self) -> str | None:
        return self.stream_descriptor.name if self.stream_descriptor else None

    @property
    def message(self) -> str:
        text = " ".join((self.external_message or "no message").split())
        return text if len(text) <= MESSAGE_CHARS else text[: MESSAGE_CHARS - 1] + "…"


class FailureSummary(_ConfigModel):
    failures: list[FailureReason] = []


class Attempt(_ConfigModel):
    number: int = Field(alias="id")
    status: str
    records_synced: int | None = Field(None, alias="recordsSynced")
    failure_summary: FailureSummary | None = Field(None, alias="failureSummary")

    @property
    def failures(self) -> list[FailureReason]:
        return self.failure_summary.failures if self.failure_summary else []


class _AttemptInfo(_ConfigModel):
    attempt: Attempt


class _JobRead(_ConfigModel):
    job_id: int = Field(alias="id")
    status: str
    config_id: str | None = Field(None, alias="configId")


class JobInfo(_ConfigModel):
    job: _JobRead
    attempt_infos: list[_AttemptInfo] = Field(alias="attempts")

    @property
    def attempts(self) -> list[Attempt]:
        return [info.attempt for info in self.attempt_infos]


class ConfigApiClient:
    """One `httpx.AsyncClient` on the Configuration API, sharing the public client's token (`auth`)."""

    def __init__(
        self,
        settings: AirbyteSettings,
        auth: httpx.Auth | None,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        refusal_memory: float = REFUSAL_MEMORY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.root = (settings.config_api_url or "").rstrip("/") or derived_config_api_url(settings.api_url)
        self._auth = auth
        self._refusal_memory = refusal_memory
        self._clock = clock
        self._refused: tuple[float, str] | None = None
        self._deadline = settings.deadline
        self._http = httpx.AsyncClient(
            auth=auth,
            transport=transport,
            timeout=httpx.Timeout(min(settings.request_timeout, CONFIG_API_TIMEOUT_SECONDS)),
            headers={"Accept": "application/json", "User-Agent": "sophia-mcp"},
        )

    def __repr__(self) -> str:
        return f"ConfigApiClient(root={self.root!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def job_info(self, job_id: int) -> JobInfo:
        """The job with its attempts and failure summaries, or `FailureDetailsUnavailable`."""
        body = await self._post("jobs/get", {"id": int(job_id)})
        try:
            return JobInfo.model_validate(body)
        except ValidationError as exc:
            raise FailureDetailsUnavailable(
                f"Failure details are unavailable: the Configuration API at {self.root} answered jobs/get in an "
                f"unexpected shape ({exc.errors()[0]['msg']})."
            ) from exc

    async def unavailable_because(self) -> str | None:
        """None when failure details can be read, else why not. Asks for job 0, which no Airbyte has: an open
        API answers that it does not know it."""
        try:
            await self.job_info(0)
        except FailureDetailsUnavailable as exc:
            return None if "does not know job" in str(exc) else str(exc)
        return None

    async def _post(self, operation: str, payload: dict[str, Any]) -> Any:
        if self._auth is None:
            raise FailureDetailsUnavailable("Failure details are unavailable: Airbyte credentials are not configured.")
        if self.root is None:
            raise FailureDetailsUnavailable(
                "Failure details are unavailable: set AIRBYTE_CONFIG_API_URL to Airbyte's Configuration API (it cannot "
                "be derived from this AIRBYTE_API_URL; self-managed: http://HOST:PORT/api/v1)."
            )
        if self._refused is not None:
            until, reason = self._refused
            if self._clock() < until:
                raise FailureDetailsUnavailable(reason)
            self._refused = None
        url = f"{self.root}/{operation}"
        try:
            # The timeout bounds each read; the whole answer (token request included) gets the deadline.
            with anyio.fail_after(self._deadline):
                response = await self._http.post(url, json=payload)
        except TimeoutError as exc:
            raise self._refusal(
                f"the Configuration API at {self.root} was too slow: no complete answer within the "
                f"{self._deadline:g}s SOPHIA_AIRBYTE_DEADLINE"
            ) from exc
        except httpx.TransportError as exc:
            kind = "did not answer in time" if isinstance(exc, httpx.TimeoutException) else "could not be reached"
            raise self._refusal(f"the Configuration API at {self.root} {kind}; check AIRBYTE_CONFIG_API_URL") from exc
        except AirbyteError as exc:  # raised while fetching the token
            raise FailureDetailsUnavailable(f"Failure details are unavailable: {exc}") from exc
        logger.debug("POST %s -> %s", url, response.status_code)
        if response.status_code in (401, 403):
            raise self._refusal(
                f"the Configuration API at {self.root} refused the token (HTTP {response.status_code}); Airbyte calls "
                "it internal and may not open it to these credentials"
            )
        if response.status_code == 404 and _names_the_job(response):
            raise FailureDetailsUnavailable(
                f"Failure details are unavailable: the Configuration API does not know job {payload.get('id')}."
            )
        if response.status_code == 404:
            raise self._refusal(
                f"the Configuration API was not found at {self.root} (HTTP 404); check AIRBYTE_CONFIG_API_URL"
            )
        if not response.is_success:
            raise FailureDetailsUnavailable(
                f"Failure details are unavailable: the Configuration API at {self.root} answered HTTP "
                f"{response.status_code}; try again shortly."
            )
        try:
            return response.json()
        except ValueError as exc:
            raise FailureDetailsUnavailable(
                f"Failure details are unavailable: the Configuration API at {self.root} answered a body that is not "
                "JSON; a proxy may be in the way of AIRBYTE_CONFIG_API_URL."
            ) from exc

    def _refusal(self, why: str) -> FailureDetailsUnavailable:
        reason = f"Failure details are unavailable: {why}."
        self._refused = (self._clock() + self._refusal_memory, reason)
        logger.info("%s", reason)
        return FailureDetailsUnavailable(reason)


def _names_the_job(response: httpx.Response) -> bool:
    """A 404 from jobs/get itself (NotFoundKnownExceptionInfo, with the id) rather than from a missing route."""
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and "id" in body
