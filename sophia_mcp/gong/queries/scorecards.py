"""scorecard_stats: answered scorecards, averaged per rep and per question.

From `answeredScorecards` (one row per review, its answers as JSON) and `scorecards` (the question
texts), in Airbyte's layout. The period is the reviewed calls' start time; a rep is the reviewed
user. One statement: Postgres unrolls the answers and averages them both ways (GROUPING SETS)."""

from __future__ import annotations

from sophia_mcp.gong.filters import Period
from sophia_mcp.gong.models import QuestionScore, RepScore, ScorecardStats
from sophia_mcp.gong.queries.common import rep_filter, user_name
from sophia_mcp.gong.schema import GongSchema
from sophia_mcp.gong.sql import Query, is_latest, latest_row
from sophia_mcp.postgres.readonly import ReadOnlyPool
from sophia_mcp.gong import arguments

MAX_REPS = 100
MAX_QUESTIONS = 60


async def scorecard_stats(
    pool: ReadOnlyPool, schema: GongSchema, scorecard: str | None, rep: str | None, period: Period
) -> ScorecardStats:
    answered = schema.table("answeredScorecards")
    query = Query()

    def a(column: str) -> str:
        return answered.col("a", column)

    where = [is_latest(answered, "a")]
    if scorecard:
        where.append(
            f"({a('scorecardId')} = {query.param(scorecard, 'text')} OR "
            f"{a('scorecardName')} ILIKE {query.param(arguments.contains_pattern(scorecard), 'text')})"
        )
    if rep:
        where.append(rep_filter(schema, query, rep, a("reviewedUserId")))
    if period.since:
        where.append(f"{a('callStartTime')} >= {query.param(period.since, 'timestamptz')}")
    if period.until:
        where.append(f"{a('callStartTime')} < {query.param(period.until, 'timestamptz')}")
    question_text = "NULL"
    if schema.has("scorecards"):
        cards = schema.table("scorecards")
        questions = latest_row(
            cards, "sc", f"{cards.col('sc', 'scorecardId')} = g.card_id", cards.col("sc", "questions")
        )
        question_text = (
            f"(jsonb_path_query_first({questions}, '$[*] ? (@.questionId == $q).questionText', "
            "jsonb_build_object('q', g.question)) #>> '{}')"
        )
    rep_name = user_name(schema, "g.rep")
    sql = (
        f"WITH reviews AS (SELECT {a('answeredScorecardId')} AS id, {a('scorecardId')} AS card_id, "
        f"{a('scorecardName')} AS card, {a('reviewedUserId')} AS rep, "
        f"CASE jsonb_typeof({a('answers')}) WHEN 'array' THEN {a('answers')} ELSE '[]' END AS answers "
        f"FROM {answered.sql} a WHERE {' AND '.join(where)}), "
        "scores AS (SELECT r.id, r.card_id, r.card, r.rep, x ->> 'questionId' AS question, "
        "(x ->> 'score')::numeric AS score, coalesce((x ->> 'isOverall')::boolean, false) AS overall "
        "FROM reviews r, jsonb_array_elements(r.answers) x "
        "WHERE jsonb_typeof(x -> 'score') = 'number' AND coalesce((x ->> 'notApplicable')::boolean, false) = false), "
        "g AS (SELECT GROUPING(s.rep) AS by_question, s.rep, s.card_id, s.card, s.question, "
        "round(avg(s.score), 2) AS average, count(*) AS answers, count(DISTINCT s.id) AS reviewed, "
        "round(avg(s.score) FILTER (WHERE s.overall), 2) AS overall "
        "FROM scores s GROUP BY GROUPING SETS ((s.rep), (s.card_id, s.card, s.question))) "
        f"SELECT g.*, CASE WHEN g.by_question = 1 THEN {question_text} END AS question_text, "
        f"CASE WHEN g.by_question = 0 THEN {rep_name} END AS rep_name, "
        "(SELECT count(*) FROM reviews) AS total FROM g"
    )
    rows = await pool.fetch(sql, *query.args)
    reps = sorted(
        (
            RepScore(
                rep_id=row["rep"],
                rep=row["rep_name"],
                reviewed=row["reviewed"],
                average=float(row["average"]),
                overall=float(row["overall"]) if row["overall"] is not None else None,
            )
            for row in rows
            if row["by_question"] == 0 and row["rep"] is not None
        ),
        key=lambda r: (-r.reviewed, r.rep_id),
    )
    questions = sorted(
        (
            QuestionScore(
                scorecard=row["card"],
                question=row["question_text"] or row["question"] or "?",
                average=float(row["average"]),
                answers=row["answers"],
            )
            for row in rows
            if row["by_question"] == 1
        ),
        key=lambda q: (q.scorecard or "", q.question),
    )
    total = rows[0]["total"] if rows else 0
    note = None if total else "No answered scorecard matches; widen the period, or check scorecard and rep."
    return ScorecardStats(
        since=period.since,
        until=period.until,
        reviewed=total,
        reps=reps[:MAX_REPS],
        questions=questions[:MAX_QUESTIONS],
        note=note,
    )
