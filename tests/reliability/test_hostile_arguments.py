"""Property-based: for every tool the server lists, any arguments its input schema admits, and much
that it does not, give a result or an error that explains itself: never a bare
"Error executing tool X", never a traceback, never a hang, and the server keeps answering.

The server and its client live in an event loop of their own (an anyio blocking portal), shared by
every example of a test: Hypothesis drives plain functions, and shrinks failures as usual.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client

from tests.e2e.conftest import tool_json
from tests.reliability.strategies import admitted_object, arguments, hostile
from tests.reliability.support import CALL_LIMIT_SECONDS, assert_clear_answer, fast_sim, served, tool_catalogue

TOOLS = tool_catalogue()
# How the SDK words a refusal of arguments that do not fit the input schema (pydantic's summary).
INPUT_REFUSAL = re.compile(r"\d+ validation errors? for \w+")
EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,  # the same examples on every run and in CI; failures reproduce
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


class Served:
    """A client of the real server, called from synchronous test code."""

    def __init__(self, portal: BlockingPortal, client: Client) -> None:
        self.portal = portal
        self.client = client

    def call(self, name: str, args: dict[str, Any]):
        async def call() -> Any:
            with anyio.fail_after(CALL_LIMIT_SECONDS):
                return await self.client.call_tool(name, args)

        result = self.portal.call(call)
        assert_clear_answer(name, args, result)
        return result


@pytest.fixture
def server() -> Iterator[Served]:
    with start_blocking_portal(backend="asyncio") as portal:
        with portal.wrap_async_context_manager(served(fast_sim())) as client:
            yield Served(portal, client)


def test_every_tool_is_covered():
    assert len(TOOLS) >= 12, sorted(TOOLS)
    for name, tool in TOOLS.items():
        assert tool.input_schema.get("type") == "object", name


@pytest.mark.parametrize("name", sorted(TOOLS))
@EXAMPLES
@given(data=st.data())
def test_any_arguments_get_a_clear_answer(server: Served, name: str, data: st.DataObject):
    server.call(name, data.draw(arguments(TOOLS[name].input_schema), label="arguments"))


def is_input_refusal(text: str) -> bool:
    """Whether an error is the SDK refusing arguments that do not fit the tool's input schema."""
    return bool(INPUT_REFUSAL.search(text))


@pytest.mark.parametrize("name", sorted(name for name, tool in TOOLS.items() if tool.input_schema.get("properties")))
def test_arguments_the_schema_does_not_admit_are_recognised_as_refused(server: Served, name: str):
    """The check below is only as good as its detector: a value no property admits (an object
    where the schema wants text or a number) must be recognised as refused input."""
    first = next(iter(TOOLS[name].input_schema["properties"]))
    result = server.call(name, {first: {"not": ["a", "value", "this", "schema", "admits"]}})
    assert result.is_error and is_input_refusal(result.content[0].text), result.content[0].text


@pytest.mark.parametrize("name", sorted(TOOLS))
@settings(EXAMPLES, max_examples=15)
@given(data=st.data())
def test_admitted_arguments_are_never_refused_as_invalid_input(server: Served, name: str, data: st.DataObject):
    """What the schema admits passes the schema's validation: any error is the tool's own answer
    (a backend not configured, Airbyte's reply, a range the tool explains), never a refusal of the
    input's shape."""
    result = server.call(name, data.draw(admitted_object(TOOLS[name].input_schema), label="arguments"))
    if result.is_error:
        assert not is_input_refusal(result.content[0].text), result.content[0].text


@pytest.mark.anyio
async def test_the_server_still_answers_after_a_storm_of_garbage():
    """All tools, hostile arguments, concurrently; then a plain call."""
    examples: list[tuple[str, dict[str, Any]]] = []

    @settings(EXAMPLES, max_examples=5)
    @given(data=st.data())
    def collect(data: st.DataObject) -> None:
        for name, tool in TOOLS.items():
            examples.append((name, data.draw(hostile(tool.input_schema))))

    collect()

    async def call(client: Client, name: str, args: dict[str, Any]) -> None:
        with anyio.fail_after(CALL_LIMIT_SECONDS):
            assert_clear_answer(name, args, await client.call_tool(name, args))

    async with served(fast_sim()) as client:
        async with anyio.create_task_group() as tg:
            for name, args in examples:
                tg.start_soon(call, client, name, args)
        tool_json(await client.call_tool("airbyte_list_workspaces", {}))


@pytest.mark.parametrize(
    ("name", "args"),
    [
        # Control characters in an id used to crash httpx's URL building: "Error executing tool X", no reason.
        ("airbyte_get_connection", {"connection_id": "\x00"}),
        ("airbyte_get_connection", {"connection_id": "0\x1f0"}),
        ("airbyte_trigger_sync", {"connection_id": "\x1b[2J"}),
        ("airbyte_list_jobs", {"connection_id": "a\x00b"}),
        # A workspace id past httpx's URL length limit, likewise.
        ("airbyte_list_sources", {"workspace_id": "0" * 200_000}),
        ("airbyte_list_destinations", {"workspace_id": "0" * 70_000}),
        ("airbyte_list_connections", {"workspace_id": "\x00"}),
        ("airbyte_list_jobs", {"workspace_id": "x" * 100_000}),
        # A comma would smuggle a second workspace into `workspaceIds`.
        ("airbyte_list_sources", {"workspace_id": "a,b"}),
    ],
)
def test_ids_no_url_can_carry_are_refused_clearly(server: Served, name: str, args: dict[str, Any]):
    result = server.call(name, args)
    assert result.is_error and "not a valid Airbyte id" in result.content[0].text, result.content[0].text
