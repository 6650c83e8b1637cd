"""Caps on the server-to-client SSE streams a client opens with `GET /mcp`.

In stateless HTTP nothing is ever sent on such a stream (there is no session to notify), yet each one
holds a socket, a file descriptor and a task until the client hangs up; a client that opens them in a
loop would exhaust the server. So at most `max_streams` are open at once (more get 503 with
`Retry-After`), and a stream that carried nothing but keep-alive comments for `idle_seconds` is
ended. The official client opens no such stream in stateless mode; a client that reopens one after
it ends loses nothing.
"""

from __future__ import annotations

import anyio
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class SseStreamLimits:
    def __init__(self, app: ASGIApp, *, max_streams: int, idle_seconds: float, path: str = "/mcp") -> None:
        self._app = app
        self._max = max_streams
        self._idle = idle_seconds
        self._path = path
        self.open_streams = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"].rstrip("/") != self._path:
            await self._app(scope, receive, send)
            return
        if self.open_streams >= self._max:
            refusal = JSONResponse(
                {"error": "too_many_streams", "detail": f"at most {self._max} GET /mcp event streams may be open at once"},
                status_code=503,
                headers={"retry-after": "5"},
            )
            await refusal(scope, receive, send)
            return
        self.open_streams += 1
        try:
            await self._bounded(scope, receive, send)
        finally:
            self.open_streams -= 1

    async def _bounded(self, scope: Scope, receive: Receive, send: Send) -> None:
        last_activity = anyio.current_time()
        started = ended = False

        async def watched_send(message: Message) -> None:
            nonlocal last_activity, started, ended
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body":
                ended = ended or not message.get("more_body", False)
                # SSE comments (": ping") keep a connection alive; they are not activity.
                if not message.get("body", b"").lstrip().startswith(b":"):
                    last_activity = anyio.current_time()
            await send(message)

        async with anyio.create_task_group() as tg:

            async def watchdog() -> None:
                while True:
                    quiet = anyio.current_time() - last_activity
                    if quiet >= self._idle:
                        tg.cancel_scope.cancel()
                        return
                    await anyio.sleep(self._idle - quiet)

            tg.start_soon(watchdog)
            await self._app(scope, receive, watched_send)
            tg.cancel_scope.cancel()
        if tg.cancel_scope.cancelled_caught and started and not ended:
            # Ended for idleness: finish the response properly so the client sees the stream end.
            await send({"type": "http.response.body", "body": b"", "more_body": False})
