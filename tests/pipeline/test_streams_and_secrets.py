"""Pure parts of the pipeline: how a stream's sync mode is chosen, and how secrets are kept out."""

from __future__ import annotations

import pytest

from sophia_mcp.airbyte.models import StreamProperties
from sophia_mcp.pipeline.destinations import SECRET_MASK, redacted
from sophia_mcp.pipeline.plan import choose_stream

ALL_MODES = ["full_refresh_overwrite", "full_refresh_append", "incremental_append", "incremental_deduped_history"]


def props(modes: list[str], *, cursor: list[str] | None = None, source_cursor: bool = False,
          key: list[list[str]] | None = None) -> StreamProperties:
    return StreamProperties(streamName="s", syncModes=modes, defaultCursorField=cursor,
                            sourceDefinedCursorField=source_cursor, sourceDefinedPrimaryKey=key)


@pytest.mark.parametrize(
    ("stream", "destination_type", "expected"),
    [
        (props(ALL_MODES, cursor=["started"], source_cursor=True, key=[["id"]]), "postgres",
         {"name": "s", "syncMode": "incremental_append", "primaryKey": [["id"]]}),
        # A cursor the source does not define is sent.
        (props(ALL_MODES, cursor=["updated"], key=[["id"]]), "postgres",
         {"name": "s", "syncMode": "incremental_append", "cursorField": ["updated"], "primaryKey": [["id"]]}),
        # Incremental offered but no cursor to use: full refresh.
        (props(ALL_MODES, cursor=[]), "postgres", {"name": "s", "syncMode": "full_refresh_overwrite"}),
        (props(["full_refresh_overwrite", "full_refresh_append"], key=[["id"]]), "postgres",
         {"name": "s", "syncMode": "full_refresh_overwrite", "primaryKey": [["id"]]}),
        # Only deduplicated incremental: fine with a primary key, not without one.
        (props(["full_refresh_append", "incremental_deduped_history"], cursor=["t"], source_cursor=True, key=[["id"]]),
         "postgres", {"name": "s", "syncMode": "incremental_deduped_history", "primaryKey": [["id"]]}),
        (props(["full_refresh_append", "incremental_deduped_history"], cursor=["t"], source_cursor=True), "postgres",
         {"name": "s", "syncMode": "full_refresh_append"}),
        # A vector store prefers deduplication, so a re-synced call replaces its chunks.
        (props(ALL_MODES, cursor=["t"], source_cursor=True, key=[["id"]]), "qdrant",
         {"name": "s", "syncMode": "incremental_deduped_history", "primaryKey": [["id"]]}),
        (props([]), None, {"name": "s", "syncMode": "full_refresh_overwrite"}),
    ],
)
def test_choose_stream(stream: StreamProperties, destination_type: str | None, expected: dict):
    assert choose_stream(stream, destination_type) == expected


def test_redacted_masks_secrets_at_any_depth():
    config = {
        "host": "h",
        "password": "p1",
        "embedding": {"api_key": "k1", "model_name": "m"},
        "indexing": {"auth_method": {"mode": "api_key_auth", "api_key": "k2"}},
        "tunnels": [{"ssh_key": "k3"}],
        "empty": {"password": ""},
    }
    assert redacted(config) == {
        "host": "h",
        "password": SECRET_MASK,
        "embedding": {"api_key": SECRET_MASK, "model_name": "m"},
        "indexing": {"auth_method": {"mode": "api_key_auth", "api_key": SECRET_MASK}},
        "tunnels": [{"ssh_key": SECRET_MASK}],
        "empty": {"password": ""},
    }
