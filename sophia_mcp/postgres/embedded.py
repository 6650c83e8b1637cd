"""A real Postgres with no system install, for `sophia-mcp demo` and the tests (via `pgserver`).

The data folder is kept: a second start on the same folder finds the same databases.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    url: str
    _server: Any

    def stop(self) -> None:
        """Stop the server; the data folder stays for the next start."""
        self._server.cleanup()


def start_embedded_postgres(data_dir: Path | str) -> EmbeddedPostgres:
    """Start (or join, if already running) a Postgres whose data lives in `data_dir`.

    The folder is created, and initialised on first use. The URL connects as the superuser
    `postgres` over a Unix socket, database `postgres`; the server listens on no TCP port.
    """
    data_dir = Path(data_dir).expanduser().resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = _pgserver().get_server(data_dir, cleanup_mode="stop")
    return EmbeddedPostgres(data_dir=data_dir, url=server.get_uri(), _server=server)


def _pgserver() -> Any:
    # pgserver asks platformdirs for a runtime folder when it is imported; without a usable
    # XDG_RUNTIME_DIR (containers, CI) platformdirs warns and falls back to /tmp, which is fine here.
    import platformdirs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", platformdirs.RuntimeDirWarning)
        import pgserver

    return pgserver
