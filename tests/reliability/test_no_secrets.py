"""No secret in any output. Every credential setting holds a recognisable secret; every tool, resource
and prompt is exercised, with valid and junk arguments, through faults (5xx, HTML pages, 429, bad
JSON), refused credentials and unreachable backends, with logging at DEBUG: in process (caplog), over
stdio and HTTP (the subprocess's stderr), and through `sophia-mcp check`. Any secret, or the first
ten characters of one, anywhere in what a user, a model or a log reader sees, fails the test."""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client
from mcp.client.stdio import stdio_client
from mcp.shared.exceptions import MCPError

from sophia_mcp.airbyte.client import AirbyteClient
from sophia_mcp.sample.airbyte_sim import Simulator
from sophia_mcp.sample.airbyte_sim.seed import GONG_POSTGRES_CONNECTION_ID
from sophia_mcp.surface.server import build_server
from sophia_mcp.settings import Settings
from tests.e2e.conftest import REPO, mcp_json_launch, stdio_params
from tests.fixtures.processes import free_port
from tests.reliability.support import (
    CALL_LIMIT_SECONDS,
    SIM_URL,
    fast_sim,
    http_client,
    http_server,
    list_tools,
    minimal_arguments,
    served,
)

pytestmark = pytest.mark.anyio

CLIENT_SECRET = "acs-7Hq2Zp9Lx4W"
WRONG_CLIENT_SECRET = "wcs-5Gm2Qs7Jc9U"
ACCESS_TOKEN = "aat-3Kf8Rt1Vb6N"
HTTP_TOKEN = "htt-8Pz4Ew6Dn1YaR"
DEST_POSTGRES_PASSWORD = "dpg-2Lr9Tc5Hv3M"
DEST_REDIS_PASSWORD = "drd-6Bx1Nf8Kq4S"
DEST_QDRANT_KEY = "dqk-4Vj7Ym2Ga9PeG"
READER_POSTGRES_PASSWORD = "rpg-9Cw3Ux6Zb2H"
QDRANT_KEY = "qak-1Fs5Ld8Rn7XoM"
EMBEDDING_KEY = "emb-7Ta4Jh9Wm3QcZ"
ALERT_WEBHOOK_TOKEN = "awh-5Qn8Vd2Ks6TzB"
SECRETS = {
    "AIRBYTE_CLIENT_SECRET": CLIENT_SECRET, "a wrong AIRBYTE_CLIENT_SECRET": WRONG_CLIENT_SECRET,
    "AIRBYTE_ACCESS_TOKEN": ACCESS_TOKEN, "SOPHIA_HTTP_TOKEN": HTTP_TOKEN,
    "SOPHIA_DEST_POSTGRES_URL password": DEST_POSTGRES_PASSWORD, "SOPHIA_DEST_REDIS_URL password": DEST_REDIS_PASSWORD,
    "SOPHIA_DEST_QDRANT_API_KEY": DEST_QDRANT_KEY, "SOPHIA_POSTGRES_URL password": READER_POSTGRES_PASSWORD,
    "QDRANT_API_KEY": QDRANT_KEY, "SOPHIA_EMBEDDING_API_KEY": EMBEDDING_KEY,
    "SOPHIA_ALERT_WEBHOOK_URL token": ALERT_WEBHOOK_TOKEN,
}
FAULT_TOOLS = ("airbyte_health", "airbyte_list_connections", "airbyte_trigger_sync", "airbyte_setup_pipeline")
LOGGERS = ("", "sophia_mcp", "mcp", "httpx", "httpcore", "asyncpg", "uvicorn", "qdrant_client")


def secret_environment(api_url: str, **overrides: str) -> dict[str, str]:
    """Every credential setting set, as a user would; the backends behind them are on closed ports
    (their failures are error paths too), except Airbyte, which is the simulator."""
    closed = free_port()
    return {
        "AIRBYTE_API_URL": api_url,
        "AIRBYTE_CLIENT_ID": "sophia-sim",
        "AIRBYTE_CLIENT_SECRET": CLIENT_SECRET,
        "SOPHIA_AIRBYTE_POLL_INTERVAL": "0.05",
        "SOPHIA_AIRBYTE_DEADLINE": "2",
        "SOPHIA_AIRBYTE_MAX_RETRIES": "1",
        "SOPHIA_HTTP_TOKEN": HTTP_TOKEN,
        "SOPHIA_POSTGRES_URL": f"postgresql://sophia_reader:{READER_POSTGRES_PASSWORD}@127.0.0.1:{closed}/gong",
        "QDRANT_URL": f"http://127.0.0.1:{closed}",
        "QDRANT_API_KEY": QDRANT_KEY,
        "SOPHIA_EMBEDDING_PROVIDER": "openai",
        "SOPHIA_EMBEDDING_URL": f"http://127.0.0.1:{closed}/v1",
        "SOPHIA_EMBEDDING_API_KEY": EMBEDDING_KEY,
        # Where the seeded destinations write, so the pipeline reuses them (and creates Qdrant's).
        "SOPHIA_DEST_POSTGRES_URL": f"postgresql://airbyte_writer:{DEST_POSTGRES_PASSWORD}@localhost:5432/sophia?sslmode=require",
        "SOPHIA_DEST_REDIS_URL": f"redis://default:{DEST_REDIS_PASSWORD}@localhost:6379",
        "SOPHIA_DEST_QDRANT_URL": "https://qdrant.example.com",
        "SOPHIA_DEST_QDRANT_API_KEY": DEST_QDRANT_KEY,
        "SOPHIA_ALERT_WEBHOOK_URL": f"https://hooks.slack.example/services/T0/B0/{ALERT_WEBHOOK_TOKEN}",
        **overrides,
    }


def assert_no_secret(where: str, text: str) -> None:
    for name, secret in SECRETS.items():
        for fragment in (secret, secret[:10]):
            index = text.find(fragment)
            assert index < 0, f"{name} leaked in {where}: …{text[max(0, index - 200): index + 60]}…"


def dump(value: Any) -> str:
    if hasattr(value, "model_dump_json"):
        return value.model_dump_json()
    return str(value)


@pytest.fixture
def airbyte_sim() -> Simulator:
    """Overrides the shared fixture (and so `airbyte_sim_url`): the simulator knows our secret."""
    return fast_sim(client_secret=CLIENT_SECRET, static_tokens={ACCESS_TOKEN})


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = secret_environment(SIM_URL)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


async def exercise(client: Client, sim: Simulator, *, faults: bool = True, thorough: bool = True) -> list[str]:
    """Everything a client can ask, on the happy path and the error paths; returns every answer as text.
    `thorough`: also junk arguments to every tool, and every tool through the first fault."""
    outputs: list[str] = []

    async def keep(call) -> None:
        try:
            with anyio.fail_after(CALL_LIMIT_SECONDS):
                outputs.append(dump(await call))
        except MCPError as exc:  # resources and prompts fail as protocol errors
            outputs.append(f"{exc} {exc.error!r}")

    tools = await list_tools(client)
    outputs += [dump(tool) for tool in tools.values()]
    await keep(client.list_resource_templates())
    await keep(client.list_resources())
    prompts = (await client.list_prompts()).prompts
    outputs.append(dump(prompts))

    async def every_tool(junk: bool = False, only: tuple[str, ...] | None = None) -> None:
        for name, tool in tools.items():
            if only is not None and name not in only:
                continue
            await keep(client.call_tool(name, minimal_arguments(tool.input_schema)))
            if junk:
                await keep(client.call_tool(name, {key: "\x00../" for key in tool.input_schema.get("properties", {})}))
                await keep(client.call_tool(name, {key: -1 for key in tool.input_schema.get("properties", {})}))

    await every_tool(junk=thorough)
    await keep(client.call_tool("airbyte_setup_pipeline", {"apply": True}))
    await keep(client.call_tool("airbyte_setup_pipeline", {}))
    await keep(client.call_tool("airbyte_trigger_sync", {"connection_id": GONG_POSTGRES_CONNECTION_ID, "wait": True, "timeout_seconds": 5}))
    templates = (await client.list_resource_templates()).resource_templates
    for template in templates:
        for value in ("1", GONG_POSTGRES_CONNECTION_ID, "nope", "%00"):
            uri = template.uri_template
            while "{" in uri:
                start, end = uri.index("{"), uri.index("}")
                uri = uri[:start] + value + uri[end + 1 :]
            await keep(client.read_resource(uri))
    for prompt in prompts:
        await keep(client.get_prompt(prompt.name, {a.name: "x" for a in prompt.arguments or []}))
    if faults:
        sim.expire_tokens()  # a 401, then a token refresh: logged at DEBUG
        await keep(client.call_tool("airbyte_list_workspaces", {}))
        # Every tool through the first fault; the others take the same paths, so a few tools suffice.
        for round_, queue in enumerate((
            lambda: sim.faults.queue_status(503, None),
            lambda: sim.faults.queue_html_error(502, None),
            lambda: sim.faults.queue_rate_limit(None, retry_after=0),
            lambda: sim.faults.queue_malformed_json(None),
            lambda: sim.faults.queue_status(500, None, path_prefix="/applications/token"),
        )):
            sim.expire_tokens()
            queue()
            await every_tool(only=None if round_ == 0 and thorough else FAULT_TOOLS)
            await keep(client.read_resource(f"airbyte://connections/{GONG_POSTGRES_CONNECTION_ID}"))
            sim.faults.clear()
    return outputs


def capture_debug_logs(caplog: pytest.LogCaptureFixture) -> None:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)


def logged_text(caplog: pytest.LogCaptureFixture) -> str:
    parts = [caplog.text]
    for record in caplog.records:
        parts += [record.getMessage(), repr(record.args), record.exc_text or ""]
        if record.exc_info and record.exc_info[1] is not None:
            parts.append(repr(record.exc_info[1]))
    return "\n".join(parts)


async def test_in_process_outputs_and_debug_logs_hold_no_secret(
    airbyte_sim: Simulator, environment: dict[str, str], caplog: pytest.LogCaptureFixture
):
    capture_debug_logs(caplog)
    settings = Settings()
    async with served(airbyte_sim, settings) as client:
        outputs = await exercise(client, airbyte_sim)
    assert airbyte_sim.requests["POST", "/destinations"] >= 1, "the pipeline apply never sent its credentials"
    assert airbyte_sim.requests["PATCH", "/workspaces/{workspaceId}"] >= 1, "the alert webhook was never sent"
    assert_no_secret("tool, resource and prompt answers", "\n".join(outputs))
    assert_no_secret("DEBUG logs", logged_text(caplog))
    assert len(caplog.records) > 10, "nothing was logged: the DEBUG capture is not working"


async def test_refused_and_unaccepted_credentials_hold_no_secret(
    airbyte_sim: Simulator, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    capture_debug_logs(caplog)
    outputs: list[str] = []
    wrong_secret = secret_environment(SIM_URL, AIRBYTE_CLIENT_SECRET=WRONG_CLIENT_SECRET)
    static_token = {k: v for k, v in secret_environment(SIM_URL, AIRBYTE_ACCESS_TOKEN=ACCESS_TOKEN).items()
                    if k not in ("AIRBYTE_CLIENT_ID", "AIRBYTE_CLIENT_SECRET")}
    for env, accepted in ((wrong_secret, False), (static_token, True), (static_token, False)):
        for name in ("AIRBYTE_CLIENT_ID", "AIRBYTE_CLIENT_SECRET"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        airbyte_sim.static_tokens = {ACCESS_TOKEN} if accepted else set()
        async with served(airbyte_sim, Settings()) as client:
            outputs += await exercise(client, airbyte_sim, faults=False)
    assert any("refused" in text for text in outputs)
    assert_no_secret("answers with refused credentials", "\n".join(outputs))
    assert_no_secret("DEBUG logs", logged_text(caplog))


def test_reprs_and_dumps_of_settings_and_clients_hold_no_secret(environment: dict[str, str]):
    settings = Settings()
    texts = []
    for part in (settings.airbyte, settings.postgres, settings.qdrant, settings.embedding, settings.http, settings.pipeline):
        texts += [repr(part), str(part), part.model_dump_json(), repr(part.model_dump())]
    client = AirbyteClient(settings.airbyte)
    texts += [repr(client), repr(client.auth), repr(build_server(settings))]
    anyio.run(client.aclose)
    assert_no_secret("reprs and dumps", "\n".join(texts))


async def test_stdio_answers_and_debug_stderr_hold_no_secret(airbyte_sim: Simulator, airbyte_sim_url: str):
    env = {**secret_environment(airbyte_sim_url), "SOPHIA_LOG_LEVEL": "DEBUG"}
    with tempfile.TemporaryFile("w+", encoding="utf-8") as stderr:
        async with Client(stdio_client(stdio_params(env), errlog=stderr)) as client:
            # The in-process test is the thorough one; this one is about what the process writes to stderr.
            outputs = await exercise(client, airbyte_sim, thorough=False)
        stderr.seek(0)
        logged = stderr.read()
    assert "DEBUG" in logged, "the server logged nothing at DEBUG"
    assert_no_secret("stdio answers", "\n".join(outputs))
    assert_no_secret("the stdio server's stderr", logged)


async def test_http_answers_refusals_and_debug_stderr_hold_no_secret(airbyte_sim: Simulator, airbyte_sim_url: str):
    env = {**secret_environment(airbyte_sim_url), "SOPHIA_LOG_LEVEL": "DEBUG"}
    outputs: list[str] = []
    with tempfile.TemporaryFile("w+", encoding="utf-8") as stderr:
        with http_server(env, stderr=stderr) as base:
            body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
            headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
            async with httpx.AsyncClient(base_url=base) as raw:
                for token in (None, "wrong", HTTP_TOKEN[:-1], HTTP_TOKEN + "x"):
                    sent = {**headers, **({"Authorization": f"Bearer {token}"} if token else {})}
                    response = await raw.post("/mcp", json=body, headers=sent)
                    assert response.status_code == 401
                    outputs.append(f"{response.headers} {response.text}")
            async with http_client(base, HTTP_TOKEN) as client:
                for name, tool in (await list_tools(client)).items():
                    outputs.append(dump(await client.call_tool(name, minimal_arguments(tool.input_schema))))
        stderr.seek(0)
        logged = stderr.read()
    assert_no_secret("HTTP answers and refusals", "\n".join(outputs))
    assert_no_secret("the HTTP server's stderr", logged)


def test_check_command_holds_no_secret(airbyte_sim_url: str):
    command, _ = mcp_json_launch()
    env = {**os.environ, **secret_environment(airbyte_sim_url), "SOPHIA_LOG_LEVEL": "DEBUG"}
    done = subprocess.run([command, "check"], env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert "Airbyte API" in done.stdout, done.stderr[-2000:]
    assert_no_secret("`sophia-mcp check` output", done.stdout + done.stderr)
