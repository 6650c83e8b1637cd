"""Fixtures shared by every test folder; each part's fixtures live in tests/fixtures/."""

import pytest

pytest_plugins = ["tests.fixtures.airbyte_sim", "tests.fixtures.postgres"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
