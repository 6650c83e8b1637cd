"""Semantic search speed on the two embedded stores side by side, and indexing throughput.

    python -m benchmarks.search_speed [--calls 1350] [--queries 60] [--work-dir DIR] [--write]

1. Indexing: `run_index` (what `sophia-mcp index` runs) over `--calls` sample calls into an empty
   Qdrant Edge shard, with the real model; chunks per second overall, and the share spent embedding.
2. Stores of 10,000 and 100,000 chunks, each written twice with the same points (dense and BM25
   vectors, payload, index state) through the backends' own code: a Qdrant Edge shard (then
   optimized, as `sophia-mcp index` leaves it) and a qdrant-client local-mode folder (what
   `QDRANT_PATH` was before Edge). The 10,000 are real: the first 10,000 chunks the indexer wrote.
   The 100,000 are those plus nine synthetic copies of each (new ids and call ids, the same payload,
   the vector moved by a little Gaussian noise and renormalised): embedding 100,000 real chunks
   would take long and tells nothing more about query speed.
3. Queries: `gong_semantic_search` over stdio with the official MCP client, the server launched as
   an assistant launches it (`sophia-mcp serve` with `QDRANT_PATH`, `SOPHIA_QDRANT_EMBEDDED` edge or
   client). The first search of a fresh process (opening the store and the model) is reported on
   its own, then `--queries` questions in hybrid mode (the default) without a filter, with an
   account, a rep and a one-month date filter; p50 and p95, and the server's memory.

qdrant-client warns when a local collection passes 20,000 points; the warning is silenced here
(in this process and, through PYTHONWARNINGS, in the server), since it is the point being measured.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import timedelta
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
SYNTHETIC_NOISE = 0.01
WRITE_BATCH = 1000


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

    @property
    def rate(self) -> float:
        return self.chunks / self.seconds


@dataclass
class QueryFigures:
    store: str
    chunks: int
    write_seconds: float
    cold_ms: float
    rss_mb: float | None
    times: dict[str, list[float]] = field(default_factory=dict)
    load: float = 0.0  # the machine's 1-minute load average when the queries ended


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


def server_rss_mb() -> float | None:
    """Resident memory of the `sophia-mcp serve` child of this process, from /proc (Linux)."""
    me = str(os.getpid())
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
            cmdline = (status.parent / "cmdline").read_bytes()
        except OSError:
            continue
        fields = dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)
        if fields.get("PPid", "").strip() == me and b"serve" in cmdline and b"search_speed" not in cmdline:
            return int(fields["VmRSS"].split()[0]) / 1024
    return None


async def measure_queries(
    env: dict[str, str], store: str, chunks: int, write_seconds: float, queries: int, filters: dict[str, dict[str, str]]
) -> QueryFigures:
    questions = [q.text for q in QUESTIONS]
    env = {**env, "SOPHIA_QDRANT_EMBEDDED": store, "PYTHONWARNINGS": f"ignore:{LOCAL_MODE_WARNING}"}
    async with stdio_server(env) as client:
        started = time.perf_counter()
        result = await client.call_tool("gong_semantic_search", {"question": "warm up: pricing"})
        cold_ms = (time.perf_counter() - started) * 1000
        assert not result.is_error, result.content[0].text
        figures = QueryFigures(store, chunks, write_seconds, cold_ms, None)
        for name, extra in {"no filter": {}, **filters}.items():
            times = []
            for i in range(queries):
                arguments = {"question": questions[i % len(questions)], "limit": 5, **extra}
                started = time.perf_counter()
                result = await client.call_tool("gong_semantic_search", arguments)
                times.append((time.perf_counter() - started) * 1000)
                assert not result.is_error, result.content[0].text
                assert result.structured_content["calls"], (name, arguments)
            figures.times[name] = times
        figures.rss_mb = server_rss_mb()
        figures.load = os.getloadavg()[0]
    return figures


async def question_embedding_ms(embedder: FastEmbedProvider) -> float:
    times = []
    for question in QUESTIONS:
        started = time.perf_counter()
        await embedder.embed_query(question.text)
        times.append((time.perf_counter() - started) * 1000)
    return percentile(times, 50)


async def run(calls: int, queries: int, sizes: Sequence[int], work_dir: Path) -> tuple[IndexFigures, list[QueryFigures]]:
    with postgres_server(work_dir) as admin_url:
        url, manifest = await sample_database(admin_url, "sophia_bench_search_speed", calls, 7)
        indexed = work_dir / "qdrant-indexed"
        shutil.rmtree(indexed, ignore_errors=True)
        settings = index_settings(url, indexed)
        embedder = TimedEmbedder(model_path=settings.embedding.model_path)
        await embedder.dimension()  # the model's load is not indexing work
        report = await run_index(settings, embedder=embedder)
        index = IndexFigures(
            report.calls_indexed, report.chunks_written, report.seconds, embedder.seconds, await question_embedding_ms(embedder)
        )

        points = await anyio.to_thread.run_sync(read_points, indexed)
        state = next(p for p in points if p.id == INDEX_STATE_POINT_ID)
        real = [p for p in points if p.id != INDEX_STATE_POINT_ID]
        base = min(sizes)
        if len(real) < base:
            raise SystemExit(f"{calls} calls gave {len(real)} chunks; raise --calls to reach {base}")
        real = real[:base]
        account = max(manifest.accounts.values(), key=lambda a: sum(c.account_id == a.id for c in manifest.calls.values())).name
        rep = max(manifest.users.values(), key=lambda u: sum(c.rep_id == u.id for c in manifest.calls.values())).id
        newest = max(c.started for c in manifest.calls.values())
        since, until = (newest - timedelta(days=30)).date().isoformat(), (newest + timedelta(days=1)).date().isoformat()
        filters = {
            "account filter": {"account": account},
            "rep filter": {"rep": rep},
            "one-month date filter": {"since": since, "until": until},
        }
        results = []
        for size in sizes:
            for store in ("edge", "client"):
                folder = work_dir / f"qdrant-{store}-{size}"
                written = await anyio.to_thread.run_sync(write_store, folder, store, state, real, size // base)
                print(f"{store} store of {size:,} chunks written in {written:.0f} s", file=sys.stderr)
                env = server_env(url, folder)
                results.append(await measure_queries(env, store, size, written, queries, filters))
    return index, results


STORES = {"edge": "Qdrant Edge (now)", "client": "qdrant-client local mode (before)"}
HEADING = "## Speed: the embedded stores side by side"


def report(index: IndexFigures, results: Sequence[QueryFigures], queries: int) -> str:
    names = list(results[0].times)
    lines = [
        HEADING,
        "",
        "`python -m benchmarks.search_speed`, on this project's 2-core machine, both stores in one run; other jobs "
        "may share the cores (the load column is the 1-minute load average when a row's queries ended: above 1, "
        "treat its figures as upper bounds, and compare the rows of one size with each other). Queries are "
        f"`gong_semantic_search` calls over stdio with the official MCP client, hybrid mode, `limit` 5, {queries} "
        f"queries per column cycling through the {len(QUESTIONS)} quality-benchmark questions; the server is "
        "`sophia-mcp serve` with `QDRANT_PATH`.",
        "",
        "| store | chunks | first search of a fresh process | " + " | ".join(f"{n} p50 / p95" for n in names)
        + " | server memory | load | writing the store |",
        "| --- | --- | --- |" + " --- |" * len(names) + " --- | --- | --- |",
    ]
    for figures in results:
        cells = [f"{percentile(t, 50):.1f} / {percentile(t, 95):.1f} ms" for t in figures.times.values()]
        rss = f"{figures.rss_mb:.0f} MB" if figures.rss_mb else "n/a"
        lines.append(
            f"| {STORES[figures.store]} | {figures.chunks:,} | {figures.cold_ms / 1000:.2f} s | " + " | ".join(cells)
            + f" | {rss} | {figures.load:.1f} | {figures.write_seconds:.0f} s |"
        )
    lines += [
        "",
        "Writing the Edge store includes building its HNSW graph (`optimize`, what `sophia-mcp index` does at the "
        "end of a run). The 10,000 chunks are real (sample calls indexed by `run_index`); the 100,000 are those "
        "plus nine noisy copies of each (see the module docstring).",
        "",
        "| indexing (`sophia-mcp index`, all-MiniLM-L6-v2 on 2 cores, Edge shard, dense + BM25) | value |",
        "| --- | --- |",
        f"| calls, chunks | {index.calls:,}, {index.chunks:,} |",
        f"| throughput, end to end | {index.rate:.0f} chunks/s ({index.seconds:.0f} s) |",
        f"| share spent embedding | {index.embed_seconds / index.seconds:.0%} "
        f"({index.chunks / index.embed_seconds:.0f} chunks/s of embedding alone) |",
        f"| embedding one question (p50, in process) | {index.question_ms:.1f} ms |",
    ]
    return "\n".join(lines)


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=1350, help="sample calls to index (enough for 10,000 chunks)")
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--work-dir", type=Path, help="keep Postgres and the stores here (default: a temporary folder)")
    parser.add_argument("--write", action="store_true", help="write the tables into benchmarks/SEARCH.md")
    args = parser.parse_args(list(argv) if argv is not None else None)
    with ExitStack() as stack:
        work_dir = args.work_dir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sophia-bench-speed-")))
        work_dir.mkdir(parents=True, exist_ok=True)
        index, results = anyio.run(run, args.calls, args.queries, sorted(args.sizes), work_dir)
    text = report(index, results, args.queries)
    print(text)
    if args.write:
        write_section(text, HEADING)
    return 0


if __name__ == "__main__":
    sys.exit(main())
