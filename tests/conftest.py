"""Fixtures shared by every test folder; each part's fixtures live in tests/fixtures/."""

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["tests.fixtures.airbyte_sim", "tests.fixtures.postgres"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def server_tmp() -> Iterator[Path]:
    """A temporary folder for an embedded Postgres, outside pytest's basetemp: another pytest run on
    the machine prunes old basetemps, which would pull the data folder from under a running server."""
    folder = Path(tempfile.mkdtemp(prefix="sophia-test-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
