"""Hypothesis strategies for tool arguments, read from each tool's JSON input schema.

`admitted(schema)`: any arguments the schema admits (the subset of JSON Schema that pydantic writes
for tool signatures: object, properties, required, anyOf, enum, type, minimum/maximum,
minLength/maxLength, items). `hostile(schema)`: much that it does not admit: wrong types, huge and
odd strings, NUL, unicode, negative and enormous numbers, missing required keys, extra keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from tests.reliability.support import KNOWN_IDS, KNOWN_INTS

# Strings a model might well send: ids, paths, injection attempts, control characters.
NASTY_STRINGS = (
    "", " ", "\x00", "a\x00b", "../workspaces", "a/b", "?x=1", "#", "%00", "%2F..%2F", "\\", "\r\n", "\t",
    "' OR 1=1 --", "\"; DROP TABLE calls; --", "${jndi:ldap://x}", "{{7*7}}", "<script>alert(1)</script>",
    "null", "undefined", "NaN", "-1", "0", "1e309", "99999999999999999999", "🙂", "\u202e", "\ufeff", "\u2028",
    "Ω" * 70, "x" * 65, "x" * 129, "\udfff".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
)
# No surrogates: they cannot travel in UTF-8 JSON, so no client could send them.
TEXT_CHARS = st.characters(exclude_categories=("Cs",))


FORMATS: dict[str, st.SearchStrategy[str]] = {
    "date-time": st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-7))]) | st.none()).map(
        lambda moment: moment.isoformat()
    ),
    "date": st.dates().map(lambda day: day.isoformat()),
    "uuid": st.uuids().map(str),
}


def huge_strings() -> st.SearchStrategy[str]:
    """Long strings without making Hypothesis generate every character (that is slow)."""
    return st.builds(lambda piece, times: piece * times, st.text(TEXT_CHARS, min_size=1, max_size=4),
                     st.sampled_from([1_000, 20_000, 200_000]))


def strings() -> st.SearchStrategy[str]:
    return st.one_of(st.text(TEXT_CHARS, max_size=80), st.sampled_from(NASTY_STRINGS), st.sampled_from(KNOWN_IDS),
                     huge_strings())


def numbers() -> st.SearchStrategy[int | float]:
    return st.one_of(
        st.integers(), st.integers(min_value=-(2**80), max_value=2**80), st.sampled_from([-1, 0, 2**31, 2**63, -(2**63) - 1]),
        st.floats(allow_nan=False, allow_infinity=False), st.sampled_from([0.5, -0.0, 1e300, 3.0]),
    )


def any_json(depth: int = 2) -> st.SearchStrategy[Any]:
    scalars = st.one_of(st.none(), st.booleans(), numbers(), strings())
    if depth == 0:
        return scalars
    inner = any_json(depth - 1)
    return st.one_of(
        scalars,
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(TEXT_CHARS, max_size=10), inner, max_size=4),
    )


def admitted(schema: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    """Values the schema admits."""
    if "anyOf" in schema:
        return st.one_of(*(admitted(option) for option in schema["anyOf"]))
    if "enum" in schema:
        return st.sampled_from(list(schema["enum"]))
    if "const" in schema:
        return st.just(schema["const"])
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of(*(admitted({**schema, "type": k}) for k in kind))
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        low, high = schema.get("minimum"), schema.get("maximum")
        if "exclusiveMinimum" in schema:
            low = schema["exclusiveMinimum"] + 1
        if "exclusiveMaximum" in schema:
            high = schema["exclusiveMaximum"] - 1
        values = st.integers(min_value=low, max_value=high)
        known = [n for n in KNOWN_INTS if (low is None or n >= low) and (high is None or n <= high)]
        return st.one_of(values, st.sampled_from(known)) if known else values
    if kind == "number":
        return st.floats(
            min_value=schema.get("exclusiveMinimum", schema.get("minimum")),
            max_value=schema.get("exclusiveMaximum", schema.get("maximum")),
            exclude_min="exclusiveMinimum" in schema, exclude_max="exclusiveMaximum" in schema,
            allow_nan=False, allow_infinity=False,
        )
    if kind == "string" and schema.get("format") in FORMATS:
        return FORMATS[schema["format"]]
    if kind == "string":
        low, high = schema.get("minLength", 0), schema.get("maxLength")
        fitting = [s for s in (*KNOWN_IDS, *NASTY_STRINGS) if len(s) >= low and (high is None or len(s) <= high)]
        text = st.text(TEXT_CHARS, min_size=low, max_size=high if high is not None else 80)
        return st.one_of(text, st.sampled_from(fitting)) if fitting else text
    if kind == "array":
        return st.lists(admitted(schema.get("items", {})), min_size=schema.get("minItems", 0),
                        max_size=min(schema.get("maxItems", 5), 5))
    if kind == "object" or "properties" in schema:
        return admitted_object(schema)
    return any_json()


def admitted_object(schema: Mapping[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    properties: Mapping[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    return st.fixed_dictionaries(
        {name: admitted(properties[name]) for name in properties if name in required},
        optional={name: admitted(properties[name]) for name in properties if name not in required},
    )


def hostile(schema: Mapping[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Arguments the schema mostly does not admit: each property may get any JSON at all, required
    ones may be missing, and unknown keys may be added."""
    properties: Mapping[str, Any] = schema.get("properties", {})
    anything = st.one_of(any_json(), huge_strings(), st.sampled_from(NASTY_STRINGS), numbers())
    per_property = {name: st.one_of(admitted(spec), anything) for name, spec in properties.items()}
    extra_keys = st.dictionaries(
        st.one_of(st.text(TEXT_CHARS, min_size=1, max_size=20), st.sampled_from(["__proto__", "constructor", "\x00", "ctx", "self"])),
        anything, max_size=3,
    ).map(lambda extra: {k: v for k, v in extra.items() if k not in properties})
    return st.builds(lambda base, extra: {**extra, **base}, st.fixed_dictionaries({}, optional=per_property), extra_keys)


def arguments(schema: Mapping[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(admitted_object(schema), hostile(schema))
