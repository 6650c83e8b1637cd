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


@pytest.fixture(scope="session", autouse=True)
def gong_snapshots_in_a_temporary_folder() -> Iterator[None]:
    """Servers started by the tests keep their Gong summary snapshot (SOPHIA_GONG_SNAPSHOT_DIR) in a
    folder of this run, not in the user's cache folder."""
    folder = Path(tempfile.mkdtemp(prefix="sophia-test-snapshots-"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOPHIA_GONG_SNAPSHOT_DIR", str(folder))
        yield
    shutil.rmtree(folder, ignore_errors=True)
