"""account_activity: one CRM account's calls, people and opportunity stages over time.

Accounts exist only in the CRM `context` of extensive calls (Gong has no account stream). The
account is first resolved from an id or part of a name; then every call whose context holds it
is read once (a jsonb containment test) and summarised here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from sophia_mcp.gong import arguments
from sophia_mcp.gong.arguments import Moment
from sophia_mcp.gong.filters import utc_moment
from sophia_mcp.gong.errors import AmbiguousAccountError, InvalidArgumentError, NotFoundError
from sophia_mcp.gong.models import Account, AccountActivity, CallRow, Contact, OpportunityHistory, StageSpan
from sophia_mcp.gong.queries.common import account_of, crm_containment, crm_objects_of, fields, loads, number
from sophia_mcp.gong.schema import GongSchema
from sophia_mcp.gong.sql import Query, first_crm_id, first_crm_name, first_crm_object, full_name, is_latest
from sophia_mcp.postgres.readonly import ReadOnlyPool, ReadOnlySession

# Calls of one account read to build the summary; the newest are kept when an account has more.
MAX_ACCOUNT_CALLS = 500
MAX_PEOPLE = 25
MAX_CANDIDATES = 10


async def account_activity(
    pool: ReadOnlyPool,
    schema: GongSchema,
    account: str,
    since: Moment,
    until: Moment,
    limit: int,
) -> AccountActivity:
    wanted = arguments.text("account", account)
    if wanted is None:
        raise InvalidArgumentError("account is required: a CRM account id or part of its name.")
    start, end = utc_moment(since), utc_moment(until)
    extensive = schema.table("extensiveCalls")
    async with pool.session() as session:
        found = await _resolve(session, schema, wanted)
        query = Query()
        where = [
            is_latest(extensive, "e"),
            f"{extensive.col('e', 'context')} @> {query.param(crm_containment('Account', found.id), 'jsonb')}",
        ]
        if start:
            where.append(f"{extensive.col('e', 'startdatetime')} >= {query.param(start, 'timestamptz')}")
        if end:
            where.append(f"{extensive.col('e', 'startdatetime')} < {query.param(end, 'timestamptz')}")
        rows = await session.fetch(
            f"SELECT {extensive.col('e', 'id')}::text AS id, {extensive.col('e', 'startdatetime')} AS started, "
            f"{extensive.col('e', 'metaData')}::text AS meta, {extensive.col('e', 'parties')}::text AS parties, "
            f"{extensive.col('e', 'context')}::text AS context, "
            f"{extensive.col('e', '_airbyte_extracted_at')} AS extracted_at, "
            "count(*) OVER () AS total "
            f"FROM {extensive.sql} e WHERE {' AND '.join(where)} "
            f"ORDER BY {extensive.col('e', 'startdatetime')} DESC NULLS LAST, {extensive.col('e', 'id')} DESC "
            f"LIMIT {MAX_ACCOUNT_CALLS}",
            *query.args,
        )
        calls = [_Call(row) for row in rows]
        names = await _rep_names(session, schema, {call.rep_id for call in calls[:limit] if call.rep_id})
    return AccountActivity(
        account=found,
        since=start,
        until=end,
        calls_total=rows[0]["total"] if rows else 0,
        calls=[call.row(found, names) for call in calls[:limit]],
        people=_people(calls),
        opportunities=_opportunities(calls),
    )


class _Call:
    """One extensive call of the account, decoded once."""

    def __init__(self, row: asyncpg.Record) -> None:
        meta = loads(row["meta"]) or {}
        self.id: str = row["id"]
        self.started: datetime | None = row["started"]
        self.meta: dict[str, Any] = meta if isinstance(meta, dict) else {}
        self.rep_id: str | None = self.meta.get("primaryUserId")
        self.parties = [p for p in loads(row["parties"]) or [] if isinstance(p, dict)]
        self.context = loads(row["context"])
        self.extracted_at: datetime = row["extracted_at"]

    def row(self, account: Account, names: dict[str, str]) -> CallRow:
        duration = number(self.meta.get("duration"))
        return CallRow(
            id=self.id,
            title=self.meta.get("title"),
            started=self.started,
            duration_s=int(duration) if duration is not None else None,
            direction=self.meta.get("direction"),
            rep=names.get(self.rep_id or ""),
            rep_id=self.rep_id,
            account=account.name,
            account_id=account.id,
        )


async def _resolve(session: ReadOnlySession, schema: GongSchema, wanted: str) -> Account:
    """The account with this CRM id, else the one whose name contains the text; its fields as the
    most recent sync saw them."""
    extensive = schema.table("extensiveCalls")
    query = Query()
    context, extracted = extensive.col("e", "context"), extensive.col("e", "_airbyte_extracted_at")
    account_id, name = first_crm_id(context, "Account"), first_crm_name(context, "Account")
    columns = (
        f"SELECT {account_id} AS id, {name} AS name, {extracted} AS extracted, "
        f"{first_crm_object(context, 'Account')}::text AS account FROM {extensive.sql} e"
    )
    by_id = query.param(crm_containment("Account", wanted), "jsonb")
    # By id through the CRM context's GIN index; by name (a scan) only when no account has that id.
    rows = await session.fetch(
        "SELECT id, name, count(*) AS calls, max(extracted) AS seen, "
        "(array_agg(account ORDER BY extracted DESC))[1] AS latest FROM ("
        f"{columns} WHERE {context} @> {by_id} AND {is_latest(extensive, 'e')} UNION ALL "
        f"{columns} WHERE NOT EXISTS (SELECT 1 FROM {extensive.sql} p WHERE {extensive.col('p', 'context')} @> {by_id}) "
        f"AND {name} ILIKE {query.param(arguments.contains_pattern(wanted), 'text')} AND {is_latest(extensive, 'e')}"
        f") matched GROUP BY id, name ORDER BY calls DESC, id LIMIT {MAX_CANDIDATES + 1}",
        *query.args,
    )
    exact = [r for r in rows if r["id"] == wanted or (r["name"] or "").lower() == wanted.lower()]
    ids = {r["id"] for r in exact} or {r["id"] for r in rows}
    if not ids:
        raise NotFoundError(f'No account matches "{wanted}" in the CRM context of the synced calls.')
    if len(ids) > 1:
        listed = "; ".join(f"{r['name']} (id {r['id']}, {r['calls']} calls)" for r in rows[:MAX_CANDIDATES])
        raise AmbiguousAccountError(f'Several accounts match "{wanted}": {listed}. Pass one id as account.')
    # One id can come with several names (renamed in the CRM): the most recently synced wins.
    chosen = [r for r in rows if r["id"] in ids]
    latest = max(chosen, key=lambda r: r["seen"])
    return account_of(loads(latest["latest"])) or Account(id=latest["id"], name=latest["name"])


async def _rep_names(session: ReadOnlySession, schema: GongSchema, rep_ids: set[str]) -> dict[str, str]:
    if not rep_ids or not schema.has("users"):
        return {}
    users = schema.table("users")
    query = Query()
    rows = await session.fetch(
        f"SELECT {users.col('u', 'id')} AS id, {full_name(users, 'u')} AS name FROM {users.sql} u "
        f"WHERE {is_latest(users, 'u')} AND {users.col('u', 'id')} = ANY({query.param(sorted(rep_ids), 'text[]')})",
        *query.args,
    )
    return {row["id"]: row["name"] for row in rows if row["name"]}


def _people(calls: list[_Call]) -> list[Contact]:
    """Who took part in the account's calls: the customer's people first, most calls first."""
    seen: dict[str, Contact] = {}
    for call in calls:
        if call.started is None:
            continue
        for party in call.parties:
            key = (party.get("emailAddress") or party.get("name") or "").lower()
            if not key:
                continue
            contact = seen.get(key)
            if contact is None:
                seen[key] = Contact(
                    name=party.get("name"),
                    email=party.get("emailAddress"),
                    title=party.get("title"),
                    affiliation=party.get("affiliation"),
                    calls=1,
                    last_call=call.started.date(),
                )
            else:
                contact.calls += 1
                contact.last_call = max(contact.last_call, call.started.date())
    ranked = sorted(seen.values(), key=lambda c: (c.affiliation != "External", -c.calls, c.name or ""))
    return ranked[:MAX_PEOPLE]


def _opportunities(calls: list[_Call]) -> list[OpportunityHistory]:
    """Each opportunity's stage at the time of each call, merged into spans, oldest first; its
    name, stage and amount as the most recently extracted call saw them ("Now")."""
    histories: dict[str, OpportunityHistory] = {}
    seen_at: dict[str, datetime] = {}
    for call in sorted((c for c in calls if c.started), key=lambda c: c.started or datetime.min):
        for crm_object in crm_objects_of(call.context, "Opportunity"):
            object_id = str(crm_object.get("objectId") or "")
            if not object_id:
                continue
            values = fields(crm_object)
            history = histories.setdefault(object_id, OpportunityHistory(id=object_id, stages=[]))
            stage = values.get("StageName")
            if crm_object.get("timing") != "TimeOfCall":
                if object_id not in seen_at or call.extracted_at >= seen_at[object_id]:
                    seen_at[object_id] = call.extracted_at
                    history.name, history.stage = values.get("Name"), stage
                    history.amount, history.close_date = number(values.get("Amount")), values.get("CloseDate")
                continue
            if not isinstance(stage, str) or call.started is None:
                continue
            day = call.started.date()
            if history.stages and history.stages[-1].stage == stage:
                history.stages[-1].last_call = day
            else:
                history.stages.append(StageSpan(stage=stage, first_call=day, last_call=day))
    return list(histories.values())
