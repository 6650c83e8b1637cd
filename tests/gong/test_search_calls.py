"""search_calls on the sample data: each filter, newest first, cursor paging, latest versions only."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sophia_mcp.gong.errors import InvalidArgumentError
from sophia_mcp.gong.filters import CallFilters, checked

pytestmark = pytest.mark.anyio


async def _all_pages(repo, **filters):
    calls, cursor = [], None
    while True:
        page = await repo.search_calls(checked(CallFilters, **filters), limit=100, cursor=cursor)
        calls += page.calls
        cursor = page.next_cursor
        if cursor is None:
            return calls


def _busiest_rep(manifest):
    counts: dict[str, int] = {}
    for call in manifest.calls.values():
        counts[call.rep_id] = counts.get(call.rep_id, 0) + 1
    return manifest.users[max(counts, key=counts.__getitem__)]


async def test_pages_cover_every_call_of_a_rep_once_newest_first_with_latest_titles(repo, manifest):
    rep = _busiest_rep(manifest)
    expected = {c.id: c for c in manifest.calls.values() if c.rep_id == rep.id}
    assert len(expected) > 100, "needs more than one page"
    calls = await _all_pages(repo, rep=rep.id)
    assert [c.id for c in calls] == sorted(expected, key=lambda i: (expected[i].started, i), reverse=True)
    assert all(c.title == expected[c.id].title and c.rep == rep.name for c in calls)
    assert all(c.account == expected[c.id].account_name and c.account_id == expected[c.id].account_id for c in calls)


async def test_a_rep_can_be_named_by_id_email_or_part_of_the_name(repo, manifest):
    rep = _busiest_rep(manifest)
    by_id = {c.id for c in await _all_pages(repo, rep=rep.id)}
    assert {c.id for c in await _all_pages(repo, rep=rep.email.upper())} == by_id
    by_name = await _all_pages(repo, rep=rep.name)
    # Another user may share the name; every call found belongs to someone with that name.
    assert by_id <= {c.id for c in by_name}
    assert all(c.rep == rep.name for c in by_name)


async def test_older_versions_never_show_up(repo, manifest):
    assert any(c.has_older_version for c in manifest.calls.values())
    # Only the first sync's versions carry the calendar title "Brightwave / <account>".
    assert (await repo.search_calls(checked(CallFilters, text="Brightwave / "))).calls == []


async def test_dates_direction_and_duration_filters(repo, manifest):
    until = manifest.now - timedelta(days=20)
    since = until - timedelta(days=10)
    calls = await _all_pages(repo, since=since, until=until, direction="outbound", min_duration_s=300, max_duration_s=600)
    expected = {
        c.id
        for c in manifest.calls.values()
        if since <= c.started < until and c.direction == "Outbound" and 300 <= c.duration_s <= 600
    }
    assert expected and {c.id for c in calls} == expected
    assert all(c.direction == "Outbound" for c in calls)


async def test_accounts_and_opportunities_come_from_the_crm_context(repo, manifest):
    acme = manifest.account_named("Acme Corp")
    expected = {c.id for c in manifest.calls.values() if c.account_id == acme.id}
    assert {c.id for c in await _all_pages(repo, account="acme")} == expected
    assert {c.id for c in await _all_pages(repo, account=acme.id)} == expected
    opportunity = acme.opportunities[0]
    with_opportunity = {c.id for c in manifest.calls.values() if c.opportunity_id == opportunity.id}
    assert {c.id for c in await _all_pages(repo, opportunity=opportunity.id)} == with_opportunity


async def test_text_matches_titles_literally(repo, manifest):
    calls = (await repo.search_calls(checked(CallFilters, text="PRICING discussion"), limit=50)).calls
    assert calls and all("pricing discussion" in c.title.lower() for c in calls)
    assert (await repo.search_calls(checked(CallFilters, text="%"))).calls == []
    assert (await repo.search_calls(checked(CallFilters, text="_"))).calls == []


async def test_bad_direction_and_foreign_cursors_are_refused_clearly(repo):
    with pytest.raises(InvalidArgumentError, match="direction: Input should be 'Inbound', 'Outbound', 'Conference' or 'Unknown'"):
        checked(CallFilters, direction="sideways")
    users_cursor = (await repo.list_users(limit=1)).next_cursor
    with pytest.raises(InvalidArgumentError, match="next_cursor"):
        await repo.search_calls(cursor=users_cursor)


async def test_tracker_filter_finds_the_calls_where_the_tracker_fired(repo, manifest):
    from sophia_mcp.sample.gong_data import THEMES_BY_KEY

    theme = THEMES_BY_KEY[manifest.calls[next(iter(manifest.calls))].themes[0]]
    expected = {c.id for c in manifest.calls_about(theme.key)}
    found = {c.id for c in await _all_pages(repo, tracker=theme.tracker.upper())}
    assert expected and found == expected


def test_filters_are_checked_once_with_one_set_of_bounds():
    filters = checked(CallFilters, since="2026-01-02", until="2026-01-03T04:05:06", text="  pricing  ", direction="inbound")
    assert filters.since.isoformat() == "2026-01-02T00:00:00+00:00"
    assert filters.until.isoformat() == "2026-01-03T04:05:06+00:00"
    assert (filters.text, filters.direction) == ("pricing", "Inbound")
    assert checked(CallFilters, min_duration_s=604800).min_duration_s == 604800
    for values, message in (
        ({"min_duration_s": 604801}, "min_duration_s: Input should be less than or equal to 604800"),
        ({"since": "2026-02-01", "until": "2026-01-01"}, "since must be before until"),
        ({"min_duration_s": 600, "max_duration_s": 300}, "min_duration_s must not be more than max_duration_s"),
        ({"text": "x" * 201}, "text: String should have at most 200 characters"),
        ({"rep": "a\x00"}, "rep: contains a NUL character"),
    ):
        with pytest.raises(InvalidArgumentError, match=message):
            checked(CallFilters, **values)
