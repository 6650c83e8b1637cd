"""get_transcript: a call's transcript with speaker names, a page at a time within a size budget.

Gong's transcript is a list of monologues (speakerId, topic, sentences with start/end ms). Names
come from the call's parties in extensiveCalls, matched on speakerId. A page holds whole
monologues while they fit the character budget and splits a long one between sentences; the
cursor says where to go on. Postgres slices the monologues, so a page never ships the whole call.
"""

from __future__ import annotations

from typing import Any

from sophia_mcp.gong import arguments, cursors
from sophia_mcp.gong.errors import InvalidArgumentError, NotFoundError
from sophia_mcp.gong.models import Person, TranscriptPage, Turn
from sophia_mcp.gong.queries.common import clock, loads
from sophia_mcp.gong.schema import GongSchema
from sophia_mcp.gong.sql import Query, extensive_id_matches, latest_row
from sophia_mcp.postgres.readonly import ReadOnlyPool

CURSOR_KIND = "transcript"
MIN_CHARS, MAX_CHARS = 500, 50_000
# Monologues fetched per page: enough to fill any budget with short turns, never the whole of a long call.
MONOLOGUES_PER_PAGE = 400


async def get_transcript(
    pool: ReadOnlyPool, schema: GongSchema, call_id: str, cursor: str | None, max_chars: int
) -> TranscriptPage:
    call_id = arguments.gong_id("call_id", call_id)
    budget = max(MIN_CHARS, min(max_chars, MAX_CHARS))
    position = cursors.decode(CURSOR_KIND, cursor, {"c": str, "t": cursors.INT32, "s": cursors.INT32}) or {"c": call_id, "t": 0, "s": 0}
    if position["c"] != call_id or position["t"] < 0 or position["s"] < 0:
        raise InvalidArgumentError("cursor belongs to another call; start without a cursor.")
    query = Query()
    sql = _statement(schema, query, call_id, position["t"])
    row = await pool.fetchrow(sql, *query.args)
    if row["total"] is None:
        raise NotFoundError(
            f"No transcript for call {call_id}: the call does not exist, is private, or Gong has not "
            "transcribed it yet. Check the id with gong_get_call."
        )
    parties = [p for p in loads(row["parties"]) or [] if isinstance(p, dict)]
    names = {p["speakerId"]: p.get("name") or p.get("emailAddress") for p in parties if p.get("speakerId")}
    turns, next_position = _page(loads(row["monologues"]) or [], row["total"], position, names, budget)
    return TranscriptPage(
        call_id=call_id,
        speakers=[
            Person(name=p.get("name"), title=p.get("title"), affiliation=p.get("affiliation"), user_id=p.get("userId"))
            for p in parties
            if p.get("speakerId")
        ]
        or None,
        turns=turns,
        turns_total=row["total"],
        next_cursor=cursors.encode(CURSOR_KIND, {"c": call_id, **next_position}) if next_position else None,
        note=None if schema.has("extensiveCalls") else "Speaker names need the extensiveCalls stream; ids are shown.",
    )


def _statement(schema: GongSchema, query: Query, call_id: str, first_turn: int) -> str:
    transcripts = schema.table("callTranscripts")
    where = f"{transcripts.col('t', 'callId')} = {query.param(call_id, 'text')}"
    transcript = latest_row(transcripts, "t", where, transcripts.col("t", "transcript"))
    parties = "NULL"
    if schema.has("extensiveCalls"):
        extensive = schema.table("extensiveCalls")
        match = extensive_id_matches(extensive, "e", query, call_id)
        parties = latest_row(extensive, "e", match, extensive.col("e", "parties"))
    # Only arrays are sliced; anything else in the column counts as an empty transcript.
    return (
        f"WITH t AS (SELECT CASE jsonb_typeof(x) WHEN 'array' THEN x ELSE '[]' END AS monologues "
        f"FROM (SELECT {transcript} AS x) found WHERE x IS NOT NULL) "
        f"SELECT (SELECT jsonb_array_length(monologues) FROM t) AS total, "
        f"(SELECT jsonb_agg(m.value ORDER BY m.n) FROM t, jsonb_array_elements(t.monologues) WITH ORDINALITY m(value, n) "
        f"WHERE m.n > {query.param(first_turn, 'int')} "
        f"AND m.n <= {query.param(first_turn + MONOLOGUES_PER_PAGE, 'int')})::text "
        f"AS monologues, {parties}::text AS parties"
    )


def _page(
    monologues: list[Any], total: int, position: dict[str, int], names: dict[str, str | None], budget: int
) -> tuple[list[Turn], dict[str, int] | None]:
    """Turns from `position` while they fit `budget`; the position after the last, None at the end."""
    turns: list[Turn] = []
    used = 0
    turn_index, sentence_index = position["t"], position["s"]
    for monologue in monologues:
        sentences = _sentences(monologue)
        taken: list[str] = []
        start = None
        for index in range(sentence_index, len(sentences)):
            text, sentence_start = sentences[index]
            if used + len(text) > budget and (turns or taken):
                if taken:
                    turns.append(_turn(monologue, names, start, taken))
                return turns, {"t": turn_index, "s": index}
            taken.append(text)
            used += len(text) + 1
            start = sentence_start if start is None else start
        if taken:
            turns.append(_turn(monologue, names, start, taken))
        turn_index, sentence_index = turn_index + 1, 0
    return turns, ({"t": turn_index, "s": 0} if turn_index < total else None)


def _sentences(monologue: Any) -> list[tuple[str, int | None]]:
    if not isinstance(monologue, dict):
        return []
    return [
        (s["text"], s.get("start") if isinstance(s.get("start"), int) else None)
        for s in monologue.get("sentences") or []
        if isinstance(s, dict) and isinstance(s.get("text"), str)
    ]


def _turn(monologue: dict[str, Any], names: dict[str, str | None], start: int | None, texts: list[str]) -> Turn:
    speaker_id = monologue.get("speakerId")
    speaker = names.get(speaker_id) if speaker_id else None
    return Turn(
        speaker=speaker or (f"unknown speaker {speaker_id}" if speaker_id else "unknown speaker"),
        at=clock(start) or "?",
        text=" ".join(texts),
        topic=monologue.get("topic") if isinstance(monologue.get("topic"), str) else None,
    )
