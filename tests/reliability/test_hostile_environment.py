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

import base64
import json
import os
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import anyio
import asyncpg
import httpx
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.shared.exceptions import MCPError

from sophia_mcp.sample.airbyte_sim import create_app
from sophia_mcp.sample.databases import recreate_database
from sophia_mcp.sample.gong_data import load_sample_data
from sophia_mcp.sample.airbyte_sim.seed import FAILING_CONNECTION_ID, WORKSPACE_ID
from sophia_mcp.airbyte.client import AirbyteClient
from sophia_mcp.settings import AirbyteSettings, PipelineSettings
from tests.e2e.conftest import error_text, mcp_json_launch, tool_json
from tests.reliability.support import fast_sim, http_client, http_server, reliability_settings, served, text_of

pytestmark = pytest.mark.anyio

# A hang guard, not a timing assertion: far above any deadline set here.
HANG_GUARD_SECONDS = 30.0
LONG_TOKEN = "rotation-token-one-0123456789abcdef"
NEXT_TOKEN = "rotation-token-two-fedcba9876543210"


def base_env() -> dict[str, str]:
    return {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "SYSTEMROOT", "SOPHIA_GONG_SNAPSHOT_DIR") if key in os.environ}


def stdio_in(folder: Path, env: dict[str, str]) -> StdioServerParameters:
    """The server as an assistant launches it, but started in `folder` (its working directory)."""
    command, args = mcp_json_launch()
    return StdioServerParameters(command=command, args=args, env={**base_env(), **env}, cwd=str(folder))


class LoopbackServer:
    """A TCP server on a free loopback port; each connection is handled by `handle` in its own thread."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle_and_close, args=(conn,), daemon=True).start()

    def _handle_and_close(self, conn: socket.socket) -> None:
        with conn:
            try:
                self.handle(conn)
            except OSError:
                return

    def handle(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self._stop.set()
        self._sock.close()


class Listener(LoopbackServer):
    """Records what each connection sends and closes it unanswered: stands in for the attacker's
    host a malicious setting would send requests (and secrets) to."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        super().__init__()

    def handle(self, conn: socket.socket) -> None:
        conn.settimeout(1)
        self.received.append(conn.recv(65536))


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


async def test_a_dotenv_in_the_working_folder_is_never_read_over_http(tmp_path: Path, listener: Listener):
    malicious_dotenv(tmp_path, listener.port)
    with http_server({"SOPHIA_HTTP_TOKEN": LONG_TOKEN}, cwd=tmp_path) as base:
        with anyio.fail_after(HANG_GUARD_SECONDS):
            async with http_client(base, LONG_TOKEN) as client:
                result = await client.call_tool("airbyte_health", {})
            # The .env's SOPHIA_HTTP_ALLOWED_HOSTS was not read either: that Host is still refused.
            headers = {"Authorization": f"Bearer {LONG_TOKEN}", "Host": "evil.example.com",
                       "Accept": "application/json, text/event-stream"}
            async with httpx.AsyncClient(base_url=base) as raw:
                rebinding = await raw.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers=headers)
    assert "AIRBYTE_CLIENT_ID" in text_of(result), text_of(result)
    assert rebinding.status_code == 421
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


# ---- a server that drips its answer ----------------------------------------------------------------

# Valid as a token answer, as a list page and as an embeddings answer, so that only its pace is hostile.
DRIP_BODY = b'{"access_token":"t","expires_in":900,"data":[{"index":0,"embedding":[0.5,0.5]}]}'
DRIP_INTERVAL = 0.2  # under every per-read timeout used here: only a deadline on the whole answer stops it


class DripServer(LoopbackServer):
    """Answers every HTTP request with 200 and the headers at once, then the body one byte every
    DRIP_INTERVAL seconds (the whole body takes about 16 s). With `quick_token`, the token endpoint
    answers at once, so that the dripping is on the API call itself."""

    def __init__(self, *, quick_token: bool = False) -> None:
        self.quick_token = quick_token
        self.requests: list[str] = []
        super().__init__()
        self.url = f"http://127.0.0.1:{self.port}/v1"

    def handle(self, conn: socket.socket) -> None:
        while True:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                head += chunk
            line = head.split(b"\r\n", 1)[0].decode()
            self.requests.append(line)
            length = next((int(h.split(b":")[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length:")), 0)
            body_read = len(head.split(b"\r\n\r\n", 1)[1])
            while body_read < length:
                body_read += len(conn.recv(65536))
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(DRIP_BODY))
            if self.quick_token and "/applications/token" in line:
                conn.sendall(DRIP_BODY)
                continue
            for byte in DRIP_BODY:
                if self._stop.wait(DRIP_INTERVAL):
                    return
                conn.sendall(bytes([byte]))


@pytest.fixture
def drip_server(request: pytest.FixtureRequest) -> Iterator[DripServer]:
    server = DripServer(quick_token=getattr(request, "param", False))
    try:
        yield server
    finally:
        server.close()


def drip_env(drip: DripServer) -> dict[str, str]:
    return {
        "AIRBYTE_API_URL": drip.url, "AIRBYTE_CLIENT_ID": "id", "AIRBYTE_CLIENT_SECRET": "secret",
        "SOPHIA_AIRBYTE_DEADLINE": "1", "SOPHIA_AIRBYTE_REQUEST_TIMEOUT": "1", "SOPHIA_AIRBYTE_MAX_RETRIES": "0",
    }


@pytest.mark.parametrize("drip_server", [False, True], ids=["token-request-drips", "api-call-drips"], indirect=True)
async def test_a_dripping_airbyte_ends_at_the_deadline_over_stdio(tmp_path: Path, drip_server: DripServer):
    with anyio.fail_after(HANG_GUARD_SECONDS):
        async with Client(stdio_in(tmp_path, drip_env(drip_server))) as client:
            message = error_text(await client.call_tool("airbyte_list_workspaces", {}))
            assert "too slow" in message and "SOPHIA_AIRBYTE_DEADLINE" in message, message
            # Health reports the same instead of waiting for the drip to end.
            health = tool_json(await client.call_tool("airbyte_health", {}))
    assert health["authenticated"] is False
    assert any("too slow" in problem for problem in health["problems"]), health
    expected = "POST /v1/applications/token" if not drip_server.quick_token else "GET /v1/workspaces"
    assert any(line.startswith(expected) for line in drip_server.requests), drip_server.requests


async def test_a_dripping_configuration_api_ends_at_the_deadline_over_stdio(
    tmp_path: Path, drip_server: DripServer, airbyte_sim_env: dict[str, str]
):
    # The public API answers normally; Airbyte's Configuration API (failure reasons) drips.
    env = {**airbyte_sim_env, "AIRBYTE_CONFIG_API_URL": drip_server.url.removesuffix("/v1") + "/api/v1",
           "SOPHIA_AIRBYTE_DEADLINE": "1", "SOPHIA_AIRBYTE_REQUEST_TIMEOUT": "1"}
    with anyio.fail_after(HANG_GUARD_SECONDS):
        async with Client(stdio_in(tmp_path, env)) as client:
            result = await client.call_tool("airbyte_diagnose_connection", {"connection_id": FAILING_CONNECTION_ID})
    text = text_of(result)
    assert "too slow" in text and "Configuration API" in text, text
    assert any("/api/v1/jobs/get" in line for line in drip_server.requests), drip_server.requests


async def test_a_dripping_embedding_endpoint_ends_at_the_deadline(drip_server: DripServer):
    from sophia_mcp.search.embeddings.base import EmbeddingError
    from sophia_mcp.search.embeddings.factory import embedder_from_settings
    from sophia_mcp.settings import EmbeddingSettings

    settings = EmbeddingSettings(
        SOPHIA_EMBEDDING_PROVIDER="openai", SOPHIA_EMBEDDING_URL=drip_server.url, SOPHIA_EMBEDDING_DEADLINE=1
    )
    embedder = embedder_from_settings(settings)
    try:
        with anyio.fail_after(HANG_GUARD_SECONDS), pytest.raises(EmbeddingError, match="too slow.*SOPHIA_EMBEDDING_DEADLINE"):
            await embedder.embed_query("what did the customer say about pricing?")
    finally:
        await embedder.aclose()


# ---- a list endpoint that never ends ---------------------------------------------------------------


class HostileDestinations(httpx.AsyncBaseTransport):
    """In front of the simulator: `GET /destinations` answers full pages of copies of a real
    destination. `loop`: the same page whatever the offset; `endless`: new ids on every page;
    `slow`: new ids, each page after 0.4 s."""

    def __init__(self, inner: httpx.AsyncBaseTransport, mode: str) -> None:
        self.inner, self.mode, self.pages = inner, mode, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "GET" or not request.url.path.endswith("/destinations"):
            return await self.inner.handle_async_request(request)
        self.pages += 1
        first = httpx.Request("GET", request.url.copy_set_param("offset", 0), headers=request.headers)
        upstream = await self.inner.handle_async_request(first)
        template = json.loads(await upstream.aread())["data"][0]
        limit = int(request.url.params.get("limit", 20))
        start = 0 if self.mode == "loop" else int(request.url.params.get("offset", 0))
        if self.mode == "slow":
            await anyio.sleep(0.4)
        data = [
            {**template, "destinationId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"d/{start + i}")), "name": f"copy {start + i}"}
            for i in range(limit)
        ]
        return httpx.Response(200, json={"data": data, "next": str(request.url), "previous": ""})


@pytest.mark.parametrize(
    ("mode", "settings", "reason"),
    [
        ("loop", {}, "sent page 2 again"),
        ("endless", {"SOPHIA_AIRBYTE_MAX_PAGES": 3}, "stopped after 3 pages (SOPHIA_AIRBYTE_MAX_PAGES)"),
        ("slow", {"SOPHIA_AIRBYTE_DEADLINE": 1}, "deadline"),
    ],
)
async def test_an_endless_list_is_cut_short_and_health_and_plan_say_so(mode: str, settings: dict, reason: str):
    sim = fast_sim()
    hostile = HostileDestinations(httpx.ASGITransport(app=create_app(sim)), mode)
    config = reliability_settings(sim, **settings)
    config.pipeline = PipelineSettings(SOPHIA_DEST_POSTGRES_URL="postgresql://writer:pw@db.example.test:5432/gong")
    before = len(sim.list_destinations([WORKSPACE_ID]))
    with anyio.fail_after(HANG_GUARD_SECONDS / 3):
        async with served(sim, config, transport=hostile) as client:
            health = tool_json(await client.call_tool("airbyte_health", {}))
            plan = tool_json(await client.call_tool("airbyte_setup_pipeline", {}))
            applied = tool_json(await client.call_tool("airbyte_setup_pipeline", {"apply": True}))
    cut = [line for line in health["problems"] if "cut short" in line]
    assert len(cut) == 1 and "destinations" in cut[0] and reason in cut[0], health["problems"]
    assert health["destinations"] >= 100 and health["sources"] == len(sim.list_sources([WORKSPACE_ID]))
    assert sum("cut short" in line for line in plan["problems"]) == 1, plan["problems"]
    # What was not read may exist already: the plan is not applied over a partial listing.
    assert applied.get("applied") is not True and any("Not applied" in line for line in applied["problems"])
    assert len(sim.list_destinations([WORKSPACE_ID])) == before
    assert hostile.pages <= 3 * 3 + 3  # three listings, a few pages each


# ---- dot ids -------------------------------------------------------------------------------------

DOT_IDS = [".", "..", "./", "../workspaces", " .. ", "%2e%2e", "5091a000-0004-4000-8000-000000000001/.."]
DOT_CALLS = [
    *[("airbyte_get_connection", {"connection_id": dot}) for dot in DOT_IDS],
    *[("airbyte_list_jobs", {"connection_id": dot}) for dot in DOT_IDS[:2]],
    *[("airbyte_trigger_sync", {"connection_id": dot}) for dot in DOT_IDS[:2]],
    ("airbyte_get_job", {"job_id": 0}),
    ("airbyte_cancel_job", {"job_id": 0}),
]


async def test_dot_ids_are_refused_before_any_request_over_stdio(tmp_path: Path, listener: Listener):
    # Airbyte is the listener: any request at all, even for a token, would reach it.
    env = {"AIRBYTE_API_URL": f"http://127.0.0.1:{listener.port}/v1", "AIRBYTE_CLIENT_ID": "id",
           "AIRBYTE_CLIENT_SECRET": "secret", "SOPHIA_AIRBYTE_DEADLINE": "2"}
    with anyio.fail_after(HANG_GUARD_SECONDS):
        async with Client(stdio_in(tmp_path, env)) as client:
            for name, arguments in DOT_CALLS:
                text = error_text(await client.call_tool(name, arguments))
                assert "not a valid Airbyte id" in text or "not a valid job id" in text, (name, arguments, text)
            for uri in ("airbyte://connections/..", "airbyte://connections/.", "airbyte://jobs/0"):
                with pytest.raises(MCPError, match="not a valid|Unknown resource|job_id must be"):
                    await client.read_resource(uri)
    assert listener.received == []


async def test_dot_ids_are_refused_before_any_request_over_http(listener: Listener):
    env = {"AIRBYTE_API_URL": f"http://127.0.0.1:{listener.port}/v1", "AIRBYTE_CLIENT_ID": "id",
           "AIRBYTE_CLIENT_SECRET": "secret", "SOPHIA_HTTP_TOKEN": LONG_TOKEN}
    with http_server(env) as base, anyio.fail_after(HANG_GUARD_SECONDS):
        async with http_client(base, LONG_TOKEN) as client:
            for name, arguments in DOT_CALLS:
                text = error_text(await client.call_tool(name, arguments))
                assert "not a valid Airbyte id" in text or "not a valid job id" in text, (name, arguments, text)
    assert listener.received == []


async def test_dot_ids_never_reach_airbyte_from_the_client(listener: Listener):
    settings = AirbyteSettings(AIRBYTE_API_URL=f"http://127.0.0.1:{listener.port}/v1", AIRBYTE_ACCESS_TOKEN="t")
    async with AirbyteClient(settings) as client:
        for dot in DOT_IDS:
            for call in (client.get_connection, client.get_workspace, lambda i: client.update_connection(i, {"name": "x"}),
                         lambda i: client.get_stream_properties(i), lambda i: client.all_sources([i])):
                with pytest.raises(ValueError, match="not a valid Airbyte id"):
                    await call(dot)
        for job_id in (0, -1, True, 2**63, "1"):
            with pytest.raises(ValueError, match="not a valid job id"):
                await client.get_job(job_id)  # type: ignore[arg-type]
    assert listener.received == []


# ---- odd resource ids ---------------------------------------------------------------------------

ODD_RESOURCES = [
    ("airbyte://jobs/²", "job_id must be a positive whole number"),
    ("airbyte://jobs/١٢", "job_id must be a positive whole number"),  # Arabic-Indic digits
    ("airbyte://jobs/0", "job_id must be a positive whole number"),
    ("airbyte://jobs/99999999999999999999", "job_id must be a positive whole number"),
    ("airbyte://connections/%C2%B2", "not a valid Airbyte id"),
    ("airbyte://connections/abc", "not a valid Airbyte id"),
    ("sophia://schema?cached=maybe", "cached must be true or false"),
]


async def test_odd_resource_ids_get_a_clear_error_and_no_traceback_over_stdio(tmp_path: Path, listener: Listener):
    postgres = Listener()  # a Postgres that never answers: the server's start-up warm-up knocks once
    env = {"AIRBYTE_API_URL": f"http://127.0.0.1:{listener.port}/v1", "AIRBYTE_ACCESS_TOKEN": "t",
           "SOPHIA_POSTGRES_URL": f"postgresql://reader:pw@127.0.0.1:{postgres.port}/gong",
           "SOPHIA_LOG_LEVEL": "INFO"}
    errors = tmp_path / "stderr.log"
    try:
        with anyio.fail_after(HANG_GUARD_SECONDS), errors.open("w") as errlog:
            async with Client(stdio_client(stdio_in(tmp_path, env), errlog=errlog)) as client:
                while not postgres.received:  # the background warm-up of the Gong summary
                    await anyio.sleep(0.05)
                await anyio.sleep(0.5)
                knocks = len(postgres.received)
                for uri, expected in ODD_RESOURCES:
                    with pytest.raises(MCPError) as caught:
                        await client.read_resource(uri)
                    assert expected in str(caught.value), (uri, str(caught.value))
                # Refused before any backend was asked: neither Airbyte nor Postgres heard more.
                assert listener.received == [] and len(postgres.received) == knocks
    finally:
        postgres.close()
    log = errors.read_text()
    assert "Traceback" not in log and "Error creating resource" not in log, log[-2000:]


# ---- forged cursors ------------------------------------------------------------------------------

NOT_OURS = "cursor is not one this tool returned"


def unpack(cursor: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))


def forge(position: dict) -> str:
    # ensure_ascii: a lone surrogate travels as the escape \\ud800, as a forger would write it.
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


TEXT_FORGERIES = ["\x00", "\ud800", "1\x00", "7\udfff"]
# Per tool and field, values a forger puts there: every one well formed JSON of the right type.
FORGERIES = {
    "gong_search_calls": {"t": [2**62, -(2**62), 2**70, -(2**63) - 1], "i": TEXT_FORGERIES},
    "gong_get_transcript": {"t": [2**31, 2**40, -1], "s": [2**31, 2**63, -5], "c": TEXT_FORGERIES},
    "gong_list_users": {"n": TEXT_FORGERIES, "i": TEXT_FORGERIES},
}


async def test_forged_cursors_get_the_same_answer_as_garbled_ones_over_stdio(tmp_path: Path, gong_postgres_url: str):
    env = {"SOPHIA_POSTGRES_URL": gong_postgres_url}
    with anyio.fail_after(HANG_GUARD_SECONDS * 2):
        async with Client(stdio_in(tmp_path, env)) as client:
            calls = tool_json(await client.call_tool("gong_search_calls", {"limit": 1}))
            many = tool_json(await client.call_tool("gong_search_calls", {"limit": 30}))
            for row in many["calls"]:  # a call whose transcript is longer than one small page
                call_id = row["id"]
                transcript = await client.call_tool("gong_get_transcript", {"call_id": call_id, "max_chars": 500})
                if not transcript.is_error and "next_cursor" in transcript.structured_content:
                    transcript = transcript.structured_content
                    break
            users = tool_json(await client.call_tool("gong_list_users", {"limit": 1}))
            pages = [
                ("gong_search_calls", {"limit": 1}, calls["next_cursor"]),
                ("gong_get_transcript", {"call_id": call_id, "max_chars": 500}, transcript["next_cursor"]),
                ("gong_list_users", {"limit": 1}, users["next_cursor"]),
            ]
            tried = 0
            for tool, arguments, real in pages:
                # The real cursor works; garbled and forged ones get the same refusal.
                tool_json(await client.call_tool(tool, {**arguments, "cursor": real}))
                position = unpack(real)
                bad = [real[:-3] + "!!!", "not-a-cursor"]
                bad += [forge({**position, field: value}) for field, values in FORGERIES[tool].items() for value in values]
                for cursor in bad:
                    text = error_text(await client.call_tool(tool, {**arguments, "cursor": cursor}))
                    assert NOT_OURS in text and "start" in text, (tool, unpack_safely(cursor), text)
                    assert "int32" not in text and "invalid input" not in text and "\\x00" not in text
                    tried += 1
    assert tried >= 30


def unpack_safely(cursor: str) -> object:
    try:
        return unpack(cursor)
    except ValueError:
        return cursor


# ---- a backend answer that does not parse ----------------------------------------------------------

PLANTED = "planted-backend-value-4711"


@pytest.fixture(scope="module")
def tampered_gong(postgres_admin_url: str) -> tuple[str, str]:
    """A small Gong database whose call parties hold an object where a name should be."""

    async def build() -> tuple[str, str]:
        url = await recreate_database(postgres_admin_url, "sophia_test_hostile_tampered")
        manifest = await load_sample_data(url, calls=5, seed=5)
        connection = await asyncpg.connect(url)
        try:
            parties = json.dumps([{"speakerId": "1", "name": {"planted": PLANTED}, "affiliation": "External"}])
            await connection.execute('UPDATE "extensiveCalls" SET "parties" = $1::jsonb', parties)
        finally:
            await connection.close()
        return url, next(iter(manifest.calls))

    return anyio.run(build)


async def test_backend_data_that_does_not_parse_is_an_upstream_error_without_its_values(
    tmp_path: Path, tampered_gong: tuple[str, str]
):
    url, call_id = tampered_gong
    with anyio.fail_after(HANG_GUARD_SECONDS):
        env = {"SOPHIA_POSTGRES_URL": url, "AIRBYTE_API_URL": "http://127.0.0.1:1/v1", "AIRBYTE_ACCESS_TOKEN": "t"}
        async with Client(stdio_in(tmp_path, env)) as client:
            for tool in ("gong_get_call", "gong_get_transcript"):
                text = error_text(await client.call_tool(tool, {"call_id": call_id}))
                assert "Upstream error: Postgres" in text, (tool, text)
                assert "Invalid argument" not in text and PLANTED not in text and "planted" not in text, text
            # A bad argument is still labelled an invalid argument.
            text = error_text(await client.call_tool("airbyte_get_job", {"job_id": 0}))
            assert "Invalid argument: not a valid job id" in text, text


# ---- an SSE flood --------------------------------------------------------------------------------

SSE_CAP = 5
FLOOD = 12


@pytest.fixture
def capped_http(airbyte_sim_env: dict[str, str]) -> Iterator[str]:
    env = {**airbyte_sim_env, "SOPHIA_HTTP_TOKEN": LONG_TOKEN, "SOPHIA_HTTP_SSE_MAX_STREAMS": str(SSE_CAP),
           "SOPHIA_HTTP_SSE_IDLE_SECONDS": "2"}
    with http_server(env) as base:
        yield base


async def test_an_sse_flood_is_capped_and_idle_streams_are_closed(capped_http: str):
    headers = {"Accept": "text/event-stream", "Authorization": f"Bearer {LONG_TOKEN}"}
    statuses: list[int] = []
    ended = 0

    async def hold_a_stream(raw: httpx.AsyncClient) -> None:
        nonlocal ended
        async with raw.stream("GET", "/mcp", headers=headers) as response:
            statuses.append(response.status_code)
            async for _ in response.aiter_bytes():
                pass  # an open stream sends nothing; the server must end it
            ended += 1

    with anyio.fail_after(HANG_GUARD_SECONDS):
        async with httpx.AsyncClient(base_url=capped_http, timeout=HANG_GUARD_SECONDS) as raw:
            async with anyio.create_task_group() as tg:
                for _ in range(FLOOD):
                    tg.start_soon(hold_a_stream, raw)
                # While the flood holds every stream it may, tool calls still work.
                await anyio.sleep(0.3)
                async with http_client(capped_http, LONG_TOKEN) as client:
                    tool_json(await client.call_tool("airbyte_list_workspaces", {}))
            # Every stream ended: the capped ones at once, the others when idle.
            assert ended == FLOOD
            assert statuses.count(200) == SSE_CAP and statuses.count(503) == FLOOD - SSE_CAP, statuses
            # The slots are free again.
            async with raw.stream("GET", "/mcp", headers=headers) as again:
                assert again.status_code == 200
                async for _ in again.aiter_bytes():
                    pass  # ended by the server when idle, like the others
