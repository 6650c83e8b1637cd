"""changes_since: what arrived since a moment, from the in-process summary.

A call "arrived" when its first version was extracted (append syncs keep the older versions).
Without a moment, the digest covers the newest load that brought calls: Airbyte extracts a sync's
records within minutes, so first extractions are read as loads separated by at least LOAD_GAP of
quiet, and the digest starts where the newest one does."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

from sophia_mcp.gong.deals import DEFAULT_SILENT_DAYS, Deal, deals_of, is_closed
from sophia_mcp.gong.models import ChangesSince, CountBy, DealMention, StageMove
from sophia_mcp.gong.summary import CallSummary, Summary

LOAD_GAP = timedelta(minutes=30)
TOP = 20
MAX_DEALS = 50


def newest_load_start(summary: Summary) -> datetime | None:
    if "newest_load" not in summary.derived:
        summary.derived["newest_load"] = _newest_load_start(summary)
    return summary.derived["newest_load"]


def _newest_load_start(summary: Summary) -> datetime | None:
    moments = sorted({call.first_extracted for call in summary.calls})
    if not moments:
        return None
    start = moments[-1]
    for moment in reversed(moments[:-1]):
        if start - moment >= LOAD_GAP:
            break
        start = moment
    return start


def changes_since(summary: Summary, since: datetime | None, silent_days: int = DEFAULT_SILENT_DAYS) -> ChangesSince:
    """The digest, computed once per summary and moment (the summary never changes: a new one
    replaces it when the data moves)."""
    since = since or newest_load_start(summary) or datetime.now().astimezone()
    cache = summary.derived.setdefault("changes", {})
    if (since, silent_days) not in cache:
        if len(cache) > 64:
            cache.clear()
        cache[since, silent_days] = _digest(summary, since, silent_days)
    return cache[since, silent_days].model_copy(deep=True)


def _digest(summary: Summary, since: datetime, silent_days: int) -> ChangesSince:
    arrived = [call for call in summary.calls if call.first_extracted >= since]
    known = [call for call in summary.calls if call.first_extracted < since]
    accounts = Counter(call.account_id for call in arrived)
    account_names = {call.account_id: call.account_name for call in arrived}
    reps = Counter(call.rep_id for call in arrived)
    newest_now = summary.newest_call.date() if summary.newest_call else None
    newest_before = max((call.started for call in known), default=None)
    moves, new_deals, newly_silent = [], [], []
    for deal in deals_of(summary):
        before = [(call, opp) for call, opp in deal.history if call.first_extracted < since]
        if len(before) < len(deal.history):
            if not before:
                new_deals.append(_mention(deal))
            elif before[-1][1].stage != deal.stage:
                moves.append(
                    StageMove(
                        deal_id=deal.id, deal=deal.name, before=before[-1][1].stage, after=deal.stage,
                        call_id=deal.last_call.id,
                    )
                )
        if newest_now and before and newest_before and _silent(deal.last_call, deal.stage, newest_now, silent_days):
            if not _silent(before[-1][0], before[-1][1].stage, newest_before.date(), silent_days):
                newly_silent.append(_mention(deal))
    return ChangesSince(
        since=since,
        new_calls=len(arrived),
        new_calls_by_account=[
            CountBy(id=key, name=account_names.get(key), calls=count) for key, count in accounts.most_common(TOP)
        ],
        new_calls_by_rep=[
            CountBy(id=key, name=summary.users.get(key or "", (None, None))[0], calls=count)
            for key, count in reps.most_common(TOP)
        ],
        stage_moves=moves[:MAX_DEALS],
        new_deals=new_deals[:MAX_DEALS],
        newly_silent=newly_silent[:MAX_DEALS],
    )


def _silent(last: CallSummary, stage: str | None, newest: date, silent_days: int) -> bool:
    return not is_closed(stage) and (newest - last.started.date()).days >= silent_days


def _mention(deal: Deal) -> DealMention:
    return DealMention(deal_id=deal.id, deal=deal.name, account=deal.account[1], last_call=deal.last_call.started.date())
