"""Runs the simulator as a real HTTP server in a background thread (for subprocess clients)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

import uvicorn

from sophia_mcp.sample.airbyte_sim.routes import create_app, normalized_base_path
from sophia_mcp.sample.airbyte_sim.state import Simulator

STARTUP_TIMEOUT_SECONDS = 10.0


def serve_in_thread(
    sim: Simulator, host: str = "127.0.0.1", port: int = 0, base_path: str = "/v1"
) -> tuple[str, Callable[[], None]]:
    """Start uvicorn on `host:port` (0: a free port) and return the base URL and a `stop()` function."""
    # Bind first, so the port is known and taken before the thread starts.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(sim, base_path), log_level="warning", access_log=False, lifespan="off", ws="none"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="airbyte-sim", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError(f"the Airbyte simulator did not start on {host}:{bound_port}")
        time.sleep(0.01)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=STARTUP_TIMEOUT_SECONDS)
        sock.close()

    return f"http://{host}:{bound_port}{normalized_base_path(base_path)}", stop
