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

import json
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sophia_mcp.gong import layout
from sophia_mcp.gong.queries.common import fields, number
from sophia_mcp.gong.schema import GongSchema
from sophia_mcp.gong.sql import first_crm_id, first_crm_name, is_latest
from sophia_mcp.postgres.readonly import ReadOnlyPool

# One process holds at most this many calls in its summary (about 400 bytes each).
MAX_CALLS = 2_000_000


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
    rep_id: str | None
    title: str | None
    account_id: str | None
    account_name: str | None
    opportunities: tuple[OpportunityAtCall, ...]
    # (email or name, display name) of each customer-side party.
    customers: tuple[tuple[str, str], ...]
    # (tracker name, times it fired) for trackers that fired.
    trackers: tuple[tuple[str, int], ...]


@dataclass
class Summary:
    as_of: datetime | None
    # Oldest first.
    calls: list[CallSummary]
    starts: list[datetime] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.starts = [call.started for call in self.calls]

    @property
    def newest_call(self) -> datetime | None:
        return self.starts[-1] if self.starts else None

    def between(self, since: datetime | None, until: datetime | None) -> Sequence[CallSummary]:
        """Calls started in [since, until), oldest first."""
        low = bisect_left(self.starts, since) if since else 0
        high = bisect_left(self.starts, until) if until else len(self.calls)
        return self.calls[low:high]


def _statement(schema: GongSchema) -> str:
    extensive = schema.table("extensiveCalls")

    def e(column: str) -> str:
        return extensive.col("e", column)

    context, parties, content, meta = e("context"), e("parties"), e("content"), e("metaData")
    opportunities = (
        f"(SELECT jsonb_agg(jsonb_build_array(o ->> 'objectId', o ->> 'timing', o -> 'fields')) "
        f"FROM jsonb_path_query({context}, 'strict $[*].objects[*] ? (@.objectType == \"Opportunity\")', '{{}}', true) o)"
    )
    customers = (
        f"(SELECT jsonb_agg(jsonb_build_array(p ->> 'emailAddress', p ->> 'name')) "
        f"FROM jsonb_path_query({parties}, 'strict $[*] ? (@.affiliation == \"External\")', '{{}}', true) p)"
    )
    trackers = (
        f"(SELECT jsonb_agg(jsonb_build_array(t ->> 'name', t -> 'count')) "
        f"FROM jsonb_path_query({content}, 'strict $.trackers[*] ? (@.count > 0)', '{{}}', true) t)"
    )
    return (
        f"SELECT {e('id')}::text AS id, {e('startdatetime')} AS started, {e(layout.EXTRACTED_AT)} AS extracted, "
        f"{meta} ->> 'primaryUserId' AS rep_id, {meta} ->> 'title' AS title, "
        f"{first_crm_id(context, 'Account')} AS account_id, {first_crm_name(context, 'Account')} AS account_name, "
        f"{opportunities}::text AS opportunities, {customers}::text AS customers, {trackers}::text AS trackers "
        f"FROM {extensive.sql} e WHERE {is_latest(extensive, 'e')} AND {e('startdatetime')} IS NOT NULL "
        f"ORDER BY {e('startdatetime')}, {e('id')} LIMIT {MAX_CALLS}"
    )


async def load_summary(pool: ReadOnlyPool, schema: GongSchema, as_of: datetime | None) -> Summary:
    rows = await pool.fetch_bulk(_statement(schema), max_rows=MAX_CALLS, max_bytes=2_000_000_000)
    return Summary(as_of=as_of, calls=[_call(row) for row in rows])


def _call(row: Any) -> CallSummary:
    return CallSummary(
        id=row["id"],
        started=row["started"],
        extracted=row["extracted"],
        rep_id=row["rep_id"],
        title=row["title"],
        account_id=row["account_id"],
        account_name=row["account_name"],
        opportunities=_opportunities(row["opportunities"]),
        customers=_customers(row["customers"]),
        trackers=_trackers(row["trackers"]),
    )


def _opportunities(text: str | None) -> tuple[OpportunityAtCall, ...]:
    """One per opportunity id: the stage at the time of the call when Gong gave both timings."""
    chosen: dict[str, tuple[str | None, Any]] = {}
    for item in json.loads(text) if text else ():
        object_id, timing, values = item
        if not object_id:
            continue
        if object_id not in chosen or timing == "TimeOfCall":
            chosen[object_id] = (timing, values)
    result = []
    for object_id, (_, values) in chosen.items():
        crm = fields({"fields": values})
        stage = crm.get("StageName")
        close = crm.get("CloseDate")
        result.append(
            OpportunityAtCall(
                id=str(object_id),
                name=str(crm["Name"]) if crm.get("Name") is not None else None,
                stage=str(stage) if stage is not None else None,
                probability=number(crm.get("Probability")),
                amount=number(crm.get("Amount")),
                close_date=str(close)[:10] if close is not None else None,
            )
        )
    return tuple(result)


def _customers(text: str | None) -> tuple[tuple[str, str], ...]:
    people = {}
    for email, name in json.loads(text) if text else ():
        key = (email or name or "").strip().lower()
        if key:
            people.setdefault(key, name or email)
    return tuple(people.items())


def _trackers(text: str | None) -> tuple[tuple[str, int], ...]:
    fired = []
    for name, count in json.loads(text) if text else ():
        if isinstance(name, str) and isinstance(count, (int, float)) and not isinstance(count, bool) and count > 0:
            fired.append((name, int(count)))
    return tuple(fired)
