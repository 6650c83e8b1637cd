"""search_calls: calls by text, dates, rep, account, opportunity, direction and duration, newest first."""

from __future__ import annotations

import asyncpg

from sophia_mcp.gong import arguments, cursors
from sophia_mcp.gong.filters import CallFilters
from sophia_mcp.gong.models import CallPage, CallRow
from sophia_mcp.gong.queries.common import account_of, crm_filter, loads, rep_filter, tracker_filter, user_name
from sophia_mcp.gong.schema import GongSchema
from sophia_mcp.gong.sql import Query, extensive_id_equals, first_crm_object, is_latest, latest_row
from sophia_mcp.postgres.readonly import ReadOnlyPool

CURSOR_KIND = "calls"


async def search_calls(
    pool: ReadOnlyPool, schema: GongSchema, filters: CallFilters, limit: int, cursor: str | None
) -> CallPage:
    position = cursors.decode(CURSOR_KIND, cursor, {"t": int, "i": str})
    calls = schema.table("calls")
    query = Query()

    def c(column: str) -> str:
        return calls.col("c", column)

    where = [is_latest(calls, "c"), f"{c('started')} IS NOT NULL"]
    if filters.text:
        where.append(f"{c('title')} ILIKE {query.param(arguments.contains_pattern(filters.text), 'text')}")
    if filters.since:
        where.append(f"{c('started')} >= {query.param(filters.since, 'timestamptz')}")
    if filters.until:
        where.append(f"{c('started')} < {query.param(filters.until, 'timestamptz')}")
    if filters.rep:
        where.append(rep_filter(schema, query, filters.rep, c("primaryUserId")))
    if filters.account:
        where.append(crm_filter(schema, query, "Account", filters.account, c("id")))
    if filters.opportunity:
        where.append(crm_filter(schema, query, "Opportunity", filters.opportunity, c("id")))
    if filters.direction:
        where.append(f"lower({c('direction')}) = {query.param(filters.direction.lower(), 'text')}")
    if filters.tracker:
        where.append(tracker_filter(schema, query, filters.tracker, c("id")))
    if filters.min_duration_s is not None:
        where.append(f"{c('duration')} >= {query.param(filters.min_duration_s, 'bigint')}")
    if filters.max_duration_s is not None:
        where.append(f"{c('duration')} <= {query.param(filters.max_duration_s, 'bigint')}")
    if position:
        started, call_id = query.param(cursors.from_micros(position["t"]), "timestamptz"), query.param(position["i"], "text")
        where.append(f"({c('started')}, {c('id')}) < ({started}, {call_id})")

    rep_name, account = user_name(schema, c("primaryUserId")), "NULL"
    if schema.has("extensiveCalls"):
        extensive = schema.table("extensiveCalls")
        first_account = f"{first_crm_object(extensive.col('e', 'context'), 'Account')}::text"
        account = latest_row(extensive, "e", extensive_id_equals(extensive, "e", c("id")), first_account)
    sql = (
        f"SELECT {c('id')} AS id, {c('title')} AS title, {c('started')} AS started, {c('duration')} AS duration, "
        f"{c('direction')} AS direction, {c('primaryUserId')} AS rep_id, {rep_name} AS rep, {account} AS account "
        f"FROM {calls.sql} c WHERE {' AND '.join(where)} "
        f"ORDER BY {c('started')} DESC, {c('id')} DESC LIMIT {query.param(limit + 1, 'int')}"
    )
    rows = await pool.fetch(sql, *query.args)
    page = [_row(row) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = cursors.encode(CURSOR_KIND, {"t": cursors.micros(last["started"]), "i": last["id"]})
    return CallPage(calls=page, next_cursor=next_cursor)


def _row(row: asyncpg.Record) -> CallRow:
    account = account_of(loads(row["account"]))
    return CallRow(
        id=row["id"],
        title=row["title"],
        started=row["started"],
        duration_s=row["duration"],
        direction=row["direction"],
        rep=row["rep"],
        rep_id=row["rep_id"],
        account=account.name if account else None,
        account_id=account.id if account else None,
    )
