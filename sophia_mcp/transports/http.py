"""The streamable HTTP app for the hub: stateless (replicas behind a load balancer), bearer auth,
DNS-rebinding protection, and `GET /healthz` for load balancers."""

from __future__ import annotations

import ipaddress

from mcp.server import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp

from sophia_mcp.settings import HttpSettings
from sophia_mcp.transports.auth import BearerTokenMiddleware, accepted_tokens
from sophia_mcp.transports.sse import SseStreamLimits

LOOPBACK_HOSTS = ["127.0.0.1:*", "localhost:*", "[::1]:*"]
LOOPBACK_ORIGINS = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]


class UnsafeBindError(ValueError):
    pass


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def build_http_app(server: MCPServer, http: HttpSettings, host: str) -> ASGIApp:
    tokens = accepted_tokens(http, loopback=is_loopback(host))
    if not tokens and not is_loopback(host):
        raise UnsafeBindError(
            f"refusing to listen on {host} without a token: set SOPHIA_HTTP_TOKEN (or SOPHIA_HTTP_TOKENS), "
            "or listen on 127.0.0.1"
        )

    @server.custom_route("/healthz", methods=["GET"])
    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    # A configured host without a port also matches it with any port.
    extra_hosts = [pattern for h in http.allowed_hosts for pattern in ([h] if ":" in h else [h, f"{h}:*"])]
    allowed_hosts = LOOPBACK_HOSTS + extra_hosts
    allowed_origins = LOOPBACK_ORIGINS + [f"{scheme}://{h}" for h in extra_hosts for scheme in ("http", "https")]
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=allowed_hosts, allowed_origins=allowed_origins
    )
    app: ASGIApp = server.streamable_http_app(stateless_http=True, transport_security=security, host=host)
    app = SseStreamLimits(app, max_streams=http.sse_max_streams, idle_seconds=http.sse_idle_seconds)
    if tokens:
        app = BearerTokenMiddleware(app, tokens)
    return app
