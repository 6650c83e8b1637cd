"""tracker_stats, scorecard_stats and changes_since on the sample data, against the generator's manifest."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta

import pytest

from sophia_mcp.gong.errors import InvalidArgumentError, NotFoundError
from sophia_mcp.gong.filters import Period, checked

pytestmark = pytest.mark.anyio


async def test_tracker_counts_by_month_and_by_rep_agree_with_the_calls(repo, manifest):
    fired, hits = Counter(), Counter()
    for call in manifest.calls.values():
        for name, count in call.trackers:
            if count > 0:
                fired[name, call.started.strftime("%Y-%m")] += 1
                hits[name, call.started.strftime("%Y-%m")] += count
    stats = await repo.tracker_stats(by="month")
    assert stats.calls_in_period == len(manifest.calls)
    got = {(t.tracker, b.key): (b.calls, b.hits) for t in stats.trackers for b in t.buckets}
    assert got == {key: (fired[key], hits[key]) for key in fired}
    assert [t.calls for t in stats.trackers] == sorted((t.calls for t in stats.trackers), reverse=True)

    name = stats.trackers[0].tracker
    until = manifest.now - timedelta(days=20)
    since = until - timedelta(days=40)
    by_rep = await repo.tracker_stats(name.upper(), by="rep", period=checked(Period, since=since, until=until))
    expected = Counter(
        c.rep_id for c in manifest.calls.values() if since <= c.started < until and any(n == name for n, _ in c.trackers)
    )
    (only,) = by_rep.trackers
    assert only.tracker == name and only.calls == sum(expected.values())
    assert {b.key: b.calls for b in only.buckets} == dict(expected.most_common(30))
    assert all(b.label == manifest.users[b.key].name for b in only.buckets)


async def test_unknown_tracker_and_bad_grouping_say_what_to_change(repo):
    with pytest.raises(NotFoundError, match="Trackers that did: .*Pricing objection"):
        await repo.tracker_stats("No Such Tracker")
    with pytest.raises(InvalidArgumentError, match="week, month, rep, account"):
        await repo.tracker_stats(by="year")
    with pytest.raises(InvalidArgumentError, match="since must be before until"):
        checked(Period, since="2026-03-01", until="2026-02-01")


async def test_scorecard_averages_per_rep_and_question_agree_with_the_reviews(repo, manifest):
    reviews = [review for reviews in manifest.scorecards_by_call.values() for review in reviews]
    per_rep, per_question = defaultdict(list), defaultdict(list)
    for review in reviews:
        for question, score in review.scores:
            per_rep[review.rep_id].append(score)
            per_question[review.scorecard_name, question].append(score)
    stats = await repo.scorecard_stats()
    assert stats.reviewed == len(reviews)
    assert {r.rep_id: (r.reviewed, r.average) for r in stats.reps} == {
        rep: (sum(r.rep_id == rep for r in reviews), round(sum(s) / len(s), 2)) for rep, s in per_rep.items()
    }
    assert {(q.scorecard, q.question): (q.answers, q.average) for q in stats.questions} == {
        key: (len(s), round(sum(s) / len(s), 2)) for key, s in per_question.items()
    }
    rep = stats.reps[0]
    one = await repo.scorecard_stats("discovery", rep=rep.rep_id)
    assert {r.rep_id for r in one.reps} == {rep.rep_id}
    assert one.reviewed == sum(1 for r in reviews if r.rep_id == rep.rep_id and r.scorecard_name == "Discovery call")
    none = await repo.scorecard_stats("No such scorecard")
    assert none.reviewed == 0 and "widen" in none.note


async def test_changes_since_a_moment_and_since_the_newest_load(repo, manifest):
    since = manifest.now - timedelta(days=3)
    arrived = [c for c in manifest.calls.values() if c.first_extracted >= since]
    changes = await repo.changes_since(since)
    assert changes.new_calls == len(arrived) > 0
    per_account = Counter(c.account_id for c in arrived)
    assert all(per_account[c.id] == c.calls for c in changes.new_calls_by_account)
    assert [c.calls for c in changes.new_calls_by_account] == [n for _, n in per_account.most_common(20)]
    by_deal = defaultdict(list)
    for call in sorted(manifest.calls.values(), key=lambda c: (c.started, c.id)):
        by_deal[call.opportunity_id].append(call)
    new_deals = {d for d, calls in by_deal.items() if all(c.first_extracted >= since for c in calls)}
    assert {d.deal_id for d in changes.new_deals} == set(sorted(new_deals)[:50]) or len(new_deals) > 50
    for move in changes.stage_moves:
        calls = by_deal[move.deal_id]
        before = [c for c in calls if c.first_extracted < since]
        assert (move.before, move.after) == (before[-1].stage_at_call, calls[-1].stage_at_call)
    latest = await repo.changes_since()
    newest_load = max(c.first_extracted for c in manifest.calls.values())
    assert latest.since <= newest_load and latest.new_calls >= 1
