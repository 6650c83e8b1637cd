"""Pieces several lookups share: filters on reps and CRM objects, and reading Gong's JSON."""

from __future__ import annotations

import json
from typing import Any

from sophia_mcp.gong import arguments
from sophia_mcp.gong.models import Account
from sophia_mcp.gong.schema import GongSchema
from sophia_mcp.gong.sql import Query, extensive_id_equals, first_crm_name, full_name, is_latest, latest_row


def user_name(schema: GongSchema, user_id_expr: str) -> str:
    """SQL for the newest full name of the Gong user whose id is `user_id_expr`; NULL without the users stream."""
    if not schema.has("users"):
        return "NULL"
    users = schema.table("users")
    return latest_row(users, "u", f"{users.col('u', 'id')} = {user_id_expr}", full_name(users, "u"))


def rep_filter(schema: GongSchema, query: Query, rep: str, user_id_expr: str) -> str:
    """`user_id_expr` is a rep given by Gong user id, or by part of a name or email (needs users)."""
    if rep.isdigit():
        return f"{user_id_expr} = {query.param(rep, 'text')}"
    users = schema.table("users")
    pattern = query.param(arguments.contains_pattern(rep), "text")
    return (
        f"{user_id_expr} IN (SELECT {users.col('u', 'id')} FROM {users.sql} u WHERE {is_latest(users, 'u')} AND "
        f"({users.col('u', 'id')} = {query.param(rep, 'text')} OR {users.col('u', 'emailAddress')} ILIKE {pattern} "
        f"OR {full_name(users, 'u')} ILIKE {pattern}))"
    )


def crm_containment(object_type: str, object_id: str) -> str:
    """A CRM `context` holding an object of this type and id, as JSON for `@>` (which the GIN index
    on extensiveCalls.context that the README recommends answers)."""
    return json.dumps([{"objects": [{"objectType": object_type, "objectId": object_id}]}])


def crm_filter(schema: GongSchema, query: Query, object_type: str, value: str, call_id_expr: str) -> str:
    """`call_id_expr` (text) is a call whose CRM context holds an Account or Opportunity given by
    its CRM id or, when no object has that id, by part of its name. Needs extensiveCalls, where the
    CRM context lives.

    An id is found by containment (an index lookup with the recommended GIN index); the name
    branch, a scan of every call's context, runs only when no object has that id: its condition is
    an uncorrelated NOT EXISTS, which Postgres evaluates once and uses to skip the whole branch."""
    extensive = schema.table("extensiveCalls")
    context = extensive.col("e", "context")
    by_id = query.param(crm_containment(object_type, value), "jsonb")
    pattern = query.param(arguments.contains_pattern(value), "text")
    call_id = f"{extensive.col('e', 'id')}::text"
    # DISTINCT makes Postgres build the set of matching calls first (and hash it) instead of walking
    # every call newest first in search of the few that match: 415 ms -> 5 ms for an account with
    # ten calls among 100,000.
    return (
        f"{call_id_expr} IN (SELECT DISTINCT matched.id FROM ("
        f"SELECT {call_id} FROM {extensive.sql} e WHERE {context} @> {by_id} AND {is_latest(extensive, 'e')} "
        f"UNION ALL SELECT {call_id} FROM {extensive.sql} e "
        f"WHERE NOT EXISTS (SELECT 1 FROM {extensive.sql} p WHERE {extensive.col('p', 'context')} @> {by_id}) "
        f"AND {first_crm_name(context, object_type)} ILIKE {pattern} AND {is_latest(extensive, 'e')}"
        ") matched(id))"
    )


def tracker_filter(schema: GongSchema, query: Query, tracker: str, call_id_expr: str) -> str:
    """`call_id_expr` (text) is a call whose latest extensive record has the tracker (name matched
    ignoring case) firing at least once. Correlated, so that a listing newest first stops as soon as
    its page is full."""
    extensive = schema.table("extensiveCalls")
    trackers = latest_row(
        extensive,
        "e",
        extensive_id_equals(extensive, "e", call_id_expr),
        f"{extensive.col('e', 'content')} -> 'trackers'",
    )
    fired = "CASE WHEN jsonb_typeof(t -> 'count') = 'number' THEN (t ->> 'count')::numeric > 0 ELSE true END"
    return (
        # strict and silent: trackers that are not an array (real data is not always clean) match nothing.
        f"EXISTS (SELECT 1 FROM jsonb_path_query({trackers}, 'strict $[*]', '{{}}', true) t "
        f"WHERE lower(t ->> 'name') = lower({query.param(tracker, 'text')}) AND {fired})"
    )


def loads(value: str | None) -> Any:
    """jsonb arrives as text; None stays None."""
    return json.loads(value) if value is not None else None


def fields(crm_object: dict[str, Any] | None) -> dict[str, Any]:
    """A CRM object's `fields` list as a dict."""
    if not isinstance(crm_object, dict):
        return {}
    return {
        item["name"]: item.get("value")
        for item in crm_object.get("fields") or []
        if isinstance(item, dict) and isinstance(item.get("name"), str)
    }


def account_of(crm_object: dict[str, Any] | None) -> Account | None:
    if not isinstance(crm_object, dict) or not crm_object.get("objectId"):
        return None
    values = fields(crm_object)
    return Account(
        id=str(crm_object["objectId"]),
        name=_text(values.get("Name")),
        industry=_text(values.get("Industry")),
        website=_text(values.get("Website")),
    )


def crm_objects_of(context: Any, object_type: str) -> list[dict[str, Any]]:
    """Objects of one type in a CRM `context`, in order."""
    return [
        item
        for system in context or []
        if isinstance(system, dict)
        for item in system.get("objects") or []
        if isinstance(item, dict) and item.get("objectType") == object_type
    ]


def clock(milliseconds: float | None) -> str | None:
    """m:ss (or h:mm:ss) of an offset into a call."""
    if milliseconds is None:
        return None
    seconds = int(milliseconds // 1000)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    return str(value) if value is not None else None
