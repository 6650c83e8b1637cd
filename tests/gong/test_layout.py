"""The table layout this project reads and writes is the one destination-postgres creates."""

import re
from pathlib import Path

import pytest

from sophia_mcp.gong import layout

DERIVED = Path(__file__).resolve().parents[3] / "shared" / "reference" / "gong" / "postgres_final_tables.DERIVED.md"


def _derived_tables(text: str) -> dict[str, list[tuple[str, str]]]:
    tables: dict[str, list[tuple[str, str]]] = {}
    current = None
    for line in text.splitlines():
        heading = re.match(r'## "(\w+)"', line)
        if heading:
            current = tables.setdefault(heading.group(1), [])
            continue
        cell = re.match(r'\| "(\w+)" \| ([a-z ]+?)(?: \(.*\))? \|', line)
        if cell and current is not None:
            current.append((cell.group(1), cell.group(2)))
    return tables


@pytest.mark.skipif(not DERIVED.exists(), reason="the shared reference folder is not next to the repository")
def test_layout_matches_the_derived_reference_column_for_column():
    assert _derived_tables(DERIVED.read_text()) == {name: list(s.columns) for name, s in layout.STREAMS.items()}


@pytest.mark.parametrize(
    ("stream", "prefix", "table"),
    [
        ("extensiveCalls", "", "extensiveCalls"),
        ("calls", "gong_", "gong_calls"),
        ("users", "gong-eu.", "gong_eu_users"),
        ("calls", "2024 ", "_2024_calls"),
    ],
)
def test_table_names_follow_the_destination_naming_rules(stream, prefix, table):
    assert layout.table_name(stream, prefix) == table


def test_identifiers_are_quoted_so_no_name_can_break_out():
    assert layout.quote_ident('we"ird') == '"we""ird"'
    assert layout.create_table_sql(layout.CALL_TRANSCRIPTS, 'x"; DROP', "p_").startswith(
        'CREATE TABLE "x""; DROP"."p_callTranscripts" ("started" timestamp with time zone, "callId" varchar'
    )
