"""What the server opens once per process and hands to every tool: settings and the adapters."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError

from sophia_mcp.airbyte.client import AirbyteClient
from sophia_mcp.settings import Settings


@dataclass
class AppContext:
    settings: Settings
    airbyte_client: AirbyteClient | None = None
    extras: dict[str, object] = field(default_factory=dict)

    @property
    def airbyte(self) -> AirbyteClient:
        if self.airbyte_client is None:
            raise ToolError(
                "Airbyte is not configured: set AIRBYTE_CLIENT_ID and AIRBYTE_CLIENT_SECRET (or "
                "AIRBYTE_ACCESS_TOKEN), and AIRBYTE_API_URL for a self-managed Airbyte, then restart the server."
            )
        return self.airbyte_client


def app_context(ctx: Context) -> AppContext:
    return ctx.request_context.lifespan_context


@asynccontextmanager
async def open_app(
    settings: Settings, airbyte_transport: httpx.AsyncBaseTransport | None = None
) -> AsyncIterator[AppContext]:
    """Open the adapters; nothing here touches the network, so `initialize` stays fast."""
    airbyte = AirbyteClient(settings.airbyte, transport=airbyte_transport) if settings.airbyte.configured else None
    try:
        yield AppContext(settings=settings, airbyte_client=airbyte)
    finally:
        if airbyte is not None:
            await airbyte.aclose()
