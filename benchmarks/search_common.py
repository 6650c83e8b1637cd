"""Shared by the semantic-search benchmarks: a Postgres with sample Gong data, and the settings
that point `sophia-mcp index` and the server at it, a local Qdrant folder and the local model."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from sophia_mcp.sample.gong_data import SampleManifest, load_sample_data
from sophia_mcp.postgres.embedded import start_embedded_postgres
from sophia_mcp.sample.databases import recreate_database
from sophia_mcp.settings import EmbeddingSettings, PostgresSettings, QdrantSettings, Settings

REPO = Path(__file__).resolve().parents[1]
MODEL_PATH = Path(
    os.environ.get("SOPHIA_EMBEDDING_MODEL_PATH") or REPO.parent / "shared" / "models" / "all-MiniLM-L6-v2-onnx"
)
# Every date in the sample hangs off `now`: a fixed one makes each run write the same calls.
SAMPLE_NOW = datetime(2025, 6, 2, tzinfo=timezone.utc)


@contextmanager
def postgres_server(work_dir: Path | None) -> Iterator[str]:
    """SOPHIA_TEST_POSTGRES_URL, or an embedded Postgres in `work_dir` (kept) or a temporary folder."""
    external = os.environ.get("SOPHIA_TEST_POSTGRES_URL")
    if external:
        yield external
        return
    folder = work_dir or Path(tempfile.mkdtemp(prefix="sophia-bench-postgres-"))
    server = start_embedded_postgres(folder / "postgres")
    try:
        yield server.url
    finally:
        server.stop()
        if work_dir is None:
            shutil.rmtree(folder, ignore_errors=True)


async def sample_database(admin_url: str, database: str, calls: int, seed: int) -> tuple[str, SampleManifest]:
    """A fresh database of `calls` sample calls (dropped first if there); its URL and the manifest."""
    url = await recreate_database(admin_url, database)
    return url, await load_sample_data(url, calls=calls, seed=seed, now=SAMPLE_NOW)


def index_settings(postgres_url: str, qdrant_path: Path, collection: str = "gong_calls") -> Settings:
    return Settings(
        postgres=PostgresSettings(SOPHIA_POSTGRES_URL=postgres_url),
        qdrant=QdrantSettings(QDRANT_PATH=str(qdrant_path), SOPHIA_QDRANT_COLLECTION=collection),
        embedding=EmbeddingSettings(SOPHIA_EMBEDDING_MODEL_PATH=str(MODEL_PATH)),
    )


def server_env(postgres_url: str, qdrant_path: Path, collection: str = "gong_calls") -> dict[str, str]:
    """What the stdio server gets, as an assistant's mcp.json `env` block would give it."""
    return {
        "SOPHIA_POSTGRES_URL": postgres_url,
        "QDRANT_PATH": str(qdrant_path),
        "SOPHIA_QDRANT_COLLECTION": collection,
        "SOPHIA_EMBEDDING_MODEL_PATH": str(MODEL_PATH),
    }
