"""The Sophia pipeline as a plan: what should exist in Airbyte, diffed against what does, applied by name.

Gong source → Sophia Postgres (always), → Sophia Redis and → Sophia Qdrant (when configured). Every
connection syncs each Gong stream incrementally where the stream supports it and as a full refresh
where it does not, on a Quartz cron schedule. Applying twice changes nothing the second time.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from sophia_mcp.airbyte.client import AirbyteClient
from sophia_mcp.airbyte.errors import AirbyteError
from sophia_mcp.airbyte.models import Connection, Destination, Source, StreamProperties
from sophia_mcp.airbyte.status import resolve_workspace
from sophia_mcp.pipeline.destinations import DesiredDestination, desired_destinations, redacted
from sophia_mcp.settings import Settings

POSTGRES_DESTINATION = "Sophia Postgres"
INCREMENTAL = "incremental_append"
FULL_REFRESH = "full_refresh_overwrite"


class PlannedStep(BaseModel):
    action: Literal["create", "update", "keep", "blocked"]
    kind: Literal["destination", "connection"]
    name: str
    id: str | None = None
    details: list[str] = []


class PipelinePlan(BaseModel):
    workspace_id: str
    source: str | None = None
    steps: list[PlannedStep]
    changes: int
    applied: bool = False
    problems: list[str] = []


def connection_name(destination_name: str) -> str:
    """'Sophia Postgres' → 'Gong → Postgres': connections are named after where the data goes."""
    return f"Gong → {destination_name.removeprefix('Sophia ')}"


def choose_stream(props: StreamProperties) -> dict[str, Any]:
    """The stream's configuration: incremental where supported, else full refresh."""
    modes = props.sync_modes
    if INCREMENTAL in modes:
        mode = INCREMENTAL
    elif FULL_REFRESH in modes or not modes:
        mode = FULL_REFRESH
    else:
        mode = modes[0]
    stream: dict[str, Any] = {"name": props.stream_name, "syncMode": mode}
    if mode.startswith("incremental") and props.default_cursor_field and not props.source_defined_cursor_field:
        stream["cursorField"] = props.default_cursor_field
    if props.source_defined_primary_key:
        stream["primaryKey"] = props.source_defined_primary_key
    return stream


async def find_gong_source(client: AirbyteClient, workspace_id: str, name: str | None) -> Source:
    sources = await client.all_sources([workspace_id])
    if name:
        matches = [s for s in sources if s.name == name]
        hint = f"no source named {name!r} (SOPHIA_PIPELINE_SOURCE_NAME)"
    else:
        matches = [s for s in sources if s.source_type.lower() == "gong"]
        hint = "no Gong source"
    if not matches:
        raise AirbyteError(f"The workspace has {hint}; create the Gong source in Airbyte first (it holds the Gong API key).")
    if len(matches) > 1:
        names = ", ".join(s.name for s in matches)
        raise AirbyteError(f"Several Gong sources ({names}); set SOPHIA_PIPELINE_SOURCE_NAME to the one to use.")
    return matches[0]


def _stream_changes(existing: Connection, streams: list[dict[str, Any]]) -> list[str]:
    have = {s.name: s.sync_mode for s in existing.configurations.streams}
    changes = []
    for stream in streams:
        current = have.get(stream["name"])
        if current != stream["syncMode"]:
            changes.append(f"stream {stream['name']}: {current or 'not synced'} → {stream['syncMode']}")
    return changes


class PipelinePlanner:
    def __init__(self, client: AirbyteClient, settings: Settings) -> None:
        self.client = client
        self.settings = settings

    async def plan(self, apply: bool = False) -> PipelinePlan:
        workspace_id, _ = await resolve_workspace(self.client, self.settings.airbyte.workspace_id)
        wanted, problems = desired_destinations(
            self.settings.pipeline, self.settings.postgres, self.settings.embedding, self.settings.qdrant.collection
        )
        plan = PipelinePlan(workspace_id=workspace_id, steps=[], changes=0, problems=problems)
        try:
            source = await find_gong_source(self.client, workspace_id, self.settings.pipeline.source_name)
        except AirbyteError as exc:
            plan.problems.append(str(exc))
            return plan
        plan.source = f"{source.name} ({source.source_id})"
        destinations = {d.name: d for d in await self.client.all_destinations([workspace_id])}
        connections = {c.name: c for c in await self.client.all_connections([workspace_id])}
        names = [d.name for d in wanted]
        if POSTGRES_DESTINATION not in names:
            names.insert(0, POSTGRES_DESTINATION)
        by_name = {d.name: d for d in wanted}
        for name in names:
            destination = await self._destination_step(plan, destinations.get(name), by_name.get(name), name, apply)
            await self._connection_step(plan, source, destination, connections.get(connection_name(name)), name, apply)
        plan.changes = sum(step.action in ("create", "update") for step in plan.steps)
        plan.applied = apply and plan.changes > 0
        return plan

    async def _destination_step(
        self,
        plan: PipelinePlan,
        existing: Destination | None,
        desired: DesiredDestination | None,
        name: str,
        apply: bool,
    ) -> Destination | None:
        if existing is not None:
            plan.steps.append(PlannedStep(action="keep", kind="destination", name=name, id=existing.destination_id))
            return existing
        if desired is None:
            plan.steps.append(
                PlannedStep(
                    action="blocked",
                    kind="destination",
                    name=name,
                    details=["missing, and its credentials are not configured (see problems)"],
                )
            )
            return None
        config = redacted(desired.configuration)
        details = [f"type {desired.destination_type}"] + [
            f"{key}={value}" for key, value in config.items() if key in ("host", "port", "database", "schema", "url")
        ]
        step = PlannedStep(action="create", kind="destination", name=name, details=details)
        plan.steps.append(step)
        if not apply:
            return None
        created = await self.client.create_destination(
            {"name": name, "workspaceId": plan.workspace_id, "configuration": desired.configuration}
        )
        step.id = created.destination_id
        return created

    async def _connection_step(
        self,
        plan: PipelinePlan,
        source: Source,
        destination: Destination | None,
        existing: Connection | None,
        destination_name: str,
        apply: bool,
    ) -> None:
        name = connection_name(destination_name)
        cron = self.settings.pipeline.cron
        props = await self.client.get_stream_properties(
            source.source_id, destination.destination_id if destination else None
        )
        streams = [choose_stream(p) for p in props]
        stream_details = [f"stream {s['name']}: {s['syncMode']}" for s in streams]
        schedule = {"scheduleType": "cron", "cronExpression": cron}
        if existing is None:
            if destination is None and not any(
                s.kind == "destination" and s.name == destination_name and s.action == "create" for s in plan.steps
            ):
                plan.steps.append(
                    PlannedStep(action="blocked", kind="connection", name=name, details=["its destination is missing"])
                )
                return
            step = PlannedStep(
                action="create", kind="connection", name=name, details=[f"schedule cron {cron} UTC", *stream_details]
            )
            plan.steps.append(step)
            if apply and destination is not None:
                created = await self.client.create_connection(
                    {
                        "name": name,
                        "sourceId": source.source_id,
                        "destinationId": destination.destination_id,
                        "schedule": schedule,
                        "status": "active",
                        "prefix": self.settings.postgres.table_prefix,
                        "configurations": {"streams": streams},
                    }
                )
                step.id = created.connection_id
            return
        changes = _stream_changes(existing, streams)
        if existing.schedule.schedule_type != "cron" or existing.schedule.cron_expression != cron:
            changes.insert(0, f"schedule: {existing.schedule.cron_expression or existing.schedule.schedule_type} → cron {cron}")
        if not changes:
            plan.steps.append(PlannedStep(action="keep", kind="connection", name=name, id=existing.connection_id))
            return
        plan.steps.append(PlannedStep(action="update", kind="connection", name=name, id=existing.connection_id, details=changes))
        if apply:
            await self.client.update_connection(
                existing.connection_id, {"schedule": schedule, "configurations": {"streams": streams}}
            )
