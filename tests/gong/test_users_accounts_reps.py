"""list_users, account_activity, rep_stats and data_status on the sample data."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sophia_mcp.gong.errors import AmbiguousAccountError, InvalidArgumentError, NotFoundError

pytestmark = pytest.mark.anyio


async def test_users_by_name_or_email_with_their_latest_title(repo, manifest):
    everyone, cursor = [], None
    while True:
        page = await repo.list_users(limit=7, cursor=cursor)
        everyone += page.users
        if not (cursor := page.next_cursor):
            break
    assert sorted(u.id for u in everyone) == sorted(manifest.users)
    assert all(u.title == manifest.users[u.id].title for u in everyone)  # not the older "Junior ..." version
    user = manifest.users[everyone[3].id]
    found = await repo.list_users(user.email.split("@")[0].upper())
    assert [u.id for u in found.users] == [user.id]
    assert {u.id for u in (await repo.list_users(user.first_name)).users} >= {user.id}


async def test_users_active_or_not(repo, manifest):
    inactive = {u.id for u in manifest.users.values() if not u.active}
    assert inactive
    assert {u.id for u in (await repo.list_users(active=False, limit=200)).users} == inactive
    assert not inactive & {u.id for u in (await repo.list_users(active=True, limit=200)).users}


def calls_of(calls, opportunity_id):
    return [c for c in calls if c.opportunity_id == opportunity_id]


def starts(moves):
    return {index for index, stage in enumerate(moves) if index == 0 or moves[index - 1] != stage}


async def test_account_activity_calls_people_and_stages_over_time(repo, manifest):
    acme = manifest.account_named("Acme Corp")
    calls = sorted((c for c in manifest.calls.values() if c.account_id == acme.id), key=lambda c: c.started)
    activity = await repo.account_activity("acme corp", limit=5)

    assert (activity.account.id, activity.account.name, activity.account.industry) == (acme.id, acme.name, acme.industry)
    assert activity.calls_total == len(calls)
    assert [c.id for c in activity.calls] == [c.id for c in reversed(calls[-5:])]
    assert {p.email for p in activity.people if p.affiliation == "External"} <= {c.email for c in acme.contacts}
    assert activity.people[0].affiliation == "External"

    by_id = {o.id: o for o in acme.opportunities}
    assert {o.id for o in activity.opportunities} <= set(by_id)
    for history in activity.opportunities:
        spans = history.stages
        assert [s.first_call for s in spans] == sorted(s.first_call for s in spans)
        # The stage call by call, repeats folded: stages may also move backwards.
        moves = [c.stage_at_call for c in calls if c.opportunity_id == history.id]
        folded = [stage for index, stage in enumerate(moves) if index == 0 or moves[index - 1] != stage]
        assert [s.stage for s in spans] == folded
        for span, first in zip(spans, (c for i, c in enumerate(calls_of(calls, history.id)) if i in starts(moves))):
            assert span.first_call == first.started.date()
        assert history.name == by_id[history.id].name


async def test_account_activity_in_a_period_and_by_id(repo, manifest):
    acme = manifest.account_named("Acme Corp")
    since = manifest.now - timedelta(days=30)
    activity = await repo.account_activity(acme.id, since=since)
    expected = [c for c in manifest.calls.values() if c.account_id == acme.id and c.started >= since]
    assert activity.calls_total == len(expected)


async def test_account_names_that_match_several_or_none(repo):
    with pytest.raises(AmbiguousAccountError, match="Acme Corp.*id 001"):
        await repo.account_activity("Corp")
    with pytest.raises(NotFoundError):
        await repo.account_activity("No Such Company")
    with pytest.raises(InvalidArgumentError):
        await repo.account_activity("  ")


async def test_rep_stats_agree_with_the_calls(repo, manifest):
    since, until = manifest.now - timedelta(days=60), manifest.now
    stats = await repo.rep_stats(since=since, until=until, limit=500)
    in_period = [c for c in manifest.calls.values() if since <= c.started < until]
    assert sum(r.calls for r in stats.reps) == len(in_period)
    for rep in stats.reps[:3]:
        mine = [c for c in in_period if c.rep_id == rep.rep_id]
        assert rep.rep == manifest.users[rep.rep_id].name
        assert rep.calls == len(mine)
        assert rep.minutes == round(sum(c.duration_s for c in mine) / 60, 1)
        assert rep.talk_ratio == round(sum(c.talk_ratio for c in mine) / len(mine), 2)
        assert rep.longest_monologue_s == max(c.longest_monologue_s for c in mine)
        assert rep.questions_per_call == round(sum(c.company_questions for c in mine) / len(mine), 1)
    assert [r.calls for r in stats.reps] == sorted((r.calls for r in stats.reps), reverse=True)


async def test_rep_stats_for_one_rep_and_bad_periods(repo, manifest):
    rep = manifest.users[next(iter(manifest.calls.values())).rep_id]
    stats = await repo.rep_stats(since=manifest.now - timedelta(days=200), rep=rep.email)
    assert [r.rep_id for r in stats.reps] == [rep.id]
    with pytest.raises(InvalidArgumentError, match="since must be before until"):
        await repo.rep_stats(since=manifest.now, until=manifest.now - timedelta(days=1))


async def test_data_status_counts_rows_records_and_freshness(repo, manifest):
    status = await repo.data_status()
    streams = {s.stream: s for s in status.streams}
    assert all(s.found for s in streams.values())
    for name, stream in streams.items():
        assert stream.last_extracted_at == manifest.last_extracted[name]
        assert stream.fresh == (stream.age_hours <= 24), name
    assert streams["users"].fresh and streams["scorecards"].fresh  # full refresh: every sync rewrites them
    assert {name: s.rows for name, s in streams.items()} == manifest.rows
    assert streams["calls"].records == len(manifest.calls)
    assert streams["calls"].newest == max(c.started for c in manifest.calls.values())
    assert streams["users"].newest is None and streams["users"].age_hours < 24
