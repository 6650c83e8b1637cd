"""list_deals and deal_brief: the deals of the in-process summary, filtered and explained."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sophia_mcp.gong import cursors
from sophia_mcp.gong.deals import Deal, deals_of, find_deal
from sophia_mcp.gong.filters import DealFilters
from sophia_mcp.gong.models import DealBrief, DealCall, DealPage, DealRow, Risk, StageRun
from sophia_mcp.gong.queries.common import loads
from sophia_mcp.gong.schema import GongSchema
from sophia_mcp.gong.sql import Query, is_latest
from sophia_mcp.gong.summary import Summary
from sophia_mcp.postgres.readonly import ReadOnlyPool

CURSOR_KIND = "deals"
BRIEF_CALLS = 8


def list_deals(summary: Summary, filters: DealFilters, limit: int, cursor: str | None) -> DealPage:
    position = cursors.decode(CURSOR_KIND, cursor, {"o": int}) or {"o": 0}
    newest = summary.newest_call.date() if summary.newest_call else date.today()
    owners = _matching_users(summary, filters.owner) if filters.owner else None
    account = filters.account.casefold() if filters.account else None
    stage = filters.stage.casefold() if filters.stage else None
    matched = []
    for deal in deals_of(summary):
        if stage is not None and (deal.stage or "").casefold() != stage:
            continue
        if owners is not None and deal.owner_id not in owners:
            continue
        if account is not None:
            account_id, account_name = deal.account
            if account_id != filters.account and account not in (account_name or "").casefold():
                continue
        flags = deal.flags(newest, filters.silent_days)
        if filters.flag is not None and filters.flag not in flags:
            continue
        matched.append((deal, flags))
    start = max(0, position["o"])
    page = matched[start : start + limit]
    more = start + limit < len(matched)
    note = None
    if not matched:
        note = "No deal matches these filters; loosen them (gong_list_deals with no filter lists every deal)."
    return DealPage(
        deals=[row(summary, deal, newest, flags) for deal, flags in page],
        total=len(matched),
        newest_call=newest if summary.newest_call else None,
        next_cursor=cursors.encode(CURSOR_KIND, {"o": start + limit}) if more else None,
        note=note,
    )


def row(summary: Summary, deal: Deal, newest: date, flags: list[str]) -> DealRow:
    account_id, account_name = deal.account
    owner_id = deal.owner_id
    return DealRow(
        id=deal.id,
        name=deal.name,
        account=account_name,
        account_id=account_id,
        stage=deal.stage,
        amount=deal.amount,
        close_date=deal.close_date,
        owner=summary.users.get(owner_id, (None, None))[0] if owner_id else None,
        owner_id=owner_id,
        first_call=deal.first_call.started.date(),
        last_call=deal.last_call.started.date(),
        days_since_last_call=deal.days_silent(newest),
        calls=len(deal.history),
        customer_people=len(deal.customers),
        flags=list(flags) or None,
    )


def _matching_users(summary: Summary, owner: str) -> set[str]:
    if owner in summary.users or owner.isdigit():
        return {owner}
    needle = owner.casefold()
    return {
        user_id
        for user_id, (name, email) in summary.users.items()
        if needle in (name or "").casefold() or needle in (email or "").casefold()
    }


async def deal_brief(
    pool: ReadOnlyPool, schema: GongSchema, summary: Summary, opportunity: str, silent_days: int
) -> DealBrief:
    deal = find_deal(summary, opportunity)
    newest = summary.newest_call.date() if summary.newest_call else date.today()
    flags = deal.flags(newest, silent_days)
    recent = [call for call, _ in deal.history[-BRIEF_CALLS:]][::-1]
    details = await _call_details(pool, schema, [call.id for call in recent])
    topics: Counter[str] = Counter()
    calls = []
    for call in recent:
        brief, next_steps, call_topics = details.get(call.id, (None, None, []))
        topics.update(call_topics)
        calls.append(
            DealCall(
                call_id=call.id,
                title=call.title,
                started=call.started,
                rep=summary.users.get(call.rep_id or "", (None, None))[0],
                brief=brief,
                next_steps=next_steps or None,
            )
        )
    trackers: Counter[str] = Counter(name for call, _ in deal.history for name, _count in call.trackers)
    sellers = Counter(call.rep_id for call, _ in deal.history if call.rep_id)
    return DealBrief(
        deal=row(summary, deal, newest, flags),
        stages=_runs(deal),
        customer_people=sorted(deal.customers.values()),
        seller_people=[summary.users.get(rep, (None, None))[0] or rep for rep, _ in sellers.most_common()],
        calls=calls,
        trackers=dict(trackers.most_common()) or None,
        topics=[name for name, _ in topics.most_common(15)] or None,
        risks=_risks(deal, flags, newest, silent_days),
    )


def _runs(deal: Deal) -> list[StageRun]:
    runs: list[StageRun] = []
    for call, opp in deal.history:
        day = call.started.date()
        if runs and runs[-1].stage == opp.stage:
            runs[-1].last_call, runs[-1].calls = day, runs[-1].calls + 1
        else:
            runs.append(StageRun(stage=opp.stage, first_call=day, last_call=day, calls=1, first_call_id=call.id))
    return runs


def _risks(deal: Deal, flags: list[str], newest: date, silent_days: int) -> list[Risk]:
    risks = []
    if "silent" in flags:
        risks.append(
            Risk(
                flag="silent",
                evidence=f"last call {deal.last_call.started.date()} (call {deal.last_call.id}), "
                f"{deal.days_silent(newest)} days before the newest call in the data ({newest}); "
                f"silent after {silent_days} days",
            )
        )
    if "stage_regressed" in flags:
        moves = "; ".join(
            f"{move.from_stage} on {move.before.started.date()} (call {move.before.id}) -> "
            f"{move.to_stage} on {move.after.started.date()} (call {move.after.id})"
            for move in deal.regressions
        )
        risks.append(Risk(flag="stage_regressed", evidence=moves))
    if "single_threaded" in flags:
        only = next(iter(deal.customers.values()))
        risks.append(
            Risk(flag="single_threaded", evidence=f"only {only} on the customer side, across all {len(deal.history)} calls")
        )
    return risks


async def _call_details(
    pool: ReadOnlyPool, schema: GongSchema, call_ids: list[str]
) -> dict[str, tuple[str | None, list[str], list[str]]]:
    if not call_ids or not schema.has("extensiveCalls"):
        return {}
    extensive = schema.table("extensiveCalls")
    query = Query()
    if extensive.is_numeric("id"):
        numbers = [int(i) for i in call_ids if i.isdigit() and int(i) < 2**63]
        match = f"{extensive.col('e', 'id')} = ANY({query.param(numbers, 'bigint[]')})"
    else:
        match = f"{extensive.col('e', 'id')}::text = ANY({query.param(call_ids, 'text[]')})"
    content = extensive.col("e", "content")
    rows = await pool.fetch(
        f"SELECT {extensive.col('e', 'id')}::text AS id, {content} ->> 'brief' AS brief, "
        f"jsonb_path_query_array({content}, '$.pointsOfInterest.actionItems[*].snippet')::text AS next_steps, "
        f"jsonb_path_query_array({content}, '$.topics[*].name')::text AS topics "
        f"FROM {extensive.sql} e WHERE {match} AND {is_latest(extensive, 'e')}",
        *query.args,
    )
    return {
        row["id"]: (
            row["brief"],
            [s for s in loads(row["next_steps"]) or [] if isinstance(s, str)],
            [t for t in loads(row["topics"]) or [] if isinstance(t, str)],
        )
        for row in rows
    }
