"""search_transcripts on the sample data: exact words and phrases said, checked against the
generator's manifest (the rare sentences it planted in some calls)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from sophia_mcp.gong.errors import InvalidArgumentError
from sophia_mcp.gong.filters import SpeechFilters, checked
from sophia_mcp.sample.gong.vocabulary import PHRASES_TO_FIND

pytestmark = pytest.mark.anyio

BW, ZURICH, NIGHTINGALE, HX = PHRASES_TO_FIND


async def _all_pages(repo, phrase, exact=False, **filters):
    calls, cursor = [], None
    while True:
        page = await repo.search_transcripts(phrase, checked(SpeechFilters, **filters), exact=exact, limit=7, cursor=cursor)
        calls += page.calls
        if (cursor := page.next_cursor) is None:
            return calls


def _said(manifest, sentence, keep=lambda call: True):
    return {c.id for c in manifest.calls.values() if sentence in c.said and c.has_transcript and keep(c)}


async def test_each_planted_phrase_is_found_in_exactly_the_calls_that_said_it(repo, manifest):
    for phrase, sentence in (("BW-4471", BW), ("Nightingale-7 clause", NIGHTINGALE), ("HX-220 tier", HX)):
        expected = _said(manifest, sentence)
        assert expected, sentence
        calls = await _all_pages(repo, phrase, exact=True)
        assert {c.call_id for c in calls} == expected, phrase
        started = [(c.started, c.call_id) for c in calls]
        assert started == sorted(started, reverse=True), "newest first"


async def test_hits_name_the_speaker_give_an_offset_and_a_snippet_around_the_words(repo, manifest):
    calls = await _all_pages(repo, "bw-4471", exact=True)
    for found in calls:
        facts = manifest.calls[found.call_id]
        assert found.title == facts.title and found.account_id == facts.account_id
        assert found.hits == len(found.said) == 1
        hit = found.said[0]
        assert hit.speaker in facts.speakers.values()
        assert re.fullmatch(r"\d+:\d\d(:\d\d)?", hit.at)
        assert "BW-4471" in hit.snippet


async def test_case_and_accents_are_ignored_and_exact_keeps_word_order(repo, manifest):
    expected = _said(manifest, ZURICH)
    for phrase in ("zurich", "ZÜRICH", "Zürich needs", "zúrich"):
        assert {c.call_id for c in await _all_pages(repo, phrase)} == expected, phrase
    assert {c.call_id for c in await _all_pages(repo, "bundle edge x9")} == expected
    assert await _all_pages(repo, "bundle edge x9", exact=True) == []
    assert {c.call_id for c in await _all_pages(repo, "edge x9 bundle", exact=True)} == expected


async def test_rep_account_and_date_filters(repo, manifest):
    sentence_calls = [manifest.calls[i] for i in _said(manifest, NIGHTINGALE)]
    rep = max({c.rep_id for c in sentence_calls}, key=lambda r: sum(c.rep_id == r for c in sentence_calls))
    by_rep = await _all_pages(repo, "nightingale", rep=rep)
    assert {c.call_id for c in by_rep} == _said(manifest, NIGHTINGALE, lambda c: c.rep_id == rep)
    account = sentence_calls[0].account_id
    by_account = await _all_pages(repo, "nightingale", account=account)
    assert {c.call_id for c in by_account} == _said(manifest, NIGHTINGALE, lambda c: c.account_id == account)
    until = manifest.now - timedelta(days=30)
    since = until - timedelta(days=60)
    in_range = await _all_pages(repo, "nightingale", since=since, until=until)
    assert {c.call_id for c in in_range} == _said(manifest, NIGHTINGALE, lambda c: since <= c.started < until)


async def test_nothing_said_is_a_clear_empty_answer(repo):
    page = await repo.search_transcripts("quantum banana treaty")
    assert page.calls == [] and page.next_cursor is None and "exact=false" in page.note
    assert page.as_of is not None and page.stale is False


@pytest.mark.parametrize(
    ("phrase", "filters", "message"),
    [
        ("", {}, "phrase is empty"),
        ("   ", {}, "phrase is empty"),
        ("?!… —", {}, "no letters or digits"),
        ("x" * 201, {}, "at most 200 characters"),
        ("pricing\x00", {}, "NUL character"),
        ("pricing", {"since": "2026-02-01", "until": "2026-01-01"}, "since must be before until"),
    ],
)
async def test_bad_phrases_and_ranges_say_what_to_change(repo, phrase, filters, message):
    with pytest.raises(InvalidArgumentError, match=message):
        await repo.search_transcripts(phrase, checked(SpeechFilters, **filters))
