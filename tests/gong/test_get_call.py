"""get_call on the sample data: the latest version, parties, CRM context, content, stats, scorecards."""

from __future__ import annotations

import pytest

from sophia_mcp.gong.errors import InvalidArgumentError, NotFoundError
from sophia_mcp.sample.gong_data import THEMES_BY_KEY

pytestmark = pytest.mark.anyio


def _reviewed_call_with_older_version(manifest):
    return next(
        manifest.calls[call_id]
        for call_id in manifest.scorecards_by_call
        if manifest.calls[call_id].has_older_version
    )


async def test_the_latest_version_with_everything_gong_knows(repo, manifest):
    facts = _reviewed_call_with_older_version(manifest)
    call = await repo.get_call(facts.id)
    rep = manifest.users[facts.rep_id]

    assert (call.id, call.title, call.duration_s, call.direction) == (facts.id, facts.title, facts.duration_s, facts.direction)
    assert call.started == facts.started
    assert (call.rep.user_id, call.rep.name, call.rep.email) == (rep.id, rep.name, rep.email)
    assert rep.name in {p.name for p in call.parties if p.affiliation == "Internal"}
    assert {p.name for p in call.parties} >= set(facts.speakers.values())

    assert (call.account.id, call.account.name) == (facts.account_id, facts.account_name)
    opportunity = next(o for o in call.opportunities if o.id == facts.opportunity_id)
    assert opportunity.stage_at_call == facts.stage_at_call and opportunity.name and opportunity.amount

    # The first sync saw no AI content yet; the latest version has it.
    assert call.brief and facts.account_name in call.brief
    assert call.key_points and call.outcome and call.highlights
    themes = [THEMES_BY_KEY[key] for key in facts.themes]
    assert {t.topic for t in themes} <= {t.name for t in call.topics}
    assert {t.tracker for t in themes} <= {t.name for t in call.trackers}
    assert call.stats.talk_ratio == facts.talk_ratio
    assert call.stats.longest_monologue_s == facts.longest_monologue_s
    assert call.stats.questions_by_team == facts.company_questions
    assert call.unavailable is None


async def test_scorecards_show_the_latest_review_with_question_texts_and_names(repo, manifest):
    facts = _reviewed_call_with_older_version(manifest)
    expected = manifest.scorecards_by_call[facts.id]
    cards = (await repo.get_call(facts.id)).scorecards
    assert [(c.id, c.scorecard, c.overall) for c in cards] == [(e.id, e.scorecard_name, e.overall_score) for e in expected]
    card = cards[0]
    rep = manifest.users[facts.rep_id]
    assert card.reviewed == rep.name and card.reviewer == manifest.users[rep.manager_id].name
    assert card.answers and all(a.question.endswith("?") and 1 <= a.score <= 5 for a in card.answers)


async def test_the_outline_is_cut_to_its_budget_with_a_way_to_get_the_rest(repo, manifest):
    facts = next(c for c in manifest.calls.values() if len(c.themes) == 3)
    short = await repo.get_call(facts.id, outline_chars=120)
    full = await repo.get_call(facts.id, outline_chars=20_000)
    assert short.outline_more and "outline_chars=" in short.outline_more
    assert full.outline_more is None and len(full.outline) > len(short.outline or [])


async def test_unknown_private_and_malformed_ids(repo, manifest):
    with pytest.raises(NotFoundError, match="Private calls are never synced"):
        await repo.get_call(manifest.private_call_ids[0])
    with pytest.raises(NotFoundError):
        await repo.get_call("99999999999999999999")  # 20 digits: beyond bigint, still just "not found"
    with pytest.raises(InvalidArgumentError, match="numeric Gong id"):
        await repo.get_call("abc")


async def test_results_leave_out_empty_fields(repo, manifest):
    facts = next(iter(manifest.calls.values()))
    dumped = (await repo.get_call(facts.id)).model_dump()
    assert None not in dumped.values()
    assert "unavailable" not in dumped
