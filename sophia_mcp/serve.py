"""Run the server on stdio or on streamable HTTP."""

from __future__ import annotations

import sys

from sophia_mcp.server import build_server
from sophia_mcp.settings import Settings


def serve(transport: str = "stdio", host: str = "127.0.0.1", port: int = 8000, settings: Settings | None = None) -> None:
    settings = settings or Settings()
    server = build_server(settings)
    if transport == "stdio":
        from sophia_mcp.stdio_transport import run_stdio

        run_stdio(server)
        return
    import uvicorn

    from sophia_mcp.http.app import build_http_app

    app = build_http_app(server, settings.http, host)
    print(f"sophia-mcp: MCP over streamable HTTP at http://{host}:{port}/mcp (health: /healthz)", file=sys.stderr)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
