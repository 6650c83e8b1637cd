"""`sophia-mcp check`: what is configured (never a secret's value) and whether each backend answers."""

from __future__ import annotations

import anyio

from sophia_mcp.airbyte.client import AirbyteClient
from sophia_mcp.airbyte.config_api import ConfigApiClient
from sophia_mcp.airbyte.status import health_report
from sophia_mcp.errors import SophiaError
from sophia_mcp.gong.repository import GongRepository
from sophia_mcp.postgres.readonly import ReadOnlyPool
from pathlib import Path

from sophia_mcp.settings import Settings, named_env_file


def _flag(value: object) -> str:
    return "set" if value else "not set"


async def _check_airbyte(settings: Settings) -> list[str]:
    airbyte = settings.airbyte
    lines = [
        f"Airbyte API:        {airbyte.api_url}",
        f"  credentials:      {'client credentials' if airbyte.client_id else 'static token' if airbyte.access_token else 'not set'}",
        f"  workspace:        {airbyte.workspace_id or 'the only one visible'}",
    ]
    if not airbyte.configured:
        return lines + [f"  status:           skipped: {settings.backends_off()['airbyte']}"]
    async with AirbyteClient(airbyte) as client:
        report = await health_report(client, airbyte.workspace_id)
        config_api = ConfigApiClient(airbyte, client.auth)
        try:
            details = await config_api.unavailable_because() if report.authenticated else None
        finally:
            await config_api.aclose()
    if report.authenticated:
        lines.append(
            f"  status:           OK, workspace {report.workspace_name} ({report.workspace_id}): "
            f"{report.sources} sources, {report.destinations} destinations, {report.connections} connections"
        )
        lines += [f"  failing:          {p.name}: {p.problem}" for p in report.failing]
        lines += [f"  late:             {p.name}: {p.problem}" for p in report.late]
        where = config_api.root or "(AIRBYTE_CONFIG_API_URL not set)"
        lines.append(f"  failure details:  {'available from ' + where if details is None else details}")
    else:
        lines.append("  status:           FAILED")
    lines += [f"  problem:          {p}" for p in report.problems]
    return lines


async def _check_postgres(settings: Settings) -> list[str]:
    postgres = settings.postgres
    lines = [f"Postgres:           {_flag(postgres.url)} (schema {postgres.gong_schema!r}, prefix {postgres.table_prefix!r})"]
    if postgres.url is None:
        return lines + [f"  status:           skipped: {settings.backends_off()['postgres']}"]
    pool = ReadOnlyPool.from_settings(postgres, max_size=1)
    try:
        async with pool:
            await pool.ping()
            report = await GongRepository(pool, postgres.gong_schema, postgres.table_prefix).describe_schema()
    except SophiaError as exc:
        return lines + ["  status:           FAILED", f"  problem:          {exc}"]
    found = [m.stream for m in report.streams if m.found]
    missing = [m.stream for m in report.streams if not m.found]
    lines.append(f"  status:           OK (read-only session), Gong streams found: {', '.join(found) or 'none'}")
    if missing:
        lines.append(f"  missing streams:  {', '.join(missing)} (the tools that need them say so)")
    return lines


async def _check_qdrant(settings: Settings) -> list[str]:
    qdrant = settings.qdrant
    lines = [
        f"Qdrant:             {qdrant.url or qdrant.path or 'not set'} "
        f"(collection {qdrant.collection!r}, api key {_flag(qdrant.api_key)})",
        f"Embeddings:         {settings.embedding.provider} {settings.embedding.model}",
    ]
    if "search" in settings.backends_off():
        if settings.embedding.provider == "fastembed":
            quantize = settings.embedding.quantize
            lines.append("  variant:          " + (
                "follows the index; a new index: int8 (SOPHIA_EMBEDDING_QUANTIZE=auto)" if quantize == "auto"
                else f"{'fp32' if quantize == 'none' else 'int8'} (SOPHIA_EMBEDDING_QUANTIZE={quantize})"))
        return lines + [f"  status:           skipped: {settings.backends_off()['search']}"]
    from sophia_mcp.search.embeddings.factory import embedder_from_settings
    from sophia_mcp.search.store import SearchStore

    store = SearchStore(qdrant, embedder_from_settings(settings.embedding))
    try:
        shape = await store.check()
    except SophiaError as exc:
        return lines + _variant_line(store.embedder) + ["  status:           FAILED", f"  problem:          {exc}"]
    finally:
        await store.aclose()
    lines += _variant_line(store.embedder)
    keyword = "with BM25 vectors (hybrid search)" if shape.sparse_name else "no BM25 vectors (meaning only)"
    return lines + [f"  status:           OK, {shape.dimension}-dimensional vectors match the embedder; {keyword}"]


def _variant_line(embedder: object) -> list[str]:
    """The local model's variant as resolved for this index (SOPHIA_EMBEDDING_QUANTIZE), and why."""
    variant = getattr(embedder, "variant", None)
    return [f"  variant:          {variant}"] if variant else []


def _tokens(settings: Settings) -> str:
    count = len(settings.http.all_tokens())
    return "not set" if not count else "set" if count == 1 else f"set ({count} tokens)"


def _env_file_line() -> str:
    named = named_env_file()
    if named is not None:
        return f"Env file:           {named.resolve()} (named by SOPHIA_ENV_FILE / --env-file)"
    line = "Env file:           none read (the environment only; name one with --env-file or SOPHIA_ENV_FILE)"
    if Path(".env").is_file():
        line += "; ./.env is ignored unless named"
    return line


async def _check_all(settings: Settings) -> list[str]:
    return [
        _env_file_line(),
        *await _check_airbyte(settings),
        *await _check_postgres(settings),
        *await _check_qdrant(settings),
        f"HTTP token:         {_tokens(settings)}",
        *_surface_lines(settings),
    ]


def _surface_lines(settings: Settings) -> list[str]:
    """What the server offers with this configuration, and which tools are off and why."""
    from sophia_mcp.surface.server import served_tools, what_is_off

    surface = settings.surface
    lines = [
        f"Tools served:       {len(served_tools(settings))} (toolsets {', '.join(surface.toolsets)}"
        + ("; read-only tools only" if surface.read_only else "") + ")"
    ]
    off = what_is_off(settings)
    lines += [f"  off:              {line}" for line in off] or ["  off:              none"]
    return lines


def run_check() -> int:
    lines = anyio.run(_check_all, Settings())
    print("\n".join(lines))
    return 0 if all("FAILED" not in line for line in lines) else 1
