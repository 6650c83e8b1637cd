"""Read-only safety of the Gong lookups: hostile text in every text argument gives a clear error or
an ordinary answer, nothing runs that the caller wrote, and the data is unchanged afterwards; a
query past the timeout ends with a typed error while the pool keeps serving; and a write sent
through the pool's connection is refused by the database itself."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sophia_mcp.errors import SophiaError
from sophia_mcp.gong.filters import CallFilters, DealFilters, SpeechFilters, checked
from sophia_mcp.gong.repository import GongRepository
from sophia_mcp.postgres.errors import QueryTimeoutError, ReadOnlyViolationError
from sophia_mcp.postgres.readonly import ReadOnlyPool

pytestmark = pytest.mark.anyio

ATTACKS = [
    "'",
    '"',
    "\\",
    "%",
    "_",
    "' OR '1'='1",
    "'; DROP TABLE calls; --",
    '"; DROP TABLE "extensiveCalls"; --',
    "1; COMMIT; DROP TABLE users; --",
    "ROLLBACK; SET default_transaction_read_only = off; DROP SCHEMA public CASCADE; --",
    "/* comment */ SELECT 1",
    "-- trailing comment",
    "$$; DELETE FROM calls; $$",
    "'); SELECT pg_sleep(10); --",
    "' || pg_sleep(10) || '",
    "pg_sleep(10)",
    "'; SELECT pg_read_file('/etc/passwd'); --",
    "pg_read_file('postgresql.conf')",
    "'; COPY calls TO '/tmp/stolen.csv'; --",
    "Robert'); DROP TABLE \"callTranscripts\";--",
    "x" * 100_000,
    "ü" * 150,
    "🙂 Ωμέγα 漢字 \u202e",
    "\x00",
    "a\x00b",
    "\ud800",
    "   ",
    "7782342274025937895; DROP TABLE calls",
    "99999999999999999999999999",
]

Lookup = Callable[[GongRepository, str], Awaitable[object]]

# Every text argument of every lookup.
TEXT_ARGUMENTS: dict[str, Lookup] = {
    "search_calls.text": lambda repo, value: repo.search_calls(checked(CallFilters, text=value)),
    "search_calls.rep": lambda repo, value: repo.search_calls(checked(CallFilters, rep=value)),
    "search_calls.account": lambda repo, value: repo.search_calls(checked(CallFilters, account=value)),
    "search_calls.opportunity": lambda repo, value: repo.search_calls(checked(CallFilters, opportunity=value)),
    "search_calls.direction": lambda repo, value: repo.search_calls(checked(CallFilters, direction=value)),
    "search_calls.tracker": lambda repo, value: repo.search_calls(checked(CallFilters, tracker=value)),
    "search_calls.cursor": lambda repo, value: repo.search_calls(cursor=value),
    "search_transcripts.phrase": lambda repo, value: repo.search_transcripts(value),
    "search_transcripts.phrase_exact": lambda repo, value: repo.search_transcripts(value, exact=True),
    "search_transcripts.rep": lambda repo, value: repo.search_transcripts("pricing", checked(SpeechFilters, rep=value)),
    "search_transcripts.account": lambda repo, value: repo.search_transcripts(
        "pricing", checked(SpeechFilters, account=value)
    ),
    "search_transcripts.cursor": lambda repo, value: repo.search_transcripts("pricing", cursor=value),
    "list_deals.stage": lambda repo, value: repo.list_deals(checked(DealFilters, stage=value)),
    "list_deals.owner": lambda repo, value: repo.list_deals(checked(DealFilters, owner=value)),
    "list_deals.account": lambda repo, value: repo.list_deals(checked(DealFilters, account=value)),
    "list_deals.flag": lambda repo, value: repo.list_deals(checked(DealFilters, flag=value)),
    "list_deals.cursor": lambda repo, value: repo.list_deals(cursor=value),
    "deal_brief.opportunity": lambda repo, value: repo.deal_brief(value),
    "tracker_stats.tracker": lambda repo, value: repo.tracker_stats(value),
    "tracker_stats.by": lambda repo, value: repo.tracker_stats(by=value),
    "scorecard_stats.scorecard": lambda repo, value: repo.scorecard_stats(value),
    "scorecard_stats.rep": lambda repo, value: repo.scorecard_stats(rep=value),
    "get_call.call_id": lambda repo, value: repo.get_call(value),
    "get_transcript.call_id": lambda repo, value: repo.get_transcript(value),
    "get_transcript.cursor": lambda repo, value: repo.get_transcript("7782342274025937895", cursor=value),
    "list_users.query": lambda repo, value: repo.list_users(value),
    "list_users.cursor": lambda repo, value: repo.list_users(cursor=value),
    "account_activity.account": lambda repo, value: repo.account_activity(value),
    "rep_stats.rep": lambda repo, value: repo.rep_stats(rep=value),
}


async def table_checksums(url: str) -> dict[str, str]:
    """An md5 of the full contents of every table outside the system schemas."""
    connection = await asyncpg.connect(url)
    try:
        tables = await connection.fetch(
            "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) AS name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"
        )
        return {
            t["name"]: await connection.fetchval(f"SELECT md5(string_agg(x::text, '|' ORDER BY x::text)) FROM {t['name']} x")
            for t in tables
        }
    finally:
        await connection.close()


async def _outcome(lookup: Lookup, repo: GongRepository, value: str) -> str:
    """'ok' or the typed error's message; anything else (a driver error, a crash) fails the test."""
    started = time.monotonic()
    try:
        await lookup(repo, value)
        outcome = "ok"
    except SophiaError as error:
        outcome = str(error)
        assert outcome and len(outcome) < 2000
    assert time.monotonic() - started < 3, "no caller text may make a query sleep"
    return outcome


async def test_hostile_text_in_every_argument_changes_nothing(repo, gong_postgres_url):
    before = await table_checksums(gong_postgres_url)
    assert len(before) == 6 and all(before.values())
    for name, lookup in TEXT_ARGUMENTS.items():
        for attack in ATTACKS:
            outcome = await _outcome(lookup, repo, attack)
            if "\x00" in attack and not name.endswith(("cursor", "direction", "flag", ".by")):
                assert "NUL character" in outcome, (name, outcome)
    assert await table_checksums(gong_postgres_url) == before
    assert (await repo.search_calls(limit=1)).calls, "still serving"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.text(max_size=300), argument=st.sampled_from(sorted(TEXT_ARGUMENTS)))
async def test_any_text_gives_an_answer_or_a_typed_error(repo, value, argument):
    await _outcome(TEXT_ARGUMENTS[argument], repo, value)


async def test_a_query_past_the_timeout_ends_clearly_and_the_pool_keeps_serving(gong_postgres_url, manifest):
    call_id = next(iter(manifest.calls))
    admin = await asyncpg.connect(gong_postgres_url)
    async with ReadOnlyPool(gong_postgres_url, statement_timeout_ms=300) as pool:
        repo = GongRepository(pool)
        await repo.tables()
        # An Airbyte sync swapping the table holds an exclusive lock: reads wait, then time out.
        transaction = admin.transaction()
        await transaction.start()
        await admin.execute("LOCK TABLE calls IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        with pytest.raises(QueryTimeoutError, match="longer than 0.3 s"):
            await repo.get_call(call_id)
        assert time.monotonic() - started < 3
        await transaction.rollback()
        assert (await repo.get_call(call_id)).id == call_id
    await admin.close()


async def test_a_write_through_the_pools_connection_is_refused_by_the_database(pool, gong_postgres_url):
    before = await table_checksums(gong_postgres_url)
    for statement in (
        'DELETE FROM "calls"',
        'UPDATE "users" SET "active" = false',
        'INSERT INTO "scorecards" ("scorecardId", _airbyte_raw_id, _airbyte_extracted_at, _airbyte_meta) '
        "VALUES ('x', 'x', now(), '{}')",
        'DROP TABLE "callTranscripts"',
    ):
        with pytest.raises(ReadOnlyViolationError):
            async with pool.session() as session:
                await session.fetch(statement)
    assert await table_checksums(gong_postgres_url) == before
