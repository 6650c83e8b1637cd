"""Soak over stdio: one session, many sequential mixed Airbyte tool calls; memory and connections.

    python -m benchmarks.soak_stdio [--calls 10000] [--warmup 300]

The server is `sophia-mcp serve` as an assistant launches it (the official client over stdio), the
seeded Airbyte simulator runs in its own process. Prints the server's RSS after `initialize`, after
the warm-up and at the end (growth after warm-up, target under 10%), how RSS moved every tenth of the
run, open file descriptors, and the server's TCP connections at the end (target: no more than the
Airbyte client's pool keeps, 10 keep-alive connections).
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter

import anyio
from mcp import Client

from benchmarks.load_http import SIM_CLIENT, child_pid, next_call, open_fds, rss_kib, tcp_sockets
from benchmarks.stdio import percentile, simulator_process, stdio_server
from tests.fixtures.processes import free_port

AIRBYTE_KEEPALIVE_POOL = 10  # httpx.Limits(max_keepalive_connections=10) in sophia_mcp/airbyte/client.py


async def calls(client: Client, count: int, rng: random.Random, latencies: list[float], errors: Counter[str]) -> None:
    for _ in range(count):
        name, arguments = next_call(rng)
        started = time.perf_counter()
        result = await client.call_tool(name, arguments)
        latencies.append((time.perf_counter() - started) * 1000)
        if result.is_error:
            errors[f"{name}: {result.content[0].text[:100]}"] += 1


async def main(total: int, warmup: int) -> None:
    rng = random.Random(7)
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    with simulator_process(free_port()) as sim_url:
        env = {"AIRBYTE_API_URL": sim_url, **SIM_CLIENT, "SOPHIA_LOG_LEVEL": "WARNING"}
        async with stdio_server(env) as client:
            pid = child_pid("sophia-mcp")
            rss_start, fds_start = rss_kib(pid), open_fds(pid)
            await calls(client, warmup, rng, [], errors)
            rss_warm, fds_warm = rss_kib(pid), open_fds(pid)
            trend = []
            step = max(1, total // 10)
            started = time.monotonic()
            done = 0
            while done < total:
                batch = min(step, total - done)
                await calls(client, batch, rng, latencies, errors)
                done += batch
                trend.append((done, rss_kib(pid)))
            elapsed = time.monotonic() - started
            rss_end, fds_end = rss_kib(pid), open_fds(pid)
            sockets = tcp_sockets(pid)

    growth = (rss_end - rss_warm) / rss_warm * 100
    established = sockets.get("ESTABLISHED", 0)
    print(f"stdio soak: {total} sequential mixed calls after {warmup} warm-up calls, one session")
    print("| figure | value |\n| --- | --- |")
    print(f"| calls | {total} in {elapsed:.1f} s ({total / elapsed:.0f}/s) |")
    print(f"| latency p50 / p99 / max | {percentile(latencies, 50):.1f} / {percentile(latencies, 99):.1f} / "
          f"{max(latencies):.1f} ms |")
    print(f"| errors | {sum(errors.values())} |")
    print(f"| server RSS after initialize / after warm-up / at the end | {rss_start / 1024:.1f} / "
          f"{rss_warm / 1024:.1f} / {rss_end / 1024:.1f} MiB |")
    print(f"| RSS growth after warm-up (target < 10%) | {growth:+.1f}% |")
    print(f"| RSS growth from initialize | {(rss_end - rss_start) / rss_start * 100:+.1f}% |")
    print(f"| open file descriptors after initialize / warm-up / end | {fds_start} / {fds_warm} / {fds_end} |")
    print(f"| server TCP connections at the end (pool keeps ≤ {AIRBYTE_KEEPALIVE_POOL}) | {established} "
          f"{dict(sockets)} |")
    print("RSS trend (calls: MiB): " + ", ".join(f"{n}: {kib / 1024:.1f}" for n, kib in trend))
    for text, count in errors.most_common(10):
        print(f"  {count} × {text}")
    if growth >= 10 or established > AIRBYTE_KEEPALIVE_POOL or errors:
        raise SystemExit("soak targets missed")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--warmup", type=int, default=300)
    options = parser.parse_args()
    anyio.run(main, options.calls, options.warmup)
