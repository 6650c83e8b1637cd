"""The simulated resources and their JSON shapes (camelCase, as the spec's *Response schemas)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, ClassVar

# The real API never returns secrets: it masks them like this.
SECRET_MASK = "**********"
SECRET_KEYS = frozenset({"password", "access_key_secret", "api_key", "openai_key", "client_secret", "access_token"})


def masked(configuration: Any) -> Any:
    if isinstance(configuration, dict):
        return {key: SECRET_MASK if key in SECRET_KEYS else masked(value) for key, value in configuration.items()}
    if isinstance(configuration, list):
        return [masked(item) for item in configuration]
    return configuration


def default_notifications() -> dict[str, Any]:
    return {"failure": {"email": {"enabled": True}}, "success": {"email": {"enabled": False}}}


@dataclass
class Workspace:
    workspace_id: str
    name: str
    notifications: dict[str, Any] = field(default_factory=default_notifications)

    def to_api(self) -> dict[str, Any]:
        return {
            "workspaceId": self.workspace_id,
            "name": self.name,
            "dataResidency": "auto",
            "notifications": copy.deepcopy(self.notifications),
        }


@dataclass
class Connector:
    """A source or a destination: both are shown alike, under their kind's id and type keys."""

    KIND: ClassVar[str]
    id: str
    name: str
    type: str
    definition_id: str
    workspace_id: str
    configuration: dict[str, Any]
    created_at: int

    def to_api(self) -> dict[str, Any]:
        return {
            f"{self.KIND}Id": self.id,
            "name": self.name,
            f"{self.KIND}Type": self.type,
            "definitionId": self.definition_id,
            "workspaceId": self.workspace_id,
            "configuration": masked(self.configuration),
            "createdAt": self.created_at,
        }


class Source(Connector):
    KIND = "source"


class Destination(Connector):
    KIND = "destination"


@dataclass
class Connection:
    connection_id: str
    name: str
    source_id: str
    destination_id: str
    workspace_id: str
    created_at: int
    streams: list[dict[str, Any]]
    schedule: dict[str, str] = field(default_factory=lambda: {"scheduleType": "manual"})
    status: str = "active"
    prefix: str = ""
    namespace_definition: str = "destination"
    namespace_format: str | None = None
    non_breaking_changes: str = "ignore"
    tags: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False

    def to_api(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "connectionId": self.connection_id,
            "name": self.name,
            "sourceId": self.source_id,
            "destinationId": self.destination_id,
            "workspaceId": self.workspace_id,
            # Airbyte reports a deleted connection as deprecated.
            "status": "deprecated" if self.deleted else self.status,
            "schedule": dict(self.schedule),
            "nonBreakingSchemaUpdatesBehavior": self.non_breaking_changes,
            "namespaceDefinition": self.namespace_definition,
            "prefix": self.prefix,
            "configurations": {"streams": [dict(stream) for stream in self.streams]},
            "createdAt": self.created_at,
            "tags": list(self.tags),
        }
        if self.namespace_format is not None:
            body["namespaceFormat"] = self.namespace_format
        return body
