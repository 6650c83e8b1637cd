"""get_user and describe_schema on the sample data, and the Gong resources in process, including a
transcript too long for one resource read."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import asyncpg
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from sophia_mcp.gong.errors import InvalidArgumentError, NotFoundError
from sophia_mcp.gong.repository import GongRepository
from sophia_mcp.sample.gong_data import load_sample_data
from sophia_mcp.postgres.readonly import ReadOnlyPool
from sophia_mcp.surface.resources import TRANSCRIPT_RESOURCE_CHARS
from sophia_mcp.surface.server import build_server
from sophia_mcp.settings import PostgresSettings, Settings
from sophia_mcp.sample.databases import recreate_database
from tests.fixtures.postgres import GongSample
from tests.fixtures.postgres import PARTIAL_PREFIX, PARTIAL_SCHEMA

pytestmark = pytest.mark.anyio

LONG_TURNS = 300
SENTENCE = "We walked through the rollout plan, the security review and the pricing for the second year. "


async def test_get_user_reads_the_latest_version_with_the_managers_name(repo, manifest, gong_postgres_url):
    connection = await asyncpg.connect(gong_postgres_url)
    try:
        user_id = await connection.fetchval('SELECT id FROM users GROUP BY id HAVING count(*) > 1 LIMIT 1')
    finally:
        await connection.close()
    user = manifest.users[user_id]
    found = await repo.get_user(user_id)
    assert (found.id, found.name, found.email, found.title, found.active) == (
        user.id, user.name, user.email, user.title, user.active,
    )
    assert not found.title.startswith("Junior")  # the older version's title
    if user.manager_id:
        assert found.manager_id == user.manager_id and found.manager == manifest.users[user.manager_id].name
    with pytest.raises(NotFoundError, match="gong_list_users"):
        await repo.get_user("123456789")
    with pytest.raises(InvalidArgumentError, match="numeric Gong id"):
        await repo.get_user("1' OR '1'='1")


async def test_describe_schema_maps_every_stream_with_its_columns(repo):
    report = await repo.describe_schema()
    streams = {s.stream: s for s in report.streams}
    assert all(s.found and s.used_by for s in streams.values())
    assert streams["callTranscripts"].key == "callId" and streams["callTranscripts"].columns["transcript"] == "jsonb"
    assert streams["extensiveCalls"].columns["id"] == "bigint"
    assert streams["calls"].renamed is None and streams["calls"].missing_columns is None
    assert report.rules and any("latest" in rule or "newest" in rule for rule in report.rules)


async def test_describe_schema_names_the_missing_streams_and_what_they_feed(partial_gong):
    async with ReadOnlyPool(partial_gong.url) as pool:
        report = await GongRepository(pool, PARTIAL_SCHEMA, PARTIAL_PREFIX).describe_schema()
    streams = {s.stream: s for s in report.streams}
    assert (report.schema_name, report.prefix) == (PARTIAL_SCHEMA, PARTIAL_PREFIX)
    assert streams["calls"].table == f"{PARTIAL_SCHEMA}.{PARTIAL_PREFIX}calls"
    assert not streams["extensiveCalls"].found and "gong_extensiveCalls" in streams["extensiveCalls"].problem
    assert "gong_account_activity" in streams["extensiveCalls"].used_by


@pytest.fixture(scope="module")
def long_transcript(postgres_admin_url: str) -> tuple[GongSample, str, str]:
    """A small database where one call's transcript is far longer than a resource holds: (sample,
    call id, the transcript's whole text)."""

    async def build() -> tuple[GongSample, str, str]:
        url = await recreate_database(postgres_admin_url, "sophia_test_gong_long_transcript")
        manifest = await load_sample_data(url, calls=5, seed=5, streams=("calls", "extensiveCalls", "callTranscripts"))
        facts = next(c for c in manifest.calls.values() if c.has_transcript)
        speaker = next(iter(facts.speakers))
        monologues = [
            {"speakerId": speaker, "topic": "Pricing",
             "sentences": [{"start": i * 10_000, "end": i * 10_000 + 9_000, "text": f"{i}: {SENTENCE * 3}"}]}
            for i in range(LONG_TURNS)
        ]
        connection = await asyncpg.connect(url)
        try:
            await connection.execute(
                'UPDATE "callTranscripts" SET transcript = $1::jsonb WHERE "callId" = $2', json.dumps(monologues), facts.id
            )
        finally:
            await connection.close()
        text = " ".join(m["sentences"][0]["text"] for m in monologues)
        return GongSample(url, manifest), facts.id, text

    return asyncio.run(build())


@pytest.fixture
async def long_client(long_transcript) -> AsyncIterator[Client]:
    sample, _, _ = long_transcript
    server = build_server(Settings(postgres=PostgresSettings(SOPHIA_POSTGRES_URL=sample.url)))
    async with Client(server) as client:
        yield client


async def test_a_long_transcript_resource_says_how_to_read_the_rest(long_transcript, long_client):
    _, call_id, whole = long_transcript
    assert len(whole) > 2 * TRANSCRIPT_RESOURCE_CHARS
    result = await long_client.read_resource(f"gong://calls/{call_id}/transcript")
    body = json.loads(result.contents[0].text)
    first = " ".join(turn["text"] for turn in body["turns"])
    assert TRANSCRIPT_RESOURCE_CHARS * 0.9 < len(first) <= TRANSCRIPT_RESOURCE_CHARS
    assert body["turns_total"] == LONG_TURNS and body["next_cursor"]
    assert "gong_get_transcript" in body["more"] and call_id in body["more"]

    texts, cursor = [first], body["next_cursor"]
    while cursor:
        page = (await long_client.call_tool(
            "gong_get_transcript", {"call_id": call_id, "cursor": cursor, "max_chars": 30000}
        )).structured_content
        texts.append(" ".join(turn["text"] for turn in page["turns"]))
        cursor = page.get("next_cursor")
    assert " ".join(texts) == whole


async def test_resources_of_a_call_user_and_schema_in_process(long_transcript, long_client):
    sample, call_id, _ = long_transcript
    call = json.loads((await long_client.read_resource(f"gong://calls/{call_id}")).contents[0].text)
    assert call["id"] == call_id and any("users" in note for note in call["unavailable"])
    with pytest.raises(MCPError, match='Enable the "users" stream'):
        await long_client.read_resource("gong://users/123456789")
    schema = json.loads((await long_client.read_resource("sophia://schema")).contents[0].text)
    found = {s["stream"] for s in schema["streams"] if s["found"]}
    assert found == {"calls", "extensiveCalls", "callTranscripts"}
