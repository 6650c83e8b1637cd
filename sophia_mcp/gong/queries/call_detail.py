"""get_call: one call with everything Gong knows about it, in one round trip.

The statement gathers each part as JSON from the streams that exist (calls, extensiveCalls,
answeredScorecards, scorecards, users); parts whose stream is missing are named in `unavailable`.
"""

from __future__ import annotations

from typing import Any

from sophia_mcp.gong import arguments
from sophia_mcp.gong.errors import NotFoundError
from sophia_mcp.gong.models import (
    AnsweredScorecard,
    CallDetail,
    CallStats,
    Opportunity,
    OutlineSection,
    Outcome,
    Person,
    ScorecardAnswer,
    SpeakerTime,
    Topic,
    Tracker,
)
from sophia_mcp.gong.queries.common import account_of, clock, crm_objects_of, fields, loads, number
from sophia_mcp.gong.schema import GongSchema, Table
from sophia_mcp.gong.sql import Query, extensive_id_matches, full_name, is_latest, newest_first
from sophia_mcp.postgres.readonly import ReadOnlyPool

CALL_COLUMNS = (
    "id", "title", "started", "duration", "direction", "scope", "system", "language", "url", "primaryUserId",
)
EXTENSIVE_COLUMNS = ("metaData", "parties", "context", "content", "interaction")
ANSWERED_COLUMNS = (
    "answeredScorecardId", "scorecardId", "scorecardName", "reviewerUserId", "reviewedUserId", "reviewTime", "answers",
)
MAX_OUTLINE_CHARS = 20_000


async def get_call(pool: ReadOnlyPool, schema: GongSchema, call_id: str, outline_chars: int) -> CallDetail:
    call_id = arguments.gong_id("call_id", call_id)
    if not schema.has("calls") and not schema.has("extensiveCalls"):
        schema.table("calls")  # raises, naming the stream to enable
    query = Query()
    sql = _statement(schema, query, call_id)
    row = await pool.fetchrow(sql, *query.args)
    call, extensive = loads(row["call"]), loads(row["extensive"])
    if call is None and extensive is None:
        raise NotFoundError(
            f"No call with id {call_id}. Private calls are never synced; use gong_search_calls to find call ids."
        )
    people: dict[str, dict[str, Any]] = loads(row["people"]) or {}
    detail = _metadata(call_id, call, (extensive or {}).get("metaData"), people)
    if extensive is not None:
        _add_extensive(detail, extensive, outline_chars)
    if row["scorecards"] is not None:
        detail.scorecards = _scorecards(loads(row["scorecards"]), loads(row["questions"]) or {}, people)
    detail.unavailable = _unavailable(schema)
    return detail


def _statement(schema: GongSchema, query: Query, call_id: str) -> str:
    ctes: list[str] = []
    parts: dict[str, str] = {}
    user_ids: list[str] = []
    call_param = query.param(call_id, "text")
    if schema.has("calls"):
        calls = schema.table("calls")
        match = f"{calls.col('c', 'id')} = {call_param}"
        ctes.append(f"c AS ({_latest(calls, 'c', match, CALL_COLUMNS)})")
        parts["call"] = "(SELECT to_jsonb(c) FROM c)"
        user_ids.append('SELECT "primaryUserId" FROM c')
    if schema.has("extensiveCalls"):
        extensive = schema.table("extensiveCalls")
        match = extensive_id_matches(extensive, "e", query, call_id)
        ctes.append(f"e AS ({_latest(extensive, 'e', match, EXTENSIVE_COLUMNS)})")
        parts["extensive"] = "(SELECT to_jsonb(e) FROM e)"
        user_ids.append("""SELECT "metaData" ->> 'primaryUserId' FROM e""")
    if schema.has("answeredScorecards"):
        answered = schema.table("answeredScorecards")
        review_id = answered.col("s", "answeredScorecardId")
        ctes.append(
            f"s AS (SELECT DISTINCT ON ({review_id}) {_columns(answered, 's', ANSWERED_COLUMNS)} "
            f"FROM {answered.sql} s WHERE {answered.col('s', 'callId')} = {call_param} "
            f"ORDER BY {review_id}, {newest_first(answered, 's')})"
        )
        parts["scorecards"] = """(SELECT jsonb_agg(to_jsonb(s) ORDER BY s."reviewTime") FROM s)"""
        user_ids += ['SELECT "reviewerUserId" FROM s', 'SELECT "reviewedUserId" FROM s']
        if schema.has("scorecards"):
            parts["questions"] = _question_texts(schema.table("scorecards"))
    if schema.has("users") and user_ids:
        parts["people"] = _people(schema.table("users"), " UNION ".join(user_ids))
    selected = ", ".join(
        f"{parts.get(name, 'NULL')}::text AS {name}" for name in ("call", "extensive", "scorecards", "questions", "people")
    )
    return f"WITH {', '.join(ctes)} SELECT {selected}"


def _columns(table: Table, alias: str, names: tuple[str, ...]) -> str:
    # Documented names as aliases, so the JSON keys do not depend on how the database spells them.
    return ", ".join(f'{table.col(alias, name)} AS "{name}"' for name in names)


def _latest(table: Table, alias: str, where: str, names: tuple[str, ...]) -> str:
    return (
        f"SELECT {_columns(table, alias, names)} FROM {table.sql} {alias} WHERE {where} "
        f"ORDER BY {newest_first(table, alias)} LIMIT 1"
    )


def _question_texts(scorecards: Table) -> str:
    questions = scorecards.col("t", "questions")
    return (
        f"(SELECT jsonb_object_agg(q ->> 'questionId', q ->> 'questionText') FROM {scorecards.sql} t, "
        f"jsonb_array_elements(CASE jsonb_typeof({questions}) WHEN 'array' THEN {questions} ELSE '[]' END) q "
        f"WHERE q ->> 'questionId' IS NOT NULL AND {is_latest(scorecards, 't')} "
        f"""AND {scorecards.col('t', 'scorecardId')} IN (SELECT "scorecardId" FROM s))"""
    )


def _people(users: Table, ids: str) -> str:
    person = (
        f"jsonb_build_object('name', {full_name(users, 'u')}, 'email', {users.col('u', 'emailAddress')}, "
        f"'title', {users.col('u', 'title')})"
    )
    return (
        f"(SELECT jsonb_object_agg({users.col('u', 'id')}, {person}) FROM {users.sql} u "
        f"WHERE {is_latest(users, 'u')} AND {users.col('u', 'id')} IN ({ids}))"
    )


def _metadata(
    call_id: str, call: dict[str, Any] | None, meta: dict[str, Any] | None, people: dict[str, dict[str, Any]]
) -> CallDetail:
    # The calls stream's typed columns first; extensiveCalls' metaData (same fields, as JSON) otherwise.
    source = call or meta or {}
    rep_id = source.get("primaryUserId")
    rep = people.get(rep_id) if rep_id else None
    return CallDetail(
        id=call_id,
        title=source.get("title"),
        started=source.get("started"),
        duration_s=int(source["duration"]) if number(source.get("duration")) is not None else None,
        direction=source.get("direction"),
        scope=source.get("scope"),
        system=source.get("system"),
        language=source.get("language"),
        url=source.get("url"),
        rep=Person(user_id=rep_id, affiliation="Internal", **rep) if rep else (Person(user_id=rep_id) if rep_id else None),
    )


def _add_extensive(detail: CallDetail, extensive: dict[str, Any], outline_chars: int) -> None:
    parties = [p for p in extensive.get("parties") or [] if isinstance(p, dict)]
    detail.parties = [
        Person(
            name=p.get("name"),
            email=p.get("emailAddress"),
            title=p.get("title"),
            affiliation=p.get("affiliation"),
            user_id=p.get("userId"),
        )
        for p in parties
    ] or None
    context = extensive.get("context")
    accounts = crm_objects_of(context, "Account")
    detail.account = account_of(_preferred(accounts))
    detail.opportunities = _opportunities(crm_objects_of(context, "Opportunity")) or None
    content = extensive.get("content") if isinstance(extensive.get("content"), dict) else {}
    detail.brief = content.get("brief")
    detail.key_points = [k["text"] for k in content.get("keyPoints") or [] if isinstance(k, dict) and k.get("text")] or None
    detail.topics = [
        Topic(name=t["name"], duration_s=_int(t.get("duration")))
        for t in content.get("topics") or []
        if isinstance(t, dict) and t.get("name")
    ] or None
    detail.trackers = [
        Tracker(name=t["name"], count=_int(t.get("count")))
        for t in content.get("trackers") or []
        if isinstance(t, dict) and t.get("name")
    ] or None
    outcome = content.get("callOutcome")
    if isinstance(outcome, dict):
        detail.outcome = Outcome(name=outcome.get("name"), category=outcome.get("category"))
    detail.highlights = [
        item["text"]
        for section in content.get("highlights") or []
        if isinstance(section, dict)
        for item in section.get("items") or []
        if isinstance(item, dict) and item.get("text")
    ] or None
    detail.outline, detail.outline_more = _outline(content.get("outline") or [], outline_chars)
    detail.stats = _stats(extensive.get("interaction"), parties)


def _preferred(objects: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The object as of the latest sync ("Now") if Gong sent both timings, else the first."""
    return next((o for o in objects if o.get("timing") == "Now"), objects[0] if objects else None)


def _opportunities(objects: list[dict[str, Any]]) -> list[Opportunity]:
    by_id: dict[str, Opportunity] = {}
    for crm_object in objects:
        object_id = crm_object.get("objectId")
        if not object_id:
            continue
        values = fields(crm_object)
        opportunity = by_id.setdefault(str(object_id), Opportunity(id=str(object_id)))
        stage = values.get("StageName")
        if crm_object.get("timing") == "TimeOfCall":
            opportunity.stage_at_call = stage
            continue
        opportunity.name = values.get("Name")
        opportunity.stage = stage
        opportunity.amount = number(values.get("Amount"))
        opportunity.close_date = values.get("CloseDate")
        opportunity.probability = number(values.get("Probability"))
        opportunity.type = values.get("Type")
    return list(by_id.values())


def _outline(sections: list[Any], budget: int) -> tuple[list[OutlineSection] | None, str | None]:
    budget = max(0, min(budget, MAX_OUTLINE_CHARS))
    kept: list[OutlineSection] = []
    used = 0
    total = 0
    for section in sections:
        if not isinstance(section, dict):
            continue
        items = [i["text"] for i in section.get("items") or [] if isinstance(i, dict) and isinstance(i.get("text"), str)]
        size = len(section.get("section") or "") + sum(len(item) for item in items)
        total += size
        if used + size <= budget:
            start = number(section.get("startTime"))
            at = clock(start * 1000) if start is not None else None
            kept.append(OutlineSection(section=section.get("section"), at=at, items=items))
            used += size
    if used == total:
        return kept or None, None
    return kept or None, (
        f"Outline cut at {budget} of {total} characters; call again with outline_chars={min(total, MAX_OUTLINE_CHARS)} "
        "for all of it."
    )


def _stats(interaction: Any, parties: list[dict[str, Any]]) -> CallStats | None:
    if not isinstance(interaction, dict):
        return None
    named = {p.get("id"): p.get("name") for p in parties}
    values = {
        s.get("name"): number(s.get("value"))
        for s in interaction.get("interactionStats") or []
        if isinstance(s, dict)
    }
    questions = interaction.get("questions") if isinstance(interaction.get("questions"), dict) else {}
    speakers = [
        SpeakerTime(name=named.get(s.get("id")) or f"speaker {s.get('id')}", talk_s=number(s.get("talkTime")))
        for s in interaction.get("speakers") or []
        if isinstance(s, dict)
    ]
    return CallStats(
        talk_ratio=values.get("Talk Ratio"),
        longest_monologue_s=values.get("Longest Monologue"),
        longest_customer_story_s=values.get("Longest Customer Story"),
        interactivity=values.get("Interactivity"),
        patience=values.get("Patience"),
        question_rate=values.get("Question Rate"),
        questions_by_team=_int(questions.get("companyCount")),
        questions_by_others=_int(questions.get("nonCompanyCount")),
        speakers=speakers or None,
    )


def _scorecards(
    answered: list[dict[str, Any]], questions: dict[str, str], people: dict[str, dict[str, Any]]
) -> list[AnsweredScorecard] | None:
    cards = []
    for card in answered:
        answers = [a for a in card.get("answers") or [] if isinstance(a, dict)]
        overall = next((a for a in answers if a.get("isOverall")), None)
        cards.append(
            AnsweredScorecard(
                id=card["answeredScorecardId"],
                scorecard=card.get("scorecardName"),
                reviewer=(people.get(card.get("reviewerUserId")) or {}).get("name") or card.get("reviewerUserId"),
                reviewed=(people.get(card.get("reviewedUserId")) or {}).get("name") or card.get("reviewedUserId"),
                reviewed_at=card.get("reviewTime"),
                overall=_int(overall.get("score")) if overall else None,
                answers=[
                    ScorecardAnswer(
                        question=questions.get(a.get("questionId")) or a.get("questionId"),
                        score=_int(a.get("score")),
                        answer=a.get("answerText"),
                    )
                    for a in answers
                    if not a.get("isOverall")
                ],
            )
        )
    return cards or None


def _unavailable(schema: GongSchema) -> list[str] | None:
    notes = []
    if not schema.has("extensiveCalls"):
        notes.append("parties, CRM context, brief, topics, trackers, outcome, stats: enable the extensiveCalls stream")
    if not schema.has("answeredScorecards"):
        notes.append("scorecards: enable the answeredScorecards stream")
    if not schema.has("users"):
        notes.append("rep and reviewer names: enable the users stream")
    return notes or None


def _int(value: Any) -> int | None:
    as_number = number(value)
    return int(as_number) if as_number is not None else None
