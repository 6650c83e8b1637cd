"""Shared helpers: the stdio server as an assistant launches it, and percentiles."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from mcp import Client
from mcp.client.stdio import StdioServerParameters

from tests.fixtures.processes import wait_until_answers

REPO = Path(__file__).resolve().parents[1]


def server_params(env: dict[str, str], args: tuple[str, ...] = ("serve",)) -> StdioServerParameters:
    command = shutil.which("sophia-mcp", path=str(Path(sys.executable).parent)) or "sophia-mcp"
    base = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    return StdioServerParameters(command=command, args=list(args), env={**base, **env}, cwd=str(REPO))


@asynccontextmanager
async def stdio_server(env: dict[str, str], args: tuple[str, ...] = ("serve",)):
    async with Client(server_params(env, args)) as client:
        yield client


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


@contextmanager
def simulator_process(port: int = 18766) -> Iterator[str]:
    """The seeded Airbyte simulator in its own process: in a thread of the benchmark it would share
    the GIL with the client and add tens of milliseconds to every request."""
    process = subprocess.Popen(
        [sys.executable, "-m", "sophia_mcp.sample.airbyte_sim", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_until_answers(f"{url}/health", process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
