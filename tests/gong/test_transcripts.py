"""get_transcript on the sample data: names from the parties, the latest version, paging by budget."""

from __future__ import annotations

import asyncpg
import pytest

from sophia_mcp.gong.errors import InvalidArgumentError, NotFoundError
from sophia_mcp.sample.gong_data import THEMES_BY_KEY

pytestmark = pytest.mark.anyio


async def _read_all(repo, call_id, max_chars):
    pages, cursor = [], None
    while True:
        page = await repo.get_transcript(call_id, cursor=cursor, max_chars=max_chars)
        pages.append(page)
        cursor = page.next_cursor
        if cursor is None:
            return pages


def _text(pages) -> str:
    return " ".join(turn.text for page in pages for turn in page.turns)


async def test_speakers_are_named_from_the_call_parties(repo, manifest):
    facts = next(c for c in manifest.calls.values() if c.has_transcript and len(c.speakers) >= 3)
    page = await repo.get_transcript(facts.id, max_chars=50_000)
    assert page.next_cursor is None and page.turns_total == len(page.turns)
    assert {turn.speaker for turn in page.turns} <= set(facts.speakers.values()) | {
        t.speaker for t in page.turns if t.speaker.startswith("unknown speaker")
    }
    assert set(facts.speakers.values()) <= {turn.speaker for turn in page.turns}
    assert page.turns[0].speaker == manifest.users[facts.rep_id].name
    assert all(":" in turn.at for turn in page.turns)


async def test_a_speaker_missing_from_the_parties_is_shown_as_unknown(repo, manifest, gong_postgres_url):
    admin = await asyncpg.connect(gong_postgres_url)
    try:
        # Transcripts whose speakers are not all among the call's parties (Gong could not match one).
        call_id = await admin.fetchval(
            """SELECT t."callId" FROM "callTranscripts" t, jsonb_array_elements(t.transcript) m
               WHERE NOT EXISTS (SELECT 1 FROM "extensiveCalls" e, jsonb_array_elements(e.parties) p
                                 WHERE e.id = t."callId"::bigint AND p ->> 'speakerId' = m ->> 'speakerId')
               LIMIT 1"""
        )
    finally:
        await admin.close()
    page = await repo.get_transcript(call_id, max_chars=50_000)
    assert any(turn.speaker.startswith("unknown speaker") for turn in page.turns)


async def test_pages_respect_the_budget_and_together_give_the_whole_transcript(repo, manifest):
    facts = next(c for c in manifest.calls.values() if c.has_transcript and len(c.themes) == 3)
    whole = _text([await repo.get_transcript(facts.id, max_chars=50_000)])
    pages = await _read_all(repo, facts.id, max_chars=500)
    assert len(pages) > 2
    assert _text(pages) == whole
    for page in pages:
        assert sum(len(turn.text) for turn in page.turns) <= 500 + 200  # one sentence may overrun
    assert all(page.turns for page in pages), "every page moves on"


async def test_the_latest_version_is_read_not_the_half_transcript_of_the_first_sync(repo, manifest, gong_postgres_url):
    facts = next(c for c in manifest.calls.values() if c.has_transcript and c.has_older_version)
    admin = await asyncpg.connect(gong_postgres_url)
    try:
        lengths = await admin.fetch(
            """SELECT jsonb_array_length(transcript) AS n FROM "callTranscripts" WHERE "callId" = $1
               ORDER BY _airbyte_extracted_at DESC""",
            facts.id,
        )
    finally:
        await admin.close()
    assert len(lengths) == 2 and lengths[0]["n"] > lengths[1]["n"]
    assert (await repo.get_transcript(facts.id)).turns_total == lengths[0]["n"]


async def test_what_was_said_matches_the_call_themes(repo, manifest):
    facts = next(c for c in manifest.calls_about("security_review") if c.has_transcript)
    text = _text(await _read_all(repo, facts.id, max_chars=50_000))
    theme = THEMES_BY_KEY["security_review"]
    openings = [line.split("{")[0] for line in theme.customer_lines + theme.rep_lines]
    assert any(opening in text for opening in openings if len(opening) > 12)


async def test_missing_transcripts_and_foreign_cursors(repo, manifest):
    untranscribed = next(c for c in manifest.calls.values() if not c.has_transcript)
    with pytest.raises(NotFoundError, match="No transcript"):
        await repo.get_transcript(untranscribed.id)
    first, second = [c for c in manifest.calls.values() if c.has_transcript and len(c.themes) == 3][:2]
    cursor = (await repo.get_transcript(first.id, max_chars=500)).next_cursor
    assert cursor
    with pytest.raises(InvalidArgumentError, match="another call"):
        await repo.get_transcript(second.id, cursor=cursor)
