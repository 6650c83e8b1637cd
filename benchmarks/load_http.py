"""Load over streamable HTTP: N concurrent MCP clients for D seconds of mixed Airbyte tool calls.

    python -m benchmarks.load_http [--clients 100] [--seconds 60] [--workers 1]

`sophia-mcp serve --transport http` runs in a subprocess with a bearer token, the seeded Airbyte
simulator in another; each client is the official SDK client with its own HTTP connection, calling
tools in a fixed mix (lists, lookups, now and then a sync) back to back. `--workers` spreads the
clients over that many processes, for when one client process cannot keep the server busy.

Prints: calls per second, p50/p99 latency, errors (target: none), and the server's CPU per call and
memory before and after. CI runs a short form: `--clients 20 --seconds 10`.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import resource
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from benchmarks.stdio import percentile, simulator_process
from sophia_mcp.sample.airbyte_sim.seed import (
    FAILING_CONNECTION_ID,
    GONG_POSTGRES_CONNECTION_ID,
    GONG_REDIS_CONNECTION_ID,
)
from tests.fixtures.processes import free_port, http_server_process

CONNECTIONS = (GONG_POSTGRES_CONNECTION_ID, GONG_REDIS_CONNECTION_ID, FAILING_CONNECTION_ID)
# (weight, tool, arguments maker). Seeded jobs 1..11 exist in the simulator.
MIX = (
    (25, "airbyte_list_connections", lambda rng: {}),
    (20, "airbyte_get_job", lambda rng: {"job_id": rng.randint(1, 11)}),
    (20, "airbyte_list_jobs", lambda rng: {"connection_id": rng.choice(CONNECTIONS), "limit": 10}),
    (15, "airbyte_get_connection", lambda rng: {"connection_id": rng.choice(CONNECTIONS)}),
    (8, "airbyte_list_workspaces", lambda rng: {}),
    (5, "airbyte_list_sources", lambda rng: {}),
    (5, "airbyte_health", lambda rng: {}),
    # A connection with a job running gets that job back: at most one sync at a time each.
    (2, "airbyte_trigger_sync", lambda rng: {"connection_id": rng.choice(CONNECTIONS)}),
)
SIM_CLIENT = {"AIRBYTE_CLIENT_ID": "sophia-sim", "AIRBYTE_CLIENT_SECRET": "sim-pass"}


def next_call(rng: random.Random) -> tuple[str, dict]:
    weights = [w for w, _, _ in MIX]
    _, name, make = rng.choices(MIX, weights=weights)[0]
    return name, make(rng)



def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (and its reaped children)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def tcp_sockets(pid: int) -> Counter[str]:
    """The TCP sockets a process holds open, by state (ESTABLISHED, LISTEN …)."""
    states = {"01": "ESTABLISHED", "02": "SYN_SENT", "06": "TIME_WAIT", "08": "CLOSE_WAIT", "0A": "LISTEN"}
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found: Counter[str] = Counter()
    for table in ("tcp", "tcp6"):
        try:
            with open(f"/proc/{pid}/net/{table}") as rows:
                next(rows)
                for row in rows:
                    cols = row.split()
                    if cols[9] in inodes:
                        found[states.get(cols[3], cols[3])] += 1
        except FileNotFoundError:
            continue
    return found


def child_pid(needle: str) -> int:
    """The pid of our child process whose command line contains `needle`."""
    me = str(os.getpid())
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                parent = stat.read().rsplit(")", 1)[1].split()[1]
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                command = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if parent == me and needle in command:
            return int(entry)
    raise RuntimeError(f"no child process of ours runs {needle!r}")


def own_cpu_seconds() -> float:
    """CPU time of this process and its finished children (the client workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


# ---- the server ------------------------------------------------------------------------------


# ---- the clients -----------------------------------------------------------------------------


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    connect_errors: int = 0

    def merge(self, other: Tally) -> None:
        self.latencies_ms += other.latencies_ms
        self.errors.update(other.errors)
        self.connect_errors += other.connect_errors


async def one_client(base: str, token: str, until: float, seed: int, tally: Tally) -> None:
    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
            async with Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client:
                while time.monotonic() < until:
                    name, arguments = next_call(rng)
                    started = time.perf_counter()
                    try:
                        result = await client.call_tool(name, arguments)
                    except Exception as exc:  # a transport or protocol failure: an error, keep going
                        tally.errors[f"{name}: {type(exc).__name__}: {str(exc)[:80]}"] += 1
                        continue
                    tally.latencies_ms.append((time.perf_counter() - started) * 1000)
                    if result.is_error:
                        tally.errors[f"{name}: {result.content[0].text[:100]}"] += 1
    except Exception as exc:
        tally.connect_errors += 1
        tally.errors[f"session: {type(exc).__name__}: {str(exc)[:80]}"] += 1


async def run_clients(base: str, token: str, clients: int, seconds: float, first_seed: int) -> Tally:
    tally = Tally()
    until = time.monotonic() + seconds
    async with anyio.create_task_group() as tg:
        for index in range(clients):
            tg.start_soon(one_client, base, token, until, first_seed + index, tally)
    return tally


def worker(base: str, token: str, clients: int, seconds: float, first_seed: int, results) -> None:
    tally = anyio.run(run_clients, base, token, clients, seconds, first_seed)
    results.put((tally.latencies_ms, dict(tally.errors), tally.connect_errors))


def drive(base: str, token: str, clients: int, seconds: float, workers: int) -> Tally:
    if workers <= 1:
        return anyio.run(run_clients, base, token, clients, seconds, 0)
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    shares = [clients // workers + (1 if i < clients % workers else 0) for i in range(workers)]
    processes = [
        context.Process(target=worker, args=(base, token, share, seconds, 10_000 * i, results))
        for i, share in enumerate(shares)
    ]
    for process in processes:
        process.start()
    tally = Tally()
    for _ in processes:
        latencies, errors, connect_errors = results.get(timeout=seconds + 300)
        tally.merge(Tally(latencies, Counter(errors), connect_errors))
    for process in processes:
        process.join(timeout=30)
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=1, help="client processes (default 1)")
    args = parser.parse_args()

    token = secrets.token_hex(16)
    with simulator_process(free_port()) as sim_url:
        env = {"AIRBYTE_API_URL": sim_url, **SIM_CLIENT, "SOPHIA_HTTP_TOKEN": token, "SOPHIA_LOG_LEVEL": "WARNING"}
        with http_server_process(env) as (base, pid):
            # Warm up: imports, the token, keep-alive connections to the simulator.
            anyio.run(run_clients, base, token, 2, 2.0, 999_999)
            sim_pid = child_pid("sophia_mcp.sample.airbyte_sim")
            rss_before, cpu_before, sim_before = rss_kib(pid), cpu_seconds(pid), cpu_seconds(sim_pid)
            own_before = own_cpu_seconds()
            started = time.monotonic()
            tally = drive(base, token, args.clients, args.seconds, args.workers)
            elapsed = time.monotonic() - started
            rss_after, cpu_after, sim_after = rss_kib(pid), cpu_seconds(pid), cpu_seconds(sim_pid)
            own_after = own_cpu_seconds()
            sockets = tcp_sockets(pid)

    calls = len(tally.latencies_ms)
    failed = sum(tally.errors.values())
    print(f"streamable HTTP load: {args.clients} clients × {args.seconds:g} s, {args.workers} client process(es), "
          f"{os.cpu_count()} CPUs")
    print("| figure | value |\n| --- | --- |")
    print(f"| calls answered (all clients) | {calls} in {elapsed:.1f} s |")
    print(f"| calls per second | {calls / elapsed:.0f} |")
    if calls:
        print(f"| latency p50 / p99 / max | {percentile(tally.latencies_ms, 50):.0f} / "
              f"{percentile(tally.latencies_ms, 99):.0f} / {max(tally.latencies_ms):.0f} ms |")
    print(f"| errors (tool errors + failed requests) | {failed} ({failed / max(1, calls + failed):.2%}) |")
    print(f"| server CPU per call | {(cpu_after - cpu_before) / max(1, calls) * 1000:.1f} ms |")
    print(f"| CPU used: server / simulator / clients | {cpu_after - cpu_before:.1f} / {sim_after - sim_before:.1f} / "
          f"{own_after - own_before:.1f} s of {elapsed * (os.cpu_count() or 1):.0f} s available |")
    print(f"| server RSS before / after | {rss_before / 1024:.0f} / {rss_after / 1024:.0f} MiB |")
    print(f"| server TCP sockets at the end | {dict(sockets)} |")
    for text, count in tally.errors.most_common(10):
        print(f"  {count} × {text}")
    if failed or not calls:
        raise SystemExit("load target missed: every call must be answered without error")


if __name__ == "__main__":
    main()
