"""Indexing that stops half-way, as a user meets it: `sophia-mcp index` and the serving process's
background indexer run as real processes (launched as mcp.json launches them) against a small
sample database, the real model and an embedded Qdrant Edge shard.

A full disk is a real failed write: the process runs with a file size limit (RLIMIT_FSIZE, with
SIGXFSZ ignored), so the engine's writes fail with EFBIG as they would with ENOSPC on a full disk.
An interruption is Ctrl-C (SIGINT) or a kill (SIGKILL) in the middle of a run.

Each ends in one clear line (no traceback), leaves a shard that opens, and the next run with room
resumes where the last stopped and ends with exactly the points of a clean index: none twice,
none lost (compared point by point, vectors included).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from sophia_mcp.sample.databases import recreate_database
from sophia_mcp.sample.gong_data import load_sample_data
from sophia_mcp.search.embeddings.fastembed_provider import FastEmbedProvider
from sophia_mcp.search.indexer import IndexWriter
from sophia_mcp.search.model import PayloadFields
from sophia_mcp.search.qdrant import Collection, open_backend
from sophia_mcp.settings import QdrantSettings
from tests.e2e.conftest import REPO, mcp_json_launch, stdio_params, tool_json
from tests.e2e.test_semantic_search import store_fingerprint
from tests.fixtures.qdrant import MODEL_PATH

pytestmark = pytest.mark.anyio

CALLS = 12
BATCH = "2"
QUESTION = "they balked at what we charge"
# Small enough that the shard's growing files (its point id mappings) hit it after a few batches;
# the files the engine sizes up front when it creates a shard are made before the limit applies.
FILE_SIZE_LIMIT = 1024
# Runs `argv[2:]` with a file size limit of `argv[1]` bytes: a write past it fails with EFBIG
# instead of killing the process. No bytecode is written meanwhile: Python would leave truncated
# .pyc files behind, which break the next start.
WITH_FILE_SIZE_LIMIT = (
    "import os, resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
    "os.environ['PYTHONDONTWRITEBYTECODE'] = '1'; "
    "limit = int(sys.argv[1]); resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)); "
    "os.execv(sys.argv[2], sys.argv[2:])"
)


@pytest.fixture(scope="module")
def postgres_url(postgres_admin_url: str) -> str:
    async def build() -> str:
        url = await recreate_database(postgres_admin_url, "sophia_test_index_faults")
        await load_sample_data(url, calls=CALLS, seed=5)
        return url

    return asyncio.run(build())


def env_for(postgres_url: str, store: Path) -> dict[str, str]:
    base = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "SOPHIA_GONG_SNAPSHOT_DIR") if key in os.environ}
    return {
        **base,
        "SOPHIA_POSTGRES_URL": postgres_url,
        "QDRANT_PATH": str(store),
        "SOPHIA_EMBEDDING_MODEL_PATH": str(MODEL_PATH),
        # fp32: the runs are compared with an uninterrupted one vector by vector, and the int8 copy
        # (a new index's default) quantises activations per batch, so a resumed run's vectors
        # differ from it in the last digits. Resuming works the same for both variants.
        "SOPHIA_EMBEDDING_QUANTIZE": "none",
        "SOPHIA_INDEX_INTERVAL_SECONDS": "1",
    }


def index_command(file_size_limit: int | None = None) -> list[str]:
    command, _ = mcp_json_launch()
    argv = [command, "index", "--batch", BATCH]
    return [sys.executable, "-c", WITH_FILE_SIZE_LIMIT, str(file_size_limit), *argv] if file_size_limit else argv


def run_index(env: dict[str, str], file_size_limit: int | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        index_command(file_size_limit), env=env, cwd=REPO, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture(scope="module")
def clean_index(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str]:
    """Point count and checksum of an index built in one uninterrupted run."""
    store = tmp_path_factory.mktemp("clean") / "store"
    done = run_index(env_for(postgres_url, store))
    assert done.returncode == 0, done.stderr
    return store_fingerprint(store)


async def create_shard(store: Path) -> None:
    """An empty index, as a first run leaves it before any call lands: the engine sizes most of
    its files up front, and this is done with room to spare."""
    collection = Collection(QdrantSettings(QDRANT_PATH=str(store)))
    try:
        await IndexWriter(collection, PayloadFields()).prepare(FastEmbedProvider(model_path=MODEL_PATH))
    finally:
        await collection.aclose()


def calls_done(stderr: str) -> int:
    """How many calls the progress bar last showed as indexed."""
    last = stderr.rsplit("indexing [", 1)[1]
    return int(last.split("] ", 1)[1].split("/", 1)[0])


def assert_one_clear_line(stderr: str, *parts: str) -> None:
    assert "Traceback" not in stderr, stderr
    problem = [line for line in stderr.splitlines() if line.startswith("sophia-mcp: ")]
    assert len(problem) == 1, stderr
    for part in parts:
        assert part in problem[0], problem[0]


# --- the index command ---------------------------------------------------------------------------


def test_a_disk_that_fills_during_indexing_stops_with_a_clear_line_and_the_next_run_resumes(
    postgres_url: str, clean_index: tuple[int, str], tmp_path: Path
) -> None:
    store = tmp_path / "store"
    env = env_for(postgres_url, store)
    anyio.run(create_shard, store)

    full = run_index(env, FILE_SIZE_LIMIT)

    assert full.returncode == 1
    assert_one_clear_line(
        full.stderr, "the disk holding the search index", "is full (File too large)", "run `sophia-mcp index` again"
    )
    done_before = calls_done(full.stderr)
    assert 0 < done_before < CALLS  # it failed mid-way, after some batches were written
    partial, _ = store_fingerprint(store)  # the shard still opens, with what was written
    assert 1 < partial < clean_index[0]

    resumed = run_index(env)

    assert resumed.returncode == 0, resumed.stderr
    # The rest, not everything again (the bar is redrawn at most 10 times a second, so it may lag).
    assert 0 < int(resumed.stdout.split()[1]) <= CALLS - done_before, resumed.stdout
    assert store_fingerprint(store) == clean_index


async def test_an_index_run_interrupted_twice_is_finished_by_the_next_server_start(
    postgres_url: str, clean_index: tuple[int, str], tmp_path: Path
) -> None:
    store = tmp_path / "store"
    env = env_for(postgres_url, store)

    ctrl_c = await anyio.to_thread.run_sync(lambda: interrupted_run(env, signal.SIGINT, after_calls=2))
    assert ctrl_c.returncode == 130
    assert_one_clear_line(ctrl_c.stderr, "indexing interrupted", "run `sophia-mcp index` again")
    first, _ = store_fingerprint(store)

    # Killed: no chance to close anything.
    killed = await anyio.to_thread.run_sync(lambda: interrupted_run(env, signal.SIGKILL, after_calls=2))
    assert killed.returncode == -signal.SIGKILL
    second, _ = store_fingerprint(store)
    assert 1 < first < second < clean_index[0]  # the second run went on from where the first stopped

    async with Client(stdio_params(env)) as client:  # the serving process indexes the rest
        answer = await answer_when_settled(client)
        assert answer["calls"] and answer.get("note") is None
        assert len(tool_json(await client.call_tool("gong_search_calls", {"limit": 3}))["calls"]) == 3
    assert store_fingerprint(store) == clean_index
    again = await anyio.to_thread.run_sync(lambda: run_index(env))
    assert again.stdout.strip() == "Index is up to date: no call changed since the last run.", again.stderr


def interrupted_run(env: dict[str, str], signum: int, after_calls: int) -> subprocess.CompletedProcess[str]:
    """`sophia-mcp index`, sent `signum` once its progress bar shows `after_calls` calls done."""
    process = subprocess.Popen(index_command(), env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stderr is not None and process.stdout is not None
    seen = b""
    while b"indexing [" not in seen or calls_done(seen.decode()) < after_calls:
        chunk = os.read(process.stderr.fileno(), 4096)
        assert chunk, f"the run ended before {after_calls} calls: {seen.decode()}"
        seen += chunk
    process.send_signal(signum)
    out, err = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, out.decode(), (seen + err).decode())


def test_indexing_stops_short_of_a_full_disk(postgres_url: str, tmp_path: Path) -> None:
    """On a really full disk the engine's memory-mapped writes kill the process (SIGBUS), so indexing
    stops while SOPHIA_INDEX_MIN_FREE_MB are still free; here that margin is more than any disk has."""
    store = tmp_path / "store"
    env = {**env_for(postgres_url, store), "SOPHIA_INDEX_MIN_FREE_MB": str(2**40)}

    refused = run_index(env)

    assert refused.returncode == 1
    assert_one_clear_line(
        refused.stderr, "is full: ", f"MB free, under the {2**40} MB indexing keeps free (SOPHIA_INDEX_MIN_FREE_MB)",
        "run `sophia-mcp index` again",
    )
    assert not (store / "gong_calls").exists()  # nothing written


# --- the serving process's own indexer ----------------------------------------------------------


def limited(params: StdioServerParameters, file_size_limit: int) -> StdioServerParameters:
    return params.model_copy(
        update={"command": sys.executable, "args": ["-c", WITH_FILE_SIZE_LIMIT, str(file_size_limit), params.command, *params.args]}
    )


async def answer_when_settled(client: Client) -> dict:
    """The search answer once the background indexer has finished or stopped (no more progress)."""
    deadline = time.monotonic() + 120  # a guard against a hang, not a measure
    while True:
        answer = tool_json(await client.call_tool("gong_semantic_search", {"question": QUESTION}))
        note = answer.get("note")
        if note is None or note.startswith("Background indexing stopped"):
            return answer
        assert time.monotonic() < deadline, answer
        await anyio.sleep(0.2)


async def test_a_full_disk_under_the_server_is_a_note_beside_answers_and_the_next_start_finishes(
    postgres_url: str, clean_index: tuple[int, str], tmp_path: Path
) -> None:
    store = tmp_path / "store"
    env = env_for(postgres_url, store)
    await create_shard(store)

    async with Client(limited(stdio_params(env), FILE_SIZE_LIMIT)) as client:
        answer = await answer_when_settled(client)
        assert answer["note"].startswith("Background indexing stopped: the disk holding the search index")
        assert "is full (File too large)" in answer["note"] and "resumes where it stopped" in answer["note"]
        # The other tools keep answering.
        assert len(tool_json(await client.call_tool("gong_search_calls", {"limit": 3}))["calls"]) == 3

    # Short of room by the margin the indexer keeps: the same note, before the engine writes.
    async with Client(stdio_params({**env, "SOPHIA_INDEX_MIN_FREE_MB": str(2**40)})) as client:
        answer = await answer_when_settled(client)
        assert answer["note"].startswith("Background indexing stopped: the disk holding the search index")
        assert "(SOPHIA_INDEX_MIN_FREE_MB)" in answer["note"]
        assert len(tool_json(await client.call_tool("gong_search_calls", {"limit": 3}))["calls"]) == 3

    async with Client(stdio_params(env)) as client:  # room again: the next start finishes the index
        answer = await answer_when_settled(client)
        assert answer["calls"] and answer.get("note") is None
    assert store_fingerprint(store) == clean_index


# --- a shard the server cannot use: a clear answer from search, and the other tools keep answering


async def corrupt_shard(store: Path) -> None:
    await create_shard(store)
    for part in (store / "gong_calls" / "segments").rglob("*"):
        if part.is_file():
            part.write_bytes(b"garbage")


async def other_models_shard(store: Path) -> None:
    """A shard indexed with another 384-dimension model: same size, vectors that do not compare."""
    backend = open_backend(QdrantSettings(QDRANT_PATH=str(store)))
    try:
        backend.create(384, PayloadFields())
        state = {"embedding_provider": "fastembed", "embedding_model": "BAAI/bge-small-en-v1.5", "dimension": 384}
        backend.write_state(state, 384)
    finally:
        backend.close()


async def file_in_the_way(store: Path) -> None:
    store.parent.mkdir(parents=True, exist_ok=True)
    store.write_text("not a folder")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(corrupt_shard, "store/gong_calls cannot be opened", id="corrupt"),
        pytest.param(other_models_shard, "indexed with fastembed BAAI/bge-small-en-v1.5, not fastembed", id="other-model"),
        pytest.param(file_in_the_way, "Not a directory", id="file-not-folder"),
    ],
)
async def test_a_shard_the_server_cannot_use_is_a_clear_answer_and_the_other_tools_keep_answering(
    postgres_url: str, tmp_path: Path, make, message: str
) -> None:
    store = tmp_path / "store"
    await make(store)
    async with Client(stdio_params(env_for(postgres_url, store))) as client:
        for _ in range(2):  # the same answer each time, not a broken server after the first
            result = await client.call_tool("gong_semantic_search", {"question": QUESTION})
            # A tool error, or (when the shard is to be built) a note once the indexer gives up.
            said = result.content[0].text if result.is_error else (await answer_when_settled(client))["note"]
            assert message in said and "Traceback" not in said, said
        assert len(tool_json(await client.call_tool("gong_search_calls", {"limit": 3}))["calls"]) == 3
