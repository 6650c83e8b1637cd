"""Which Gong tables a database holds, and how their columns map to the names Airbyte documents.

Discovery reads `information_schema` for the configured schema and table prefix. Names are matched
exactly first and then case-insensitively (a destination version that folds case still works).
A stream whose table is absent, or lacks its key or the `_airbyte_*` columns, is reported missing;
only the lookups that need it are refused, each naming the stream to enable in Airbyte.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sophia_mcp.gong import layout
from sophia_mcp.gong.errors import StreamMissingError
from sophia_mcp.gong.models import SchemaReport, StreamMapping
from sophia_mcp.postgres.readonly import ReadOnlyPool

_NUMERIC_TYPES = frozenset({"bigint", "integer", "smallint", "numeric"})

# What each stream feeds, for the schema report (and so a user knows what enabling it brings).
USED_BY: dict[str, tuple[str, ...]] = {
    "users": ("rep and reviewer names", "rep filter by name or email", "gong_list_users", "gong://users/{user_id}"),
    "calls": ("gong_search_calls", "call metadata in gong_get_call"),
    "extensiveCalls": (
        "parties, CRM account and opportunities, brief, topics, trackers and stats in gong_get_call",
        "account and opportunity filters of gong_search_calls",
        "gong_account_activity",
        "gong_rep_stats",
        "speaker names in transcripts",
    ),
    "scorecards": ("question texts of scorecards in gong_get_call",),
    "answeredScorecards": ("scorecards in gong_get_call",),
    "callTranscripts": ("gong_get_transcript", "gong://calls/{call_id}/transcript"),
}

RULES = (
    "Tables are looked for in the configured schema as prefix + stream name (destination-postgres naming), "
    "exactly first, then ignoring case.",
    "Columns are matched to the names in Gong's stream schemas the same way; a column not found reads as empty.",
    "A table counts only if it has its record id and the _airbyte_raw_id and _airbyte_extracted_at columns.",
    "Append syncs keep every version of a record: the row with the newest _airbyte_extracted_at "
    "(then _airbyte_raw_id) per id is read.",
    "extensiveCalls.id (bigint) is compared with the text call ids of calls and callTranscripts as a number.",
    "Accounts and opportunities come from the CRM context of extensiveCalls; speaker names from its parties.",
)

_COLUMNS_SQL = """
SELECT table_name, column_name, data_type
FROM information_schema.columns
WHERE table_schema = $1 AND lower(table_name) = ANY($2::text[])
ORDER BY table_name, ordinal_position
"""


@dataclass(frozen=True)
class Table:
    stream: str
    schema: str
    name: str
    # Documented column name -> the name in this database (only for columns found).
    columns: dict[str, str]
    types: dict[str, str]

    @property
    def sql(self) -> str:
        return f"{layout.quote_ident(self.schema)}.{layout.quote_ident(self.name)}"

    @property
    def key(self) -> str:
        return layout.STREAMS[self.stream].primary_key

    def has(self, column: str) -> bool:
        return column in self.columns

    def col(self, alias: str, column: str) -> str:
        """`alias."column"` as this database spells it, or NULL when the column is absent."""
        if column not in self.columns:
            return "NULL"
        return f"{alias}.{layout.quote_ident(self.columns[column])}"

    def is_numeric(self, column: str) -> bool:
        return self.types.get(column) in _NUMERIC_TYPES

    @property
    def missing_columns(self) -> list[str]:
        return [name for name in layout.STREAMS[self.stream].column_names if name not in self.columns]


@dataclass(frozen=True)
class GongSchema:
    schema: str
    prefix: str
    tables: dict[str, Table]
    # Stream -> why it cannot be used, for each stream not in `tables`.
    problems: dict[str, str]
    discovered_at: float = field(default_factory=time.monotonic)

    def has(self, stream: str) -> bool:
        return stream in self.tables

    def table(self, stream: str) -> Table:
        if stream not in self.tables:
            raise StreamMissingError(stream, self.problems[stream])
        return self.tables[stream]

    @property
    def missing(self) -> list[str]:
        return list(self.problems)

    def report(self) -> SchemaReport:
        streams = []
        for stream in layout.STREAMS:
            table = self.tables.get(stream)
            used_by = list(USED_BY[stream])
            if table is None:
                streams.append(
                    StreamMapping(stream=stream, found=False, problem=self.problems[stream], used_by=used_by)
                )
                continue
            renamed = {name: actual for name, actual in table.columns.items() if name != actual}
            streams.append(
                StreamMapping(
                    stream=stream,
                    found=True,
                    table=f"{table.schema}.{table.name}",
                    key=table.key,
                    columns=dict(table.types),
                    renamed=renamed or None,
                    missing_columns=table.missing_columns or None,
                    used_by=used_by,
                )
            )
        return SchemaReport(schema_name=self.schema, prefix=self.prefix or None, streams=streams, rules=list(RULES))


async def discover(pool: ReadOnlyPool, schema: str = "public", prefix: str = "") -> GongSchema:
    expected = {stream: layout.table_name(stream, prefix) for stream in layout.STREAMS}
    rows = await pool.fetch(_COLUMNS_SQL, schema, [name.lower() for name in expected.values()])
    found: dict[str, dict[str, str]] = {}
    for row in rows:
        found.setdefault(row["table_name"], {})[row["column_name"]] = row["data_type"]
    tables: dict[str, Table] = {}
    problems: dict[str, str] = {}
    for stream, name in expected.items():
        actual = _match(name, found)
        if actual is None:
            problems[stream] = f'there is no table "{name}" in schema "{schema}" that this role can read'
            continue
        table = _map_columns(stream, schema, actual, found[actual])
        absent = [c for c in (table.key, layout.EXTRACTED_AT, layout.RAW_ID) if not table.has(c)]
        if absent:
            problems[stream] = f'table "{schema}"."{actual}" has no column {", ".join(absent)}, so it is not Airbyte\'s'
            continue
        tables[stream] = table
    return GongSchema(schema=schema, prefix=prefix, tables=tables, problems=problems)


def _match(wanted: str, candidates: dict[str, object]) -> str | None:
    if wanted in candidates:
        return wanted
    return next((name for name in sorted(candidates) if name.lower() == wanted.lower()), None)


def _map_columns(stream: str, schema: str, table_name: str, present: dict[str, str]) -> Table:
    columns: dict[str, str] = {}
    types: dict[str, str] = {}
    for name in layout.STREAMS[stream].column_names:
        actual = _match(name, present)
        if actual is not None:
            columns[name] = actual
            types[name] = present[actual]
    return Table(stream=stream, schema=schema, name=table_name, columns=columns, types=types)
