"""Small pieces the Gong queries are assembled from.

Only this program's own text goes into SQL: identifiers discovered from information_schema
(quoted), fixed fragments, and `$n` placeholders. Caller values only ever go into `Query.args`.
"""

from __future__ import annotations

from typing import Any

from sophia_mcp.gong import layout
from sophia_mcp.gong.schema import Table


class Query:
    """Collects bind parameters while the SQL text is assembled around their placeholders."""

    def __init__(self) -> None:
        self.args: list[Any] = []

    def param(self, value: Any, cast: str | None = None) -> str:
        self.args.append(value)
        placeholder = f"${len(self.args)}"
        return f"{placeholder}::{cast}" if cast else placeholder


def newest_first(table: Table, alias: str) -> str:
    """ORDER BY that puts the latest version of a record first (ties broken by raw id)."""
    return f"{table.col(alias, layout.EXTRACTED_AT)} DESC, {table.col(alias, layout.RAW_ID)} DESC"


def is_latest(table: Table, alias: str) -> str:
    """True for the row that is its record's latest version: append syncs keep every version."""
    newer = f"{alias}_newer"

    def version(of: str) -> str:
        return f"({table.col(of, layout.EXTRACTED_AT)}, {table.col(of, layout.RAW_ID)})"

    return (
        f"NOT EXISTS (SELECT 1 FROM {table.sql} {newer} WHERE {table.col(newer, table.key)} = {table.col(alias, table.key)} "
        f"AND {version(newer)} > {version(alias)})"
    )


def latest_row(table: Table, alias: str, where: str, columns: str) -> str:
    """A subquery for the latest version of the one record `where` selects."""
    return f"(SELECT {columns} FROM {table.sql} {alias} WHERE {where} ORDER BY {newest_first(table, alias)} LIMIT 1)"


def extensive_id_equals(extensive: Table, alias: str, text_id: str) -> str:
    """extensiveCalls.id (bigint) = a call id held as text, without a cast that could fail.

    Gong ids are digits; text that is not, or is too big for bigint, matches nothing.
    """
    column = extensive.col(alias, "id")
    if not extensive.is_numeric("id"):
        return f"{column}::text = {text_id}"
    fits = f"{text_id} ~ '^[0-9]{{1,18}}$' OR ({text_id} ~ '^[0-9]{{19}}$' AND {text_id} <= '9223372036854775807')"
    return f"{column} = (CASE WHEN {fits} THEN {text_id}::bigint END)"


def extensive_id_matches(extensive: Table, alias: str, query: Query, call_id: str) -> str:
    """extensiveCalls.id = one caller-given call id, bound as the column's own type (bigint as
    Airbyte writes it) so its index serves; an id too big for bigint matches nothing."""
    if extensive.is_numeric("id"):
        number = int(call_id)
        return f"{extensive.col(alias, 'id')} = {query.param(number if number < 2**63 else None, 'bigint')}"
    return f"{extensive.col(alias, 'id')}::text = {query.param(call_id, 'text')}"


CRM_TYPES = ("Account", "Opportunity")


def first_crm_object(context_column: str, object_type: str, then: str = "") -> str:
    """The first CRM object of a type in a call's `context` (a call has one account), or `then` of
    it (a jsonpath continuation such as `.objectId`), as jsonb. One jsonpath per row: much cheaper
    than expanding the set of objects."""
    if object_type not in CRM_TYPES:
        raise ValueError(object_type)
    return f"jsonb_path_query_first({context_column}, '$[*].objects[*] ? (@.objectType == \"{object_type}\"){then}')"


def first_crm_id(context_column: str, object_type: str) -> str:
    return f"({first_crm_object(context_column, object_type, '.objectId')} #>> '{{}}')"


def first_crm_name(context_column: str, object_type: str) -> str:
    name = first_crm_object(context_column, object_type, '.fields[*] ? (@.name == "Name").value')
    return f"({name} #>> '{{}}')"


def json_number(json_expr: str, path: str) -> str:
    """A number at a jsonpath, or NULL if absent or not a number (real data is not always clean)."""
    return f"(jsonb_path_query_first({json_expr}, '{path} ? (@.type() == \"number\")'))::numeric"


def full_name(users: Table, alias: str) -> str:
    return f"NULLIF(concat_ws(' ', {users.col(alias, 'firstName')}, {users.col(alias, 'lastName')}), '')"
