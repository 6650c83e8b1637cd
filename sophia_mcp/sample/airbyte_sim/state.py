"""The simulator: in-memory Airbyte state, the switches tests flip, and the counters they assert on.

Every operation raises a `ProblemError` the way the real API would refuse it; the app only
parses requests and renders answers.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sophia_mcp.sample.airbyte_sim import problems
from sophia_mcp.sample.airbyte_sim.catalog import (
    DESTINATION_DEFINITION_IDS,
    SOURCE_DEFINITION_IDS,
    stream_properties,
    streams_of,
)
from sophia_mcp.sample.airbyte_sim.connections import configured_streams, schedule_of, simple_settings
from sophia_mcp.sample.airbyte_sim.failures import GONG_RATE_LIMITED, Failure
from sophia_mcp.sample.airbyte_sim.faults import FaultPlan
from sophia_mcp.sample.airbyte_sim.notifications import checked_notifications
from sophia_mcp.sample.airbyte_sim.jobs import Job
from sophia_mcp.sample.airbyte_sim.parsing import optional_field, required_field
from sophia_mcp.sample.airbyte_sim.records import SECRET_MASK, Connection, Destination, Source, Workspace

TOKEN_PATH = ("POST", "/applications/token")
DEFAULT_FAILURE = GONG_RATE_LIMITED
JOB_TYPES = ("sync", "reset", "refresh", "clear")
# Simulated volume of one sync, per selected stream.
ROWS_PER_STREAM = 1_200
BYTES_PER_ROW = 850


def utc_now() -> datetime:
    return datetime.now(UTC)


class Simulator:
    """An Airbyte public API in memory. Switches and counters are plain attributes:

    - `fail_connections`: jobs started for these connection ids end `failed`, for the reason in
      `failures[connection_id]` (default: a transient Gong rate limit; see `failures.py`);
    - `job_pending_seconds`, `job_running_seconds`: timing of jobs started from now on;
    - `token_lifetime`: `expires_in` of tokens issued from now on; `expire_tokens()` ends all issued ones;
    - `static_tokens`: bearer tokens always accepted (like AIRBYTE_ACCESS_TOKEN);
    - `config_api_refusal`: 401, 403 or 404 for every Configuration API call (None: it answers);
    - `next_host`: host[:port] written into pagination links instead of the request's;
    - `faults`: a `FaultPlan` (429, 5xx, HTML pages, malformed JSON, delays);
    - `requests`: Counter of (method, path template), e.g. `requests["POST", "/jobs"]`.
    """

    def __init__(
        self,
        *,
        client_id: str = "sophia-sim",
        client_secret: str = "sim-pass",
        static_tokens: Iterable[str] = (),
        token_lifetime: int = 900,
        job_pending_seconds: float = 0.2,
        job_running_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.static_tokens = set(static_tokens)
        self.token_lifetime = token_lifetime
        self.job_pending_seconds = job_pending_seconds
        self.job_running_seconds = job_running_seconds
        self.clock = clock
        self.wall_clock = wall_clock
        self.fail_connections: set[str] = set()
        self.failures: dict[str, Failure] = {}
        self.config_api_refusal: int | None = None
        self.next_host: str | None = None
        self.faults = FaultPlan()
        self.requests: Counter[tuple[str, str]] = Counter()
        self.workspaces: dict[str, Workspace] = {}
        self.sources: dict[str, Source] = {}
        self.destinations: dict[str, Destination] = {}
        self.connections: dict[str, Connection] = {}
        self.jobs: dict[int, Job] = {}
        self._token_expiry: dict[str, float] = {}
        self._next_job_id = 1

    # ---- tokens ---------------------------------------------------------------------------------

    @property
    def token_requests(self) -> int:
        return self.requests[TOKEN_PATH]

    def issue_token(self, client_id: Any, client_secret: Any) -> dict[str, Any]:
        if client_id != self.client_id or client_secret != self.client_secret:
            raise problems.invalid_api_key("Invalid client id or client secret.")
        token = secrets.token_urlsafe(32)
        self._token_expiry[token] = self.clock() + self.token_lifetime
        return {"access_token": token, "token_type": "Bearer", "expires_in": self.token_lifetime}

    def check_token(self, token: str | None) -> None:
        if not token:
            raise problems.invalid_api_key("No bearer token in the Authorization header.")
        if token in self.static_tokens:
            return
        expiry = self._token_expiry.get(token)
        if expiry is None:
            raise problems.invalid_api_key()
        if self.clock() >= expiry:
            raise problems.invalid_api_key("The access token has expired.")

    def expire_tokens(self) -> None:
        now = self.clock()
        for token in self._token_expiry:
            self._token_expiry[token] = now

    # ---- lookups --------------------------------------------------------------------------------

    def workspace(self, workspace_id: str) -> Workspace:
        return _found(self.workspaces.get(workspace_id), "workspace", workspace_id)

    def source(self, source_id: str) -> Source:
        return _found(self.sources.get(source_id), "source", source_id)

    def destination(self, destination_id: str) -> Destination:
        return _found(self.destinations.get(destination_id), "destination", destination_id)

    def connection(self, connection_id: str) -> Connection:
        connection = self.connections.get(connection_id)
        return _found(None if connection is None or connection.deleted else connection, "connection", connection_id)

    def job(self, job_id: int) -> Job:
        return _found(self.jobs.get(job_id), "job", str(job_id))

    def list_workspaces(self, workspace_ids: list[str]) -> list[Workspace]:
        return [w for w in self.workspaces.values() if not workspace_ids or w.workspace_id in workspace_ids]

    def list_sources(self, workspace_ids: list[str]) -> list[Source]:
        return [s for s in self.sources.values() if not workspace_ids or s.workspace_id in workspace_ids]

    def list_destinations(self, workspace_ids: list[str]) -> list[Destination]:
        return [d for d in self.destinations.values() if not workspace_ids or d.workspace_id in workspace_ids]

    def list_connections(self, workspace_ids: list[str], include_deleted: bool) -> list[Connection]:
        return [
            c
            for c in self.connections.values()
            if (include_deleted or not c.deleted) and (not workspace_ids or c.workspace_id in workspace_ids)
        ]

    def stream_properties(self, source_id: str, destination_id: str | None) -> list[dict[str, Any]]:
        source = self.source(source_id)
        destination_type = self.destination(destination_id).type if destination_id else None
        return [stream_properties(spec, destination_type) for spec in streams_of(source.type).values()]

    # ---- workspaces, sources and destinations ---------------------------------------------------

    def add_workspace(self, name: str, workspace_id: str | None = None) -> Workspace:
        workspace = Workspace(workspace_id or str(uuid.uuid4()), name)
        self.workspaces[workspace.workspace_id] = workspace
        return workspace

    def update_workspace(self, workspace_id: str, body: dict[str, Any]) -> Workspace:
        """PATCH: `name` and `notifications` (NotificationsConfig), each checked before anything changes."""
        workspace = self.workspace(workspace_id)
        name = optional_field(body, "name", str, workspace.name)
        notifications = workspace.notifications
        if "notifications" in body:
            notifications = checked_notifications(body["notifications"])
        workspace.name, workspace.notifications = name, notifications
        return workspace

    def add_source(self, name: str, source_type: str, workspace_id: str, configuration: dict[str, Any],
                   source_id: str | None = None) -> Source:
        source = Source(
            source_id or str(uuid.uuid4()), name, source_type, SOURCE_DEFINITION_IDS[source_type], workspace_id,
            {**configuration, "sourceType": source_type}, self._epoch_seconds(),
        )
        self.sources[source.id] = source
        return source

    def add_destination(self, name: str, destination_type: str, workspace_id: str, configuration: dict[str, Any],
                        destination_id: str | None = None) -> Destination:
        destination = Destination(
            destination_id or str(uuid.uuid4()), name, destination_type, DESTINATION_DEFINITION_IDS[destination_type],
            workspace_id, {**configuration, "destinationType": destination_type}, self._epoch_seconds(),
        )
        self.destinations[destination.id] = destination
        return destination

    def create_destination(self, body: dict[str, Any]) -> Destination:
        name = required_field(body, "name", str)
        workspace = self.workspace(required_field(body, "workspaceId", str))
        configuration = required_field(body, "configuration", dict)
        destination_type = configuration.get("destinationType") or _type_of_definition(body.get("definitionId"))
        if destination_type not in DESTINATION_DEFINITION_IDS:
            raise problems.bad_request(
                f"Unknown destination type {destination_type!r}: set configuration.destinationType to one of "
                f"{sorted(DESTINATION_DEFINITION_IDS)}, or a known definitionId."
            )
        return self.add_destination(name, destination_type, workspace.workspace_id, configuration)

    def update_destination(self, destination_id: str, body: dict[str, Any], *, replace: bool) -> Destination:
        """PUT (`replace`) overwrites name and configuration; PATCH changes what the body names."""
        destination = self.destination(destination_id)
        if replace:
            name = required_field(body, "name", str)
            configuration = required_field(body, "configuration", dict)
        else:
            name = optional_field(body, "name", str, destination.name)
            configuration = {**destination.configuration, **optional_field(body, "configuration", dict, {})}
        destination.name = name
        destination.configuration = _keep_masked_secrets(configuration, destination.configuration)
        destination.configuration["destinationType"] = destination.type
        return destination

    # ---- connections ----------------------------------------------------------------------------

    def add_connection(self, name: str, source_id: str, destination_id: str, connection_id: str | None = None,
                       **settings: Any) -> Connection:
        """Create a connection; `settings` are fields of a ConnectionCreateRequest (camelCase)."""
        body = {"name": name, "sourceId": source_id, "destinationId": destination_id, **settings}
        return self.create_connection(body, connection_id)

    def create_connection(self, body: dict[str, Any], connection_id: str | None = None) -> Connection:
        source = self.source(required_field(body, "sourceId", str))
        destination = self.destination(required_field(body, "destinationId", str))
        if source.workspace_id != destination.workspace_id:
            raise problems.bad_request("The source and the destination belong to different workspaces.")
        connection = Connection(
            connection_id=connection_id or str(uuid.uuid4()),
            name=f"{source.name} → {destination.name}",
            source_id=source.id,
            destination_id=destination.id,
            workspace_id=source.workspace_id,
            created_at=self._epoch_seconds(),
            streams=configured_streams(body.get("configurations"), source.type, destination.type),
            schedule=schedule_of(body.get("schedule")),
        )
        for attribute, value in simple_settings(body).items():
            setattr(connection, attribute, value)
        self.connections[connection.connection_id] = connection
        return connection

    def update_connection(self, connection_id: str, body: dict[str, Any]) -> Connection:
        connection = self.connection(connection_id)
        # Check everything before changing anything, so a refused patch leaves no trace.
        settings = simple_settings(body)
        if "configurations" in body:
            source_type = self.source(connection.source_id).type
            destination_type = self.destination(connection.destination_id).type
            settings["streams"] = configured_streams(body["configurations"], source_type, destination_type)
        if "schedule" in body:
            settings["schedule"] = schedule_of(body["schedule"])
        for attribute, value in settings.items():
            setattr(connection, attribute, value)
        return connection

    def delete_connection(self, connection_id: str) -> None:
        self.connection(connection_id).deleted = True

    # ---- jobs -----------------------------------------------------------------------------------

    def start_job(self, connection_id: str, job_type: str) -> Job:
        if job_type not in JOB_TYPES:
            raise problems.bad_request(f"jobType must be one of {list(JOB_TYPES)}, got {job_type!r}")
        connection = self.connection(connection_id)
        now = self.clock()
        if any(job.connection_id == connection_id and not job.is_final(now) for job in self.jobs.values()):
            raise problems.sync_conflict(connection_id)
        return self._add_job(
            connection, job_type, now, self.wall_clock(), self.job_pending_seconds, self.job_running_seconds,
            failure=self.failure_of(connection_id) if connection_id in self.fail_connections else None,
        )

    def failure_of(self, connection_id: str) -> Failure:
        return self.failures.get(connection_id, DEFAULT_FAILURE)

    def add_past_job(self, connection_id: str, age: timedelta, run_time: timedelta, *, fails: bool = False,
                     job_type: str = "sync") -> Job:
        """A job that started `age` ago and ran for `run_time` (seeded history)."""
        seconds = age.total_seconds()
        return self._add_job(
            self.connection(connection_id), job_type, self.clock() - seconds, self.wall_clock() - age,
            0.0, run_time.total_seconds(), failure=self.failure_of(connection_id) if fails else None,
        )

    def cancel_job(self, job_id: int) -> Job:
        job = self.job(job_id)
        now = self.clock()
        if job.is_final(now):
            raise problems.state_conflict(f"Job {job_id} is not currently running: it is {job.status(now)}.")
        job.cancelled_clock = now
        return job

    def list_jobs(
        self,
        *,
        connection_id: str | None = None,
        workspace_ids: list[str] | None = None,
        job_type: str | None = None,
        status: str | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        order_by: str = "createdAt",
        descending: bool = False,
    ) -> list[Job]:
        now = self.clock()
        workspace_of = {c.connection_id: c.workspace_id for c in self.connections.values()}
        jobs = [
            job
            for job in self.jobs.values()
            if (connection_id is None or job.connection_id == connection_id)
            and (not workspace_ids or workspace_of.get(job.connection_id) in workspace_ids)
            and (job_type is None or job.job_type == job_type)
            and (status is None or job.status(now) == status)
            and (created_after is None or job.created_wall >= created_after)
            and (created_before is None or job.created_wall <= created_before)
        ]

        def sort_key(job: Job) -> tuple[datetime, int]:
            moment = job.created_wall if order_by == "createdAt" else job.last_updated(now)
            return moment, job.job_id

        return sorted(jobs, key=sort_key, reverse=descending)

    def _add_job(self, connection: Connection, job_type: str, created_clock: float, created_wall: datetime,
                 pending_seconds: float, running_seconds: float, *, failure: Failure | None) -> Job:
        rows = ROWS_PER_STREAM * len(connection.streams) if job_type in ("sync", "refresh") else 0
        job = Job(
            self._next_job_id, connection.connection_id, job_type, created_wall, created_clock,
            pending_seconds, running_seconds, failure, rows, rows * BYTES_PER_ROW,
        )
        self._next_job_id += 1
        self.jobs[job.job_id] = job
        return job

    def _epoch_seconds(self) -> int:
        return int(self.wall_clock().timestamp())


def _found(record: Any, resource_type: str, resource_id: str) -> Any:
    if record is None:
        raise problems.not_found(resource_type, resource_id)
    return record


def _type_of_definition(definition_id: Any) -> str | None:
    return next((kind for kind, known in DESTINATION_DEFINITION_IDS.items() if known == definition_id), None)


def _keep_masked_secrets(new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    """A client that writes back a configuration it read sends masked secrets: keep the stored ones."""
    kept = {}
    for key, value in new.items():
        if value == SECRET_MASK:
            value = old.get(key)
        elif isinstance(value, dict) and isinstance(old.get(key), dict):
            value = _keep_masked_secrets(value, old[key])
        kept[key] = value
    return kept
