"""An installation that syncs only calls and users: what can work does, the rest names the
Airbyte stream to enable; and enabling it later works without a restart."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from sophia_mcp.gong import layout
from sophia_mcp.gong.filters import CallFilters
from sophia_mcp.gong.errors import NotFoundError, StreamMissingError
from sophia_mcp.gong.repository import GongRepository
from sophia_mcp.postgres.readonly import ReadOnlyPool
from tests.fixtures.postgres import PARTIAL_PREFIX, PARTIAL_SCHEMA

pytestmark = pytest.mark.anyio


@pytest.fixture
async def partial_repo(partial_gong) -> AsyncIterator[GongRepository]:
    async with ReadOnlyPool(partial_gong.url) as pool:
        yield GongRepository(pool, PARTIAL_SCHEMA, PARTIAL_PREFIX)


async def test_search_list_users_and_call_metadata_still_work(partial_repo, partial_gong):
    facts = next(iter(partial_gong.manifest.calls.values()))
    rep = partial_gong.manifest.users[facts.rep_id]

    page = await partial_repo.search_calls(CallFilters(rep=rep.email), limit=100)
    assert facts.id in {c.id for c in page.calls}
    assert all(c.account is None for c in page.calls)

    call = await partial_repo.get_call(facts.id)
    assert (call.title, call.rep.name) == (facts.title, rep.name)
    assert call.parties is None and call.brief is None
    assert any("extensiveCalls" in note for note in call.unavailable)

    users = await partial_repo.list_users(rep.first_name)
    assert rep.id in {u.id for u in users.users}


@pytest.mark.parametrize(
    ("lookup", "stream"),
    [
        (lambda repo, call_id: repo.get_transcript(call_id), "callTranscripts"),
        (lambda repo, call_id: repo.search_calls(CallFilters(account="Acme")), "extensiveCalls"),
        (lambda repo, call_id: repo.search_calls(CallFilters(opportunity="006")), "extensiveCalls"),
        (lambda repo, call_id: repo.account_activity("Acme"), "extensiveCalls"),
        (lambda repo, call_id: repo.rep_stats(), "extensiveCalls"),
    ],
)
async def test_what_needs_a_missing_stream_says_which_to_enable(partial_repo, partial_gong, lookup, stream):
    call_id = next(iter(partial_gong.manifest.calls))
    with pytest.raises(StreamMissingError, match=f'Enable the "{stream}" stream in the Airbyte connection'):
        await lookup(partial_repo, call_id)


async def test_data_status_reports_found_and_missing_streams(partial_repo, partial_gong):
    status = {s.stream: s for s in (await partial_repo.data_status()).streams}
    assert status["calls"].found and status["calls"].rows == partial_gong.manifest.rows["calls"]
    assert status["users"].fresh
    assert not status["callTranscripts"].found
    assert 'Enable the "callTranscripts" stream' in status["callTranscripts"].hint


async def test_a_stream_enabled_later_is_found_without_a_restart(partial_gong):
    table = f'"{PARTIAL_SCHEMA}"."{layout.table_name("callTranscripts", PARTIAL_PREFIX)}"'
    call_id = next(iter(partial_gong.manifest.calls))
    async with ReadOnlyPool(partial_gong.url) as pool:
        repo = GongRepository(pool, PARTIAL_SCHEMA, PARTIAL_PREFIX, rediscover_after_s=0)
        with pytest.raises(StreamMissingError):
            await repo.get_transcript(call_id)
        admin = await asyncpg.connect(partial_gong.url)
        try:
            await admin.execute(layout.create_table_sql(layout.CALL_TRANSCRIPTS, PARTIAL_SCHEMA, PARTIAL_PREFIX))
            with pytest.raises(NotFoundError, match="No transcript"):
                await repo.get_transcript(call_id)
        finally:
            await admin.execute(f"DROP TABLE {table}")
            await admin.close()
