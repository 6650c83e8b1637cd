"""Indexing throughput: today's embedding settings against each change, side by side in one run.

    python -m benchmarks.embedding_throughput --quick            # ~1 min: today vs int8, 400 chunks
    python -m benchmarks.embedding_throughput [--write]          # ~15 min: every variant, then `sophia-mcp index` end to end

1. Embedding alone: the same real chunks (the sample generator's calls, cut by the indexer's
   `chunk_call`) embedded by each variant, the variants interleaved round by round so that other
   jobs on the cores weigh on all of them alike; the median round is reported, as chunks/s and as
   a ratio to today's settings. Variants: batch size, length sorting, ONNX Runtime threads,
   fastembed's data-parallel workers, and the int8 copy (`SOPHIA_EMBEDDING_QUANTIZE=int8`).
2. End to end: `run_index` (what `sophia-mcp index` runs) over `--index-calls` sample calls into
   an empty Edge shard, fp32 then int8 then fp32 again, on one sample database.

The 1-minute load average is written next to every figure: other engineers share the 2 cores, so
compare the ratios within a run. With --write the tables replace the indexing section of
benchmarks/SEARCH.md.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import anyio

from benchmarks.search_common import MODEL_PATH, SAMPLE_NOW, index_settings, postgres_server, sample_database
from sophia_mcp.sample.gong.calls import new_call
from sophia_mcp.sample.gong.world import build_world, digits
from sophia_mcp.search.chunking import chunk_call
from sophia_mcp.search.embeddings.fastembed_provider import DEFAULT_MODEL, FastEmbedProvider, _onnx_threads_that_sleep
from sophia_mcp.search.indexer import run_index

SECTION = "## Indexing throughput"


def sample_chunks(calls: int, seed: int = 7) -> list[str]:
    """The texts the indexer would embed for `calls` sample calls (no database needed)."""
    rng = random.Random(seed)
    world = build_world(rng, calls, SAMPLE_NOW, 180)
    texts: list[str] = []
    seen: set[str] = set()
    while len(seen) < calls:
        call_id = digits(rng, rng.choice((18, 19)))
        if int(call_id) >= 2**63 or call_id in seen:
            continue
        seen.add(call_id)
        call = new_call(rng, world, call_id)
        transcript = call.transcript if call.facts.has_transcript else None
        texts.extend(chunk.text for chunk in chunk_call(call.content, call.parties, transcript))
    return texts


def load() -> float:
    return os.getloadavg()[0]


# --- the variants -----------------------------------------------------------------------------------


def _text_embedding(**options: object):  # noqa: ANN202  fastembed's TextEmbedding
    """With the provider's session options (threads that sleep after a run), so only `options` differ."""
    from fastembed import TextEmbedding

    with _onnx_threads_that_sleep():
        return TextEmbedding(model_name=DEFAULT_MODEL, specific_model_path=str(MODEL_PATH), **options)


def _fastembed(model: object, *, batch: int, by_length: bool, parallel: int | None = None) -> Callable[[Sequence[str]], int]:
    def embed(texts: Sequence[str]) -> int:
        ordered = sorted(texts, key=len) if by_length else list(texts)
        return sum(1 for _ in model.passage_embed(ordered, batch_size=batch, parallel=parallel))  # type: ignore[attr-defined]

    return embed


def _provider(provider: FastEmbedProvider) -> Callable[[Sequence[str]], int]:
    def embed(texts: Sequence[str]) -> int:
        return len(anyio.run(provider.embed_documents, list(texts)))

    return embed


def variants(quick: bool, cache_dir: Path) -> dict[str, Callable[[Sequence[str]], int]]:
    """Name -> embed(texts). The first is today's settings, the ratios' base."""
    today = FastEmbedProvider(model_path=MODEL_PATH)
    int8 = FastEmbedProvider(model_path=MODEL_PATH, quantize="int8", cache_dir=cache_dir)
    chosen = {
        "today: fp32, by length, batch 16, ORT default threads": _provider(today),
        "int8 copy (SOPHIA_EMBEDDING_QUANTIZE=int8), batch 16": _provider(int8),
    }
    if quick:
        return chosen
    fp32 = _text_embedding()
    chosen |= {
        "fp32, input order (no length sort), batch 16": _fastembed(fp32, batch=16, by_length=False),
        "fp32, by length, batch 32": _fastembed(fp32, batch=32, by_length=True),
        "fp32, by length, batch 64": _fastembed(fp32, batch=64, by_length=True),
        "fp32, by length, batch 256": _fastembed(fp32, batch=256, by_length=True),
        "fp32, by length, batch 16, threads=2 (intra = inter = 2)": _fastembed(
            _text_embedding(threads=2), batch=16, by_length=True
        ),
        "fp32, by length, batch 16, threads=1": _fastembed(_text_embedding(threads=1), batch=16, by_length=True),
        "fp32, by length, batch 16, parallel=2 worker processes": _fastembed(fp32, batch=16, by_length=True, parallel=2),
        "int8 copy, batch 32": _provider(
            FastEmbedProvider(model_path=MODEL_PATH, quantize="int8", cache_dir=cache_dir, batch_size=32)
        ),
    }
    return chosen


def cpu_seconds() -> float:
    """User + system time of this process and its finished children (fastembed's parallel workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@dataclass
class Measured:
    rates: list[float] = field(default_factory=list)  # chunks per wall-clock second
    per_cpu: list[float] = field(default_factory=list)  # chunks per CPU-second: the work, whatever the load
    loads: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return statistics.median(self.rates)

    @property
    def cpu_rate(self) -> float:
        return statistics.median(self.per_cpu)


def measure(texts: Sequence[str], chosen: dict[str, Callable[[Sequence[str]], int]], rounds: int) -> dict[str, Measured]:
    for embed in chosen.values():  # load each model and warm its session on a few texts
        embed(texts[:32])
    figures = {name: Measured() for name in chosen}
    for round_ in range(rounds):
        # Each round in another order, so no variant always runs right after the same neighbour.
        names = list(chosen)[round_ % len(chosen) :] + list(chosen)[: round_ % len(chosen)]
        for name in names:
            started, cpu = time.perf_counter(), cpu_seconds()
            done = chosen[name](texts)
            figures[name].rates.append(done / (time.perf_counter() - started))
            figures[name].per_cpu.append(done / (cpu_seconds() - cpu))
            figures[name].loads.append(load())
        print(f"round {round_ + 1}/{rounds} done, load {load():.1f}", file=sys.stderr, flush=True)
    return figures


# --- end to end -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndexRun:
    label: str
    chunks: int
    seconds: float
    cpu_seconds: float  # of this process: the embedding, BM25 and the shard, not Postgres
    load: float

    @property
    def rate(self) -> float:
        return self.chunks / self.seconds


async def end_to_end(calls: int, work_dir: Path, cache_dir: Path) -> list[IndexRun]:
    runs = []
    with postgres_server(work_dir) as admin_url:
        url, _ = await sample_database(admin_url, "sophia_bench_embedding", calls, 7)
        plan = [("fp32 (today)", "none"), ("int8", "int8"), ("fp32 (today), again", "none")]
        for label, quantize in plan:
            shard = work_dir / f"qdrant-{quantize}"
            shutil.rmtree(shard, ignore_errors=True)
            settings = index_settings(url, shard)
            embedder = FastEmbedProvider(model_path=MODEL_PATH, quantize=quantize, cache_dir=cache_dir)  # type: ignore[arg-type]
            await embedder.dimension()  # the model's load (and the int8 copy) is not indexing work
            cpu = cpu_seconds()
            report = await run_index(settings, embedder=embedder)
            runs.append(IndexRun(label, report.chunks_embedded, report.seconds, cpu_seconds() - cpu, load()))
            print(f"{label}: {runs[-1].rate:.0f} chunks/s, load {load():.1f}", file=sys.stderr, flush=True)
    return runs


# --- the report -------------------------------------------------------------------------------------


def report(texts: Sequence[str], figures: dict[str, Measured], rounds: int, runs: Sequence[IndexRun], calls: int) -> str:
    base = next(iter(figures.values()))
    lines = [
        SECTION,
        "",
        f"`python -m benchmarks.embedding_throughput`: {len(texts):,} real chunks (sample calls cut by the "
        f"indexer's chunker, {statistics.mean(map(len, texts)):.0f} characters on average) embedded by each "
        f"variant, interleaved over {rounds} rounds in one process on the 2-core machine; median round. "
        "Load is the mean 1-minute load average after the variant's rounds: other engineers share the cores, "
        "so wall-clock rates swing with their jobs; chunks per CPU-second (this process and its workers) "
        "measure the work itself and hold steadier (but count threads spinning while they wait).",
        "",
        "| variant | chunks/s (wall) | vs today | chunks per CPU-second | vs today | load |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, measured in figures.items():
        cpu = (
            "not counted (its workers outlive the call)"
            if "worker processes" in name
            else f"{measured.cpu_rate:.0f} | {measured.cpu_rate / base.cpu_rate:.2f}x"
        )
        if "worker processes" in name:
            cpu += " | –"
        lines.append(
            f"| {name} | {measured.rate:.0f} | {measured.rate / base.rate:.2f}x | {cpu} | {statistics.mean(measured.loads):.1f} |"
        )
    fp32 = [(m.rate / base.rate, n) for n, m in figures.items() if n.startswith("fp32")]
    int8 = next((m for n, m in figures.items() if n.startswith("int8")), None)
    if int8 is not None:
        best = f"; the fastest other fp32 variant: {max(fp32)[1]}, {max(fp32)[0]:.2f}x" if fp32 else ""
        lines += [
            "",
            f"The int8 copy embeds {int8.rate / base.rate:.2f}x as many chunks per second as today's settings "
            f"({int8.cpu_rate / base.cpu_rate:.2f}x per CPU-second){best}.",
        ]
    if runs:
        fp32 = statistics.mean(run.rate for run in runs if run.label.startswith("fp32"))
        lines += [
            "",
            f"End to end, `run_index` (what `sophia-mcp index` runs) over {calls:,} sample calls into an empty "
            "Edge shard (dense + BM25, HNSW built at the end), fp32, int8, fp32 again on one database:",
            "",
            "| run | chunks | seconds | chunks/s | vs fp32 (mean of both runs) | chunks per CPU-second | load |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for run in runs:
            lines.append(
                f"| {run.label} | {run.chunks:,} | {run.seconds:.0f} | {run.rate:.0f} | {run.rate / fp32:.2f}x | "
                f"{run.chunks / run.cpu_seconds:.0f} | {run.load:.1f} |"
            )
    return "\n".join(lines)


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="today vs int8 only, 400 chunks, no end-to-end run")
    parser.add_argument("--calls", type=int, default=80, help="sample calls whose chunks are embedded (~600 chunks)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--index-calls", type=int, default=400, help="sample calls indexed end to end (0: skip)")
    parser.add_argument("--work-dir", type=Path, help="keep Postgres, the shards and the int8 copy here")
    parser.add_argument("--write", action="store_true", help="write the tables into benchmarks/SEARCH.md")
    args = parser.parse_args(list(argv) if argv is not None else None)
    texts = sample_chunks(args.calls)
    if args.quick:
        texts = texts[:400]
    with ExitStack() as stack:
        work_dir = args.work_dir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sophia-bench-embed-")))
        work_dir.mkdir(parents=True, exist_ok=True)
        cache_dir = work_dir / "models"
        figures = measure(texts, variants(args.quick, cache_dir), args.rounds)
        runs = [] if args.quick or not args.index_calls else anyio.run(end_to_end, args.index_calls, work_dir, cache_dir)
    text = report(texts, figures, args.rounds, runs, args.index_calls)
    print(text)
    if args.write:
        from benchmarks.search_quality import write_section

        write_section(text, SECTION)
    return 0


if __name__ == "__main__":
    sys.exit(main())
