"""An in-process summary of every call: its CRM objects, customer-side people and trackers.

The questions across calls (which deals are slipping, how often a tracker fired, what changed)
aggregate over every call. Gong keeps deals and trackers only inside each call's JSON, so asking
Postgres would read every call's JSON on every question (seconds at 100,000 calls). Instead the
summary is read once, with one statement that lets Postgres pick out the few fields needed, and
kept until the data changes: it is keyed by the newest `_airbyte_extracted_at` of extensiveCalls
(freshness.py reads that at most once a minute), so a sync that lands shows up within a minute.
Nothing is written anywhere: the read-only role is enough.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import anyio
from pydantic_core import from_json

from sophia_mcp.gong import layout
from sophia_mcp.gong.queries.common import fields, number
from sophia_mcp.gong.schema import GongSchema
from sophia_mcp.gong.sql import first_crm_id, first_crm_name, full_name, is_latest
from sophia_mcp.postgres.readonly import ReadOnlyPool

# One process holds at most this many calls in its summary (about 400 bytes each).
MAX_CALLS = 2_000_000
# Reading every call takes seconds at 100,000 calls: more than one lookup may take.
LOAD_TIMEOUT_MS = 120_000


@dataclass(frozen=True, slots=True)
class OpportunityAtCall:
    id: str
    name: str | None
    stage: str | None
    probability: float | None
    amount: float | None
    close_date: str | None


@dataclass(frozen=True, slots=True)
class CallSummary:
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


def _statement(schema: GongSchema) -> str:
    extensive = schema.table("extensiveCalls")

    def e(column: str) -> str:
        return extensive.col("e", column)

    context, parties, content, meta = e("context"), e("parties"), e("content"), e("metaData")
    opportunity = '$[*].objects[*] ? (@.objectType == "Opportunity"'
    # One jsonpath per figure (Postgres evaluates them without building rows), packed in one array
    # so that this side parses one small JSON text per call.
    packed = (
        "jsonb_build_array("
        f"COALESCE(NULLIF(jsonb_path_query_array({context}, '{opportunity} && @.timing == \"TimeOfCall\")'), '[]'), "
        f"jsonb_path_query_array({context}, '{opportunity})')), "
        f"jsonb_path_query_array({parties}, '$[*] ? (@.affiliation == \"External\").emailAddress'), "
        f"jsonb_path_query_array({parties}, "
        "'$[*] ? (@.affiliation == \"External\" && !exists(@.emailAddress)).name'), "
        f"jsonb_path_query_array({content}, '$.trackers[*] ? (@.count > 0 && exists(@.name)).name'), "
        f"jsonb_path_query_array({content}, '$.trackers[*] ? (@.count > 0 && exists(@.name)).count'))::text"
    )
    return (
        f"SELECT {e('id')}::text AS id, {e('startdatetime')} AS started, {e(layout.EXTRACTED_AT)} AS extracted, "
        "f.first_extracted, "
        f"{meta} ->> 'primaryUserId' AS rep_id, {meta} ->> 'title' AS title, "
        f"{first_crm_id(context, 'Account')} AS account_id, {first_crm_name(context, 'Account')} AS account_name, "
        f"{packed} AS packed "
        # A join, not a subquery per row: a correlated subquery would keep the whole statement out
        # of Postgres's parallel workers, and the jsonpath work is what they share.
        f"FROM {extensive.sql} e JOIN (SELECT {extensive.col('g', 'id')} AS id, "
        f"min({extensive.col('g', layout.EXTRACTED_AT)}) AS first_extracted FROM {extensive.sql} g "
        f"GROUP BY 1) f ON f.id = {e('id')} "
        f"WHERE {is_latest(extensive, 'e')} AND {e('startdatetime')} IS NOT NULL LIMIT {MAX_CALLS}"
    )


async def load_summary(pool: ReadOnlyPool, schema: GongSchema, as_of: datetime | None) -> Summary:
    rows = await pool.fetch_bulk(
        _statement(schema), max_rows=MAX_CALLS, max_bytes=2_000_000_000, timeout_ms=LOAD_TIMEOUT_MS
    )
    users: dict[str, tuple[str | None, str | None]] = {}
    if schema.has("users"):
        table = schema.table("users")
        user_rows = await pool.fetch_bulk(
            f"SELECT {table.col('u', 'id')} AS id, {full_name(table, 'u')} AS name, {table.col('u', 'emailAddress')} AS email "
            f"FROM {table.sql} u WHERE {is_latest(table, 'u')}",
            max_rows=MAX_CALLS,
            max_bytes=2_000_000_000,
            timeout_ms=LOAD_TIMEOUT_MS,
        )
        users = {row["id"]: (row["name"], row["email"]) for row in user_rows}
    # Parsing takes a second or two at 100,000 calls: in a worker thread, so the event loop goes on
    # answering other requests meanwhile.
    calls = await anyio.to_thread.run_sync(_calls, rows)
    return Summary(as_of=as_of, calls=calls, users=users)


def _calls(rows: list[Any]) -> list[CallSummary]:
    return sorted((_call(row) for row in rows), key=lambda call: (call.started, call.id))


def _call(row: Any) -> CallSummary:
    opportunities, emails, names, tracker_names, tracker_counts = from_json(row["packed"])
    people = {str(email).strip().lower(): str(email) for email in emails if email}
    people.update({str(name).strip().lower(): str(name) for name in names if name})
    return CallSummary(
        id=row["id"],
        started=row["started"],
        extracted=row["extracted"],
        first_extracted=row["first_extracted"] or row["extracted"],
        rep_id=row["rep_id"],
        title=row["title"],
        account_id=row["account_id"],
        account_name=row["account_name"],
        opportunities=_opportunities(opportunities),
        customers=tuple(people.items()),
        trackers=tuple(
            (str(name), int(count))
            for name, count in zip(tracker_names, tracker_counts)
            if isinstance(count, (int, float)) and not isinstance(count, bool)
        ),
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
