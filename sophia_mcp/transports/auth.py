"""Bearer-token check for the HTTP transport, compared in constant time.

Tokens come from `SOPHIA_HTTP_TOKEN` and `SOPHIA_HTTP_TOKENS` (a comma list, so a new token can be
added before the old one is retired). The scheme is matched without regard to case (RFC 9110:
`bearer` is `Bearer`). Off loopback every token must be at least 32 characters long.

A plain ASGI middleware rather than the SDK's OAuth resource-server machinery: the hub sends a static
token, and advertising OAuth metadata for an authorization server that does not exist would send
clients looking for one.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from sophia_mcp.settings import HttpSettings

# Off loopback a token is a password on the network: a short one can be guessed.
MIN_TOKEN_LENGTH = 32


class UnsafeTokenError(ValueError):
    """The HTTP tokens do not fit where the server listens; the message names the variable, never a value."""


def accepted_tokens(http: HttpSettings, *, loopback: bool) -> list[str]:
    """Every token the server accepts; refuses short ones unless it listens on loopback only."""
    tokens = http.all_tokens()
    if not loopback and any(len(token) < MIN_TOKEN_LENGTH for token in tokens):
        raise UnsafeTokenError(
            f"refusing to listen beyond loopback with a token shorter than {MIN_TOKEN_LENGTH} characters: "
            "make every SOPHIA_HTTP_TOKEN / SOPHIA_HTTP_TOKENS value longer (e.g. `openssl rand -hex 32`)"
        )
    return tokens


def _credentials(header: bytes) -> bytes | None:
    scheme, _, credentials = header.strip().partition(b" ")
    if scheme.lower() != b"bearer":
        return None
    return credentials.strip()


class BearerTokenMiddleware:
    def __init__(self, app: ASGIApp, tokens: Sequence[str], open_paths: frozenset[str] = frozenset({"/healthz"})) -> None:
        if not tokens:
            raise ValueError("BearerTokenMiddleware needs at least one token")
        self._app = app
        self._expected = [token.encode() for token in tokens]
        self._open_paths = open_paths

    def _accepts(self, supplied: bytes | None) -> bool:
        if not supplied:
            return False
        # Compare with every token, without stopping at a match, so timing says nothing about which.
        matches = [hmac.compare_digest(supplied, expected) for expected in self._expected]
        return any(matches)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self._open_paths:
            await self._app(scope, receive, send)
            return
        header = next((value for name, value in scope["headers"] if name == b"authorization"), b"")
        if self._accepts(_credentials(header)):
            await self._app(scope, receive, send)
            return
        refusal = JSONResponse(
            {"error": "unauthorized", "detail": "send the header `Authorization: Bearer <SOPHIA_HTTP_TOKEN>`"},
            status_code=401,
            headers={"www-authenticate": 'Bearer realm="sophia-mcp"'},
        )
        await refusal(scope, receive, send)
