"""search_transcripts: where a phrase was said, word for word, newest call first.

Postgres narrows the calls with full-text search over the sentences (see wording.py, and the GIN
index the README recommends); each candidate's sentences are then checked here with the same
folding, and every matching sentence becomes a hit with its speaker, m:ss offset and a snippet.
Candidates are read in small batches until the page is full, so a common word does not ship
thousands of transcripts.
"""

from __future__ import annotations

from typing import Any

from sophia_mcp.gong import cursors, layout, wording
from sophia_mcp.gong.errors import InvalidArgumentError
from sophia_mcp.gong.filters import MAX_TEXT, SpeechFilters, clean_text
from sophia_mcp.gong.models import PhraseHit, SaidIn, TranscriptSearch
from sophia_mcp.gong.queries.common import account_of, clock, crm_filter, loads, rep_filter
from sophia_mcp.gong.schema import GongSchema
from sophia_mcp.gong.sql import Query, extensive_id_equals, first_crm_object, full_name, is_latest, latest_row
from sophia_mcp.postgres.readonly import ReadOnlyPool, ReadOnlySession

CURSOR_KIND = "said"
HITS_PER_CALL = 3
# At most this many candidates per round, and rounds per page: a page reads at most 200 transcripts.
BATCH = 25
MAX_ROUNDS = 8


def checked_phrase(phrase: str) -> tuple[str, list[str]]:
    if not isinstance(phrase, str) or len(phrase.strip()) > MAX_TEXT:
        raise InvalidArgumentError(f"phrase must be text of at most {MAX_TEXT} characters.")
    try:
        cleaned = clean_text(phrase)
    except ValueError as error:
        raise InvalidArgumentError(f"phrase {error}.") from error
    if cleaned is None:
        raise InvalidArgumentError("phrase is empty: give the words to look for, e.g. a competitor or a product code.")
    wanted = wording.words(cleaned)
    if not wanted:
        raise InvalidArgumentError(
            "phrase has no letters or digits to look for (punctuation alone is ignored); give words, e.g. \"BW-4471\"."
        )
    return cleaned, wanted


async def search_transcripts(
    pool: ReadOnlyPool,
    schema: GongSchema,
    phrase: str,
    exact: bool,
    filters: SpeechFilters,
    limit: int,
    cursor: str | None,
) -> TranscriptSearch:
    cleaned, wanted = checked_phrase(phrase)
    position = cursors.decode(CURSOR_KIND, cursor, {"t": int, "i": str})
    found: list[SaidIn] = []
    last_examined: Any = None
    more = True
    # Candidates nearly always hold the phrase: read a little more than a page per round.
    batch = min(BATCH, limit + 2)
    async with pool.session() as session:
        for _ in range(MAX_ROUNDS):
            candidates = await _candidates(session, schema, cleaned, exact, filters, position, batch)
            verified = await _verified(session, schema, candidates, wanted, exact)
            for index, candidate in enumerate(candidates):
                last_examined = candidate
                if candidate["id"] in verified:
                    found.append(verified[candidate["id"]])
                    if len(found) == limit:
                        more = index < len(candidates) - 1 or len(candidates) == batch
                        break
            if len(found) == limit:
                break
            if len(candidates) < batch:
                more = False
                break
            position = _position(candidates[-1])
    next_cursor = cursors.encode(CURSOR_KIND, _position(last_examined)) if more and last_examined else None
    note = None
    if not found:
        note = (
            "Nobody said that in the transcripts searched. Try fewer words, exact=false for the words in any "
            "order, a wider date range, or gong_semantic_search for the meaning."
            if next_cursor is None
            else "No match among the calls searched so far; pass next_cursor to search older calls."
        )
    return TranscriptSearch(phrase=cleaned, exact=exact, calls=found, next_cursor=next_cursor, note=note)


async def _candidates(
    session: ReadOnlySession,
    schema: GongSchema,
    phrase: str,
    exact: bool,
    filters: SpeechFilters,
    position: dict[str, Any] | None,
    batch: int,
) -> list[Any]:
    transcripts = schema.table("callTranscripts")
    query = Query()

    def t(column: str) -> str:
        return transcripts.col("t", column)

    # All the words, anywhere in the transcript: a plain full-text match, which the GIN index
    # answers without reading a single transcript; word order and sentences are checked here after.
    matches = wording.words_query_sql(query.param(phrase, "text"))
    inner = [f"{wording.transcript_words_sql(t('transcript'))} @@ {matches}"]
    if filters.since:
        inner.append(f"{t('started')} >= {query.param(filters.since, 'timestamptz')}")
    if filters.until:
        inner.append(f"{t('started')} < {query.param(filters.until, 'timestamptz')}")

    def s(column: str) -> str:
        return transcripts.col("s", column)

    where = [is_latest(transcripts, "s"), f"{s('started')} IS NOT NULL"]
    if filters.rep:
        calls = schema.table("calls")
        where.append(
            f"EXISTS (SELECT 1 FROM {calls.sql} c WHERE {calls.col('c', 'id')} = {s('callId')} AND "
            f"{rep_filter(schema, query, filters.rep, calls.col('c', 'primaryUserId'))})"
        )
    if filters.account:
        where.append(crm_filter(schema, query, "Account", filters.account, s("callId")))
    if position:
        started = query.param(cursors.from_micros(position["t"]), "timestamptz")
        where.append(f"({s('started')}, {s('callId')}) < ({started}, {query.param(position['i'], 'text')})")
    kept = ", ".join(t(column) for column in ("callId", "started", layout.EXTRACTED_AT, layout.RAW_ID))
    # MATERIALIZED: the matches come from the index first, even for a common word; walking the calls
    # newest first instead would compute the words of every transcript passed on the way.
    sql = (
        f"WITH s AS MATERIALIZED (SELECT {kept} FROM {transcripts.sql} t WHERE {' AND '.join(inner)}) "
        f"SELECT {s('callId')} AS id, {s('started')} AS started FROM s WHERE {' AND '.join(where)} "
        f"ORDER BY {s('started')} DESC, {s('callId')} DESC LIMIT {query.param(batch, 'int')}"
    )
    return await session.fetch(sql, *query.args)


def _position(candidate: Any) -> dict[str, Any]:
    return {"t": cursors.micros(candidate["started"]), "i": candidate["id"]}


async def _verified(
    session: ReadOnlySession, schema: GongSchema, candidates: list[Any], wanted: list[str], exact: bool
) -> dict[str, SaidIn]:
    """Call id -> its hits, for the candidates whose sentences really hold the phrase."""
    if not candidates:
        return {}
    details = {row["id"]: row for row in await session.fetch(*_details_statement(schema, [c["id"] for c in candidates]))}
    results = {}
    for candidate in candidates:
        row = details.get(candidate["id"])
        if row is None:
            continue
        parties = [p for p in loads(row["parties"]) or [] if isinstance(p, dict)]
        names = {p["speakerId"]: p.get("name") or p.get("emailAddress") for p in parties if p.get("speakerId")}
        hits = _hits(loads(row["transcript"]), names, wanted, exact)
        if not hits:
            continue
        account = account_of(loads(row["account"]))
        results[candidate["id"]] = SaidIn(
                call_id=candidate["id"],
                title=row["title"],
                started=candidate["started"],
                rep=row["rep"],
                account=account.name if account else None,
                account_id=account.id if account else None,
                hits=len(hits),
                said=hits[:HITS_PER_CALL],
        )
    return results


def _details_statement(schema: GongSchema, call_ids: list[str]) -> tuple[Any, ...]:
    transcripts = schema.table("callTranscripts")
    query = Query()
    ids = query.param(call_ids, "text[]")
    title = rep = parties = account = "NULL"
    if schema.has("calls"):
        calls = schema.table("calls")
        match = f"{calls.col('c', 'id')} = {transcripts.col('t', 'callId')}"
        title = latest_row(calls, "c", match, calls.col("c", "title"))
        if schema.has("users"):
            users = schema.table("users")
            user = latest_row(calls, "c", match, calls.col("c", "primaryUserId"))
            rep = latest_row(users, "u", f"{users.col('u', 'id')} = {user}", full_name(users, "u"))
    if schema.has("extensiveCalls"):
        extensive = schema.table("extensiveCalls")
        match = extensive_id_equals(extensive, "e", transcripts.col("t", "callId"))
        parties = latest_row(extensive, "e", match, f"{extensive.col('e', 'parties')}::text")
        first_account = f"{first_crm_object(extensive.col('e', 'context'), 'Account')}::text"
        account = latest_row(extensive, "e", match, first_account)
    sql = (
        f"SELECT {transcripts.col('t', 'callId')} AS id, {transcripts.col('t', 'transcript')}::text AS transcript, "
        f"{title} AS title, {rep} AS rep, {parties} AS parties, {account} AS account "
        f"FROM {transcripts.sql} t WHERE {transcripts.col('t', 'callId')} = ANY({ids}) AND {is_latest(transcripts, 't')}"
    )
    return sql, *query.args


def _hits(transcript: Any, names: dict[str, Any], wanted: list[str], exact: bool) -> list[PhraseHit]:
    hits = []
    for monologue in transcript if isinstance(transcript, list) else []:
        if not isinstance(monologue, dict):
            continue
        speaker_id = monologue.get("speakerId")
        for sentence in monologue.get("sentences") or []:
            text = sentence.get("text") if isinstance(sentence, dict) else None
            if not isinstance(text, str):
                continue
            where = wording.find(text, wanted, exact)
            if where is None:
                continue
            start = sentence.get("start")
            hits.append(
                PhraseHit(
                    speaker=names.get(speaker_id) or (f"unknown speaker {speaker_id}" if speaker_id else "unknown speaker"),
                    at=clock(start) if isinstance(start, (int, float)) else "?",
                    snippet=wording.snippet(text, where),
                )
            )
    return hits

