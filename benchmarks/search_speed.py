"""Semantic search speed on the two embedded stores side by side, and indexing throughput.

    python -m benchmarks.search_speed [--quick] [--calls 1350] [--queries 40] [--starts 3]
                                      [--work-dir DIR] [--fresh] [--write]

`--quick` measures Qdrant Edge only (what `QDRANT_PATH` uses), 20 queries per column: a few minutes
on a first run, about two once the data is cached. Everything built is kept in `--work-dir`
(default: `~/.cache/sophia-mcp/bench-search-speed`) and reused by the next run: the embedded Postgres
with the sample calls, the indexed shard and each store, each with a `built.json` saying what it
holds. `--fresh` rebuilds them all.

1. Indexing: `run_index` (what `sophia-mcp index` runs) over `--calls` sample calls into an empty
   Qdrant Edge shard, with the real model; chunks per second overall, and the share spent embedding.
   Measured when the shard is built, and reported from the cache afterwards (with that run's load).
2. Stores of 10,000 and 100,000 chunks, each written twice with the same points (dense and BM25
   vectors, payload, index state) through the backends' own code: a Qdrant Edge shard (then
   optimized, as `sophia-mcp index` leaves it) and a qdrant-client local-mode folder (what
   `QDRANT_PATH` was before Edge). The 10,000 are real: the first 10,000 chunks the indexer wrote.
   The 100,000 are those plus nine synthetic copies of each (new ids and call ids, the same payload,
   the vector moved by a little Gaussian noise and renormalised): embedding 100,000 real chunks
   would take long and tells nothing more about query speed.
3. Queries: `gong_semantic_search` over stdio with the official MCP client, the server launched as
   an assistant launches it (`sophia-mcp serve` with `QDRANT_PATH`, `SOPHIA_QDRANT_EMBEDDED` edge or
   client). The first search of a fresh process (sent as soon as `initialize` is answered, while the
   server warms up) is timed on `--starts` fresh processes (the median is reported), then `--queries`
   questions in hybrid mode (the default) without a filter, with an account, a rep and a one-month
   date filter; p50 and p95, the server's memory, and the 1-minute load average of the machine.
   No question repeats within a column (the server keeps no cache of answers or embeddings anyway).

qdrant-client warns when a local collection passes 20,000 points; the warning is silenced here
(in this process and, through PYTHONWARNINGS, in the server), since it is the point being measured.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import anyio
import anyio.to_thread
import numpy as np

from benchmarks.search_common import index_settings, postgres_server, sample_database, server_env
from benchmarks.search_quality import QUESTIONS, write_section
from benchmarks.stdio import percentile, stdio_server
from sophia_mcp.search.embeddings.fastembed_provider import FastEmbedProvider
from sophia_mcp.search.indexer import run_index
from sophia_mcp.search.model import PayloadFields
from sophia_mcp.search.qdrant import INDEX_STATE_POINT_ID, Sparse, StoredPoint, open_backend
from sophia_mcp.settings import QdrantSettings

LOCAL_MODE_WARNING = "Local mode is not recommended"
warnings.filterwarnings("ignore", message=LOCAL_MODE_WARNING)
COLLECTION = "gong_calls"
DATABASE = "sophia_bench_search_speed"
SEED = 7
BUILT = "built.json"  # in each cached folder: what it holds, and what building it measured
DEFAULT_WORK_DIR = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sophia-mcp" / "bench-search-speed"
SYNTHETIC_NOISE = 0.01
WRITE_BATCH = 1000
REAL_CHUNKS = 10_000


class TimedEmbedder(FastEmbedProvider):
    """The real provider, keeping count of the seconds spent embedding documents."""

    seconds: float = 0.0

    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        started = time.perf_counter()
        try:
            return await super().embed_documents(texts)
        finally:
            self.seconds += time.perf_counter() - started


@dataclass
class IndexFigures:
    calls: int
    chunks: int
    seconds: float
    embed_seconds: float
    question_ms: float = 0.0
    load: float | None = None  # the 1-minute load average when indexing ended

    @property
    def rate(self) -> float:
        return self.chunks / self.seconds


@dataclass
class QueryFigures:
    store: str
    chunks: int
    write_seconds: float
    cold_ms: list[float]  # the first search of each fresh process
    rss_mb: tuple[float, float] | None  # resident, of which mapped files
    times: dict[str, list[float]] = field(default_factory=dict)
    cold_load: float = 0.0  # the machine's 1-minute load average after the fresh starts
    load: float = 0.0  # ... and when the queries ended


# --- building the stores -------------------------------------------------------------------------


def read_points(path: Path) -> list[StoredPoint]:
    """Every point of the indexed Edge shard, with its vectors."""
    import qdrant_edge

    shard = qdrant_edge.EdgeShard.load(str(path / COLLECTION))
    try:
        records, _ = shard.scroll(qdrant_edge.ScrollRequest(limit=10_000_000, with_payload=True, with_vector=True))
    finally:
        shard.close()
    points = []
    for record in records:
        sparse = record.vector.get("bm25")
        points.append(
            StoredPoint(
                str(record.id),
                record.vector["dense"],
                Sparse(list(sparse.indices), list(sparse.values)) if sparse is not None else None,
                record.payload or {},
            )
        )
    return points


def write_store(path: Path, embedded: str, state: StoredPoint, chunks: list[StoredPoint], copies: int) -> float:
    """A store of `chunks` and `copies - 1` noisy copies of each, plus the index state point,
    written through the backend's own code; returns the seconds spent writing (and optimizing)."""
    rng = np.random.default_rng(7)
    shutil.rmtree(path, ignore_errors=True)
    backend = open_backend(QdrantSettings(QDRANT_PATH=str(path), SOPHIA_QDRANT_EMBEDDED=embedded))
    started = time.perf_counter()
    try:
        backend.create(384, PayloadFields())
        backend.write_state(state.payload["sophia_index_state"], 384)
        batch: list[StoredPoint] = []
        for copy in range(copies):
            for point in chunks:
                vector = np.asarray(point.dense)
                payload = dict(point.payload)
                point_id = point.id
                if copy:
                    vector = vector + rng.normal(0, SYNTHETIC_NOISE, vector.shape)
                    vector /= np.linalg.norm(vector)
                    payload["call_id"] = f"{payload['call_id']}{copy}"
                    point_id = str(uuid.uuid5(uuid.NAMESPACE_OID, f"{point.id}:{copy}"))
                batch.append(StoredPoint(point_id, vector.tolist(), point.sparse, payload))
                if len(batch) == WRITE_BATCH:
                    backend.upsert(batch)
                    batch = []
        if batch:
            backend.upsert(batch)
        backend.flush()
        backend.optimize()
    finally:
        backend.close()
    return time.perf_counter() - started


# --- measuring ------------------------------------------------------------------------------------


def server_memory_mb() -> tuple[float, float] | None:
    """Resident memory of the `sophia-mcp serve` child of this process, and the part of it that is
    mapped files (the shard's, which the kernel can drop and read again), from /proc (Linux)."""
    me = str(os.getpid())
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
            cmdline = (status.parent / "cmdline").read_bytes()
        except OSError:
            continue
        fields = dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)
        if fields.get("PPid", "").strip() == me and b"serve" in cmdline and b"search_speed" not in cmdline:
            return int(fields["VmRSS"].split()[0]) / 1024, int(fields["RssFile"].split()[0]) / 1024
    return None


async def first_search_ms(env: dict[str, str]) -> float:
    """A fresh server, asked as soon as it has answered `initialize`."""
    async with stdio_server(env) as client:
        started = time.perf_counter()
        result = await client.call_tool("gong_semantic_search", {"question": "warm up: pricing"})
        assert not result.is_error, result.content[0].text
        return (time.perf_counter() - started) * 1000


async def measure_queries(
    env: dict[str, str],
    store: str,
    chunks: int,
    write_seconds: float,
    queries: int,
    starts: int,
    filters: dict[str, dict[str, str]],
) -> QueryFigures:
    env = {**env, "SOPHIA_QDRANT_EMBEDDED": store, "PYTHONWARNINGS": f"ignore:{LOCAL_MODE_WARNING}"}
    cold = [await first_search_ms(env) for _ in range(starts)]
    figures = QueryFigures(store, chunks, write_seconds, cold, None, cold_load=os.getloadavg()[0])
    async with stdio_server(env) as client:
        await client.call_tool("gong_semantic_search", {"question": "warm up: pricing"})
        for column, (name, extra) in enumerate({"no filter": {}, **filters}.items()):
            times = []
            for question in questions(queries, column):
                arguments = {"question": question, "limit": 5, **extra}
                started = time.perf_counter()
                result = await client.call_tool("gong_semantic_search", arguments)
                times.append((time.perf_counter() - started) * 1000)
                assert not result.is_error, result.content[0].text
                assert result.structured_content["calls"], (name, arguments)
            figures.times[name] = times
        figures.rss_mb = server_memory_mb()
        figures.load = os.getloadavg()[0]
    return figures


def questions(count: int, column: int) -> list[str]:
    """`count` different questions, a different run of them for each column: the benchmark's
    questions, then (past their number) the same with a distinct suffix, so none repeats."""
    base = [q.text for q in QUESTIONS]
    start = column * count
    return [base[i % len(base)] + ("" if i < len(base) else f" (take {i // len(base)})") for i in range(start, start + count)]


async def question_embedding_ms(embedder: FastEmbedProvider) -> float:
    times = []
    for question in QUESTIONS:
        started = time.perf_counter()
        await embedder.embed_query(question.text)
        times.append((time.perf_counter() - started) * 1000)
    return percentile(times, 50)


def read_built(folder: Path) -> dict | None:
    try:
        return json.loads((folder / BUILT).read_text())
    except (OSError, ValueError):
        return None


def write_built(folder: Path, facts: dict) -> None:
    (folder / BUILT).write_text(json.dumps(facts, indent=1))


async def cached_database(admin_url: str, work_dir: Path, calls: int, fresh: bool) -> str:
    """The sample database, loaded once per work dir (and per `--calls`)."""
    import asyncpg

    from sophia_mcp.sample.databases import database_url

    marker = work_dir / "sample.json"
    url = database_url(admin_url, DATABASE)
    try:
        facts = json.loads(marker.read_text()) if not fresh else None
    except (OSError, ValueError):
        facts = None
    if facts == {"calls": calls, "seed": SEED}:
        try:
            connection = await asyncpg.connect(url)
            await connection.close()
            return url
        except (OSError, asyncpg.PostgresError):
            pass
    marker.unlink(missing_ok=True)
    url, _ = await sample_database(admin_url, DATABASE, calls, SEED)
    marker.write_text(json.dumps({"calls": calls, "seed": SEED}))
    return url


async def cached_index(url: str, work_dir: Path, calls: int, fresh: bool) -> tuple[Path, IndexFigures]:
    indexed = work_dir / "qdrant-indexed"
    built = None if fresh else read_built(indexed)
    if built and built.get("calls") == calls:
        return indexed, IndexFigures(**built["figures"])
    shutil.rmtree(indexed, ignore_errors=True)
    settings = index_settings(url, indexed)
    embedder = TimedEmbedder(model_path=settings.embedding.model_path)
    await embedder.dimension()  # the model's load is not indexing work
    report = await run_index(settings, embedder=embedder)
    figures = IndexFigures(
        report.calls_indexed,
        report.chunks_written,
        report.seconds,
        embedder.seconds,
        await question_embedding_ms(embedder),
        os.getloadavg()[0],
    )
    write_built(indexed, {"calls": calls, "figures": figures.__dict__})
    return indexed, figures


def filters_from(points: Sequence[StoredPoint]) -> dict[str, dict[str, str]]:
    """The busiest account and rep, and the last month, read from the indexed chunks' payloads."""
    fields = PayloadFields()
    calls = {p.payload[fields.call_id]: p.payload for p in points}
    accounts = Counter(name for payload in calls.values() for name in payload.get(fields.account_names) or [])
    reps = Counter(payload.get(fields.rep_user_id) for payload in calls.values() if payload.get(fields.rep_user_id))
    newest = max(datetime.fromisoformat(payload[fields.started]) for payload in calls.values() if payload.get(fields.started))
    return {
        "account filter": {"account": accounts.most_common(1)[0][0]},
        "rep filter": {"rep": str(reps.most_common(1)[0][0])},
        "one-month date filter": {
            "since": (newest - timedelta(days=30)).date().isoformat(),
            "until": (newest + timedelta(days=1)).date().isoformat(),
        },
    }


def layout(store: str) -> object:
    """What the backend's `create` writes today (an Edge shard's vector configuration): a cached
    store written with another layout is rewritten."""
    if store != "edge":
        return None
    from sophia_mcp.search.backends.edge import CONFIG_FILE

    with tempfile.TemporaryDirectory() as folder:
        backend = open_backend(QdrantSettings(QDRANT_PATH=folder))
        backend.create(384, PayloadFields())
        backend.close()
        config = json.loads((Path(folder) / COLLECTION / CONFIG_FILE).read_text())
    return {key: config.get(key) for key in ("vectors", "sparse_vectors")}


async def cached_store(folder: Path, store: str, state: StoredPoint, real: list[StoredPoint], copies: int, fresh: bool) -> float:
    built = None if fresh else read_built(folder)
    wanted = {"store": store, "chunks": len(real) * copies, "layout": layout(store)}
    if built and all(built.get(key) == value for key, value in wanted.items()):
        return float(built["seconds"])
    written = await anyio.to_thread.run_sync(write_store, folder, store, state, real, copies)
    write_built(folder, {**wanted, "seconds": written})
    print(f"{store} store of {len(real) * copies:,} chunks written in {written:.0f} s", file=sys.stderr)
    return written


async def run(
    calls: int, queries: int, starts: int, sizes: Sequence[int], stores: Sequence[str], work_dir: Path, fresh: bool
) -> tuple[IndexFigures, list[QueryFigures]]:
    with postgres_server(work_dir) as admin_url:
        url = await cached_database(admin_url, work_dir, calls, fresh)
        indexed, index = await cached_index(url, work_dir, calls, fresh)
        points = await anyio.to_thread.run_sync(read_points, indexed)
        state = next(p for p in points if p.id == INDEX_STATE_POINT_ID)
        real = [p for p in points if p.id != INDEX_STATE_POINT_ID]
        base = min(REAL_CHUNKS, *sizes)  # real chunks; a larger store holds noisy copies of them
        if len(real) < base:
            raise SystemExit(f"{calls} calls gave {len(real)} chunks; raise --calls to reach {base}")
        real = sorted(real, key=lambda p: p.id)[:base]
        filters = filters_from(real)
        results = []
        for size in sizes:
            for store in stores:
                folder = work_dir / f"qdrant-{store}-{size}"
                written = await cached_store(folder, store, state, real, size // base, fresh)
                env = server_env(url, folder)
                results.append(await measure_queries(env, store, size, written, queries, starts, filters))
                print(f"measured {store} at {size:,} chunks", file=sys.stderr)
    return index, results


STORES = {"edge": "Qdrant Edge (now)", "client": "qdrant-client local mode (before)"}
HEADING = "## Speed: the embedded stores side by side"


def load_text(load: float | None) -> str:
    return "n/a" if load is None else f"{load:.1f}"


def report(index: IndexFigures, results: Sequence[QueryFigures], queries: int, starts: int) -> str:
    names = list(results[0].times)
    both = len({figures.store for figures in results}) > 1
    lines = [
        HEADING,
        "",
        f"`python -m benchmarks.search_speed{'' if both else ' --quick'}`, on this project's 2-core machine"
        f"{', both stores in one run' if both else ', Qdrant Edge only'}; other jobs may share the cores, so "
        "every figure has the machine's 1-minute load average beside it (above 1, treat the figures as upper "
        "bounds, and compare the rows of one size with each other). Queries are `gong_semantic_search` calls "
        f"over stdio with the official MCP client, hybrid mode, `limit` 5, {queries} different questions per "
        f"column (the {len(QUESTIONS)} quality-benchmark questions, then the same with a suffix); the server is "
        "`sophia-mcp serve` with `QDRANT_PATH` and the sample calls' Postgres. The first search is sent as soon as "
        f"`initialize` is answered, to {starts} fresh processes (median, and the slowest).",
        "",
        "| store | chunks | first search of a fresh process (load) | "
        + " | ".join(f"{n} p50 / p95" for n in names)
        + " | server memory | load | writing the store |",
        "| --- | --- | --- |" + " --- |" * len(names) + " --- | --- | --- |",
    ]
    for figures in results:
        cells = [f"{percentile(t, 50):.1f} / {percentile(t, 95):.1f} ms" for t in figures.times.values()]
        rss = f"{figures.rss_mb[0]:.0f} MB ({figures.rss_mb[1]:.0f} MB files)" if figures.rss_mb else "n/a"
        cold = f"{statistics.median(figures.cold_ms) / 1000:.2f} s (slowest {max(figures.cold_ms) / 1000:.2f}; load {figures.cold_load:.1f})"
        lines.append(
            f"| {STORES[figures.store]} | {figures.chunks:,} | {cold} | " + " | ".join(cells)
            + f" | {rss} | {figures.load:.1f} | {figures.write_seconds:.0f} s |"
        )
    lines += [
        "",
        "Writing the Edge store includes building its HNSW graph (`optimize`, what `sophia-mcp index` does at the "
        "end of a run). The 10,000 chunks are real (sample calls indexed by `run_index`); the 100,000 are those "
        "plus nine noisy copies of each (see the module docstring). Stores are cached between runs: the writing "
        "time is the one measured when each was built. Edge shards store dense vectors as float16 (half the "
        "memory of float32; the quality set's recall is unchanged); \"files\" is the part of the server's memory "
        "that is the shard's mapped files.",
        "",
        "Where one Edge search's time goes (server-side timestamps, 100,000 chunks, load about 2): embedding the "
        "question 3-4 ms (2.6 ms in a quiet process), its BM25 vector 0.03 ms, the Edge query with both "
        "prefetches, the fusion, the grouping by call and the payloads 1.4 ms once its pages are mapped and up to "
        "4 ms for a question that touches new ones, the index state 0.05 ms, the MCP round trip with validation "
        "and shaping about 3 ms. ONNX Runtime's threads used to spin after each embedding and took the cores the "
        "Edge query needed (10-25 ms under load); they now sleep. The first search waits for the warm-up the "
        "server starts with its lifespan, about when `initialize` is answered: importing fastembed and ONNX "
        "Runtime about 0.4 s, the ONNX session 0.1 s, opening the shard 0.3-0.45 s (at 100,000 chunks, holding "
        "the interpreter), the first embedding and query about 0.1-0.2 s; with Postgres configured the Gong "
        "summary and the background indexer's first check start at the same time and share the cores.",
        "",
        "| indexing (`sophia-mcp index`, all-MiniLM-L6-v2 on 2 cores, Edge shard, dense + BM25; measured when the "
        "cached shard was built) | value |",
        "| --- | --- |",
        f"| calls, chunks | {index.calls:,}, {index.chunks:,} |",
        f"| throughput, end to end | {index.rate:.0f} chunks/s ({index.seconds:.0f} s; load {load_text(index.load)}) |",
        f"| share spent embedding | {index.embed_seconds / index.seconds:.0%} "
        f"({index.chunks / index.embed_seconds:.0f} chunks/s of embedding alone) |",
        f"| embedding one question (p50, in process) | {index.question_ms:.1f} ms |",
    ]
    return "\n".join(lines)


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="Qdrant Edge only, 20 queries per column")
    parser.add_argument("--calls", type=int, default=1350, help="sample calls to index (enough for 10,000 chunks)")
    parser.add_argument("--queries", type=int, help="different questions per column (default 40; 20 with --quick)")
    parser.add_argument("--starts", type=int, default=3, help="fresh processes timed for the first search")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--stores", nargs="+", choices=sorted(STORES), help="default: both (edge with --quick)")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR, help=f"the cache (default {DEFAULT_WORK_DIR})")
    parser.add_argument("--fresh", action="store_true", help="rebuild the cached database, shard and stores")
    parser.add_argument("--write", action="store_true", help="write the tables into benchmarks/SEARCH.md")
    args = parser.parse_args(list(argv) if argv is not None else None)
    queries = args.queries or (20 if args.quick else 40)
    stores = args.stores or (["edge"] if args.quick else ["edge", "client"])
    args.work_dir.mkdir(parents=True, exist_ok=True)
    index, results = anyio.run(
        run, args.calls, queries, args.starts, sorted(args.sizes), stores, args.work_dir, args.fresh
    )
    text = report(index, results, queries, args.starts)
    print(text)
    if args.write:
        write_section(text, HEADING)
    return 0


if __name__ == "__main__":
    sys.exit(main())
