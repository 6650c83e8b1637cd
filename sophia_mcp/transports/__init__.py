"""How the server is reached: stdio for assistants, streamable HTTP for the hub. `run` picks one."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from mcp.server import MCPServer

    from sophia_mcp.settings import HttpSettings

Transport = Literal["stdio", "http"]


def run(server: MCPServer, transport: Transport, *, http: HttpSettings, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve until the client goes away (stdio) or the process is stopped (HTTP)."""
    if transport == "stdio":
        from sophia_mcp.transports.stdio import run_stdio

        if sys.stdin.isatty():
            # Someone typed the command: MCP clients start it with pipes, and a person sees nothing happen.
            print(
                "sophia-mcp: speaking MCP on stdio (JSON-RPC for an MCP client, not a terminal). Connect an "
                "assistant (README: Add it to an assistant) or the Inspector: npx @modelcontextprotocol/inspector "
                f"{' '.join(['sophia-mcp', *sys.argv[1:]]) if sys.argv[1:] else 'sophia-mcp serve'}. Ctrl-C stops it.",
                file=sys.stderr,
                flush=True,
            )

        run_stdio(server)
        return
    import uvicorn

    from sophia_mcp.transports.http import build_http_app

    app = build_http_app(server, http, host)
    print(
        f"sophia-mcp: MCP over streamable HTTP at http://{host}:{port}/mcp "
        "(liveness /healthz; readiness /readyz and Prometheus /metrics with the token)",
        file=sys.stderr,
    )
    # Our own logging setup stays (log_config=None); requests are logged by transports/http.py's AccessLog.
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)
