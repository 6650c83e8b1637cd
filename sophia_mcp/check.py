"""`sophia-mcp check`: what is configured (never a secret's value) and whether each backend answers."""

from __future__ import annotations

import anyio

from sophia_mcp.airbyte.client import AirbyteClient
from sophia_mcp.airbyte.status import health_report
from sophia_mcp.settings import Settings


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
        return lines + ["  status:           skipped (no credentials)"]
    async with AirbyteClient(airbyte) as client:
        report = await health_report(client, airbyte.workspace_id)
    if report.authenticated:
        lines.append(
            f"  status:           OK, workspace {report.workspace_name} ({report.workspace_id}): "
            f"{report.sources} sources, {report.destinations} destinations, {report.connections} connections"
        )
        lines += [f"  failing:          {p.name}: {p.problem}" for p in report.failing]
        lines += [f"  late:             {p.name}: {p.problem}" for p in report.late]
    else:
        lines.append("  status:           FAILED")
    lines += [f"  problem:          {p}" for p in report.problems]
    return lines


def run_check() -> int:
    settings = Settings()
    lines = anyio.run(_check_airbyte, settings)
    lines += [
        f"Postgres:           {_flag(settings.postgres.url)} (schema {settings.postgres.gong_schema!r}, "
        f"prefix {settings.postgres.table_prefix!r})",
        f"Qdrant:             {settings.qdrant.url or settings.qdrant.path or 'not set'} "
        f"(collection {settings.qdrant.collection!r}, api key {_flag(settings.qdrant.api_key)})",
        f"Embeddings:         {settings.embedding.provider} {settings.embedding.model}",
        f"HTTP token:         {_flag(settings.http.token)}",
    ]
    print("\n".join(lines))
    return 0 if all("FAILED" not in line for line in lines) else 1
