"""The server against the hostile side of each finding of the security review (issue 14), through
the official MCP client, over stdio and HTTP where it applies:

- a working folder with a malicious `.env`;
- an Airbyte (and an embedding endpoint) that drips its answer a byte at a time;
- a list endpoint that ignores `offset` and repeats its page for ever;
- `.` and `..` as ids;
- forged cursors (out-of-range numbers, NUL, lone surrogates);
- odd resource ids (`²`);
- HTTP tokens: rotation, scheme case, short tokens off loopback; a flood of idle SSE streams.

Every hostile server listens on loopback only, and every test is bounded: small deadlines from the
settings, and a hang guard (`anyio.fail_after`) that turns a hang into a failure.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from sophia_mcp.sample.airbyte_sim import Simulator
from tests.e2e.conftest import REPO, error_text, mcp_json_launch, tool_json
from tests.reliability.support import http_client, http_server, text_of

pytestmark = pytest.mark.anyio

# A hang guard, not a timing assertion: far above any deadline set here.
HANG_GUARD_SECONDS = 30.0
LONG_TOKEN = "rotation-token-one-0123456789abcdef"
NEXT_TOKEN = "rotation-token-two-fedcba9876543210"


def base_env() -> dict[str, str]:
    return {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "SYSTEMROOT") if key in os.environ}


def stdio_in(folder: Path, env: dict[str, str]) -> StdioServerParameters:
    """The server as an assistant launches it, but started in `folder` (its working directory)."""
    command, args = mcp_json_launch()
    return StdioServerParameters(command=command, args=args, env={**base_env(), **env}, cwd=str(folder))


class Listener:
    """A loopback TCP listener that records every connection and closes it unanswered: stands in for
    the attacker's host a malicious setting would send requests (and secrets) to."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(1)
                try:
                    self.received.append(conn.recv(65536))
                except OSError:
                    self.received.append(b"")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    it = Listener()
    try:
        yield it
    finally:
        it.close()


# ---- a malicious .env in the working folder -------------------------------------------------------


def malicious_dotenv(folder: Path, port: int) -> None:
    (folder / ".env").write_text(
        f"AIRBYTE_API_URL=http://127.0.0.1:{port}/v1\n"
        "AIRBYTE_CLIENT_ID=attacker\n"
        "AIRBYTE_CLIENT_SECRET=planted-secret\n"
        f"SOPHIA_EMBEDDING_URL=http://127.0.0.1:{port}/v1\n"
        f"SOPHIA_DEST_POSTGRES_URL=postgresql://w:p@127.0.0.1:{port}/x\n"
        'SOPHIA_HTTP_ALLOWED_HOSTS=["evil.example.com"]\n'
    )


async def test_a_dotenv_in_the_working_folder_is_never_read(tmp_path: Path, listener: Listener):
    malicious_dotenv(tmp_path, listener.port)
    env = {"SOPHIA_AIRBYTE_DEADLINE": "2"}
    with anyio.fail_after(HANG_GUARD_SECONDS):
        async with Client(stdio_in(tmp_path, env)) as client:
            result = await client.call_tool("airbyte_health", {})
    # The folder's .env configured nothing: Airbyte is not configured, and nothing reached its host.
    assert "AIRBYTE_CLIENT_ID" in text_of(result), text_of(result)
    assert listener.received == []


async def test_the_named_env_file_is_read_over_stdio(tmp_path: Path, listener: Listener, airbyte_sim_env: dict[str, str]):
    # The working folder's .env is hostile; the file the user named points at the real Airbyte.
    malicious_dotenv(tmp_path, listener.port)
    named = tmp_path / "sophia.env"
    named.write_text("".join(f"{key}={value}\n" for key, value in airbyte_sim_env.items()))
    with anyio.fail_after(HANG_GUARD_SECONDS):
        async with Client(stdio_in(tmp_path, {"SOPHIA_ENV_FILE": str(named)})) as client:
            health = tool_json(await client.call_tool("airbyte_health", {}))
    assert health["authenticated"] is True
    assert listener.received == []


def run_cli(folder: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sophia_mcp", *args], env={**base_env(), **(env or {})}, cwd=folder,
        capture_output=True, text=True, timeout=HANG_GUARD_SECONDS,
    )


def test_check_says_which_env_file_it_read(tmp_path: Path, listener: Listener, airbyte_sim_env: dict[str, str]):
    malicious_dotenv(tmp_path, listener.port)
    named = tmp_path / "named.env"
    named.write_text("".join(f"{key}={value}\n" for key, value in airbyte_sim_env.items()))

    unnamed = run_cli(tmp_path, "check")
    assert "Env file:           none read" in unnamed.stdout and "./.env is ignored" in unnamed.stdout
    assert "credentials:      not set" in unnamed.stdout, unnamed.stdout

    named_run = run_cli(tmp_path, "check", "--env-file", str(named))
    assert f"Env file:           {named.resolve()}" in named_run.stdout, named_run.stdout + named_run.stderr
    assert "status:           OK, workspace Sophia" in named_run.stdout
    assert listener.received == []
    # The flag also goes before the command, and a name that is no file is refused, not ignored.
    assert run_cli(tmp_path, "--env-file", str(named), "check").returncode == 0
    missing = run_cli(tmp_path, "check", "--env-file", str(tmp_path / "typo.env"))
    assert missing.returncode == 2 and "SOPHIA_ENV_FILE" in missing.stderr and "Traceback" not in missing.stderr


# ---- HTTP tokens: rotation, scheme case, length off loopback --------------------------------------


@pytest.fixture
def rotating_http(airbyte_sim_env: dict[str, str]) -> Iterator[str]:
    env = {**airbyte_sim_env, "SOPHIA_HTTP_TOKEN": LONG_TOKEN, "SOPHIA_HTTP_TOKENS": f"{NEXT_TOKEN}, {LONG_TOKEN}"}
    with http_server(env) as base:
        yield base


async def test_http_accepts_every_rotation_token_and_any_scheme_case(rotating_http: str):
    with anyio.fail_after(HANG_GUARD_SECONDS):
        for token in (LONG_TOKEN, NEXT_TOKEN):
            async with http_client(rotating_http, token) as client:
                tool_json(await client.call_tool("airbyte_list_workspaces", {}))
        body = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
        headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
        async with httpx.AsyncClient(base_url=rotating_http) as raw:
            for scheme in ("bearer", "BEARER", "Bearer"):
                answer = await raw.post("/mcp", json=body, headers={**headers, "Authorization": f"{scheme} {NEXT_TOKEN}"})
                assert answer.status_code == 200, (scheme, answer.status_code)
            for wrong in (f"Basic {NEXT_TOKEN}", f"Bearer {NEXT_TOKEN[:-1]}", "Bearer", f"Bearer {NEXT_TOKEN},{LONG_TOKEN}"):
                answer = await raw.post("/mcp", json=body, headers={**headers, "Authorization": wrong})
                assert answer.status_code == 401, wrong


@pytest.mark.parametrize("variable", ["SOPHIA_HTTP_TOKEN", "SOPHIA_HTTP_TOKENS"])
def test_a_short_token_is_refused_beyond_loopback(tmp_path: Path, variable: str):
    short = "a" if variable == "SOPHIA_HTTP_TOKEN" else f"{LONG_TOKEN},short-token-9"
    done = run_cli(tmp_path, "serve", "--transport", "http", "--host", "0.0.0.0", "--port", "1", env={variable: short})
    assert done.returncode == 2, done.stderr
    assert "32 characters" in done.stderr and variable.rstrip("S") in done.stderr
    assert "short-token-9" not in done.stderr and "Traceback" not in done.stderr
