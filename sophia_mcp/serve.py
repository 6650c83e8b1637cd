"""Run the server on stdio or on streamable HTTP."""

from __future__ import annotations

from sophia_mcp.server import build_server
from sophia_mcp.settings import Settings


def serve(transport: str = "stdio", host: str = "127.0.0.1", port: int = 8000) -> None:
    settings = Settings()
    server = build_server(settings)
    if transport == "stdio":
        server.run("stdio")
        return
    raise SystemExit("the HTTP transport is not available yet")
