"""Typed views of the Airbyte resources this project reads (field names as in api.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

JobStatus = Literal["pending", "queued", "running", "incomplete", "failed", "succeeded", "cancelled"]
JobType = Literal["sync", "reset", "refresh", "clear"]
FINAL_JOB_STATUSES: frozenset[str] = frozenset({"failed", "succeeded", "cancelled"})
T = TypeVar("T")


class _ApiModel(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Workspace(_ApiModel):
    workspace_id: str = Field(alias="workspaceId")
    name: str
    data_residency: str | None = Field(None, alias="dataResidency")
    # NotificationsConfig as Airbyte returns it (webhook URLs are secrets: never shown).
    notifications: dict[str, Any] | None = None


class Source(_ApiModel):
    source_id: str = Field(alias="sourceId")
    name: str
    source_type: str = Field(alias="sourceType")
    workspace_id: str = Field(alias="workspaceId")
    created_at: int | None = Field(None, alias="createdAt")


class Destination(_ApiModel):
    destination_id: str = Field(alias="destinationId")
    name: str
    destination_type: str = Field(alias="destinationType")
    workspace_id: str = Field(alias="workspaceId")
    created_at: int | None = Field(None, alias="createdAt")
    # As Airbyte returns it, secrets masked; read to check a reused destination points where we expect.
    configuration: dict[str, Any] | None = None


class Schedule(_ApiModel):
    schedule_type: str = Field(alias="scheduleType")
    cron_expression: str | None = Field(None, alias="cronExpression")
    basic_timing: str | None = Field(None, alias="basicTiming")


class StreamConfiguration(_ApiModel):
    name: str
    sync_mode: str | None = Field(None, alias="syncMode")
    cursor_field: list[str] | None = Field(None, alias="cursorField")
    primary_key: list[list[str]] | None = Field(None, alias="primaryKey")


class StreamConfigurations(_ApiModel):
    streams: list[StreamConfiguration] = Field(default_factory=list)


class Connection(_ApiModel):
    connection_id: str = Field(alias="connectionId")
    name: str
    source_id: str = Field(alias="sourceId")
    destination_id: str = Field(alias="destinationId")
    workspace_id: str = Field(alias="workspaceId")
    status: str
    schedule: Schedule
    configurations: StreamConfigurations = Field(default_factory=StreamConfigurations)
    prefix: str | None = None
    created_at: int | None = Field(None, alias="createdAt")


class Job(_ApiModel):
    job_id: int = Field(alias="jobId")
    status: str
    job_type: str = Field(alias="jobType")
    connection_id: str = Field(alias="connectionId")
    start_time: str = Field(alias="startTime")
    last_updated_at: str | None = Field(None, alias="lastUpdatedAt")
    duration: str | None = None
    bytes_synced: int | None = Field(None, alias="bytesSynced")
    rows_synced: int | None = Field(None, alias="rowsSynced")

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_JOB_STATUSES


class StreamProperties(_ApiModel):
    stream_name: str = Field(alias="streamName")
    sync_modes: list[str] = Field(default_factory=list, alias="syncModes")
    default_cursor_field: list[str] | None = Field(None, alias="defaultCursorField")
    source_defined_cursor_field: bool | None = Field(None, alias="sourceDefinedCursorField")
    source_defined_primary_key: list[list[str]] | None = Field(None, alias="sourceDefinedPrimaryKey")
    property_fields: list[list[str]] | None = Field(None, alias="propertyFields")


@dataclass
class Page(Generic[T]):
    """One page of a list, with the offset of the next page if there may be one."""

    items: list[T]
    next_offset: int | None
