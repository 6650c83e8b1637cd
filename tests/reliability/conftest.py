"""The reliability suite never reads the configuration of whoever runs it."""

import pytest

from tests.reliability.support import setting_variables


@pytest.fixture(autouse=True)
def _no_sophia_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in setting_variables() | {"SOPHIA_LOG_LEVEL", "SOPHIA_ENV_FILE"}:
        monkeypatch.delenv(name, raising=False)
