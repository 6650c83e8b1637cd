"""The Sophia pipeline as a plan: what should exist in Airbyte, diffed against what does, applied by name.

Gong source → Sophia Postgres (always), → Sophia Redis and → Sophia Qdrant (when configured). Every
connection syncs each Gong stream incrementally where `GET /streams` says the stream supports it and
as a full refresh where it does not, on a Quartz cron schedule. Applying twice changes nothing the
second time. Destination credentials go from settings to Airbyte and nowhere else: a plan shows
names, types, hosts and modes only.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from pydantic import BaseModel

from sophia_mcp.airbyte.client import AirbyteClient, truncation_note
from sophia_mcp.airbyte.errors import AirbyteError
from sophia_mcp.airbyte.quartz import CronError, QuartzCron
from sophia_mcp.airbyte.models import Connection, Destination, Source, StreamProperties
from sophia_mcp.airbyte.status import resolve_workspace
from sophia_mcp.pipeline.alerts import WEBHOOK_SETTING, alert_changes, wanted_notifications, webhook_problem
from sophia_mcp.pipeline.destinations import PipelineDestination, pipeline_destinations, redacted, reuse_conflict
from sophia_mcp.settings import Settings

logger = logging.getLogger(__name__)

INCREMENTAL = "incremental_append"
INCREMENTAL_DEDUPED = "incremental_deduped_history"
FULL_REFRESH = "full_refresh_overwrite"
FULL_REFRESH_APPEND = "full_refresh_append"
# Append keeps every version (the Gong repository reads the latest row per id); a vector store
# is better deduplicated, so that a re-synced call replaces its chunks instead of adding more.
MODE_PREFERENCE: dict[str, tuple[str, ...]] = {
    "qdrant": (INCREMENTAL_DEDUPED, INCREMENTAL, FULL_REFRESH, FULL_REFRESH_APPEND),
}
DEFAULT_MODE_PREFERENCE = (INCREMENTAL, INCREMENTAL_DEDUPED, FULL_REFRESH, FULL_REFRESH_APPEND)


class PlannedStep(BaseModel):
    # conflict: something by the expected name exists but is not what the settings describe; apply refuses.
    action: Literal["create", "update", "keep", "blocked", "conflict"]
    kind: Literal["destination", "connection", "notifications"]
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


def _usable(mode: str, props: StreamProperties) -> bool:
    if mode not in props.sync_modes:
        return False
    if mode.startswith("incremental") and not (props.source_defined_cursor_field or props.default_cursor_field):
        return False  # incremental needs a cursor
    return mode != INCREMENTAL_DEDUPED or bool(props.source_defined_primary_key)


def choose_stream(props: StreamProperties, destination_type: str | None = None) -> dict[str, Any]:
    """The stream's configuration: incremental where supported, else full refresh."""
    preference = MODE_PREFERENCE.get(destination_type or "", DEFAULT_MODE_PREFERENCE)
    if not props.sync_modes:
        mode = FULL_REFRESH
    else:
        mode = next((m for m in preference if _usable(m, props)), props.sync_modes[0])
    stream: dict[str, Any] = {"name": props.stream_name, "syncMode": mode}
    if mode.startswith("incremental") and props.default_cursor_field and not props.source_defined_cursor_field:
        stream["cursorField"] = props.default_cursor_field
    if props.source_defined_primary_key:
        stream["primaryKey"] = props.source_defined_primary_key
    return stream


def _normal_cron(expression: str | None) -> str:
    return " ".join((expression or "").split())


async def find_gong_source(client: AirbyteClient, workspace_id: str, name: str | None) -> Source | str:
    """The Gong source, or why there is none to use."""
    sources = await client.all_sources([workspace_id])
    if name:
        matches = [s for s in sources if s.name == name]
        hint = f"no source named {name!r} (SOPHIA_PIPELINE_SOURCE_NAME)"
    else:
        matches = [s for s in sources if s.source_type.lower() == "gong"]
        hint = "no Gong source"
    if not matches:
        return f"The workspace has {hint}; create the Gong source in Airbyte first (it holds the Gong API key)."
    if len(matches) > 1:
        names = ", ".join(f"{s.name} ({s.source_id})" for s in matches)
        return f"Several Gong sources ({names}); set SOPHIA_PIPELINE_SOURCE_NAME to the one to use."
    return matches[0]


def _by_name(items: list[Any]) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = {}
    for item in items:
        grouped.setdefault(item.name, []).append(item)
    return grouped


def _any_conflict(wanted: list[PipelineDestination], destinations: dict[str, list[Destination]]) -> bool:
    for want in wanted:
        found = destinations.get(want.name, [])
        if len(found) == 1 and found[0].destination_type == want.destination_type and reuse_conflict(found[0], want):
            return True
    return False


def _stream_changes(existing: Connection, streams: list[dict[str, Any]]) -> list[str]:
    have = {s.name: s.sync_mode for s in existing.configurations.streams}
    wanted = {s["name"] for s in streams}
    changes = []
    for stream in streams:
        if stream["name"] not in have:
            changes.append(f"stream {stream['name']}: not synced → {stream['syncMode']}")
        elif have[stream["name"]] != stream["syncMode"]:
            changes.append(f"stream {stream['name']}: {have[stream['name']] or 'default mode'} → {stream['syncMode']}")
    changes += [f"stream {name}: {mode or 'default mode'} → not synced" for name, mode in have.items() if name not in wanted]
    return changes


class PipelinePlanner:
    def __init__(self, client: AirbyteClient, settings: Settings) -> None:
        self.client = client
        self.settings = settings

    @property
    def cron(self) -> str:
        return _normal_cron(self.settings.pipeline.cron)

    @property
    def cron_problem(self) -> str | None:
        try:
            QuartzCron.parse(self.cron)
        except CronError as exc:
            return str(exc)
        return None

    async def plan(self, apply: bool = False) -> PipelinePlan:
        """The plan; with `apply`, carried out, unless a destination to reuse conflicts with the settings (then
        nothing at all is changed)."""
        workspace_id, _ = await resolve_workspace(self.client, self.settings.airbyte.workspace_id)
        wanted = pipeline_destinations(
            self.settings.pipeline, self.settings.postgres, self.settings.embedding, self.settings.qdrant
        )
        plan = PipelinePlan(
            workspace_id=workspace_id,
            steps=[],
            changes=0,
            problems=[w.problem for w in wanted if w.problem and not w.blocking_only],
        )
        if self.cron_problem:
            plan.problems.append(
                f"SOPHIA_PIPELINE_CRON {self.cron!r} is not a Quartz cron expression Airbyte accepts: "
                f"{self.cron_problem}. Connections are not planned."
            )
        source = await find_gong_source(self.client, workspace_id, self.settings.pipeline.source_name)
        if isinstance(source, str):
            plan.problems.append(source)
            return plan
        plan.source = f"{source.name} ({source.source_id})"
        all_destinations = await self.client.all_destinations([workspace_id])
        all_connections = await self.client.all_connections([workspace_id])
        if note := truncation_note(destinations=all_destinations, connections=all_connections):
            # What was not read may already exist: applying could create duplicates.
            plan.problems.append(f"{note} Not applied: fix the listing first." if apply else note)
            apply = False
        destinations = _by_name(all_destinations)
        connections = _by_name(all_connections)
        if apply and _any_conflict(wanted, destinations):
            apply = False
            plan.problems.append("Nothing was applied: resolve the destination conflict first, then apply again.")
        await self._alerts_step(plan, apply)
        for want in wanted:
            destination, will_exist = await self._destination_step(plan, want, destinations.get(want.name, []), apply)
            await self._connection_step(
                plan, source, want, destination, will_exist, connections.get(connection_name(want.name), []), apply
            )
        plan.changes = sum(step.action in ("create", "update") for step in plan.steps)
        plan.applied = apply and plan.changes > 0
        return plan

    async def _destination_step(
        self, plan: PipelinePlan, want: PipelineDestination, existing: list[Destination], apply: bool
    ) -> tuple[Destination | None, bool]:
        """The step for one destination; returns the destination and whether it will exist after apply."""
        name = want.name

        def blocked(reason: str) -> tuple[None, bool]:
            plan.steps.append(PlannedStep(action="blocked", kind="destination", name=name, details=[reason]))
            return None, False

        if len(existing) > 1:
            ids = ", ".join(d.destination_id for d in existing)
            plan.problems.append(f"Several destinations are named {name!r} ({ids}): rename or delete all but one.")
            return blocked("several destinations have this name")
        if existing:
            found = existing[0]
            if found.destination_type != want.destination_type:
                plan.problems.append(
                    f"The destination {name!r} ({found.destination_id}) is a {found.destination_type} destination, "
                    f"not {want.destination_type}: rename it so the pipeline can create its own."
                )
                return blocked(f"exists as a {found.destination_type} destination")
            conflict = reuse_conflict(found, want)
            if conflict:
                plan.problems.append(
                    f"The destination {name!r} ({found.destination_id}) {conflict}: the pipeline would land Gong data "
                    "somewhere else than the server reads. Fix that destination in Airbyte, or rename it so the pipeline "
                    "creates its own."
                )
                plan.steps.append(
                    PlannedStep(action="conflict", kind="destination", name=name, id=found.destination_id,
                                details=[conflict])
                )
                return None, False
            plan.steps.append(PlannedStep(action="keep", kind="destination", name=name, id=found.destination_id))
            return found, True
        if want.config is None:
            if want.blocking_only and want.problem:
                plan.problems.append(want.problem)
            return blocked("missing, and its configuration cannot be built from the settings (see problems)")
        config = redacted(want.config.configuration)
        details = [f"type {want.config.destination_type}"] + [
            f"{key}={value}" for key, value in config.items() if key in ("host", "port", "database", "schema")
        ]
        if isinstance(config.get("indexing"), dict):
            details += [f"{key}={config['indexing'][key]}" for key in ("url", "collection") if key in config["indexing"]]
        step = PlannedStep(action="create", kind="destination", name=name, details=details)
        plan.steps.append(step)
        if not apply:
            return None, True
        payload = {"name": name, "workspaceId": plan.workspace_id, "configuration": want.config.configuration}
        created = await self._applying(step, self.client.create_destination(payload))
        step.id = created.destination_id
        logger.info("created destination %r (%s)", name, created.destination_id)
        return created, True

    async def _connection_step(
        self,
        plan: PipelinePlan,
        source: Source,
        want: PipelineDestination,
        destination: Destination | None,
        destination_will_exist: bool,
        existing: list[Connection],
        apply: bool,
    ) -> None:
        name = connection_name(want.name)

        def blocked(reason: str) -> None:
            plan.steps.append(PlannedStep(action="blocked", kind="connection", name=name, details=[reason]))

        if not destination_will_exist:
            return blocked(f"its destination {want.name!r} is missing")
        if self.cron_problem:
            return blocked("SOPHIA_PIPELINE_CRON is not a Quartz cron expression (see problems)")
        if len(existing) > 1:
            ids = ", ".join(c.connection_id for c in existing)
            plan.problems.append(f"Several connections are named {name!r} ({ids}): rename or delete all but one.")
            return blocked("several connections have this name")
        current = existing[0] if existing else None
        if current is not None and (
            current.source_id != source.source_id
            or destination is None
            or current.destination_id != destination.destination_id
        ):
            plan.problems.append(
                f"The connection {name!r} ({current.connection_id}) links source {current.source_id} to destination "
                f"{current.destination_id}, not {source.name} to {want.name!r}; Airbyte cannot re-point a connection: "
                "rename or delete it."
            )
            return blocked("links another source or destination")
        props = await self.client.get_stream_properties(
            source.source_id, destination.destination_id if destination else None
        )
        if want.streams is not None:
            props = [p for p in props if p.stream_name in want.streams]
        if not props:
            offered = ", ".join(want.streams or ()) or "any stream"
            plan.problems.append(f"The source {source.name!r} offers none of the streams {want.name!r} needs ({offered}).")
            return blocked("no stream to sync")
        streams = [choose_stream(p, want.destination_type) for p in props]
        schedule = {"scheduleType": "cron", "cronExpression": self.cron}
        if current is None:
            step = PlannedStep(
                action="create",
                kind="connection",
                name=name,
                details=[f"schedule cron {self.cron} UTC", *(f"stream {s['name']}: {s['syncMode']}" for s in streams)],
            )
            plan.steps.append(step)
            if apply and destination is not None:
                payload = {
                    "name": name,
                    "sourceId": source.source_id,
                    "destinationId": destination.destination_id,
                    "schedule": schedule,
                    "status": "active",
                    "configurations": {"streams": streams},
                }
                if want.destination_type == "postgres":
                    # Tables land where the Gong repository reads them.
                    payload["prefix"] = self.settings.postgres.table_prefix
                created = await self._applying(step, self.client.create_connection(payload))
                step.id = created.connection_id
                logger.info("created connection %r (%s)", name, created.connection_id)
            return None
        self._check_prefix(plan, want, current)
        changes = _stream_changes(current, streams)
        if current.schedule.schedule_type != "cron" or _normal_cron(current.schedule.cron_expression) != self.cron:
            was = current.schedule.cron_expression or current.schedule.basic_timing or current.schedule.schedule_type
            changes.insert(0, f"schedule: {was} → cron {self.cron}")
        notes = [] if current.status == "active" else [f"status {current.status}: syncs do not run until it is enabled"]
        if not changes:
            plan.steps.append(
                PlannedStep(action="keep", kind="connection", name=name, id=current.connection_id, details=notes)
            )
            return None
        step = PlannedStep(
            action="update", kind="connection", name=name, id=current.connection_id, details=[*changes, *notes]
        )
        plan.steps.append(step)
        if apply:
            patch = {"schedule": schedule, "configurations": {"streams": streams}}
            await self._applying(step, self.client.update_connection(current.connection_id, patch))
            logger.info("updated connection %r (%s)", name, current.connection_id)
        return None

    async def _alerts_step(self, plan: PipelinePlan, apply: bool) -> None:
        """Failure and sync-disabled notifications to SOPHIA_ALERT_WEBHOOK_URL, when it is set."""
        secret = self.settings.pipeline.alert_webhook_url
        if secret is None:
            return
        url = secret.get_secret_value().strip()
        name = "workspace alerts"
        problem = webhook_problem(url)
        if problem:
            plan.problems.append(f"{problem}: alerts are not planned.")
            plan.steps.append(PlannedStep(action="blocked", kind="notifications", name=name, details=[problem]))
            return
        workspace = await self.client.get_workspace(plan.workspace_id)
        changes = alert_changes(workspace.notifications, url)
        if not changes:
            plan.steps.append(PlannedStep(
                action="keep", kind="notifications", name=name, id=plan.workspace_id,
                details=[f"failure and syncDisabled notifications post to the alert webhook ({WEBHOOK_SETTING})"],
            ))
            return
        step = PlannedStep(action="update", kind="notifications", name=name, id=plan.workspace_id, details=changes)
        plan.steps.append(step)
        if apply:
            payload = {"notifications": wanted_notifications(workspace.notifications, url)}
            await self._applying(step, self.client.update_workspace(plan.workspace_id, payload))
            logger.info("set the workspace's alert notifications (%s)", plan.workspace_id)

    def _check_prefix(self, plan: PipelinePlan, want: PipelineDestination, current: Connection) -> None:
        """A Postgres connection writing other table names than the server reads: say so, never change it
        (a new prefix would make Airbyte start new tables from the saved incremental state)."""
        expected = self.settings.postgres.table_prefix
        if want.destination_type == "postgres" and (current.prefix or "") != expected:
            plan.problems.append(
                f"The connection {current.name!r} writes tables with the prefix {current.prefix or '(none)'!r} but the "
                f"server reads the prefix {expected or '(none)'!r}: set SOPHIA_GONG_TABLE_PREFIX={current.prefix or ''}."
            )

    @staticmethod
    async def _applying(step: PlannedStep, call: Any) -> Any:
        try:
            return await call
        except AirbyteError as exc:
            raise AirbyteError(
                f"Applying the plan stopped at {step.action} {step.kind} {step.name!r}: {exc} The steps before it "
                "were applied; plan again to see what is left.",
                status=exc.status,
            ) from exc
