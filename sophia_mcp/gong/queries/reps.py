"""rep_stats: per rep over a period, from the interaction stats Gong computes for each call.

A call counts for its primary user (the rep who owns it). Talk ratio, interactivity and patience
are averaged over the rep's calls, questions are the seller side's questions per call, and the
longest monologue is the longest in any of the calls.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from sophia_mcp.gong import arguments
from sophia_mcp.gong.arguments import Moment
from sophia_mcp.gong.filters import utc_moment
from sophia_mcp.gong.errors import InvalidArgumentError
from sophia_mcp.gong.models import RepStat, RepStats
from sophia_mcp.gong.queries.common import rep_filter, user_name
from sophia_mcp.gong.schema import GongSchema
from sophia_mcp.gong.sql import Query, is_latest, json_number
from sophia_mcp.postgres.readonly import ReadOnlyPool

DEFAULT_PERIOD = timedelta(days=30)


def _stat(name: str) -> str:
    return json_number('e."interaction"', f'$.interactionStats[*] ? (@.name == "{name}").value')


async def rep_stats(
    pool: ReadOnlyPool,
    schema: GongSchema,
    since: Moment,
    until: Moment,
    rep: str | None,
    limit: int,
) -> RepStats:
    end = utc_moment(until) or datetime.now(timezone.utc)
    start = utc_moment(since) or end - DEFAULT_PERIOD
    if start >= end:
        raise InvalidArgumentError("since must be before until.")
    rep = arguments.text("rep", rep)
    extensive = schema.table("extensiveCalls")
    query = Query()
    started = extensive.col("e", "startdatetime")
    table_rep_id = f"{extensive.col('e', 'metaData')} ->> 'primaryUserId'"
    where = [
        is_latest(extensive, "e"),
        f"{started} >= {query.param(start, 'timestamptz')}",
        f"{started} < {query.param(end, 'timestamptz')}",
        f"{table_rep_id} IS NOT NULL",
    ]
    if rep:
        where.append(rep_filter(schema, query, rep, table_rep_id))
    # Aliases with the documented names, so the stat expressions do not depend on the spelling.
    source = (
        f"SELECT {extensive.col('e', 'metaData')} AS \"metaData\", {extensive.col('e', 'interaction')} AS \"interaction\" "
        f"FROM {extensive.sql} e WHERE {' AND '.join(where)}"
    )
    name = user_name(schema, "per_rep.rep_id")
    sql = (
        f"SELECT per_rep.*, {name} AS rep FROM ("
        f"""SELECT e."metaData" ->> 'primaryUserId' AS rep_id, count(*) AS calls, """
        f"""sum({json_number('e."metaData"', '$.duration')}) / 60.0 AS minutes, """
        f"avg({_stat('Talk Ratio')}) AS talk_ratio, "
        f"""avg({json_number('e."interaction"', '$.questions.companyCount')}) AS questions, """
        f"max({_stat('Longest Monologue')}) AS longest_monologue, "
        f"avg({_stat('Interactivity')}) AS interactivity, avg({_stat('Patience')}) AS patience "
        f"FROM ({source}) e GROUP BY 1 ORDER BY calls DESC, 1 LIMIT {query.param(limit, 'int')}) per_rep "
        "ORDER BY per_rep.calls DESC, per_rep.rep_id"
    )
    rows = await pool.fetch(sql, *query.args)
    return RepStats(
        since=start,
        until=end,
        reps=[
            RepStat(
                rep_id=row["rep_id"],
                rep=row["rep"],
                calls=row["calls"],
                minutes=_round(row["minutes"], 1) or 0.0,
                talk_ratio=_round(row["talk_ratio"], 2),
                questions_per_call=_round(row["questions"], 1),
                longest_monologue_s=_round(row["longest_monologue"], 0),
                interactivity=_round(row["interactivity"], 1),
                patience=_round(row["patience"], 2),
            )
            for row in rows
        ],
    )


def _round(value: Decimal | None, digits: int) -> float | None:
    return round(float(value), digits) if value is not None else None
