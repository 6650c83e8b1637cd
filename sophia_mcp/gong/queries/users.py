"""list_users: Gong users by part of a name or email, active or not, in name order; get_user: one by id."""

from __future__ import annotations

from sophia_mcp.gong import arguments, cursors
from sophia_mcp.gong.errors import NotFoundError
from sophia_mcp.gong.models import User, UserDetail, UserPage
from sophia_mcp.gong.schema import GongSchema
from sophia_mcp.gong.sql import Query, full_name, is_latest, latest_row, newest_first
from sophia_mcp.postgres.readonly import ReadOnlyPool

CURSOR_KIND = "users"


async def list_users(
    pool: ReadOnlyPool, schema: GongSchema, query_text: str | None, active: bool | None, limit: int, cursor: str | None
) -> UserPage:
    query_text = arguments.text("query", query_text)
    position = cursors.decode(CURSOR_KIND, cursor, {"n": str, "i": str})
    users = schema.table("users")
    query = Query()
    name = full_name(users, "u")
    sort_name = f"lower(coalesce({name}, ''))"
    where = [is_latest(users, "u")]
    if query_text:
        pattern = query.param(arguments.contains_pattern(query_text), "text")
        where.append(f"({name} ILIKE {pattern} OR {users.col('u', 'emailAddress')} ILIKE {pattern})")
    if active is not None:
        where.append(f"{users.col('u', 'active')} IS {'TRUE' if active else 'NOT TRUE'}")
    if position:
        after = f"({query.param(position['n'], 'text')}, {query.param(position['i'], 'text')})"
        where.append(f"({sort_name}, {users.col('u', 'id')}) > {after}")
    sql = (
        f"SELECT {users.col('u', 'id')} AS id, {name} AS name, {users.col('u', 'emailAddress')} AS email, "
        f"{users.col('u', 'title')} AS title, {users.col('u', 'active')} AS active, "
        f"{users.col('u', 'managerId')} AS manager_id, {sort_name} AS sort_name "
        f"FROM {users.sql} u WHERE {' AND '.join(where)} "
        f"ORDER BY {sort_name}, {users.col('u', 'id')} LIMIT {query.param(limit + 1, 'int')}"
    )
    rows = await pool.fetch(sql, *query.args)
    page = [
        User(id=r["id"], name=r["name"], email=r["email"], title=r["title"], active=r["active"], manager_id=r["manager_id"])
        for r in rows[:limit]
    ]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = cursors.encode(CURSOR_KIND, {"n": last["sort_name"], "i": last["id"]})
    return UserPage(users=page, next_cursor=next_cursor)


async def get_user(pool: ReadOnlyPool, schema: GongSchema, user_id: str) -> UserDetail:
    """One user (the latest version), with the manager's name."""
    user_id = arguments.gong_id("user_id", user_id)
    users = schema.table("users")
    query = Query()
    wanted = query.param(user_id, "text")
    manager = latest_row(users, "m", f"{users.col('m', 'id')} = {users.col('u', 'managerId')}", full_name(users, "m"))
    sql = (
        f"SELECT {users.col('u', 'id')} AS id, {full_name(users, 'u')} AS name, {users.col('u', 'emailAddress')} AS email, "
        f"{users.col('u', 'title')} AS title, {users.col('u', 'active')} AS active, "
        f"{users.col('u', 'managerId')} AS manager_id, {manager} AS manager, {users.col('u', 'created')} AS created "
        f"FROM {users.sql} u WHERE {users.col('u', 'id')} = {wanted} "
        f"ORDER BY {newest_first(users, 'u')} LIMIT 1"
    )
    row = await pool.fetchrow(sql, *query.args)
    if row is None:
        raise NotFoundError(f"No Gong user with id {user_id}. Use gong_list_users to find user ids.")
    return UserDetail(**dict(row))
