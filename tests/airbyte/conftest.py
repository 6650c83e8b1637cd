import httpx
import pytest

from sophia_mcp.airbyte.client import AirbyteClient
from sophia_mcp.sample.airbyte_sim import Simulator
from sophia_mcp.sample.airbyte_sim.seed import WORKSPACE_ID
from sophia_mcp.settings import AirbyteSettings

SIM_URL = "http://airbyte.test/v1"


class SleepRecorder:
    """Records each wait the client asks for instead of waiting, so retry tests run instantly."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def sim_settings(sim: Simulator, **overrides) -> AirbyteSettings:
    values = {
        "AIRBYTE_API_URL": SIM_URL,
        "AIRBYTE_CLIENT_ID": sim.client_id,
        "AIRBYTE_CLIENT_SECRET": sim.client_secret,
        **overrides,
    }
    return AirbyteSettings(**values)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
async def client(airbyte_sim: Simulator, airbyte_sim_transport: httpx.ASGITransport, sleeps: SleepRecorder):
    """A client that already holds a token, so faults queued by a test hit the API call itself."""
    async with AirbyteClient(sim_settings(airbyte_sim), transport=airbyte_sim_transport, sleep=sleeps) as c:
        await c.get_workspace(WORKSPACE_ID)
        yield c
