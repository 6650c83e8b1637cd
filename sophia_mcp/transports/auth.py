"""Bearer-token check for the HTTP transport: one shared secret (SOPHIA_HTTP_TOKEN), compared in constant time.

A plain ASGI middleware rather than the SDK's OAuth resource-server machinery: the hub sends a static
token, and advertising OAuth metadata for an authorization server that does not exist would send
clients looking for one.
"""

from __future__ import annotations

import hmac
import json

from starlette.types import ASGIApp, Receive, Scope, Send


class BearerTokenMiddleware:
    def __init__(self, app: ASGIApp, token: str, open_paths: frozenset[str] = frozenset({"/healthz"})) -> None:
        self._app = app
        self._expected = f"Bearer {token}".encode()
        self._open_paths = open_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self._open_paths:
            await self._app(scope, receive, send)
            return
        supplied = next((value for name, value in scope["headers"] if name == b"authorization"), b"")
        if hmac.compare_digest(supplied, self._expected):
            await self._app(scope, receive, send)
            return
        body = json.dumps(
            {"error": "unauthorized", "detail": "send the header `Authorization: Bearer <SOPHIA_HTTP_TOKEN>`"}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"www-authenticate", b'Bearer realm="sophia-mcp"'),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
