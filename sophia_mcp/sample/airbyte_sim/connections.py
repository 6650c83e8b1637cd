"""Checks a connection's streams and schedule the way Airbyte does, and fills in its defaults."""

from __future__ import annotations

from typing import Any

from sophia_mcp.airbyte.quartz import CronError, QuartzCron
from sophia_mcp.sample.airbyte_sim.catalog import StreamSpec, streams_of, supported_modes
from sophia_mcp.sample.airbyte_sim.problems import bad_request, invalid_cron, missing_cron

INVALID_CONFIGURATION = "The body of the request contains an invalid connection configuration."


def configured_streams(requested: Any, source_type: str, destination_type: str) -> list[dict[str, Any]]:
    """The `configurations.streams` to store. No `configurations` selects every stream with its default mode."""
    catalog = streams_of(source_type)
    if requested is None:
        return [_configured(spec, None, None, None, destination_type) for spec in catalog.values()]
    if not isinstance(requested, dict) or not isinstance(requested.get("streams"), list):
        raise bad_request(f"{INVALID_CONFIGURATION} `configurations` must be an object with a `streams` list.")
    if not requested["streams"]:
        raise bad_request(f"{INVALID_CONFIGURATION} Select at least one stream.")
    chosen: dict[str, dict[str, Any]] = {}
    for item in requested["streams"]:
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str):
            raise bad_request(f"{INVALID_CONFIGURATION} Every stream needs a `name`.")
        spec = catalog.get(name)
        if spec is None:
            raise bad_request(f"{INVALID_CONFIGURATION} Invalid stream found: {name}. Valid streams: {sorted(catalog)}")
        if name in chosen:
            raise bad_request(f"{INVALID_CONFIGURATION} Duplicate stream found in configuration for: {name}.")
        chosen[name] = _configured(spec, item.get("syncMode"), item.get("cursorField"), item.get("primaryKey"),
                                   destination_type)
    return list(chosen.values())


def _configured(spec: StreamSpec, mode: Any, cursor: Any, primary_key: Any, destination_type: str) -> dict[str, Any]:
    modes = supported_modes(spec, destination_type)
    mode = mode or (spec.default_sync_mode if spec.default_sync_mode in modes else modes[0])
    if mode not in modes:
        raise bad_request(
            f"{INVALID_CONFIGURATION} Cannot set sync mode to {mode} for stream {spec.name}. "
            f"Valid sync modes are: {modes}"
        )
    incremental = mode.startswith("incremental")
    return {
        "name": spec.name,
        "syncMode": mode,
        "cursorField": cursor or ([spec.cursor_field] if incremental and spec.cursor_field else []),
        "primaryKey": primary_key or [[key] for key in spec.primary_key],
    }


def schedule_of(requested: Any) -> dict[str, str]:
    if requested is None:
        return {"scheduleType": "manual"}
    schedule_type = requested.get("scheduleType") if isinstance(requested, dict) else None
    if schedule_type == "manual":
        return {"scheduleType": "manual"}
    if schedule_type != "cron":
        raise bad_request(f"scheduleType must be manual or cron, got {schedule_type!r}")
    expression = requested.get("cronExpression")
    if not isinstance(expression, str) or not expression.strip():
        raise missing_cron()
    try:
        QuartzCron.parse(expression)
    except CronError as exc:
        raise invalid_cron(expression, str(exc)) from None
    return {"scheduleType": "cron", "cronExpression": expression}


# Connection fields a request may set, each with the values the spec allows.
SETTABLE_ENUMS = {
    "status": ("active", "inactive"),
    "namespaceDefinition": ("source", "destination", "custom_format"),
    "nonBreakingSchemaUpdatesBehavior": ("ignore", "disable_connection", "propagate_columns", "propagate_fully"),
}
SETTABLE_STRINGS = ("name", "prefix", "namespaceFormat")
# Request field -> Connection attribute.
ATTRIBUTES = {
    "name": "name",
    "prefix": "prefix",
    "namespaceFormat": "namespace_format",
    "status": "status",
    "namespaceDefinition": "namespace_definition",
    "nonBreakingSchemaUpdatesBehavior": "non_breaking_changes",
}


def simple_settings(body: dict[str, Any]) -> dict[str, Any]:
    """The plain fields of a create or patch body, checked, as Connection attribute names."""
    settings: dict[str, Any] = {}
    for field, allowed in SETTABLE_ENUMS.items():
        if field in body:
            if body[field] not in allowed:
                raise bad_request(f"{field} must be one of {list(allowed)}, got {body[field]!r}")
            settings[ATTRIBUTES[field]] = body[field]
    for field in SETTABLE_STRINGS:
        if field in body:
            if not isinstance(body[field], str):
                raise bad_request(f"{field} must be a string")
            settings[ATTRIBUTES[field]] = body[field]
    return settings
