"""data_status: per Gong stream, whether its table is there, how much it holds and how fresh it is."""

from __future__ import annotations

from sophia_mcp.gong import layout
from sophia_mcp.gong.models import DataStatus, StreamStatus
from sophia_mcp.gong.schema import GongSchema
from sophia_mcp.postgres.readonly import ReadOnlyPool

# The column that tells how recent each stream's newest record is.
NEWEST_COLUMN = {
    "calls": "started",
    "extensiveCalls": "startdatetime",
    "callTranscripts": "started",
    "answeredScorecards": "reviewTime",
}


async def data_status(pool: ReadOnlyPool, schema: GongSchema, stale_after_hours: float) -> DataStatus:
    streams = []
    async with pool.session() as session:
        for stream in layout.STREAMS:
            if not schema.has(stream):
                streams.append(
                    StreamStatus(
                        stream=stream,
                        found=False,
                        hint=f'Enable the "{stream}" stream in the Airbyte connection ({schema.problems[stream]}).',
                    )
                )
                continue
            table = schema.table(stream)
            extracted, key = table.col("t", layout.EXTRACTED_AT), table.col("t", table.key)
            newest = "NULL::timestamptz"
            if stream in NEWEST_COLUMN:
                newest = f"(SELECT max({table.col('t', NEWEST_COLUMN[stream])}) FROM {table.sql} t)"
            # One subquery per figure, so each gets its own plan: the counts walk the (key,
            # _airbyte_extracted_at) index the README recommends, the maxima read one index entry.
            row = await session.fetchrow(
                f"SELECT x.*, EXTRACT(EPOCH FROM now() - x.extracted) / 3600 AS age FROM (SELECT "
                f"(SELECT count(*) FROM {table.sql} t) AS rows, "
                f"(SELECT count(*) FROM (SELECT {key} FROM {table.sql} t WHERE {key} IS NOT NULL GROUP BY 1) k) AS records, "
                f"(SELECT max({extracted}) FROM {table.sql} t) AS extracted, {newest} AS newest) x"
            )
            age = round(float(row["age"]), 1) if row["age"] is not None else None
            fresh = age is not None and age <= stale_after_hours
            streams.append(
                StreamStatus(
                    stream=stream,
                    found=True,
                    table=f"{table.schema}.{table.name}",
                    rows=row["rows"],
                    records=row["records"],
                    last_extracted_at=row["extracted"],
                    newest=row["newest"],
                    age_hours=age,
                    fresh=fresh,
                    hint=None if fresh else _stale_hint(row["rows"], stale_after_hours),
                )
            )
    return DataStatus(schema_name=schema.schema, prefix=schema.prefix or None, streams=streams)


def _stale_hint(rows: int, hours: float) -> str:
    if rows == 0:
        return "The table is empty: run a sync of the Airbyte connection."
    return (
        f"Nothing extracted in the last {hours:g} hours: check the Airbyte connection's schedule and last job "
        "(a stream with few changes, such as answeredScorecards, may simply have had nothing new)."
    )
