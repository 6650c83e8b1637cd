"""Semantic search end to end: `sophia-mcp index` as a user runs it, then `gong_semantic_search`
through the real server over stdio (launched as mcp.json launches it) with the official client,
against a small sample database, the real model and an embedded Qdrant folder.

Answers are checked against the sample generator's manifest: which themes each call talks about,
its account, rep and start time.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import anyio
import asyncpg
import pytest
from mcp import Client
from qdrant_client import QdrantClient, models

from sophia_mcp.sample.gong.calls import CallFacts
from sophia_mcp.sample.gong_data import SampleManifest, load_sample_data
from sophia_mcp.search.embeddings.fastembed_provider import FastEmbedProvider
from sophia_mcp.search.chunking import chunk_call
from sophia_mcp.search.model import PayloadFields
from sophia_mcp.search.qdrant import open_backend
from sophia_mcp.settings import QdrantSettings
from tests.e2e.conftest import REPO, error_text, mcp_json_launch, stdio_params, tool_json
from sophia_mcp.sample.databases import recreate_database
from tests.fixtures.qdrant import MODEL_PATH, write_airbyte_collection

pytestmark = pytest.mark.anyio

CALLS = 150
SEED = 11
NOW = datetime(2025, 6, 2, tzinfo=timezone.utc)
# Phrased without the words the generator writes for the pricing theme (benchmarks/search_quality.py
# checks that for each of its questions; this one is among them).
PRICING_QUESTION = "they balked at what we charge"
PRICING = "pricing_objection"


@dataclass(frozen=True)
class Indexed:
    postgres_url: str
    manifest: SampleManifest
    qdrant_path: Path
    first_run: subprocess.CompletedProcess[str]
    second_run: subprocess.CompletedProcess[str]

    @property
    def env(self) -> dict[str, str]:
        return {
            "SOPHIA_POSTGRES_URL": self.postgres_url,
            "QDRANT_PATH": str(self.qdrant_path),
            "SOPHIA_EMBEDDING_MODEL_PATH": str(MODEL_PATH),
        }

    def about(self, theme: str) -> set[str]:
        return {call.id for call in self.manifest.calls_about(theme)}


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command, _ = mcp_json_launch()
    base = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "SOPHIA_GONG_SNAPSHOT_DIR") if key in os.environ}
    return subprocess.run(
        [command, *args], env={**base, **env}, cwd=REPO, capture_output=True, text=True, timeout=180, check=False
    )


@pytest.fixture(scope="module")
def indexed(postgres_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Indexed:
    """A small sample database, indexed by two runs of the `sophia-mcp index` command."""

    async def build() -> tuple[str, SampleManifest]:
        url = await recreate_database(postgres_admin_url, "sophia_test_semantic")
        return url, await load_sample_data(url, calls=CALLS, seed=SEED, now=NOW)

    url, manifest = asyncio.run(build())
    qdrant_path = tmp_path_factory.mktemp("qdrant") / "store"
    env = {"SOPHIA_POSTGRES_URL": url, "QDRANT_PATH": str(qdrant_path), "SOPHIA_EMBEDDING_MODEL_PATH": str(MODEL_PATH)}
    first = run_cli("index", env=env)
    second = run_cli("index", env=env)
    return Indexed(url, manifest, qdrant_path, first, second)


def store_fingerprint(path: Path, collection: str = "gong_calls", embedded: str = "edge") -> tuple[int, str]:
    """Point count and a checksum of every point (id, payload, dense vector)."""
    if embedded == "edge":
        import qdrant_edge

        shard = qdrant_edge.EdgeShard.load(str(path / collection))
        try:
            records, _ = shard.scroll(qdrant_edge.ScrollRequest(limit=1_000_000, with_payload=True, with_vector=True))
        finally:
            shard.close()
        points = [(r.id, r.payload, r.vector["dense"]) for r in records]
    else:
        client = QdrantClient(path=str(path))
        try:
            count = client.count(collection, exact=True).count
            found, _ = client.scroll(collection, limit=count + 1, with_payload=True, with_vectors=True)
        finally:
            client.close()
        points = [(p.id, p.payload, p.vector) for p in found]
    points_hash = hashlib.sha256()
    for point_id, payload, vector in sorted(points, key=lambda p: str(p[0])):
        dense = [round(x, 6) for x in vector]  # type: ignore[union-attr]
        points_hash.update(json.dumps([str(point_id), payload, dense], sort_keys=True).encode())
    return len(points), points_hash.hexdigest()


async def search(client: Client, **arguments) -> list[dict]:
    return tool_json(await client.call_tool("gong_semantic_search", arguments))["calls"]


def test_index_command_shows_progress_then_finds_nothing_new(indexed: Indexed) -> None:
    first, second = indexed.first_run, indexed.second_run
    assert first.returncode == 0, first.stderr
    assert f"indexing [{'#' * 30}] {CALLS}/{CALLS} calls" in first.stderr  # the bar, finished
    assert first.stderr.count("indexing [") >= 2  # and redrawn on the way
    assert first.stdout.startswith(f"Indexed {CALLS} calls: ")
    chunks = int(first.stdout.split("calls: ")[1].split(" chunks")[0])
    assert chunks > CALLS * 3
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "Index is up to date: no call changed since the last run."
    assert store_fingerprint(indexed.qdrant_path)[0] == chunks + 1  # the chunks and the index state


async def test_questions_in_other_words_find_the_right_calls_over_stdio(indexed: Indexed) -> None:
    manifest = indexed.manifest
    before = store_fingerprint(indexed.qdrant_path)
    async with Client(stdio_params(indexed.env)) as client:
        hits = await search(client, question=PRICING_QUESTION)
        ids = [hit["call_id"] for hit in hits]
        # Grouped by call: five different calls, best first, each with one short passage.
        assert len(ids) == len(set(ids)) == 5
        assert [hit["score"] for hit in hits] == sorted((hit["score"] for hit in hits), reverse=True)
        assert ids[0] in indexed.about(PRICING)
        assert len(set(ids) & indexed.about(PRICING)) >= 4, [manifest.calls[i].themes for i in ids]
        for hit in hits:
            facts = manifest.calls[hit["call_id"]]
            assert hit["title"] == facts.title
            assert datetime.fromisoformat(hit["started"]) == facts.started
            assert 0 < len(hit["passage"]) <= 401
        assert any("speaker" in hit and "offset_seconds" in hit for hit in hits)  # transcript passages
        # How old the index is: its newest Gong row; the sample's rows are from 2025, so stale.
        whole = tool_json(await client.call_tool("gong_semantic_search", {"question": PRICING_QUESTION}))
        assert whole["mode"] == "hybrid" and whole["stale"] is True
        assert datetime.fromisoformat(whole["as_of"]) <= datetime.now(timezone.utc)

        # Another theme, asked without its words.
        legal = await search(client, question="their lawyers want changes to the paperwork", limit=3, mode="semantic")
        assert legal[0]["call_id"] in indexed.about("procurement_legal")

        # The ids work with the other Gong tools in the same session.
        call = tool_json(await client.call_tool("gong_get_call", {"call_id": ids[0]}))
        assert call["title"] == manifest.calls[ids[0]].title
        with_transcript = next(i for i in ids if manifest.calls[i].has_transcript)
        transcript = tool_json(await client.call_tool("gong_get_transcript", {"call_id": with_transcript}))
        assert transcript["turns"]

        await filters_narrow_the_calls(client, manifest, indexed)

        # The server owns its shard: an index run meanwhile is refused with a clear message.
        blocked = await anyio.to_thread.run_sync(lambda: run_cli("index", env=indexed.env))
        assert blocked.returncode == 1 and "held by another process" in blocked.stderr, blocked.stderr
        assert (await search(client, question=PRICING_QUESTION))[0]["call_id"] == ids[0]
    # The server only read: same points, same files.
    assert store_fingerprint(indexed.qdrant_path) == before


async def filters_narrow_the_calls(client: Client, manifest: SampleManifest, indexed: Indexed) -> None:
    pricing = [manifest.calls[i] for i in indexed.about(PRICING)]

    # account, by part of its name
    account = most_common(call.account_name for call in pricing)
    hits = await search(client, question=PRICING_QUESTION, account=account.split()[0], limit=10)
    of_account = {c.id for c in manifest.calls.values() if c.account_name == account}
    assert hits and {hit["call_id"] for hit in hits} <= of_account
    assert hits[0]["call_id"] in indexed.about(PRICING)

    # rep, by name (resolved to the Gong user id through the users table)
    rep_id = most_common(call.rep_id for call in pricing)
    rep = manifest.users[rep_id]
    hits = await search(client, question=PRICING_QUESTION, rep=rep.name, limit=10)
    of_rep = {c.id for c in manifest.calls.values() if c.rep_id == rep_id}
    assert hits and {hit["call_id"] for hit in hits} <= of_rep
    assert hits[0]["call_id"] in indexed.about(PRICING)

    # dates: since inclusive, until exclusive, as in gong_search_calls
    ordered = sorted(pricing, key=lambda call: call.started)
    since, until = ordered[len(ordered) // 4].started, ordered[3 * len(ordered) // 4].started
    hits = await search(client, question=PRICING_QUESTION, since=since.isoformat(), until=until.isoformat(), limit=20)
    inside = {c.id for c in manifest.calls.values() if since <= c.started < until}
    assert len(hits) == min(20, len(inside)) and {hit["call_id"] for hit in hits} <= inside
    one = ordered[len(ordered) // 2]
    second = timedelta(seconds=1)
    hits = await search(client, question=PRICING_QUESTION, since=one.started.isoformat(), until=(one.started + second).isoformat())
    assert [hit["call_id"] for hit in hits] == [one.id]
    hits = await search(client, question=PRICING_QUESTION, since=(one.started - second).isoformat(), until=one.started.isoformat())
    assert one.id not in {hit["call_id"] for hit in hits}
    day = until.date()
    hits = await search(client, question=PRICING_QUESTION, until=day.isoformat(), limit=20)
    midnight = datetime.combine(day, datetime.min.time(), timezone.utc)
    assert hits and all(datetime.fromisoformat(hit["started"]) < midnight for hit in hits)

    # filters that match nothing: an empty answer that says why
    empty = tool_json(await client.call_tool("gong_semantic_search", {"question": PRICING_QUESTION, "account": "No Such Account"}))
    assert empty["calls"] == [] and "loosen the filters" in empty["note"]
    assert "matches nobody" in error_text(
        await client.call_tool("gong_semantic_search", {"question": PRICING_QUESTION, "rep": "Nobody Byname"})
    )


def most_common(values) -> str:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return max(sorted(counts), key=lambda value: counts[value])


# --- a collection written by Airbyte's Qdrant destination -------------------------------------


@pytest.fixture(scope="module")
def airbyte_collection(indexed: Indexed, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[CallFacts]]:
    """What destination-qdrant writes from the `callTranscripts` stream: random point ids, the chunk
    text in `text`, the record's `callId` beside it, Airbyte's `_ab_*` fields; nothing of the indexer's."""
    manifest = indexed.manifest
    pricing = indexed.about(PRICING)
    with_transcript = sorted((c for c in manifest.calls.values() if c.has_transcript), key=lambda c: c.id)
    chosen = [c for c in with_transcript if c.id in pricing][:4] + [c for c in with_transcript if c.id not in pricing][:8]

    async def rows() -> dict[str, list]:
        connection = await asyncpg.connect(indexed.postgres_url)
        try:
            found = await connection.fetch(
                'SELECT DISTINCT ON ("callId") "callId", transcript::text AS transcript FROM "callTranscripts" '
                'WHERE "callId" = ANY($1::text[]) ORDER BY "callId", _airbyte_extracted_at DESC',
                [c.id for c in chosen],
            )
        finally:
            await connection.close()
        return {row["callId"]: json.loads(row["transcript"]) for row in found}

    transcripts = asyncio.run(rows())
    records = [
        (call_id, chunk.text)
        for call_id, transcript in transcripts.items()
        # Airbyte's own splitter cuts the record's text by size; speaker ids stay ids.
        for chunk in chunk_call(None, None, transcript)
    ]
    embedder = FastEmbedProvider(model_path=MODEL_PATH)
    vectors = anyio.run(embedder.embed_documents, [text for _, text in records])
    path = tmp_path_factory.mktemp("airbyte") / "store"
    write_airbyte_collection(path, "gong_transcripts", [(call_id, text, {}) for call_id, text in records], vectors)
    return path, chosen


async def test_a_collection_from_airbytes_qdrant_destination_is_searchable(
    indexed: Indexed, airbyte_collection: tuple[Path, list[CallFacts]]
) -> None:
    path, chosen = airbyte_collection
    env = {
        **indexed.env,
        "QDRANT_PATH": str(path),
        "SOPHIA_QDRANT_COLLECTION": "gong_transcripts",
        "SOPHIA_QDRANT_CALL_ID_FIELD": "callId",
        # Airbyte writes to a Qdrant server: its API here is qdrant-client's local mode.
        "SOPHIA_QDRANT_EMBEDDED": "client",
    }
    before = store_fingerprint(path, "gong_transcripts", "client")
    async with Client(stdio_params(env)) as client:
        hits = await search(client, question=PRICING_QUESTION, limit=5)
        ids = [hit["call_id"] for hit in hits]
        assert len(ids) == len(set(ids)) == 5 and set(ids) <= {c.id for c in chosen}
        assert ids[0] in indexed.about(PRICING)
        call = tool_json(await client.call_tool("gong_get_call", {"call_id": ids[0]}))
        assert call["title"] == indexed.manifest.calls[ids[0]].title
    assert store_fingerprint(path, "gong_transcripts", "client") == before


# --- misconfigured search: a clear error, and the rest of the server keeps working -------------


@pytest.fixture(scope="module")
def wrong_size_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("wrong-size") / "store"
    client = QdrantClient(path=str(path))
    client.create_collection("gong_calls", vectors_config=models.VectorParams(size=8, distance=models.Distance.COSINE))
    client.upsert("gong_calls", [models.PointStruct(id=1, vector=[0.1] * 8, payload={"text": "hi", "call_id": "1"})])
    client.close()
    yield path


@pytest.fixture(scope="module")
def wrong_size_shard(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("wrong-size-edge") / "store"
    backend = open_backend(QdrantSettings(QDRANT_PATH=str(path)))
    backend.create(8, PayloadFields())
    backend.close()
    return path


@pytest.mark.parametrize(
    ("qdrant_env", "message"),
    [
        pytest.param(
            {"QDRANT_PATH": "WRONG_SIZE", "SOPHIA_QDRANT_EMBEDDED": "client"},
            "holds 8-dimension vectors but the embedder",
            id="vector-size",
        ),
        pytest.param(
            {"QDRANT_PATH": "WRONG_SIZE_EDGE"}, "holds 8-dimension vectors but the embedder", id="edge-vector-size"
        ),
        pytest.param(
            {"QDRANT_PATH": "WRONG_SIZE", "SOPHIA_QDRANT_COLLECTION": "nowhere", "SOPHIA_QDRANT_EMBEDDED": "client"},
            "collection 'nowhere' does not exist: run `sophia-mcp index`",
            id="missing-collection",
        ),
        pytest.param({}, "Semantic search is not configured: set QDRANT_URL", id="not-configured"),
    ],
)
async def test_a_misconfigured_search_is_a_clear_tool_error_and_keyword_search_still_works(
    indexed: Indexed, wrong_size_store: Path, wrong_size_shard: Path, qdrant_env: dict[str, str], message: str
) -> None:
    env = {"SOPHIA_POSTGRES_URL": indexed.postgres_url, "SOPHIA_EMBEDDING_MODEL_PATH": str(MODEL_PATH)}
    paths = {"WRONG_SIZE": str(wrong_size_store), "WRONG_SIZE_EDGE": str(wrong_size_shard)}
    env.update({key: paths.get(value, value) for key, value in qdrant_env.items()})
    async with Client(stdio_params(env)) as client:
        for _ in range(2):  # the same answer each time, not a broken server after the first
            assert message in error_text(await client.call_tool("gong_semantic_search", {"question": PRICING_QUESTION}))
        calls = tool_json(await client.call_tool("gong_search_calls", {"limit": 3}))["calls"]
        assert len(calls) == 3
        newest = max(indexed.manifest.calls.values(), key=lambda c: c.started)
        assert calls[0]["id"] == newest.id
