"""An Airbyte public API simulator (api.yaml), the stand-in for Airbyte in tests and the offline demo."""

from sophia_mcp.sample.airbyte_sim.config_api import config_api_url
from sophia_mcp.sample.airbyte_sim.routes import create_app
from sophia_mcp.sample.airbyte_sim.faults import FaultPlan
from sophia_mcp.sample.airbyte_sim.server import serve_in_thread
from sophia_mcp.sample.airbyte_sim.seed import seeded
from sophia_mcp.sample.airbyte_sim.state import Simulator

__all__ = ["FaultPlan", "Simulator", "config_api_url", "create_app", "seeded", "serve_in_thread"]
