"""`sophia-mcp serve`: the server against the configured backends, on stdio or streamable HTTP."""

from __future__ import annotations

from sophia_mcp.settings import Settings
from sophia_mcp.surface.server import build_server
from sophia_mcp.transports import Transport, run


def serve(transport: Transport = "stdio", host: str = "127.0.0.1", port: int = 8000, settings: Settings | None = None) -> None:
    settings = settings or Settings()
    run(build_server(settings), transport, http=settings.http, host=host, port=port)
