"""What the simulated connectors offer: the Gong streams and the sync modes each destination accepts.

Stream names, primary keys and cursor fields follow source-gong's manifest
(../shared/reference/gong/manifest.yaml). A stream without a cursor is full refresh only.
"""

from __future__ import annotations

from dataclasses import dataclass

FULL_REFRESH_MODES = ("full_refresh_overwrite", "full_refresh_append")
INCREMENTAL_MODES = ("incremental_append", "incremental_deduped_history")
# Modes a destination cannot write; Redis (a cache) has no deduplication.
UNSUPPORTED_BY_DESTINATION: dict[str, frozenset[str]] = {"redis": frozenset({"incremental_deduped_history"})}

# Fixed connector definition ids, so resources of one type share one definitionId as on a real Airbyte.
SOURCE_DEFINITION_IDS = {
    "gong": "32382e40-3b49-4b99-9c5c-4076501914e7",
    "file": "778daa7c-feaf-4db6-96f3-70fd645acc77",
}
DESTINATION_DEFINITION_IDS = {
    "postgres": "25c5221d-dce2-4163-ade9-739ef790f503",
    "redis": "d4d3fef9-e319-45c2-881a-bd02ce44cc9f",
    "qdrant": "6eb1198a-6d38-43e5-aaaa-dccd8f71db2b",
    "dev-null": "a7bcc9d8-13b3-4e49-b80d-d020b90045e3",
}


@dataclass(frozen=True)
class StreamSpec:
    name: str
    primary_key: tuple[str, ...]
    cursor_field: str | None = None

    @property
    def sync_modes(self) -> tuple[str, ...]:
        return FULL_REFRESH_MODES + INCREMENTAL_MODES if self.cursor_field else FULL_REFRESH_MODES

    @property
    def default_sync_mode(self) -> str:
        return "incremental_append" if self.cursor_field else "full_refresh_overwrite"


GONG_STREAMS = (
    StreamSpec("users", ("id",)),
    StreamSpec("calls", ("id",), "started"),
    StreamSpec("extensiveCalls", ("id",), "startdatetime"),
    StreamSpec("scorecards", ("scorecardId",)),
    StreamSpec("answeredScorecards", ("answeredScorecardId",), "reviewTime"),
    StreamSpec("callTranscripts", ("callId",), "started"),
)

STREAMS_BY_SOURCE_TYPE: dict[str, tuple[StreamSpec, ...]] = {"gong": GONG_STREAMS}


def streams_of(source_type: str) -> dict[str, StreamSpec]:
    return {stream.name: stream for stream in STREAMS_BY_SOURCE_TYPE.get(source_type, ())}


def supported_modes(stream: StreamSpec, destination_type: str | None) -> list[str]:
    refused = UNSUPPORTED_BY_DESTINATION.get(destination_type or "", frozenset())
    return [mode for mode in stream.sync_modes if mode not in refused]


def stream_properties(stream: StreamSpec, destination_type: str | None) -> dict:
    """One item of `GET /streams`, shaped as the spec's StreamProperties."""
    return {
        "streamName": stream.name,
        "syncModes": supported_modes(stream, destination_type),
        "defaultCursorField": [stream.cursor_field] if stream.cursor_field else [],
        "sourceDefinedCursorField": stream.cursor_field is not None,
        "sourceDefinedPrimaryKey": [[key] for key in stream.primary_key],
    }
