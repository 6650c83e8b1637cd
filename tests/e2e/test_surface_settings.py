"""What the server offers follows its settings: SOPHIA_READ_ONLY, SOPHIA_TOOLSETS, and a backend whose
settings are missing or still hold a client's unexpanded `${...}` placeholder (only its tools are off,
they say what to set, and the server's instructions list it)."""

from __future__ import annotations

import inspect
import re

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from sophia_mcp.settings import Settings, SurfaceSettings
from sophia_mcp.surface import server as surface_server
from sophia_mcp.surface.server import TOOLS, build_server
from sophia_mcp.surface.tools import airbyte, gong, pipeline, search
from tests.e2e.conftest import error_text, stdio_params, tool_json

pytestmark = pytest.mark.anyio


async def served(settings: Settings) -> tuple[dict, set[str], str | None]:
    async with Client(build_server(settings)) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
        return tools, templates, client.instructions


def test_every_tool_function_is_in_the_one_list_of_tools():
    defined = {
        name for module in (airbyte, gong, pipeline, search)
        for name, fn in vars(module).items()
        if name.startswith(("airbyte_", "gong_")) and inspect.iscoroutinefunction(fn) and fn.__module__ == module.__name__
    }
    assert defined == {spec.name for spec in TOOLS}
    assert len(TOOLS) == len(defined)


async def test_read_only_serves_exactly_the_read_only_tools():
    tools, _, instructions = await served(Settings(surface=SurfaceSettings(SOPHIA_READ_ONLY="true")))
    expected = {spec.name for spec in TOOLS if spec.annotations.read_only_hint}
    assert tools.keys() == expected
    assert all(t.annotations.read_only_hint and not t.annotations.destructive_hint for t in tools.values())
    assert {"airbyte_trigger_sync", "airbyte_cancel_job", "airbyte_setup_pipeline", "airbyte_sync_all"}.isdisjoint(tools)
    assert {"airbyte_list_connections", "gong_search_calls", "gong_semantic_search"} <= tools.keys()
    assert "SOPHIA_READ_ONLY=true" in instructions


@pytest.mark.parametrize(
    ("toolsets", "prefix_check"),
    [
        ("gong,search", lambda name: name.startswith("gong_")),
        ("airbyte", lambda name: name.startswith("airbyte_")),
        ("search", lambda name: name == "gong_semantic_search"),
    ],
)
async def test_toolsets_limit_the_surface(toolsets, prefix_check):
    tools, templates, instructions = await served(Settings(surface=SurfaceSettings(SOPHIA_TOOLSETS=toolsets)))
    chosen = toolsets.split(",")
    assert tools.keys() == {spec.name for spec in TOOLS if spec.toolset in chosen}
    assert tools and all(prefix_check(name) for name in tools)
    assert any(t.startswith("airbyte://") for t in templates) == ("airbyte" in chosen)
    assert any(t.startswith("gong://") for t in templates) == ("gong" in chosen)
    assert f"only the {', '.join(chosen)} tools are served (SOPHIA_TOOLSETS)" in instructions


async def test_read_only_and_toolsets_together():
    settings = Settings(surface=SurfaceSettings(SOPHIA_TOOLSETS="airbyte", SOPHIA_READ_ONLY="1"))
    tools, _, _ = await served(settings)
    assert tools.keys() == {s.name for s in TOOLS if s.toolset == "airbyte" and s.annotations.read_only_hint}
    assert tools.keys() == {s.name for s in surface_server.served_tools(settings)}


async def test_instructions_list_the_backends_that_are_off():
    _, _, instructions = await served(Settings())
    assert "Off in this server" in instructions
    assert "Airbyte tools (airbyte_*): AIRBYTE_CLIENT_ID and AIRBYTE_CLIENT_SECRET" in instructions
    assert "Gong tools (gong_*, from Postgres): SOPHIA_POSTGRES_URL is not set" in instructions
    assert "Semantic search (gong_semantic_search): QDRANT_URL" in instructions


async def test_an_unexpanded_placeholder_turns_off_only_its_backend_over_stdio(airbyte_sim_env, gong_postgres_url):
    """Claude Desktop passes "${AIRBYTE_CLIENT_SECRET}" through as it is: the server still starts, the
    Gong tools work, and the Airbyte tools and the instructions say what to fix."""
    env = {
        **airbyte_sim_env,
        "AIRBYTE_CLIENT_SECRET": "${AIRBYTE_CLIENT_SECRET}",
        "SOPHIA_POSTGRES_URL": gong_postgres_url,
    }
    async with Client(stdio_params(env)) as client:
        assert "Airbyte tools (airbyte_*): AIRBYTE_CLIENT_SECRET is the placeholder '${AIRBYTE_CLIENT_SECRET}'" in (
            client.instructions or "")
        assert "Gong tools" not in client.instructions.split("Off in this server")[1]
        text = error_text(await client.call_tool("airbyte_list_connections", {}))
        assert "Airbyte is off" in text and "AIRBYTE_CLIENT_SECRET is the placeholder" in text
        assert "Traceback" not in text
        calls = tool_json(await client.call_tool("gong_search_calls", {"limit": 2}))["calls"]
        assert len(calls) == 2


TOOL_NAME = re.compile(r"\b(?:airbyte|gong)_[a-z_]+\b")


@pytest.mark.parametrize(
    ("env", "prompts", "left_out"),
    [
        ({"SOPHIA_TOOLSETS": "airbyte"}, {"pipeline_health_report"}, {"gong_data_status"}),
        ({"SOPHIA_TOOLSETS": "gong"}, {"call_brief", "account_review", "rep_coaching"}, {"gong_semantic_search"}),
        ({"SOPHIA_READ_ONLY": "true"}, {"call_brief", "account_review", "rep_coaching", "pipeline_health_report"},
         {"airbyte_setup_pipeline"}),
        ({"SOPHIA_TOOLSETS": "search"}, set(), set()),
    ],
    ids=["airbyte", "gong", "read-only", "search"],
)
async def test_prompts_follow_the_served_tools_over_stdio(env: dict[str, str], prompts: set[str], left_out: set[str]):
    """A prompt is listed only with the tools its question rests on, and never asks for a tool the
    server does not serve: the steps that would are left out."""
    arguments = {"call_brief": {"call_id": "7782"}, "account_review": {"account": "Acme"}, "rep_coaching": {"rep": "Ana"}}
    async with Client(stdio_params(env)) as client:
        tools = {t.name for t in (await client.list_tools()).tools}
        listed = {p.name for p in (await client.list_prompts()).prompts}
        texts = [
            (await client.get_prompt(name, arguments.get(name, {}))).messages[0].content.text for name in sorted(listed)
        ]
        assert listed == prompts
        asked = set()
        for text in texts:
            _title, *calls, closing = text.splitlines()  # the closing "Write ..." step may name a tool as advice
            assert [line.split(".")[0] for line in calls] == [str(n) for n in range(1, len(calls) + 1)]
            assert closing.startswith(f"{len(calls) + 1}. Write")  # steps renumbered after any left out
            asked |= set(TOOL_NAME.findall("\n".join(calls)))
        assert asked <= tools and bool(asked) == bool(prompts)
        assert left_out.isdisjoint(asked)
        if "call_brief" not in listed:  # asked for all the same: says which toolset to add
            with pytest.raises(MCPError, match=r"'call_brief' is not served here: .* Add `gong` to SOPHIA_TOOLSETS"):
                await client.get_prompt("call_brief", {"call_id": "7782"})
        with pytest.raises(MCPError, match="Unknown prompt: no_such_prompt"):
            await client.get_prompt("no_such_prompt", {})
        if "call_brief" in listed:
            with pytest.raises(MCPError, match="call_id"):
                await client.get_prompt("call_brief", {})
