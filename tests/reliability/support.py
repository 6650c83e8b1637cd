"""Shared pieces of the reliability suite: a fast simulator, the real server behind the official
client, the tool catalogue read from `list_tools()`, and the check every answer must pass.

The suite never names the tools it covers: it asks the server. A tool registered in
`build_server` (Gong, semantic search …) is covered as soon as it is listed; to give it a real
backend, add its settings in `reliability_settings`.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult, Tool

from sophia_mcp.sample.airbyte_sim import Simulator, config_api_url, create_app, seeded
from sophia_mcp.sample.airbyte_sim.seed import (
    FAILING_CONNECTION_ID,
    GONG_POSTGRES_CONNECTION_ID,
    GONG_REDIS_CONNECTION_ID,
    GONG_SOURCE_ID,
    POSTGRES_DESTINATION_ID,
    REDIS_DESTINATION_ID,
    WORKSPACE_ID,
)
from sophia_mcp.surface.server import build_server
from sophia_mcp.settings import (
    AirbyteSettings,
    EmbeddingSettings,
    HttpSettings,
    PipelineSettings,
    PostgresSettings,
    QdrantSettings,
    Settings,
)
from tests.e2e.conftest import mcp_json_launch
from tests.fixtures.processes import REPO, http_server_process

SIM_URL = "http://airbyte.test/v1"
# Every setting class: the suite removes their variables from the environment of whoever runs it.
SETTING_CLASSES = (AirbyteSettings, PostgresSettings, QdrantSettings, EmbeddingSettings, HttpSettings, PipelineSettings)
# Ids that exist in the seeded simulator: generated arguments pick them now and then, so that
# valid-looking calls reach real resources, not only 404s.
KNOWN_IDS = (
    WORKSPACE_ID, GONG_SOURCE_ID, POSTGRES_DESTINATION_ID, REDIS_DESTINATION_ID,
    GONG_POSTGRES_CONNECTION_ID, GONG_REDIS_CONNECTION_ID, FAILING_CONNECTION_ID,
)
KNOWN_INTS = (0, 1, 2, 3, 5, 20)
# How long any single tool call may take in this suite before it counts as a hang.
CALL_LIMIT_SECONDS = 20.0

BARE_CRASH = re.compile(r"^Error executing tool [\w.-]+:?\s*$")
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|Exception Group Traceback|File \"[^\"]+\", line \d+")


def setting_variables() -> set[str]:
    return {field.alias for cls in SETTING_CLASSES for field in cls.model_fields.values() if field.alias}


def fast_sim(**options: Any) -> Simulator:
    """The seeded workspace, with jobs that finish in a tenth of a second."""
    return seeded(**{"job_pending_seconds": 0.0, "job_running_seconds": 0.1, **options})


def reliability_settings(sim: Simulator, *, api_url: str = SIM_URL, **airbyte: Any) -> Settings:
    """Settings by environment-variable name, as a user would write them. Small limits by default,
    so a fault that is not handled shows up as a slow test rather than a minute-long hang.
    The Gong and search tools run unconfigured (they answer how to configure them); to test them
    against real backends, pass `postgres=` / `qdrant=` / `embedding=` settings to `Settings` here."""
    values: dict[str, Any] = {
        "AIRBYTE_API_URL": api_url,
        "AIRBYTE_CONFIG_API_URL": config_api_url(api_url),
        "AIRBYTE_CLIENT_ID": sim.client_id,
        "AIRBYTE_CLIENT_SECRET": sim.client_secret,
        "SOPHIA_AIRBYTE_POLL_INTERVAL": 0.05,
        "SOPHIA_AIRBYTE_DEADLINE": 2,
        "SOPHIA_AIRBYTE_REQUEST_TIMEOUT": 2,
        **airbyte,
    }
    return Settings(airbyte=AirbyteSettings(**values))


@asynccontextmanager
async def served(
    sim: Simulator,
    settings: Settings | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    real_http: bool = False,
) -> AsyncIterator[Client]:
    """The real server in process, driven by the official client. The server reaches the simulator
    through an ASGI transport, or over real HTTP (`real_http`: settings must point at a running
    simulator) where timeouts matter: the ASGI transport does not enforce them."""
    settings = settings or reliability_settings(sim)
    if transport is None and not real_http:
        transport = httpx.ASGITransport(app=create_app(sim))
    server = build_server(settings, airbyte_transport=transport)
    async with Client(server) as client:
        yield client


async def list_tools(client: Client) -> dict[str, Tool]:
    return {tool.name: tool for tool in (await client.list_tools()).tools}


def tool_catalogue() -> dict[str, Tool]:
    """The tools the server lists, read once at collection time (tests are parametrised by them)."""

    async def read() -> dict[str, Tool]:
        async with served(fast_sim()) as client:
            return await list_tools(client)

    return anyio.run(read)


def text_of(result: CallToolResult) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)


def assert_clear_answer(name: str, arguments: Mapping[str, Any], result: CallToolResult) -> None:
    """A result, or an error that explains itself: never a bare "Error executing tool X", never a traceback."""
    text = text_of(result)
    where = f"{name}({_short(arguments)})"
    assert not TRACEBACK.search(text), f"{where} leaked a traceback: {text[:500]}"
    if result.is_error:
        assert text.strip(), f"{where} failed with an empty message"
        assert not BARE_CRASH.match(text.strip()), f"{where} crashed without explanation: {text!r}"
        # The explanation after the tool name must say something.
        assert len(text.split(":", 1)[-1].strip()) >= 10, f"{where} gave no usable explanation: {text!r}"
    else:
        assert isinstance(result.structured_content, dict), f"{where} answered without structured content: {text[:300]}"


def _short(arguments: Mapping[str, Any]) -> str:
    text = repr(dict(arguments))
    return text if len(text) < 300 else text[:300] + "…"


def minimal_arguments(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Valid arguments for a tool: every required property, from known ids where a string is asked."""
    properties = schema.get("properties", {})
    return {name: example_value(properties[name]) for name in schema.get("required", [])}


def example_value(schema: Mapping[str, Any]) -> Any:
    if "enum" in schema:
        return schema["enum"][0]
    if "anyOf" in schema:
        return example_value(next(s for s in schema["anyOf"] if s.get("type") != "null"))
    kind = schema.get("type")
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind == "number":
        return float(schema.get("minimum", 1))
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    if kind == "object":
        return minimal_arguments(schema)
    if "id" in schema.get("title", "").lower() or "id" in schema.get("description", "").lower():
        return GONG_POSTGRES_CONNECTION_ID
    return "a"


@contextmanager
def http_server(env: Mapping[str, str], stderr: Any = subprocess.DEVNULL, cwd: Path = REPO) -> Iterator[str]:
    """`sophia-mcp serve --transport http` in a subprocess (as the hub runs it, launched from mcp.json)."""
    with http_server_process(env, mcp_json_launch()[0], stderr, cwd) as (base, _):
        yield base


def http_client(base: str, token: str) -> Client:
    transport = streamable_http_client(
        f"{base}/mcp", http_client=httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30)
    )
    return Client(transport)
