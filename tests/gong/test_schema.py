"""Discovery: which Gong tables exist in the configured schema and prefix, and how columns map."""

from __future__ import annotations

import asyncpg
import pytest

from sophia_mcp.gong import layout
from sophia_mcp.gong.errors import StreamMissingError
from sophia_mcp.gong.repository import GongRepository
from sophia_mcp.gong.schema import discover
from sophia_mcp.postgres.readonly import ReadOnlyPool
from sophia_mcp.sample.databases import recreate_database
from tests.fixtures.postgres import PARTIAL_PREFIX, PARTIAL_SCHEMA

pytestmark = pytest.mark.anyio


async def test_every_stream_is_found_in_the_full_sample(pool):
    schema = await discover(pool)
    assert set(schema.tables) == set(layout.STREAMS)
    assert schema.missing == []
    report = schema.report()
    assert all(s.found and s.renamed is None and s.missing_columns is None for s in report.streams)


async def test_schema_and_prefix_are_honoured_and_missing_streams_say_what_to_enable(partial_gong):
    async with ReadOnlyPool(partial_gong.url) as pool:
        schema = await discover(pool, PARTIAL_SCHEMA, PARTIAL_PREFIX)
        nothing_here = await discover(pool)  # wrong schema and prefix: nothing found
    assert set(schema.tables) == {"calls", "users"}
    assert schema.table("calls").name == "gong_calls"
    assert set(schema.missing) == {"extensiveCalls", "scorecards", "answeredScorecards", "callTranscripts"}
    with pytest.raises(StreamMissingError, match='stream "callTranscripts".*"gong_callTranscripts" in schema "airbyte_gong"'):
        schema.table("callTranscripts")
    assert nothing_here.tables == {}


async def test_case_folded_names_are_mapped_and_a_table_without_airbyte_columns_is_not_used(postgres_admin_url):
    url = await recreate_database(postgres_admin_url, "sophia_test_gong_folded")
    admin = await asyncpg.connect(url)
    try:
        # As a destination that folds identifiers to lower case would write them.
        await admin.execute(
            "CREATE TABLE calls (id varchar, title varchar, started timestamptz, duration bigint, "
            "primaryuserid varchar, _airbyte_raw_id varchar, _airbyte_extracted_at timestamptz, _airbyte_meta jsonb); "
            "INSERT INTO calls VALUES ('11', 'Folded call', now(), 60, '77', 'r1', now(), '{}'); "
            "CREATE TABLE users (id varchar, firstname varchar)"
        )
    finally:
        await admin.close()
    async with ReadOnlyPool(url) as pool:
        schema = await discover(pool)
        page = await GongRepository(pool).search_calls()
    assert schema.table("calls").columns["primaryUserId"] == "primaryuserid"
    mapping = next(s for s in schema.report().streams if s.stream == "calls")
    assert mapping.renamed == {"primaryUserId": "primaryuserid"}
    assert "direction" in (mapping.missing_columns or [])
    assert "users" in schema.missing and "not Airbyte's" in schema.problems["users"]
    assert [(c.id, c.title, c.rep_id) for c in page.calls] == [("11", "Folded call", "77")]
