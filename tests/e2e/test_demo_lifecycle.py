"""`sophia-mcp demo` as a process: signals stop its embedded Postgres, a second demo on the same folder
is refused, and in a terminal `serve` says it speaks MCP on stdio."""

from __future__ import annotations

import os
import pty
import select
import signal
import sys
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from tests.e2e.conftest import REPO, mcp_json_launch
from tests.fixtures.qdrant import MODEL_PATH

DEMO_CALLS = "20"


def start_demo(data_dir: Path) -> subprocess.Popen:
    command, _ = mcp_json_launch()
    env = {**os.environ, "SOPHIA_EMBEDDING_MODEL_PATH": str(MODEL_PATH)}
    return subprocess.Popen(
        [command, "demo", "--data-dir", str(data_dir), "--calls", DEMO_CALLS],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=REPO,
    )


def wait_until_serving(process: subprocess.Popen, timeout: float = 240) -> str:
    """The demo's stderr until its embedded Postgres is up (it serves MCP before that)."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stderr.readline().decode()
        assert line, "the demo ended before serving:\n" + "".join(seen)
        seen.append(line)
        if line.startswith("  Postgres: embedded"):
            return "".join(seen)
    raise AssertionError("the demo did not start in time:\n" + "".join(seen))


def postmaster(data_dir: Path) -> psutil.Process:
    pid = int((data_dir / "postgres" / "postmaster.pid").read_text().split()[0])
    return psutil.Process(pid)


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_demo_and_its_postgres_and_one_folder_serves_one_demo(server_tmp: Path, stop_signal):
    data_dir = server_tmp / "demo"
    first = start_demo(data_dir)
    try:
        wait_until_serving(first)
        server = postmaster(data_dir)
        assert server.is_running()

        second = start_demo(data_dir)
        _, refused = second.communicate(timeout=60)
        assert second.returncode == 1
        assert f"another sophia-mcp demo is already running on {data_dir.resolve()}" in refused.decode()
        assert server.is_running(), "the refused demo must not touch the running one"

        first.send_signal(stop_signal)
        first.wait(timeout=60)
        assert first.returncode in (0, 130), first.stderr.read().decode()[-2000:]
        try:
            server.wait(timeout=30)
        except psutil.TimeoutExpired:
            raise AssertionError("the embedded Postgres outlived the demo") from None
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()

    again = start_demo(data_dir)  # the folder is free again, and its data is reused
    try:
        assert "(reused)" in wait_until_serving(again)
    finally:
        again.stdin.close()
        again.wait(timeout=60)
    assert again.returncode == 0


def test_in_a_terminal_serve_says_it_speaks_mcp_on_stdio():
    command, args = mcp_json_launch()
    controller, terminal = pty.openpty()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRBYTE_", "SOPHIA_", "QDRANT_"))}
    process = subprocess.Popen([command, *args], stdin=terminal, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=env, cwd=REPO)
    os.close(terminal)
    try:
        ready, _, _ = select.select([process.stderr], [], [], 60)
        assert ready, "nothing on stderr"
        line = process.stderr.readline().decode()
    finally:
        process.kill()
        process.wait()
        os.close(controller)
    assert line.startswith("sophia-mcp: speaking MCP on stdio")
    assert "npx @modelcontextprotocol/inspector sophia-mcp serve" in line


def test_with_pipes_serve_prints_nothing_for_a_person():
    command, args = mcp_json_launch()
    done = subprocess.run([command, *args], input=b"", capture_output=True, cwd=REPO, timeout=60,
                          env={k: v for k, v in os.environ.items() if not k.startswith(("AIRBYTE_", "SOPHIA_", "QDRANT_"))})
    assert done.returncode == 0 and b"speaking MCP" not in done.stderr and done.stdout == b""


DOWNLOAD_ATTEMPT = """
import asyncio, sys
from sophia_mcp.observability.logs import configure_logging
from sophia_mcp.search.embeddings.base import EmbeddingError
from sophia_mcp.search.embeddings.fastembed_provider import FastEmbedProvider
configure_logging()
try:
    asyncio.run(FastEmbedProvider(cache_dir=sys.argv[1]).embed_query("pricing"))
except EmbeddingError as exc:
    print("refused:", exc, file=sys.stderr)
    sys.exit(3)
"""


def test_a_model_that_must_be_downloaded_says_what_and_how_big_and_failing_names_the_setting(tmp_path: Path):
    # Offline (as this machine is): the first use announces the download, then says how to do without it.
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("SOPHIA_EMBEDDING_MODEL_PATH", None)
    done = subprocess.run([sys.executable, "-c", DOWNLOAD_ATTEMPT, str(tmp_path / "models")], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stderr[-2000:]
    assert (f"Downloading the embedding model sentence-transformers/all-MiniLM-L6-v2 (90 MB) into "
            f"{tmp_path / 'models'}, once") in done.stderr
    assert "set SOPHIA_EMBEDDING_MODEL_PATH to a local copy of the model" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_demo_keeps_a_downloaded_model_in_its_data_folder(monkeypatch, tmp_path: Path):
    from sophia_mcp.cli.demo import build_settings

    monkeypatch.delenv("SOPHIA_EMBEDDING_MODEL_PATH", raising=False)
    monkeypatch.delenv("SOPHIA_EMBEDDING_CACHE_DIR", raising=False)
    settings = build_settings(tmp_path / "demo", "id", "secret")
    assert settings.embedding.cache_dir == tmp_path / "demo" / "models"
    monkeypatch.setenv("SOPHIA_EMBEDDING_MODEL_PATH", str(MODEL_PATH))
    assert build_settings(tmp_path / "demo", "id", "secret").embedding.cache_dir is None
