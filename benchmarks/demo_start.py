"""First start of `sophia-mcp demo`, as a newcomer meets it (issue 11: `initialize` and `tools/list`
within 3 s on the 2-core machine).

    python -m benchmarks.demo_start --rounds 3

Per round: a fresh HOME and data folder, the demo launched over stdio by the official MCP client (as
`mcp.json` launches it), then the time from launch to `initialize` answered, to `tools/list`
answered, to the first Gong answer (`gong_data_status` without the "still starting" note), and to
semantic search answering without an indexing-progress line (the sample calls fully indexed). The
embedding model is the local copy in `../shared/models` (`SOPHIA_EMBEDDING_MODEL_PATH`), as in the
tests. Prints each figure's median and range, with the 1-minute load average.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import anyio
from mcp import Client

from benchmarks.stdio import REPO, server_params

MODEL = REPO.parent / "shared" / "models" / "all-MiniLM-L6-v2-onnx"
# The line beside results while the background indexer runs (search/store.py, IndexingStatus).
INDEXING_NOTE = "results cover what is indexed"


async def one_round(calls: int, limit_s: float) -> dict[str, float]:
    home = Path(tempfile.mkdtemp(prefix="sophia-bench-demo-"))
    env = {"HOME": str(home), "SOPHIA_EMBEDDING_MODEL_PATH": str(MODEL)}
    args = ("demo", "--data-dir", str(home / "demo"), "--calls", str(calls))
    figures: dict[str, float] = {}
    started = time.perf_counter()
    try:
        async with Client(server_params(env, args)) as client:
            figures["initialize"] = time.perf_counter() - started
            await client.list_tools()
            figures["tools/list"] = time.perf_counter() - started
            with anyio.fail_after(limit_s):
                while True:
                    result = await client.call_tool("gong_data_status", {})
                    if not result.is_error and "still starting" not in str(result.content):
                        figures["first Gong answer"] = time.perf_counter() - started
                        break
                    await anyio.sleep(0.1)
                while True:
                    result = await client.call_tool("gong_semantic_search", {"question": "pricing objection", "limit": 3})
                    if not result.is_error and INDEXING_NOTE not in str(result.content):
                        figures["search fully indexed"] = time.perf_counter() - started
                        break
                    await anyio.sleep(0.5)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=400, help="sample calls (the demo's default)")
    parser.add_argument("--limit", type=float, default=300.0, help="seconds to wait for each stage")
    args = parser.parse_args()
    rounds = []
    for number in range(args.rounds):
        rounds.append(anyio.run(one_round, args.calls, args.limit))
        print(f"round {number + 1}/{args.rounds}: " + ", ".join(f"{k} {v:.2f} s" for k, v in rounds[-1].items()), flush=True)
    print(f"\n`sophia-mcp demo` first start, {args.calls} sample calls, {args.rounds} rounds, load {os.getloadavg()[0]:.1f}:\n")
    print("| from launch to | median | range |\n| --- | --- | --- |")
    for key in rounds[0]:
        values = [r[key] for r in rounds if key in r]
        print(f"| {key} | {statistics.median(values):.2f} s | {min(values):.2f}-{max(values):.2f} s |")


if __name__ == "__main__":
    main()
