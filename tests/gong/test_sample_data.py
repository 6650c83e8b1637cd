"""The sample data looks like what Airbyte writes: the exact tables, older versions kept by append
syncs, bigint extensiveCalls ids next to text ids, no private calls; and it is reproducible."""

from __future__ import annotations

from datetime import datetime, timezone

import asyncpg
import pytest

from sophia_mcp.gong import layout
from sophia_mcp.sample.gong_data import THEMES, load_sample_data
from sophia_mcp.sample.databases import recreate_database

pytestmark = pytest.mark.anyio

INFORMATION_SCHEMA_TYPES = {
    "varchar": "character varying",
    "bigint": "bigint",
    "boolean": "boolean",
    "jsonb": "jsonb",
    "timestamp with time zone": "timestamp with time zone",
}


@pytest.fixture
async def admin(gong_postgres_url):
    connection = await asyncpg.connect(gong_postgres_url)
    yield connection
    await connection.close()


async def test_every_table_has_exactly_the_destination_columns_and_types(admin):
    rows = await admin.fetch(
        "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns "
        "WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"
    )
    found: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        found.setdefault(row["table_name"], []).append((row["column_name"], row["data_type"]))
        if row["column_name"] in ("_airbyte_raw_id", "_airbyte_extracted_at", "_airbyte_meta"):
            assert row["is_nullable"] == "NO"
    expected = {
        stream.name: [(name, INFORMATION_SCHEMA_TYPES[kind.removesuffix(" NOT NULL")])
                      for name, kind in stream.columns + layout.AIRBYTE_COLUMNS]
        for stream in layout.STREAMS.values()
    }
    assert found == expected


async def test_append_syncs_left_older_versions_extracted_earlier_and_stored_after_the_newest(admin, manifest):
    older = [call for call in manifest.calls.values() if call.has_older_version]
    assert len(older) > len(manifest.calls) * 0.05
    call = older[0]
    versions = await admin.fetch(
        'SELECT title, _airbyte_extracted_at, ctid FROM calls WHERE id = $1 ORDER BY _airbyte_extracted_at DESC', call.id
    )
    assert [v["title"] for v in versions][0] == call.title
    assert versions[1]["title"] != call.title
    assert versions[0]["ctid"] < versions[1]["ctid"], "the newest row comes first, so storage order cannot pick it"
    for table, key in (("calls", "id"), ('"extensiveCalls"', "id"), ('"callTranscripts"', '"callId"'), ("users", "id")):
        rows, records = await admin.fetchrow(f"SELECT count(*), count(DISTINCT {key}) FROM {table}")
        assert rows > records, table


async def test_extensive_call_ids_are_bigint_and_match_the_text_ids_of_calls(admin, manifest):
    assert await admin.fetchval("""SELECT pg_typeof(id)::text FROM "extensiveCalls" LIMIT 1""") == "bigint"
    assert await admin.fetchval("SELECT pg_typeof(id)::text FROM calls LIMIT 1") == "character varying"
    unmatched = await admin.fetchval(
        """SELECT count(*) FROM "extensiveCalls" e WHERE NOT EXISTS (SELECT 1 FROM calls c WHERE c.id = e.id::text)"""
    )
    assert unmatched == 0
    assert max(len(call_id) for call_id in manifest.calls) == 19


async def test_private_calls_are_not_there_as_the_source_drops_them(admin, manifest):
    assert manifest.private_call_ids
    private = manifest.private_call_ids
    assert await admin.fetchval("SELECT count(*) FROM calls WHERE id = ANY($1)", private) == 0
    assert await admin.fetchval('SELECT count(*) FROM calls WHERE "isPrivate"') == 0


async def test_transcripts_name_speakers_only_by_speaker_id_from_the_parties(admin, manifest):
    call = next(c for c in manifest.calls.values() if c.has_transcript)
    monologue = await admin.fetchval(
        """SELECT transcript -> 0 FROM "callTranscripts" WHERE "callId" = $1 ORDER BY _airbyte_extracted_at DESC LIMIT 1""",
        call.id,
    )
    assert '"speakerId"' in monologue and '"name"' not in monologue
    assert '"start"' in monologue and '"end"' in monologue


def test_every_theme_is_in_some_calls_and_the_manifest_says_which(manifest):
    for theme in THEMES:
        assert len(manifest.calls_about(theme.key)) > 20, theme.key


async def test_the_same_seed_writes_the_same_rows(postgres_admin_url):
    now = datetime(2025, 3, 3, 12, tzinfo=timezone.utc)
    url = await recreate_database(postgres_admin_url, "sophia_test_gong_twice")
    first = await load_sample_data(url, calls=60, seed=5, now=now, schema="first")
    second = await load_sample_data(url, calls=60, seed=5, now=now, schema="second")
    assert first.calls == second.calls
    connection = await asyncpg.connect(url)
    try:
        for stream in layout.STREAMS:
            digests = [
                await connection.fetchval(f"SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM {schema}.\"{stream}\" t")
                for schema in ("first", "second")
            ]
            assert digests[0] and digests[0] == digests[1], stream
    finally:
        await connection.close()
