"""list_deals and deal_brief on the sample data, checked against the generator's manifest: stages
that move and sometimes go back, single-threaded accounts, deals gone silent."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from sophia_mcp.gong.errors import InvalidArgumentError, NotFoundError
from sophia_mcp.gong.filters import DealFilters, checked
from sophia_mcp.sample.gong.vocabulary import STAGE_PROBABILITY

pytestmark = pytest.mark.anyio


def expected_deals(manifest, silent_days=14):
    """What the manifest says about every deal: the same rules, computed from the generator's facts."""
    by_deal = defaultdict(list)
    for call in manifest.calls.values():
        by_deal[call.opportunity_id].append(call)
    newest = max(c.started for c in manifest.calls.values()).date()
    deals = {}
    for deal_id, calls in by_deal.items():
        calls.sort(key=lambda c: (c.started, c.id))
        last = calls[-1]
        stages = [c.stage_at_call for c in calls]
        regressed = any(
            STAGE_PROBABILITY[b] < STAGE_PROBABILITY[a] and not a.startswith("Closed") and not b.startswith("Closed")
            for a, b in zip(stages, stages[1:])
        )
        people = {e.lower() for c in calls for e in c.customer_emails}
        silent = not last.stage_at_call.startswith("Closed") and (newest - last.started.date()).days >= silent_days
        reps = Counter(c.rep_id for c in calls)
        best = max(reps.values())
        owner = next(c.rep_id for c in reversed(calls) if reps[c.rep_id] == best)
        flags = [f for f, on in (("silent", silent), ("stage_regressed", regressed), ("single_threaded", len(people) == 1)) if on]
        deals[deal_id] = {
            "stage": last.stage_at_call, "calls": len(calls), "people": len(people), "flags": flags, "owner": owner,
            "last": last.started, "account_id": last.account_id, "stages": stages, "history": calls,
        }
    return deals


async def _all(repo, **filters):
    deals, cursor = [], None
    while True:
        page = await repo.list_deals(checked(DealFilters, **filters), limit=100, cursor=cursor)
        deals += page.deals
        if (cursor := page.next_cursor) is None:
            return deals


async def test_every_deal_with_stage_counts_owner_and_flags_newest_activity_first(repo, manifest):
    expected = expected_deals(manifest)
    deals = await _all(repo)
    assert {d.id for d in deals} == set(expected)
    assert [d.id for d in deals] == sorted(expected, key=lambda i: (expected[i]["last"], i), reverse=True)
    for deal in deals:
        facts = expected[deal.id]
        assert (deal.stage, deal.calls, deal.customer_people, deal.owner_id, deal.account_id) == (
            facts["stage"], facts["calls"], facts["people"], facts["owner"], facts["account_id"]
        ), deal.id
        assert (deal.flags or []) == facts["flags"], deal.id
        assert deal.amount and deal.close_date
    flagged = Counter(flag for facts in expected.values() for flag in facts["flags"])
    assert flagged["stage_regressed"] and flagged["single_threaded"] and flagged["silent"], flagged


async def test_filters_by_flag_stage_owner_and_account(repo, manifest):
    expected = expected_deals(manifest, silent_days=30)
    for flag in ("silent", "stage_regressed", "single_threaded"):
        found = {d.id for d in await _all(repo, flag=flag, silent_days=30)}
        assert found == {i for i, f in expected.items() if flag in f["flags"]}, flag
    assert {d.id for d in await _all(repo, stage="proposal")} == {i for i, f in expected.items() if f["stage"] == "Proposal"}
    owner = Counter(f["owner"] for f in expected.values()).most_common(1)[0][0]
    assert {d.id for d in await _all(repo, owner=owner)} == {i for i, f in expected.items() if f["owner"] == owner}
    by_name = {d.id for d in await _all(repo, owner=manifest.users[owner].email.upper())}
    assert {i for i, f in expected.items() if f["owner"] == owner} <= by_name
    acme = manifest.account_named("Acme Corp")
    assert {d.id for d in await _all(repo, account="acme")} == {i for i, f in expected.items() if f["account_id"] == acme.id}
    empty = await repo.list_deals(checked(DealFilters, stage="No Such Stage"))
    assert empty.deals == [] and empty.total == 0 and "loosen" in empty.note


async def test_deal_brief_shows_stages_people_calls_and_the_evidence_of_each_risk(repo, manifest):
    expected = expected_deals(manifest)
    deal_id = next(i for i, f in expected.items() if "stage_regressed" in f["flags"])
    facts = expected[deal_id]
    brief = await repo.deal_brief(deal_id)
    folded = [s for i, s in enumerate(facts["stages"]) if i == 0 or facts["stages"][i - 1] != s]
    assert [run.stage for run in brief.stages] == folded
    assert sum(run.calls for run in brief.stages) == facts["calls"]
    assert brief.calls and brief.calls[0].call_id == facts["history"][-1].id and brief.calls[0].brief
    assert len(brief.customer_people) == facts["people"]
    assert brief.trackers and brief.as_of is not None
    risk = next(r for r in brief.risks if r.flag == "stage_regressed")
    drops = [
        (a, b) for a, b in zip(facts["history"], facts["history"][1:])
        if STAGE_PROBABILITY[b.stage_at_call] < STAGE_PROBABILITY[a.stage_at_call]
        and not a.stage_at_call.startswith("Closed") and not b.stage_at_call.startswith("Closed")
    ]
    for before, after in drops:
        assert before.id in risk.evidence and after.id in risk.evidence

    single = next(i for i, f in expected.items() if "single_threaded" in f["flags"])
    assert any(r.flag == "single_threaded" for r in (await repo.deal_brief(single)).risks)
    by_name = await repo.deal_brief(brief.deal.name)
    assert by_name.deal.id == deal_id


async def test_unknown_and_ambiguous_deals_say_what_to_do(repo):
    with pytest.raises(NotFoundError, match="gong_list_deals"):
        await repo.deal_brief("006NoSuchDeal")
    with pytest.raises(InvalidArgumentError, match="matches several deals"):
        await repo.deal_brief("New Business")
    with pytest.raises(InvalidArgumentError, match="opportunity is required"):
        await repo.deal_brief("   ")
