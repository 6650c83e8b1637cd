"""An in-process summary of every call: its CRM objects, customer-side people and trackers.

The questions across calls (which deals are slipping, how often a tracker fired, what changed)
aggregate over every call. Gong keeps deals and trackers only inside each call's JSON, so asking
Postgres would read every call's JSON on every question (seconds at 100,000 calls). Instead the
summary is read once, with one statement that lets Postgres pick out the few fields needed, and
kept until the data changes: it is keyed by the newest `_airbyte_extracted_at` of extensiveCalls
(freshness.py reads that at most once a minute), so a sync that lands shows up within a minute.

A summary knows what it was read from (`Source`: the rows extracted up to a watermark, and how many
there were). When the data moved, only the rows extracted after the watermark are read and merged,
provided the rows up to it are still all there (append syncs only add rows); otherwise, or when the
table was replaced, everything is read again. snapshot.py keeps a copy on the local disk so that a
new process starts from it the same way. Nothing is written to the database: the read-only role is enough.
"""

from __future__ import annotations

import gc
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from typing import Any, NamedTuple

import anyio
from pydantic_core import from_json

from sophia_mcp.gong import layout
from sophia_mcp.gong.queries.common import fields, number
from sophia_mcp.gong.schema import GongSchema, Table
from sophia_mcp.gong.sql import first_crm_id, first_crm_name, full_name, is_latest
from sophia_mcp.postgres.readonly import ReadOnlyPool

# One process holds at most this many calls in its summary (about 400 bytes each).
MAX_CALLS = 2_000_000
# Reading every call takes seconds at 100,000 calls: more than one lookup may take.
LOAD_TIMEOUT_MS = 120_000
# Changes when what the statement reads, or how a row becomes a CallSummary, changes: a snapshot
# made by another version is not used.
STATEMENT_VERSION = 2


# NamedTuples rather than dataclasses: a 100,000-call summary builds them in a fraction of the time.
class OpportunityAtCall(NamedTuple):
    id: str
    name: str | None
    stage: str | None
    probability: float | None
    amount: float | None
    close_date: str | None


class CallSummary(NamedTuple):
    id: str
    started: datetime
    extracted: datetime
    # When the first version of the call arrived (append syncs keep the older ones).
    first_extracted: datetime
    rep_id: str | None
    title: str | None
    account_id: str | None
    account_name: str | None
    opportunities: tuple[OpportunityAtCall, ...]
    # (email or name in lower case, as written) of each customer-side party.
    customers: tuple[tuple[str, str], ...]
    # (tracker name, times it fired) for trackers that fired.
    trackers: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Source:
    """What a summary was read from: extensiveCalls (`table`, an oid) of `database` (an oid), its
    rows extracted at or before `watermark`, `rows` of them."""

    database: int
    table: int
    watermark: datetime
    rows: int


@dataclass
class Summary:
    as_of: datetime | None
    # Oldest first.
    calls: list[CallSummary]
    # Gong user id -> (name, email), for reps.
    users: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    starts: list[datetime] = field(default_factory=list)
    # What the lookups derive from the calls (deals, tracker keys), built once per summary.
    derived: dict[str, Any] = field(default_factory=dict)
    # None for an empty table.
    source: Source | None = None

    def __post_init__(self) -> None:
        self.starts = [call.started for call in self.calls]

    @property
    def newest_call(self) -> datetime | None:
        return self.starts[-1] if self.starts else None

    def span(self, since: datetime | None, until: datetime | None) -> range:
        """Positions in `calls` of the calls started in [since, until)."""
        low = bisect_left(self.starts, since) if since else 0
        high = bisect_left(self.starts, until) if until else len(self.calls)
        return range(low, high)

    def between(self, since: datetime | None, until: datetime | None) -> Sequence[CallSummary]:
        """Calls started in [since, until), oldest first."""
        positions = self.span(since, until)
        return self.calls[positions.start : positions.stop]


def _source_statement(extensive: Table) -> str:
    """$1: the table's name, $2: a previous watermark (or NULL). Index-only scans on the
    `_airbyte_extracted_at` index destination-postgres creates."""
    extracted = extensive.col("t", layout.EXTRACTED_AT)
    return (
        "SELECT (SELECT oid FROM pg_database WHERE datname = current_database()) AS database, "
        "to_regclass($1)::oid AS table, m.watermark, "
        f"(SELECT count(*) FROM {extensive.sql} t WHERE {extracted} <= m.watermark) AS rows, "
        f"(SELECT count(*) FROM {extensive.sql} t WHERE {extracted} <= $2::timestamptz) AS rows_before "
        f"FROM (SELECT max({extracted}) AS watermark FROM {extensive.sql} t) m"
    )


def _statement(schema: GongSchema, *, since: bool) -> str:
    """Each call's latest version among the rows extracted at or before $1; with `since`, only the
    calls with a version extracted after $2 (their latest version, whatever its start)."""
    extensive = schema.table("extensiveCalls")

    def e(column: str) -> str:
        return extensive.col("e", column)

    context, parties, content, meta = e("context"), e("parties"), e("content"), e("metaData")
    extracted = e(layout.EXTRACTED_AT)
    opportunity = '$[*].objects[*] ? (@.objectType == "Opportunity"'
    # One jsonpath per figure (Postgres evaluates them without building rows). Each call's deals,
    # people and trackers come as one small JSON text each: calls that share one (a deal's state
    # over its calls, an account's contacts) are parsed once. Trackers come as [name, count, name,
    # count, ...]: one pass over `content`, the largest column (jsonb stores `name` before `count`).
    deals = (
        f"COALESCE(NULLIF(jsonb_path_query_array({context}, '{opportunity} && @.timing == \"TimeOfCall\")'), '[]'), "
        f"jsonb_path_query_array({context}, '{opportunity})'))::text"
    )
    people = (
        f"jsonb_build_array(jsonb_path_query_array({parties}, '$[*] ? (@.affiliation == \"External\").emailAddress'), "
        f"jsonb_path_query_array({parties}, '$[*] ? (@.affiliation == \"External\" && !exists(@.emailAddress)).name'))::text"
    )
    trackers = (
        f"jsonb_path_query_array({content}, '$.trackers[*] ? (@.count > 0 && exists(@.name))"
        '.keyvalue() ? (@.key == "name" || @.key == "count").value\')::text'
    )
    newer = "e_newer"
    latest = (
        f"NOT EXISTS (SELECT 1 FROM {extensive.sql} {newer} WHERE {extensive.col(newer, 'id')} = {e('id')} "
        f"AND {extensive.col(newer, layout.EXTRACTED_AT)} <= $1 "
        f"AND ({extensive.col(newer, layout.EXTRACTED_AT)}, {extensive.col(newer, layout.RAW_ID)}) "
        f"> ({extracted}, {e(layout.RAW_ID)}))"
    )
    first_of = f"min({extensive.col('g', layout.EXTRACTED_AT)})"
    if since:
        # Few rows: a lookup per call on the (id, _airbyte_extracted_at) index.
        first = f"(SELECT {first_of} FROM {extensive.sql} g WHERE {extensive.col('g', 'id')} = {e('id')}) AS first_extracted"
        source = f"{extensive.sql} e"
        where = f"{extracted} > $2 AND {extracted} <= $1"
    else:
        # A join, not a subquery per row: a correlated subquery would keep the whole statement out
        # of Postgres's parallel workers, and the jsonpath work is what they share.
        first = "f.first_extracted"
        source = (
            f"{extensive.sql} e JOIN (SELECT {extensive.col('g', 'id')} AS id, {first_of} AS first_extracted "
            f"FROM {extensive.sql} g GROUP BY 1) f ON f.id = {e('id')}"
        )
        where = f"{extracted} <= $1 AND {e('startdatetime')} IS NOT NULL"
    return (
        f"SELECT {e('id')}::text AS id, {e('startdatetime')} AS started, {extracted} AS extracted, {first}, "
        f"{meta} ->> 'primaryUserId' AS rep_id, {meta} ->> 'title' AS title, "
        f"{first_crm_id(context, 'Account')} AS account_id, {first_crm_name(context, 'Account')} AS account_name, "
        f"{deals} AS deals, {people} AS people, {trackers} AS trackers FROM {source} WHERE {where} AND {latest} LIMIT {MAX_CALLS}"
    )


async def load_summary(
    pool: ReadOnlyPool, schema: GongSchema, as_of: datetime | None, base: Summary | None = None
) -> Summary:
    """The summary of extensiveCalls as it is now. With `base` (an earlier summary of the same
    table, from memory or a snapshot), only what arrived since is read, when that is safe."""
    extensive = schema.table("extensiveCalls")
    previous = base.source if base is not None else None
    mark = await pool.fetchrow(_source_statement(extensive), extensive.sql, previous.watermark if previous else None)
    if mark is None or mark["watermark"] is None or mark["table"] is None:
        return Summary(as_of=as_of, calls=[], users=await _users(pool, schema))
    source = Source(int(mark["database"]), int(mark["table"]), mark["watermark"], int(mark["rows"]))
    appended = (
        base is not None
        and previous is not None
        and (previous.database, previous.table) == (source.database, source.table)
        # Every row read before is still there (append syncs only add rows).
        and mark["rows_before"] == previous.rows
        and source.watermark >= previous.watermark
    )
    derived: dict[str, Any] = {}
    if appended and base is not None and previous is not None:
        if source.watermark == previous.watermark and source.rows == previous.rows:
            calls, derived = base.calls, base.derived
        else:
            rows = await _fetch(pool, _statement(schema, since=True), source.watermark, previous.watermark)
            calls = await anyio.to_thread.run_sync(_merge, base.calls, rows)
    else:
        rows = await _fetch(pool, _statement(schema, since=False), source.watermark)
        # Parsing takes a second at 100,000 calls: in a worker thread, so the event loop goes on
        # answering other requests meanwhile.
        calls = await anyio.to_thread.run_sync(_calls, rows)
    users = await _users(pool, schema)
    return Summary(as_of=as_of, calls=calls, users=users, derived=derived, source=source)


async def _fetch(pool: ReadOnlyPool, sql: str, *args: Any) -> list[Any]:
    # A few hundred bytes a row (a few JSON arrays of names): the row cap is the bound.
    return await pool.fetch_bulk(sql, *args, max_rows=MAX_CALLS, max_bytes=None, timeout_ms=LOAD_TIMEOUT_MS)


async def _users(pool: ReadOnlyPool, schema: GongSchema) -> dict[str, tuple[str | None, str | None]]:
    if not schema.has("users"):
        return {}
    table = schema.table("users")
    user_rows = await _fetch(
        pool,
        f"SELECT {table.col('u', 'id')} AS id, {full_name(table, 'u')} AS name, {table.col('u', 'emailAddress')} AS email "
        f"FROM {table.sql} u WHERE {is_latest(table, 'u')}",
    )
    return {row["id"]: (row["name"], row["email"]) for row in user_rows}


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Building hundreds of thousands of small objects triggers the cycle collector over and over,
    each time walking every object alive (the rows just read included): 3-4 times the parsing
    itself. Nothing built here forms a cycle, so it waits until the end; what was built then moves
    out of the collector's sight for good (`gc.freeze`), so later collections do not walk it either.
    Objects frozen are still freed when no longer used."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


class _Parser:
    """Rows to CallSummary. What repeats over calls (a deal's state, an account's contacts, a set
    of trackers, a load's extraction time) is parsed once and shared."""

    def __init__(self) -> None:
        self._deals: dict[str, tuple[OpportunityAtCall, ...]] = {}
        self._people: dict[str, tuple[tuple[str, str], ...]] = {}
        self._trackers: dict[str, tuple[tuple[str, int], ...]] = {}
        self._moments: dict[datetime, datetime] = {}
        self._texts: dict[str | None, str | None] = {}

    def call(self, row: Any) -> CallSummary:
        deals = self._deals.get(text := row["deals"])
        if deals is None:
            deals = self._deals[text] = _opportunities(from_json(text))
        people = self._people.get(text := row["people"])
        if people is None:
            people = self._people[text] = _customers(from_json(text))
        trackers = self._trackers.get(text := row["trackers"])
        if trackers is None:
            trackers = self._trackers[text] = _tracker_counts(from_json(text))
        extracted = self._moments.setdefault(row["extracted"], row["extracted"])
        first = row["first_extracted"]
        first = self._moments.setdefault(first, first) if first is not None else extracted
        text = self._texts.setdefault
        return CallSummary(
            row["id"], row["started"], extracted, first, text(row["rep_id"], row["rep_id"]), row["title"],
            text(row["account_id"], row["account_id"]), text(row["account_name"], row["account_name"]),
            deals, people, trackers,
        )  # fmt: skip


# Oldest first (ties by id).
_order = attrgetter("started", "id")


def _calls(rows: list[Any]) -> list[CallSummary]:
    parser = _Parser()
    with no_cycle_collection():
        calls = [parser.call(row) for row in rows]
        calls.sort(key=_order)
    return calls


def _merge(calls: list[CallSummary], rows: list[Any]) -> list[CallSummary]:
    """`calls` with the calls of `rows` (each call's latest version) replacing or joining them; a
    call whose latest version has no start any more leaves."""
    parser = _Parser()
    with no_cycle_collection():
        known = {call.id: call for call in calls}
        for row in rows:
            known.pop(row["id"], None)
            if row["started"] is not None:
                known[row["id"]] = parser.call(row)
        merged = sorted(known.values(), key=_order)
    return merged


def _customers(found: list[Any]) -> tuple[tuple[str, str], ...]:
    emails, names = found
    people = {str(email).strip().lower(): str(email) for email in emails if email}
    people.update({str(name).strip().lower(): str(name) for name in names if name})
    return tuple(people.items())


def _tracker_counts(pairs: list[Any]) -> tuple[tuple[str, int], ...]:
    return tuple(
        (str(name), int(count))
        for name, count in zip(pairs[0::2], pairs[1::2])
        if isinstance(count, (int, float)) and not isinstance(count, bool)
    )


def _opportunities(objects: list[Any]) -> tuple[OpportunityAtCall, ...]:
    """One per opportunity id (the statement prefers the objects as of the time of the call)."""
    chosen: dict[str, Any] = {}
    for item in objects:
        if isinstance(item, dict) and item.get("objectId"):
            chosen.setdefault(str(item["objectId"]), item)
    result = []
    for object_id, item in chosen.items():
        crm = fields(item)
        stage = crm.get("StageName")
        close = crm.get("CloseDate")
        result.append(
            OpportunityAtCall(
                id=object_id,
                name=str(crm["Name"]) if crm.get("Name") is not None else None,
                stage=str(stage) if stage is not None else None,
                probability=number(crm.get("Probability")),
                amount=number(crm.get("Amount")),
                close_date=str(close)[:10] if close is not None else None,
            )
        )
    return tuple(result)
