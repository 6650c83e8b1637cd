"""tracker_stats: how often Gong's trackers fired, bucketed by week, month, rep or account.

Counted from the in-process summary (summary.py): the trackers live in each call's content JSON,
which Postgres would have to read in full for every question."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Literal

from sophia_mcp.gong.errors import NotFoundError
from sophia_mcp.gong.filters import Period
from sophia_mcp.gong.models import TrackerBucket, TrackerCount, TrackerStats
from sophia_mcp.gong.summary import CallSummary, Summary

By = Literal["week", "month", "rep", "account"]
MAX_BUCKETS = 30


def _key(call: CallSummary, by: By) -> str:
    if by == "week":
        return (call.started.date() - timedelta(days=call.started.weekday())).isoformat()
    if by == "month":
        return call.started.strftime("%Y-%m")
    if by == "rep":
        return call.rep_id or "unknown"
    return call.account_id or "unknown"


def _keys(summary: Summary, by: By) -> list[str]:
    """Each call's bucket, in the order of summary.calls (computed once per summary and grouping)."""
    keys = summary.derived.get(("tracker_keys", by))
    if keys is None:
        keys = [_key(call, by) for call in summary.calls]
        summary.derived[("tracker_keys", by)] = keys
    return keys


def _labels(summary: Summary, by: By) -> dict[str, str | None]:
    if by == "rep":
        return {user_id: name for user_id, (name, _) in summary.users.items()}
    if by == "account":
        labels = summary.derived.get("account_names")
        if labels is None:
            labels = {call.account_id: call.account_name for call in summary.calls if call.account_id}
            summary.derived["account_names"] = labels
        return labels
    return {}


def tracker_names(summary: Summary) -> dict[str, str]:
    """Lower-case name -> the name as Gong spells it, for every tracker that fired."""
    names = summary.derived.get("tracker_names")
    if names is None:
        names = {name.casefold(): name for call in summary.calls for name, _ in call.trackers}
        summary.derived["tracker_names"] = names
    return names


def tracker_stats(summary: Summary, tracker: str | None, by: By, period: Period) -> TrackerStats:
    wanted = None
    if tracker is not None:
        wanted = tracker_names(summary).get(tracker.casefold())
        if wanted is None:
            known = ", ".join(sorted(tracker_names(summary).values())[:30]) or "none"
            raise NotFoundError(f"No tracker named {tracker!r} fired in any call. Trackers that did: {known}.")
    positions = summary.span(period.since, period.until)
    calls, keys = summary.calls, _keys(summary, by)
    fired: Counter[tuple[str, str]] = Counter()
    hits: Counter[tuple[str, str]] = Counter()
    for index in positions:
        trackers = calls[index].trackers
        if not trackers:
            continue
        key = keys[index]
        for name, count in trackers:
            if wanted is None or name == wanted:
                fired[name, key] += 1
                hits[name, key] += count
    labels = _labels(summary, by)
    per_tracker: dict[str, list[TrackerBucket]] = {}
    for (name, key), count in fired.items():
        per_tracker.setdefault(name, []).append(TrackerBucket(key=key, label=labels.get(key), calls=count, hits=hits[name, key]))
    trackers = []
    for name, buckets in per_tracker.items():
        total_calls, total_hits = sum(b.calls for b in buckets), sum(b.hits for b in buckets)
        chronological = by in ("week", "month")
        kept = sorted(buckets, key=lambda b: (-b.calls, b.key))[:MAX_BUCKETS]
        if chronological:
            kept.sort(key=lambda b: b.key)
        trackers.append(
            TrackerCount(
                tracker=name,
                calls=total_calls,
                hits=total_hits,
                buckets=kept,
                buckets_more=len(buckets) - len(kept) or None,
            )
        )
    trackers.sort(key=lambda t: (-t.calls, t.tracker))
    note = None if trackers else "No tracker fired in the calls of this period; widen since/until."
    return TrackerStats(
        by=by, since=period.since, until=period.until, calls_in_period=len(positions), trackers=trackers, note=note
    )
