"""The tables Airbyte's destination-postgres writes for source-gong, column by column.

Transcribed from ../shared/reference/gong/postgres_final_tables.DERIVED.md (destination-postgres
3.x Direct Load rules applied to the source's manifest). The discovery in `schema.py` compares
what a database really holds against this; the sample data generator writes exactly this.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sophia_mcp.gong.wording import transcript_words_sql

# Every final table carries these, after the stream's own columns.
AIRBYTE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_airbyte_raw_id", "varchar NOT NULL"),
    ("_airbyte_extracted_at", "timestamp with time zone NOT NULL"),
    ("_airbyte_meta", "jsonb NOT NULL"),
    ("_airbyte_generation_id", "bigint"),
)
EXTRACTED_AT = "_airbyte_extracted_at"
RAW_ID = "_airbyte_raw_id"


@dataclass(frozen=True)
class StreamLayout:
    name: str
    primary_key: str
    # Postgres type per column, in the order the destination creates them.
    columns: tuple[tuple[str, str], ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns) + tuple(name for name, _ in AIRBYTE_COLUMNS)


USERS = StreamLayout(
    name="users",
    primary_key="id",
    columns=(
        ("active", "boolean"),
        ("created", "timestamp with time zone"),
        ("emailAddress", "varchar"),
        ("emailAliases", "jsonb"),
        ("extension", "varchar"),
        ("firstName", "varchar"),
        ("id", "varchar"),
        ("lastName", "varchar"),
        ("managerId", "varchar"),
        ("meetingConsentPageUrl", "varchar"),
        ("personalMeetingUrls", "jsonb"),
        ("phoneNumber", "varchar"),
        ("settings", "jsonb"),
        ("spokenLanguages", "jsonb"),
        ("title", "varchar"),
        ("trustedEmailAddress", "varchar"),
    ),
)

CALLS = StreamLayout(
    name="calls",
    primary_key="id",
    columns=(
        ("calendarEventId", "varchar"),
        ("clientUniqueId", "varchar"),
        ("customData", "varchar"),
        ("direction", "varchar"),
        ("duration", "bigint"),
        ("id", "varchar"),
        ("isPrivate", "boolean"),
        ("language", "varchar"),
        ("media", "varchar"),
        ("meetingUrl", "varchar"),
        ("primaryUserId", "varchar"),
        ("purpose", "varchar"),
        ("scheduled", "timestamp with time zone"),
        ("scope", "varchar"),
        ("sdrDisposition", "varchar"),
        ("started", "timestamp with time zone"),
        ("system", "varchar"),
        ("title", "varchar"),
        ("url", "varchar"),
        ("workspaceId", "varchar"),
    ),
)

EXTENSIVE_CALLS = StreamLayout(
    name="extensiveCalls",
    primary_key="id",
    columns=(
        ("startdatetime", "timestamp with time zone"),
        ("collaboration", "jsonb"),
        ("content", "jsonb"),
        ("context", "jsonb"),
        ("id", "bigint"),
        ("interaction", "jsonb"),
        ("media", "jsonb"),
        ("metaData", "jsonb"),
        ("parties", "jsonb"),
    ),
)

SCORECARDS = StreamLayout(
    name="scorecards",
    primary_key="scorecardId",
    columns=(
        ("created", "timestamp with time zone"),
        ("enabled", "boolean"),
        ("questions", "jsonb"),
        ("scorecardId", "varchar"),
        ("scorecardName", "varchar"),
        ("updated", "timestamp with time zone"),
        ("updaterUserId", "varchar"),
        ("workspaceId", "varchar"),
    ),
)

ANSWERED_SCORECARDS = StreamLayout(
    name="answeredScorecards",
    primary_key="answeredScorecardId",
    columns=(
        ("answeredScorecardId", "varchar"),
        ("answers", "jsonb"),
        ("callId", "varchar"),
        ("callStartTime", "timestamp with time zone"),
        ("reviewTime", "timestamp with time zone"),
        ("reviewedUserId", "varchar"),
        ("reviewerUserId", "varchar"),
        ("scorecardId", "varchar"),
        ("scorecardName", "varchar"),
        ("visibilityType", "varchar"),
    ),
)

CALL_TRANSCRIPTS = StreamLayout(
    name="callTranscripts",
    primary_key="callId",
    columns=(
        ("started", "timestamp with time zone"),
        ("callId", "varchar"),
        ("transcript", "jsonb"),
    ),
)

STREAMS: dict[str, StreamLayout] = {
    layout.name: layout
    for layout in (USERS, CALLS, EXTENSIVE_CALLS, SCORECARDS, ANSWERED_SCORECARDS, CALL_TRANSCRIPTS)
}

@dataclass(frozen=True)
class Index:
    """An index the lookups need. Each key is a column name, or an expression in parentheses
    (over quoted column names, this program's own text)."""

    name: str
    keys: tuple[str, ...]
    method: str = "btree"
    opclass: str | None = None

    def key_sql(self) -> str:
        return ", ".join(
            key if key.startswith("(") else quote_ident(key) + (f" {self.opclass}" if self.opclass else "")
            for key in self.keys
        )


def _key(*columns: str) -> Index:
    return Index(name="_".join(columns), keys=columns)


# Indexes Airbyte does not create (it indexes only _airbyte_extracted_at, plus the key and cursor in
# dedup mode) but that the lookups here need to stay fast on large tables. The README lists them.
RECOMMENDED_INDEXES: dict[str, tuple[Index, ...]] = {
    "users": (_key("id", EXTRACTED_AT),),
    # The latest version of one call; calls by date; one rep's calls by date.
    "calls": (_key("id", EXTRACTED_AT), _key("started"), _key("primaryUserId", "started")),
    "extensiveCalls": (
        _key("id", EXTRACTED_AT),
        _key("startdatetime"),
        # The calls of a CRM account or opportunity, by id (jsonb containment on the CRM context).
        Index(name="context", keys=("context",), method="gin", opclass="jsonb_path_ops"),
        # One rep's calls by date, for rep_stats.
        Index(name="rep_startdatetime", keys=("(\"metaData\" ->> 'primaryUserId')", "startdatetime")),
    ),
    # The transcript of one call; the newest transcribed call, for data_status; the words said, for
    # gong_search_transcripts (full text, accents folded: see wording.py).
    "callTranscripts": (
        _key("callId", EXTRACTED_AT),
        _key("started"),
        Index(name="words", keys=("(" + transcript_words_sql('"transcript"') + ")",), method="gin"),
    ),
    "answeredScorecards": (_key("callId"), _key("answeredScorecardId", EXTRACTED_AT)),
    "scorecards": (_key("scorecardId", EXTRACTED_AT),),
}

_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]")


def table_name(stream: str, prefix: str = "") -> str:
    """The table name destination-postgres gives a stream: prefix first, characters outside
    [A-Za-z0-9_] turned into `_`, and a leading digit escaped with `_`."""
    name = _NOT_IDENTIFIER.sub("_", prefix + stream)
    return f"_{name}" if name[:1].isdigit() else name


def quote_ident(name: str) -> str:
    """A Postgres identifier quoted so that its case and any character survive."""
    return '"' + name.replace('"', '""') + '"'


def create_table_sql(layout: StreamLayout, schema: str, prefix: str = "") -> str:
    columns = ", ".join(f"{quote_ident(name)} {kind}" for name, kind in layout.columns + AIRBYTE_COLUMNS)
    return f"CREATE TABLE {quote_ident(schema)}.{quote_ident(table_name(layout.name, prefix))} ({columns})"


def airbyte_index_sql(layout: StreamLayout, schema: str, prefix: str = "") -> str:
    """The one index destination-postgres always creates."""
    table = table_name(layout.name, prefix)
    return f"CREATE INDEX ON {quote_ident(schema)}.{quote_ident(table)} ({quote_ident(EXTRACTED_AT)})"


def recommended_index_sql(schema: str, prefix: str = "", streams: Iterable[str] = tuple(RECOMMENDED_INDEXES)) -> list[str]:
    """CREATE INDEX statements for RECOMMENDED_INDEXES, for the README and the sample loader."""
    statements = []
    for stream in streams:
        table = table_name(stream, prefix)
        for index in RECOMMENDED_INDEXES[stream]:
            # Postgres keeps 63 bytes of a name; the index's own name makes it unique per table.
            name = f"sophia_{table}_{index.name}"[:63]
            using = f" USING {index.method}" if index.method != "btree" else ""
            statements.append(
                f"CREATE INDEX IF NOT EXISTS {quote_ident(name)} "
                f"ON {quote_ident(schema)}.{quote_ident(table)}{using} ({index.key_sql()})"
            )
    return statements
