"""Realistic Gong data in exactly the tables Airbyte's destination-postgres writes, for tests,
benchmarks and `sophia-mcp demo`.

Seeded and sized by the number of calls. Written with binary COPY in batches, so 100,000 calls
load in minutes and memory stays flat. Returns a manifest of what it wrote (themes, accounts, reps
and speakers per call, which records have older versions) so tests can check answers against it.
Private calls are left out, as source-gong drops them; their ids are in the manifest.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

import asyncpg

from sophia_mcp.gong import layout
from sophia_mcp.sample.gong.calls import CallFacts, new_call
from sophia_mcp.sample.gong.rows import (
    AnsweredScorecardFacts,
    Row,
    answered_scorecard_rows,
    call_rows,
    scorecard_rows,
    user_rows,
)
from sophia_mcp.sample.gong.vocabulary import THEMES, THEMES_BY_KEY, Theme
from sophia_mcp.sample.gong.world import Account, User, build_world, digits

ALL_STREAMS: tuple[str, ...] = tuple(layout.STREAMS)
# Shares of calls that are private (never written), and of written calls a manager reviewed.
PRIVATE_SHARE = 0.02
REVIEWED_SHARE = 0.15
# Rows end with _airbyte_raw_id, _airbyte_extracted_at, _airbyte_meta, _airbyte_generation_id.
EXTRACTED_AT_CELL = -3

__all__ = ["ALL_STREAMS", "THEMES", "THEMES_BY_KEY", "CallFacts", "SampleManifest", "Theme", "load_sample_data"]


@dataclass
class SampleManifest:
    seed: int
    now: datetime
    schema: str
    prefix: str
    streams: tuple[str, ...]
    calls: dict[str, CallFacts] = field(default_factory=dict)
    private_call_ids: list[str] = field(default_factory=list)
    users: dict[str, User] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)
    scorecards_by_call: dict[str, list[AnsweredScorecardFacts]] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    last_extracted: dict[str, datetime] = field(default_factory=dict)

    def calls_about(self, theme: str) -> list[CallFacts]:
        return [call for call in self.calls.values() if theme in call.themes]

    def account_named(self, name: str) -> Account:
        return next(account for account in self.accounts.values() if account.name == name)


@dataclass
class _Batch:
    rows: dict[str, list[Row]] = field(default_factory=lambda: {stream: [] for stream in ALL_STREAMS})

    def add(self, more: dict[str, list[Row]]) -> None:
        for stream, rows in more.items():
            self.rows[stream].extend(rows)


async def load_sample_data(
    url: str,
    *,
    calls: int = 5000,
    seed: int = 7,
    schema: str = "public",
    prefix: str = "",
    streams: Iterable[str] = ALL_STREAMS,
    now: datetime | None = None,
    days: int = 180,
    duplicate_rate: float = 0.1,
    recommended_indexes: bool = True,
    batch_size: int = 2000,
) -> SampleManifest:
    """(Re)create the Gong tables of `streams` in `schema` (dropping earlier ones) and fill them.

    `now` anchors every date (calls span the `days` before it, the last sync is just before it);
    the same seed, size and `now` write the same data. `recommended_indexes` adds the indexes the
    README recommends on top of the one Airbyte creates.
    """
    chosen = tuple(stream for stream in ALL_STREAMS if stream in set(streams))
    manifest = SampleManifest(seed, now or _this_minute(), schema, prefix, chosen)
    connection = await asyncpg.connect(url)
    try:
        await _create_tables(connection, manifest)
        for batch in _generate(manifest, calls, days, duplicate_rate, batch_size):
            await _copy(connection, manifest, batch)
        await _index(connection, manifest, recommended_indexes)
    finally:
        await connection.close()
    return manifest


def _this_minute() -> datetime:
    return datetime.now(timezone.utc).replace(second=0, microsecond=0)


def _generate(manifest: SampleManifest, calls: int, days: int, duplicate_rate: float, batch_size: int) -> Iterator[_Batch]:
    rng = random.Random(manifest.seed)
    world = build_world(rng, calls, manifest.now, days)
    manifest.users = world.users_by_id
    manifest.accounts = {account.id: account for account in world.accounts}
    first = _Batch()
    first.add({"users": user_rows(rng, world, duplicate_rate * 2), "scorecards": scorecard_rows(rng, world)})
    yield first

    batch, in_batch = _Batch(), 0
    while len(manifest.calls) < calls:
        call_id = digits(rng, rng.choice((18, 19)))
        # Some 19-digit ids would overflow extensiveCalls' bigint; Gong's do not.
        if int(call_id) >= 2**63 or call_id in manifest.calls:
            continue
        if rng.random() < PRIVATE_SHARE:
            manifest.private_call_ids.append(call_id)
            continue
        call = new_call(rng, world, call_id)
        rows, older, first_extracted = call_rows(rng, call, manifest.now, rng.random() < duplicate_rate)
        call.facts = replace(call.facts, has_older_version=older, first_extracted=first_extracted)
        batch.add(rows)
        if call.facts.has_transcript and rng.random() < REVIEWED_SHARE:
            review = answered_scorecard_rows(rng, call, world, rng.random() < duplicate_rate)
            if review is not None:
                batch.add({"answeredScorecards": review[0]})
                manifest.scorecards_by_call.setdefault(call_id, []).append(review[1])
        manifest.calls[call_id] = call.facts
        in_batch += 1
        if in_batch == batch_size:
            yield batch
            batch, in_batch = _Batch(), 0
    yield batch


async def _create_tables(connection: asyncpg.Connection, manifest: SampleManifest) -> None:
    schema = layout.quote_ident(manifest.schema)
    await connection.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for stream in ALL_STREAMS:
        table = layout.quote_ident(layout.table_name(stream, manifest.prefix))
        await connection.execute(f"DROP TABLE IF EXISTS {schema}.{table}")
    for stream in manifest.streams:
        await connection.execute(layout.create_table_sql(layout.STREAMS[stream], manifest.schema, manifest.prefix))


async def _copy(connection: asyncpg.Connection, manifest: SampleManifest, batch: _Batch) -> None:
    for stream in manifest.streams:
        rows = batch.rows[stream]
        if rows:
            await connection.copy_records_to_table(
                layout.table_name(stream, manifest.prefix),
                schema_name=manifest.schema,
                columns=list(layout.STREAMS[stream].column_names),
                records=rows,
            )
            manifest.rows[stream] = manifest.rows.get(stream, 0) + len(rows)
            newest = max(row[EXTRACTED_AT_CELL] for row in rows)
            manifest.last_extracted[stream] = max(newest, manifest.last_extracted.get(stream, newest))


async def _index(connection: asyncpg.Connection, manifest: SampleManifest, recommended: bool) -> None:
    statements = [layout.airbyte_index_sql(layout.STREAMS[s], manifest.schema, manifest.prefix) for s in manifest.streams]
    if recommended:
        statements += layout.recommended_index_sql(manifest.schema, manifest.prefix, manifest.streams)
    for sql in statements:
        await connection.execute(sql)
    for stream in manifest.streams:
        # VACUUM too, as autovacuum would have after Airbyte's inserts: index-only scans then skip the heap.
        table = layout.quote_ident(layout.table_name(stream, manifest.prefix))
        await connection.execute(f"VACUUM ANALYZE {layout.quote_ident(manifest.schema)}.{table}")
