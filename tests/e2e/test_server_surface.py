"""The server's surface as a whole: names from the design, compact schemas, prompts, resources."""

import pytest
from mcp import Client

from sophia_mcp.surface.server import build_server
from sophia_mcp.settings import Settings

pytestmark = pytest.mark.anyio

DESIGN_TOOLS = {
    "airbyte_health", "airbyte_list_workspaces", "airbyte_list_sources", "airbyte_list_destinations",
    "airbyte_list_connections", "airbyte_get_connection", "airbyte_list_jobs", "airbyte_get_job",
    "airbyte_trigger_sync", "airbyte_cancel_job", "airbyte_setup_pipeline", "airbyte_sync_all",
    "airbyte_diagnose_connection", "airbyte_update_connection", "airbyte_reset_connection",
    "gong_search_calls", "gong_get_call", "gong_get_transcript", "gong_list_users", "gong_account_activity",
    "gong_semantic_search", "gong_rep_stats", "gong_data_status", "gong_search_transcripts",
    "gong_list_deals", "gong_deal_brief", "gong_tracker_stats", "gong_scorecard_stats", "gong_changes_since",
}
DESIGN_PROMPTS = {"call_brief", "account_review", "rep_coaching", "pipeline_health_report"}


def nullable_required(schema: dict, defs: dict, path: str = "") -> list[str]:
    """Fields that may be null yet are required: results drop nulls, so these would fail validation."""
    if "$ref" in schema:
        return nullable_required(defs[schema["$ref"].split("/")[-1]], defs, path)
    found = []
    required = set(schema.get("required", []))
    for name, prop in schema.get("properties", {}).items():
        variants = prop.get("anyOf", [prop])
        if name in required and any(v.get("type") == "null" for v in variants):
            found.append(f"{path}{name}")
        for variant in variants:
            found += nullable_required(variant, defs, f"{path}{name}.")
            if variant.get("type") == "array" and isinstance(variant.get("items"), dict):
                found += nullable_required(variant["items"], defs, f"{path}{name}[].")
    return found


@pytest.fixture
async def bare_client():
    async with Client(build_server(Settings())) as client:
        yield client


async def test_every_tool_of_the_design_is_served_with_a_usable_output_schema(bare_client: Client):
    tools = {t.name: t for t in (await bare_client.list_tools()).tools}
    assert tools.keys() == DESIGN_TOOLS
    for tool in tools.values():
        schema = tool.output_schema
        assert nullable_required(schema, schema.get("$defs", {})) == [], tool.name
        assert tool.annotations is not None and tool.annotations.read_only_hint is not None, tool.name


async def test_prompts_of_the_design(bare_client: Client):
    prompts = {p.name for p in (await bare_client.list_prompts()).prompts}
    assert prompts == DESIGN_PROMPTS
    brief = await bare_client.get_prompt("call_brief", {"call_id": "7782"})
    assert "gong_get_call" in brief.messages[0].content.text and "7782" in brief.messages[0].content.text


async def test_tools_without_their_backend_say_what_to_configure(bare_client: Client):
    for name, args, setting in [
        ("airbyte_list_connections", {}, "AIRBYTE_CLIENT_ID"),
        ("gong_search_calls", {}, "SOPHIA_POSTGRES_URL"),
        ("gong_semantic_search", {"question": "pricing"}, "QDRANT_URL"),
    ]:
        result = await bare_client.call_tool(name, args)
        assert result.is_error and setting in result.content[0].text, (name, result.content[0].text)
