"""The streamable HTTP app for the hub: stateless (replicas behind a load balancer), bearer auth,
DNS-rebinding protection, and the operators' routes:

- `GET /healthz`: liveness only (the process answers), without a token, for load balancers;
- `GET /readyz`: each configured backend asked at once; 200 when every one answers, else 503 naming
  the one that failed (backends that are off are listed as such and do not fail it);
- `GET /metrics`: Prometheus text (observability/metrics.py).

`/mcp`, `/readyz` and `/metrics` need the bearer token when one is set. Every request leaves one
access-log line (method, path, status, duration; never headers or query strings) on the same stream
as the other logs, at INFO.
"""

from __future__ import annotations

import ipaddress
import logging
import time

from mcp.server import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sophia_mcp.observability import metrics

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

    @server.custom_route("/readyz", methods=["GET"])
    async def readyz(_: Request) -> JSONResponse:
        from sophia_mcp.surface.server import running_context

        app = running_context(server)
        if app is None:
            return JSONResponse({"status": "starting"}, status_code=503)
        backends = await app.readiness()
        failed = [name for name, state in backends.items() if state.startswith("failed")]
        body = {"status": "not ready" if failed else "ready", "backends": backends}
        if failed:
            body["failed"] = failed
        return JSONResponse(body, status_code=503 if failed else 200)

    @server.custom_route("/metrics", methods=["GET"])
    async def prometheus(_: Request) -> Response:
        return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE_LATEST)

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
    return AccessLog(app)


access_logger = logging.getLogger("sophia_mcp.access")


class AccessLog:
    """One line per HTTP request, after its response started: method, path, status, duration."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not access_logger.isEnabledFor(logging.INFO):
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, send_and_note)
        finally:
            duration_ms = round((time.perf_counter() - started) * 1000, 2)
            client = scope.get("client")
            access_logger.info(
                "%s %s %d %.1f ms", scope["method"], scope["path"], status, duration_ms,
                extra={"fields": {"method": scope["method"], "path": scope["path"], "status": status,
                                  "duration_ms": duration_ms, "client": client[0] if client else None}},
            )
