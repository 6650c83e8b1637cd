"""The ASGI app: the public API's routes under a base path, each behind faults and bearer auth, and the
Configuration API's (`config_api.py`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sophia_mcp.sample.airbyte_sim import endpoints
from sophia_mcp.sample.airbyte_sim.config_api import config_routes
from sophia_mcp.sample.airbyte_sim.parsing import bearer_token
from sophia_mcp.sample.airbyte_sim.problems import ProblemError, route_not_found
from sophia_mcp.sample.airbyte_sim.state import Simulator

Handler = Callable[[Simulator, Request], Awaitable[Response]]

# (method, path template as in api.yaml, handler, needs a bearer token)
OPERATIONS: list[tuple[str, str, Handler, bool]] = [
    ("GET", "/health", endpoints.health, False),
    ("POST", "/applications/token", endpoints.create_token, False),
    ("GET", "/workspaces", endpoints.list_workspaces, True),
    ("GET", "/workspaces/{workspaceId}", endpoints.get_workspace, True),
    ("PATCH", "/workspaces/{workspaceId}", endpoints.patch_workspace, True),
    ("GET", "/sources", endpoints.list_sources, True),
    ("GET", "/sources/{sourceId}", endpoints.get_source, True),
    ("GET", "/destinations", endpoints.list_destinations, True),
    ("POST", "/destinations", endpoints.create_destination, True),
    ("GET", "/destinations/{destinationId}", endpoints.get_destination, True),
    ("PATCH", "/destinations/{destinationId}", endpoints.patch_destination, True),
    ("PUT", "/destinations/{destinationId}", endpoints.put_destination, True),
    ("GET", "/connections", endpoints.list_connections, True),
    ("POST", "/connections", endpoints.create_connection, True),
    ("GET", "/connections/{connectionId}", endpoints.get_connection, True),
    ("PATCH", "/connections/{connectionId}", endpoints.patch_connection, True),
    ("DELETE", "/connections/{connectionId}", endpoints.delete_connection, True),
    ("GET", "/streams", endpoints.stream_properties, True),
    ("GET", "/jobs", endpoints.list_jobs, True),
    ("POST", "/jobs", endpoints.create_job, True),
    ("GET", "/jobs/{jobId}", endpoints.get_job, True),
    ("DELETE", "/jobs/{jobId}", endpoints.cancel_job, True),
]


def create_app(sim: Simulator, base_path: str = "/v1") -> Starlette:
    """Serve `sim` under `base_path`: "/v1" like Airbyte Cloud, "/api/public/v1" like self-managed; the
    Configuration API is always under "/api/v1"."""
    base_path = normalized_base_path(base_path)
    routes = [_route(sim, base_path, *operation) for operation in OPERATIONS] + config_routes(sim)

    async def unknown_route(request: Request, exc: Exception) -> Response:
        return route_not_found(request.url.path).response()

    return Starlette(routes=routes, exception_handlers={404: unknown_route})


def normalized_base_path(base_path: str) -> str:
    """"v1", "/v1/" and "/v1" all mean "/v1"; "" and "/" mean the root."""
    stripped = base_path.strip("/")
    return f"/{stripped}" if stripped else ""


def _route(sim: Simulator, base_path: str, method: str, template: str, handler: Handler, authenticated: bool) -> Route:
    async def endpoint(request: Request) -> Response:
        sim.requests[method, template] += 1
        fault = sim.faults.take(request.url.path[len(base_path) :])
        if fault is not None:
            await anyio.sleep(fault.delay_seconds)
            answer = fault.response()
            if answer is not None:
                return answer
        try:
            if authenticated:
                sim.check_token(bearer_token(request))
            return await handler(sim, request)
        except ProblemError as problem:
            return problem.response()

    return Route(base_path + template, endpoint, methods=[method], name=f"{method} {template}")


