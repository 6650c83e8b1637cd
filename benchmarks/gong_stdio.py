"""Gong lookups over stdio with the official MCP client, beside the driver's floor, on sample data.

    python -m benchmarks.gong_stdio [--calls 100000] [--requests 300] [--explain]

Loads `--calls` sample calls (Airbyte's layout, with the recommended indexes) into an embedded
Postgres kept in `--data-dir` (default ~/.cache/sophia-mcp/bench-postgres; a second run with the
same size reuses the data, `--reload` rebuilds it), or into the server at `--url` (a role that may
create databases). Then, in one run, the same requests on each path in turn (blocks of 20 back to back):

- `gong_get_call` and `gong_search_calls` (a rep and a 30-day range) through the real server over
  stdio (`sophia-mcp serve`, launched as mcp.json does), p50 and p99;
- the same lookups through the repository in this process (no MCP), to split the overhead;
- the floor: the exact SQL statement the repository runs for that request (captured from it), sent
  with asyncpg on one plain connection, with asyncpg's statement cache (as the pool has);
- 200 tool calls at once over one stdio session, which must all succeed.

Two more figures split the tool's time: the official client's check of each result against the
tool's output schema (jsonschema, in the client), and a stdio round trip that does no work (a call
refused for a malformed id, so neither Postgres nor an output check is involved).

`--explain` also times the statement behind every Gong tool and prints EXPLAIN (ANALYZE, BUFFERS)
for each one over 10 ms, and the recommended indexes.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import asyncpg
from mcp import Client
from mcp.client.session import ClientSession

from benchmarks.stdio import percentile, server_params
from sophia_mcp.gong import layout
from sophia_mcp.gong.filters import CallFilters
from sophia_mcp.gong.repository import GongRepository
from sophia_mcp.postgres.readonly import ReadOnlyPool, ReadOnlySession

SEED = 7
DEFAULT_DATA_DIR = Path.home() / ".cache" / "sophia-mcp" / "bench-postgres"
SEARCH_WINDOW = timedelta(days=30)
CONCURRENT = 200
# Requests measured back to back on each path before the next path takes its turn.
BLOCK = 20
SLOW_MS = 10.0

Statement = tuple[str, tuple[Any, ...]]


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- data ---------------------------------------------------------------------------------------


def _database_url(server_url: str, database: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    return urlunsplit(urlsplit(server_url)._replace(path=f"/{database}"))


async def prepare(admin_url: str, calls: int, reload: bool) -> str:
    """The URL of a database holding `calls` sample calls, loading it unless a complete one is there."""
    from sophia_mcp.sample.gong_data import load_sample_data

    database = f"sophia_bench_gong_{calls}"
    marker = f"sophia-mcp benchmark sample: {calls} calls, seed {SEED}, generator 3 (deals, phrases), complete"
    url = _database_url(admin_url, database)
    admin = await asyncpg.connect(admin_url)
    try:
        comment = await admin.fetchval(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1", database
        )
        if comment == marker and not reload:
            say(f"reusing {database} ({calls} calls)")
            await _ensure_indexes(url)
            return url
        # The name is built from an int: safe in the statement.
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{database}"')
        say(f"loading {calls} sample calls into {database} ...")
        started = time.perf_counter()
        await load_sample_data(url, calls=calls, seed=SEED)
        say(f"loaded in {time.perf_counter() - started:.0f} s")
        await admin.execute(f"COMMENT ON DATABASE \"{database}\" IS '{marker}'")
    finally:
        await admin.close()
    return url


async def _ensure_indexes(url: str) -> None:
    """Data loaded by an older version may lack an index recommended since (IF NOT EXISTS: cheap)."""
    connection = await asyncpg.connect(url)
    try:
        for sql in layout.recommended_index_sql("public"):
            await connection.execute(sql)
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


@asynccontextmanager
async def postgres(args: argparse.Namespace):
    if args.url:
        yield args.url
        return
    from sophia_mcp.postgres.embedded import start_embedded_postgres

    server = start_embedded_postgres(args.data_dir)
    try:
        yield server.url
    finally:
        server.stop()


async def pick_requests(url: str, count: int) -> tuple[list[str], list[dict[str, Any]]]:
    """Call ids and (rep, 30-day range) searches, seeded: the same every run on the same data."""
    rng = random.Random(SEED)
    connection = await asyncpg.connect(url)
    try:
        ids = [r["id"] for r in await connection.fetch("SELECT DISTINCT id FROM calls ORDER BY id")]
        reps = await connection.fetch(
            'SELECT "primaryUserId" AS rep, min(started) AS first, max(started) AS last '
            'FROM calls GROUP BY 1 ORDER BY 1'
        )
    finally:
        await connection.close()
    call_ids = rng.sample(ids, min(count, len(ids)))
    searches = []
    for _ in range(count):
        rep = rng.choice(reps)
        span = max(0.0, (rep["last"] - rep["first"] - SEARCH_WINDOW).total_seconds())
        since = (rep["first"] + timedelta(seconds=rng.uniform(0, span))).replace(microsecond=0)
        searches.append({"rep": rep["rep"], "since": since, "until": since + SEARCH_WINDOW, "limit": 20})
    return call_ids, searches


def filters_of(search: dict[str, Any]) -> CallFilters:
    return CallFilters(**{name: value for name, value in search.items() if name != "limit"})


def as_tool_args(search: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in search.items()}


# --- the repository's own SQL -------------------------------------------------------------------


async def captured(lookup: Callable[[], Awaitable[object]]) -> list[Statement]:
    """The statements a lookup sends (with their parameters), captured while it runs."""
    statements: list[Statement] = []
    original = ReadOnlySession.fetch

    async def recording(session: ReadOnlySession, sql: str, *params: Any) -> list[asyncpg.Record]:
        statements.append((sql, params))
        return await original(session, sql, *params)

    ReadOnlySession.fetch = recording  # type: ignore[method-assign]
    try:
        await lookup()
    finally:
        ReadOnlySession.fetch = original  # type: ignore[method-assign]
    return statements


async def floor_ms(connection: asyncpg.Connection, statements: list[Statement]) -> float:
    started = time.perf_counter()
    for sql, params in statements:
        await connection.fetch(sql, *params)
    return (time.perf_counter() - started) * 1000


async def timed(call: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await call()
    return (time.perf_counter() - started) * 1000


async def tool(client: Client, name: str, args: dict[str, Any]) -> Any:
    result = await client.call_tool(name, args)
    if result.is_error:
        raise RuntimeError(f"{name}({args}) failed: {result.content[0].text}")
    return result.structured_content


# --- the run ------------------------------------------------------------------------------------

# `--server-command` replaces `sophia-mcp serve` (e.g. to compare a change to the stdio transport).
SERVER_COMMAND: list[str] = []


def stdio_server(env: dict[str, str]) -> Client:
    params = server_params(env)
    if SERVER_COMMAND:
        params = params.model_copy(update={"command": SERVER_COMMAND[0], "args": SERVER_COMMAND[1:]})
    return Client(params)



class OutputCheckTimer:
    """Times the official client's validation of each tool result against the output schema."""

    def __init__(self) -> None:
        self.last_ms = 0.0
        self._original = ClientSession.validate_tool_result

    def __enter__(self) -> OutputCheckTimer:
        original, timer = self._original, self

        async def timed_validation(session: ClientSession, name: str, result: Any) -> None:
            started = time.perf_counter()
            try:
                await original(session, name, result)
            finally:
                timer.last_ms = (time.perf_counter() - started) * 1000

        ClientSession.validate_tool_result = timed_validation  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc_info: object) -> None:
        ClientSession.validate_tool_result = self._original  # type: ignore[method-assign]


async def no_work(client: Client) -> None:
    result = await client.call_tool("gong_get_call", {"call_id": "not-an-id"})
    assert result.is_error


async def side_by_side(url: str, requests: int, pool_size: int) -> dict[str, dict[str, list[float]]]:
    call_ids, searches = await pick_requests(url, requests)
    env = {"SOPHIA_POSTGRES_URL": url, "SOPHIA_POSTGRES_POOL_SIZE": str(pool_size)}
    times: dict[str, dict[str, list[float]]] = {
        "gong_get_call": {"tool": [], "check": [], "repository": [], "floor": []},
        "gong_search_calls": {"tool": [], "check": [], "repository": [], "floor": []},
        "no work": {"tool": []},
    }
    checks = OutputCheckTimer()
    async with ReadOnlyPool(url, max_size=pool_size) as pool, stdio_server(env) as client:
        repo = GongRepository(pool)
        floor = await asyncpg.connect(url)
        try:
            plans: list[tuple[str, Callable[[], Awaitable[Any]], Callable[[], Awaitable[Any]], list[Statement]]] = []
            for call_id, search in zip(call_ids, searches, strict=True):
                get_call = (lambda c=call_id: repo.get_call(c))
                search_calls = (lambda s=search: repo.search_calls(filters_of(s), limit=s["limit"]))
                plans.append(("gong_get_call", get_call, lambda c=call_id: tool(client, "gong_get_call", {"call_id": c}),
                              await captured(get_call)))
                plans.append(("gong_search_calls", search_calls,
                              lambda s=search: tool(client, "gong_search_calls", as_tool_args(s)),
                              await captured(search_calls)))
            # Warm up every path (connections, statement caches, the server's discovery), then measure.
            for name, in_process, over_stdio, statements in plans[:40]:
                await floor_ms(floor, statements)
                await in_process()
                await over_stdio()
                await no_work(client)
            # In blocks, each path back to back as a busy server runs it, the blocks taking turns.
            with checks:
                for start in range(0, len(plans), BLOCK):
                    block = plans[start:start + BLOCK]
                    for name, _, _, statements in block:
                        times[name]["floor"].append(await floor_ms(floor, statements))
                    for name, in_process, _, _ in block:
                        times[name]["repository"].append(await timed(in_process))
                    await pool.settle()
                    for name, _, over_stdio, _ in block:
                        times[name]["tool"].append(await timed(over_stdio))
                        times[name]["check"].append(checks.last_ms)
                    for _ in range(len(block) // 2):
                        times["no work"]["tool"].append(await timed(lambda: no_work(client)))
        finally:
            await floor.close()
    return times


async def concurrent(url: str, pool_size: int) -> tuple[int, int, float]:
    """200 tool calls at once over one session: (succeeded, failed, wall ms)."""
    call_ids, searches = await pick_requests(url, CONCURRENT // 2)
    env = {"SOPHIA_POSTGRES_URL": url, "SOPHIA_POSTGRES_POOL_SIZE": str(pool_size)}
    outcomes = {"ok": 0, "failed": 0}
    errors: list[str] = []
    async with stdio_server(env) as client:
        await tool(client, "gong_get_call", {"call_id": call_ids[0]})

        async def one(name: str, args: dict[str, Any]) -> None:
            result = await client.call_tool(name, args)
            if result.is_error:
                outcomes["failed"] += 1
                errors.append(result.content[0].text)
            else:
                outcomes["ok"] += 1

        started = time.perf_counter()
        async with anyio.create_task_group() as group:
            for call_id, search in zip(call_ids, searches, strict=True):
                group.start_soon(one, "gong_get_call", {"call_id": call_id})
                group.start_soon(one, "gong_search_calls", as_tool_args(search))
        wall = (time.perf_counter() - started) * 1000
    for error in errors[:3]:
        say(f"concurrent call failed: {error}")
    return outcomes["ok"], outcomes["failed"], wall


# --- EXPLAIN ------------------------------------------------------------------------------------


async def explain_all(url: str) -> list[tuple[str, float, str, str]]:
    """(label, median ms, SQL, plan) of each statement behind a typical call of every Gong tool;
    the plan only for statements over SLOW_MS."""
    connection = await asyncpg.connect(url)
    try:
        rep = await connection.fetchrow(
            'SELECT c."primaryUserId" AS id, max(c.started) AS last FROM calls c GROUP BY 1 ORDER BY count(*) DESC LIMIT 1'
        )
        user = await connection.fetchrow('SELECT "firstName" AS first FROM users LIMIT 1')
        call_id = await connection.fetchval("SELECT \"callId\" FROM \"callTranscripts\" ORDER BY \"callId\" LIMIT 1")
        # The busiest account (the first of the sample's long tail, Acme Corp) and a median one.
        accounts = await connection.fetch(
            "SELECT jsonb_path_query_first(context, '$[*].objects[*] ? (@.objectType == \"Account\").objectId') #>> '{}' "
            "AS id FROM \"extensiveCalls\" GROUP BY 1 ORDER BY count(*) DESC, 1"
        )
        account_id, median_account_id = accounts[0]["id"], accounts[len(accounts) // 2]["id"]
        newest = await connection.fetchval("SELECT max(started) FROM calls")
    finally:
        await connection.close()
    until = newest + timedelta(seconds=1)
    since = until - SEARCH_WINDOW
    cases: list[tuple[str, Callable[[GongRepository], Awaitable[Any]]]] = [
        ("gong_get_call", lambda r: r.get_call(call_id)),
        ("gong_get_transcript", lambda r: r.get_transcript(call_id)),
        (
            "gong_search_calls (rep id, 30 days)",
            lambda r: r.search_calls(CallFilters(rep=rep["id"], since=since, until=until)),
        ),
        ("gong_search_calls (no filter, newest 20)", lambda r: r.search_calls()),
        ("gong_search_calls (title text)", lambda r: r.search_calls(CallFilters(text="pricing"))),
        ("gong_search_calls (rep by name)", lambda r: r.search_calls(CallFilters(rep=user["first"]))),
        ("gong_search_calls (account id, the busiest account)", lambda r: r.search_calls(CallFilters(account=account_id))),
        ("gong_search_calls (account id, a median account)", lambda r: r.search_calls(CallFilters(account=median_account_id))),
        ("gong_search_calls (part of an account name)", lambda r: r.search_calls(CallFilters(account="Acme"))),
        ("gong_list_users (name)", lambda r: r.list_users(user["first"])),
        ("gong_account_activity (account id, the busiest account)", lambda r: r.account_activity(account_id)),
        ("gong_account_activity (account id, a median account)", lambda r: r.account_activity(median_account_id)),
        ("gong_account_activity (account name)", lambda r: r.account_activity("Acme Corp")),
        ("gong_rep_stats (30 days, all reps)", lambda r: r.rep_stats(since=since, until=until)),
        ("gong_rep_stats (30 days, one rep)", lambda r: r.rep_stats(since=since, until=until, rep=rep["id"])),
        ("gong_data_status", lambda r: r.data_status()),
    ]
    results = []
    async with ReadOnlyPool(url, statement_timeout_ms=60_000) as pool:
        repo = GongRepository(pool)
        await repo.tables()
        floor = await asyncpg.connect(url)
        try:
            for label, lookup in cases:
                statements = await captured(lambda lookup=lookup: lookup(repo))
                statements = [s for s in statements if "information_schema" not in s[0]]
                for index, statement in enumerate(statements):
                    name = label if len(statements) == 1 else f"{label} [{index + 1}/{len(statements)}]"
                    runs = [await floor_ms(floor, [statement]) for _ in range(5)]
                    median = statistics.median(runs)
                    plan = ""
                    if median > SLOW_MS:
                        rows = await floor.fetch(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {statement[0]}", *statement[1])
                        plan = "\n".join(r[0] for r in rows)
                    results.append((name, median, statement[0], plan))
        finally:
            await floor.close()
    return results


# --- report -------------------------------------------------------------------------------------


def report(
    calls: int, requests: int, times: dict[str, dict[str, list[float]]], burst: tuple[int, int, float], load: str
) -> None:
    print(f"\nOn {calls:,} sample calls, {requests} requests each, the paths taking turns in blocks of {BLOCK} (ms; load average {load}):\n")
    print("| lookup | tool over stdio p50 / p99 | of which the client's output check p50 "
          "| repository in process p50 / p99 | floor (asyncpg, same SQL) p50 / p99 | target p50 (1.5 × floor + 2) | met |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, columns in times.items():
        if name == "no work":
            continue
        p50 = {k: percentile(v, 50) for k, v in columns.items()}
        p99 = {k: percentile(v, 99) for k, v in columns.items()}
        target = 1.5 * p50["floor"] + 2
        print(
            f"| `{name}` | {p50['tool']:.2f} / {p99['tool']:.2f} | {p50['check']:.2f} "
            f"| {p50['repository']:.2f} / {p99['repository']:.2f} "
            f"| {p50['floor']:.2f} / {p99['floor']:.2f} | {target:.2f} | {'yes' if p50['tool'] <= target else 'NO'} |"
        )
    idle = times["no work"]["tool"]
    print(f"\nA stdio round trip that does no work (gong_get_call refused for a malformed id): "
          f"p50 {percentile(idle, 50):.2f} / p99 {percentile(idle, 99):.2f} ms.")
    ok, failed, wall = burst
    print(f"\n{CONCURRENT} concurrent tool calls over one stdio session ({CONCURRENT // 2} gong_get_call + "
          f"{CONCURRENT // 2} gong_search_calls): {ok} succeeded, {failed} failed, {wall:.0f} ms wall.")


def report_explain(results: list[tuple[str, float, str, str]]) -> None:
    print(f"\nStatement behind each tool, median of 5 direct runs (ms); plans for those over {SLOW_MS:g} ms:\n")
    print("| tool call | ms |\n| --- | --- |")
    for name, median, _, _ in results:
        print(f"| {name} | {median:.1f} |")
    for name, median, sql, plan in results:
        if plan:
            print(f"\n#### {name}: {median:.1f} ms\n\n```sql\n{sql}\n```\n\n```\n{plan}\n```")
    print("\nRecommended indexes:\n\n```sql")
    print(";\n".join(layout.recommended_index_sql("public")) + ";")
    print("```")


# --- the cross-call tools (issue 10) ------------------------------------------------------------

CROSS_CALL_REQUESTS = 60


async def cross_call_requests(url: str, client: Client) -> dict[str, list[dict[str, Any]]]:
    """Varied, seeded arguments for each cross-call tool, drawn from the data itself."""
    rng = random.Random(SEED)
    deals = (await tool(client, "gong_list_deals", {"limit": 100}))["deals"]
    trackers = [t["tracker"] for t in (await tool(client, "gong_tracker_stats", {"by": "month"}))["trackers"]]
    connection = await asyncpg.connect(url)
    try:
        reps = [r["rep"] for r in await connection.fetch('SELECT DISTINCT "primaryUserId" AS rep FROM calls LIMIT 200')]
        newest = await connection.fetchval("SELECT max(started) FROM calls")
    finally:
        await connection.close()
    phrases = ["BW-4471", "zurich", "Nightingale-7 clause", "HX-220 tier", "Edge X9 bundle"]

    def window() -> dict[str, str]:
        until = newest - timedelta(days=rng.randrange(0, 120))
        return {"since": (until - timedelta(days=30)).isoformat(), "until": until.isoformat()}

    n = CROSS_CALL_REQUESTS
    return {
        "gong_list_deals": [
            rng.choice([{}, {"flag": "stage_regressed"}, {"flag": "silent"}, {"owner": rng.choice(reps)}, {"stage": "Proposal"}])
            for _ in range(n)
        ],
        "gong_deal_brief": [{"opportunity": rng.choice(deals)["id"]} for _ in range(n)],
        "gong_search_transcripts": [
            {"phrase": rng.choice(phrases), "exact": rng.random() < 0.5, **(window() if rng.random() < 0.3 else {})}
            for _ in range(n)
        ],
        "gong_tracker_stats": [
            {"by": rng.choice(["week", "month", "rep", "account"]), **({"tracker": rng.choice(trackers)} if rng.random() < 0.5 else {}), **window()}
            for _ in range(n)
        ],
        "gong_scorecard_stats": [rng.choice([{}, {"rep": rng.choice(reps)}, window()]) for _ in range(n)],
        "gong_changes_since": [rng.choice([{}, {"since": (newest - timedelta(days=rng.randrange(1, 14))).isoformat()}]) for _ in range(n)],
        "gong_search_calls (tracker)": [{"tracker": rng.choice(trackers), "limit": 20} for _ in range(n)],
    }


async def first_call(env: dict[str, str], first: dict[str, float], label: str, wait_for: Path | None = None) -> None:
    """A fresh server: the time to initialize and of its first `gong_list_deals` (after initialize,
    and from launch). With `wait_for`, the server is kept until it has written its snapshot there."""
    launched = time.perf_counter()
    async with stdio_server(env) as client:
        initialized = time.perf_counter()
        await tool(client, "gong_list_deals", {"limit": 20})
        done = time.perf_counter()
        first[f"{label}: initialize"] = (initialized - launched) * 1000
        first[f"{label}: first gong_list_deals after initialize"] = (done - initialized) * 1000
        first[f"{label}: first gong_list_deals from launch"] = (done - launched) * 1000
        first[f"{label}: load average (1 min)"] = os.getloadavg()[0]
        deadline = time.monotonic() + 120
        while wait_for is not None and not list(wait_for.glob("*.summary")) and time.monotonic() < deadline:
            await anyio.sleep(0.2)


async def cross_call(url: str, pool_size: int, warm: bool = True) -> tuple[dict[str, float], dict[str, list[float]]]:
    """The first call of a fresh server process, first without a summary snapshot (a first-ever
    start: the server reads every call from Postgres) and then with the snapshot that start left;
    then warm timings of every cross-call tool."""
    folder = Path(tempfile.mkdtemp(prefix="sophia-bench-snapshot-"))
    env = {
        "SOPHIA_POSTGRES_URL": url,
        "SOPHIA_POSTGRES_POOL_SIZE": str(pool_size),
        "SOPHIA_GONG_SNAPSHOT_DIR": str(folder),
    }
    first: dict[str, float] = {}
    times: dict[str, list[float]] = {}
    try:
        await first_call(env, first, "first-ever start (no snapshot)", wait_for=folder)
        snapshot = next(folder.glob("*.summary"), None)
        first["snapshot size (MB)"] = snapshot.stat().st_size / 1e6 if snapshot else float("nan")
        await first_call(env, first, "start with a snapshot")
        if warm:
            async with stdio_server(env) as client:
                started = time.perf_counter()
                await tool(client, "gong_search_transcripts", {"phrase": "BW-4471"})
                first["first gong_search_transcripts after initialize"] = (time.perf_counter() - started) * 1000
                requests = await cross_call_requests(url, client)
                for name, argument_list in requests.items():
                    tool_name = name.split(" ")[0]
                    times[name] = [await timed(lambda args=args: tool(client, tool_name, args)) for args in argument_list]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    first.update(await refresh_after_sync(url))
    return first, times


async def refresh_after_sync(url: str, landed: int = 1000) -> dict[str, float]:
    """In this process: the summary as it was before the newest `landed` rows arrived (as a sync
    would leave it), brought up to date by reading only those rows, beside a full read; both must agree."""
    from sophia_mcp.gong import summary
    from sophia_mcp.gong.schema import discover

    figures: dict[str, float] = {}
    async with ReadOnlyPool(url, statement_timeout_ms=120_000) as pool:
        schema = await discover(pool)
        table = schema.table("extensiveCalls")
        connection = await asyncpg.connect(url)
        try:
            cutoff = await connection.fetchval(
                f"SELECT {table.col('t', layout.EXTRACTED_AT)} FROM {table.sql} t ORDER BY 1 DESC OFFSET $1 LIMIT 1", landed
            )
            mark = await connection.fetchrow(
                f"SELECT count(*) AS rows, to_regclass($2)::oid AS table, "
                "(SELECT oid FROM pg_database WHERE datname = current_database()) AS database "
                f"FROM {table.sql} t WHERE {table.col('t', layout.EXTRACTED_AT)} <= $1", cutoff, table.sql
            )
        finally:
            await connection.close()
        rows = await summary._fetch(pool, summary._statement(schema, since=False), cutoff)
        source = summary.Source(mark["database"], mark["table"], cutoff, mark["rows"])
        before = summary.Summary(as_of=None, calls=summary._calls(rows), source=source)
        del rows
        started = time.perf_counter()
        refreshed = await summary.load_summary(pool, schema, None, before)
        figures[f"refresh after a sync of {landed} rows, reading only those"] = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        full = await summary.load_summary(pool, schema, None)
        figures["full read of the summary, same process"] = (time.perf_counter() - started) * 1000
        figures["load average (1 min)"] = os.getloadavg()[0]
        assert refreshed.calls == full.calls and refreshed.source == full.source, "the refresh differs from a full read"
    return figures


def report_cross_call(first: dict[str, float], times: dict[str, list[float]]) -> None:
    print("\n## Cross-call tools (issue 10)\n")
    for name, value in first.items():
        print(f"- {name}: {value:.2f}" if name.endswith(")") else f"- {name}: {value:.0f} ms")
    if not times:
        return
    print("\n| tool (warm, over stdio) | p50 ms | p99 ms | target p50 <= 50 ms |")
    print("| --- | --- | --- | --- |")
    for name, ms in times.items():
        p50 = statistics.median(ms)
        print(f"| `{name}` | {p50:.1f} | {percentile(ms, 99):.1f} | {'met' if p50 <= 50 else 'NO'} |")


async def main(args: argparse.Namespace) -> None:
    async with postgres(args) as admin_url:
        url = await prepare(admin_url, args.calls, args.reload)
        if args.load_only:
            return
        before = os.getloadavg()[0]
        if args.cross_call_only or args.first_call_only:
            report_cross_call(*await cross_call(url, args.pool_size, warm=not args.first_call_only))
            print(f"\nload average {before:.2f} before, {os.getloadavg()[0]:.2f} after, on {os.cpu_count()} CPUs")
            return
        times = await side_by_side(url, args.requests, args.pool_size)
        burst = await concurrent(url, args.pool_size)
        load = f"{before:.2f} before, {os.getloadavg()[0]:.2f} after, on {os.cpu_count()} CPUs"
        report(args.calls, args.requests, times, burst, load)
        report_cross_call(*await cross_call(url, args.pool_size))
        if args.explain:
            report_explain(await explain_all(url))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=100_000, help="sample calls to load (default 100,000)")
    parser.add_argument("--requests", type=int, default=400, help="requests per lookup (default 400)")
    parser.add_argument("--pool-size", type=int, default=10, help="SOPHIA_POSTGRES_POOL_SIZE (default 10)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="embedded Postgres folder")
    parser.add_argument("--url", help="use this Postgres (a role that may create databases) instead")
    parser.add_argument("--reload", action="store_true", help="reload the sample data even if present")
    parser.add_argument("--load-only", action="store_true", help="load (or check) the data and stop")
    parser.add_argument("--explain", action="store_true", help="time every tool's SQL and EXPLAIN the slow ones")
    parser.add_argument("--cross-call-only", action="store_true", help="only the cross-call tools of issue 10")
    parser.add_argument(
        "--first-call-only", action="store_true", help="only the first gong_list_deals of a fresh server, without and with a snapshot"
    )
    parser.add_argument("--server-command", help="run this instead of `sophia-mcp serve` (split on spaces)")
    options = parser.parse_args()
    SERVER_COMMAND[:] = (options.server_command or "").split()
    anyio.run(main, options)
