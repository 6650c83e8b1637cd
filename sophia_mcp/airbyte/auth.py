"""Bearer authentication for the Airbyte API, as `httpx.Auth` flows.

`ClientCredentialsAuth` fetches a token from `POST {base}/applications/token` on first use,
refreshes it before `expires_in` runs out, lets only one refresh happen at a time (so 50 calls
arriving at expiry make one token request), and on a 401 refreshes once and retries once.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Callable

import anyio
import httpx
from pydantic import SecretStr

from sophia_mcp.airbyte.errors import AirbyteAuthError, AirbyteResponseError, error_from_response

# Refresh this long before the token expires, or at a third of its lifetime when that is shorter
# (older self-managed Airbyte issues 180-second tokens).
REFRESH_MARGIN_SECONDS = 60.0


class StaticTokenAuth(httpx.Auth):
    """A fixed bearer token (AIRBYTE_ACCESS_TOKEN)."""

    def __init__(self, token: SecretStr) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request):
        request.headers["Authorization"] = f"Bearer {self._token.get_secret_value()}"
        yield request

    def __repr__(self) -> str:
        return "StaticTokenAuth(token=**********)"


class ClientCredentialsAuth(httpx.Auth):
    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: SecretStr,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._token_url = token_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._clock = clock
        self._token: str | None = None
        self._refresh_at = 0.0
        self._lock = anyio.Lock()
        self.token_requests = 0

    def __repr__(self) -> str:
        return f"ClientCredentialsAuth(token_url={self._token_url!r}, client_id={self._client_id!r})"

    def sync_auth_flow(self, request: httpx.Request):
        raise RuntimeError("the Airbyte client is async only")

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self._current_token()
        if token is None:
            async with self._lock:
                token = await self._current_token()
                if token is None:
                    response = yield self._token_request(request)
                    token = await self._accept_token(response)
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code != 401:
            return
        # The token may have been revoked or expired early: refresh once and retry once.
        async with self._lock:
            if self._token == token:
                self._token = None
                refreshed = yield self._token_request(request)
                token = await self._accept_token(refreshed)
            else:
                token = self._token or token
        request.headers["Authorization"] = f"Bearer {token}"
        yield request

    async def _current_token(self) -> str | None:
        if self._token is not None and self._clock() < self._refresh_at:
            return self._token
        return None

    def _token_request(self, request: httpx.Request) -> httpx.Request:
        self.token_requests += 1
        # httpx sets timeouts only on the request it was given, not on ones an auth flow adds:
        # without this a silent token endpoint would hold the call past every deadline.
        timeout = request.extensions.get("timeout")
        return httpx.Request(
            "POST",
            self._token_url,
            json={
                "client_id": self._client_id,
                "client_secret": self._client_secret.get_secret_value(),
                "grant-type": "client_credentials",
            },
            headers={"Accept": "application/json"},
            extensions={"timeout": timeout} if timeout is not None else None,
        )

    async def _accept_token(self, response: httpx.Response) -> str:
        await response.aread()
        if response.status_code in (400, 401, 403):
            raise AirbyteAuthError(
                "Airbyte refused the client credentials when asked for a token. Check AIRBYTE_CLIENT_ID "
                "and AIRBYTE_CLIENT_SECRET, and that AIRBYTE_API_URL points at the Airbyte that issued them.",
                status=response.status_code,
            )
        if response.is_error:
            raise error_from_response(response, "POST /applications/token")
        try:
            body = response.json()
            token = body["access_token"]
            lifetime = float(body.get("expires_in") or 180)
        except (ValueError, KeyError, TypeError) as exc:
            raise AirbyteResponseError(
                "Airbyte's token endpoint answered without an access_token; check AIRBYTE_API_URL "
                "(self-managed: http://HOST:PORT/api/public/v1)."
            ) from exc
        margin = min(REFRESH_MARGIN_SECONDS, lifetime / 3)
        self._token = token
        self._refresh_at = self._clock() + lifetime - margin
        return token
