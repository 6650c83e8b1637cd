"""The Configuration API's `POST /v1/jobs/get` (config.yaml), served at `/api/v1/...` beside the public API.

It shares the public API's bearer tokens and fault queue. `Simulator.config_api_refusal` makes every
call answer 401, 403 or 404, as a real Airbyte does when the internal API is closed to an application.
Errors are shaped as config.yaml's `NotFoundKnownExceptionInfo` and `InvalidInputExceptionInfo`.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sophia_mcp.sample.airbyte_sim.parsing import bearer_token
from sophia_mcp.sample.airbyte_sim.problems import ProblemError
from sophia_mcp.sample.airbyte_sim.state import Simulator

CONFIG_API_ROOT = "/api"
REFUSALS = {401: "Unauthorized", 403: "Forbidden: this application may not use the Configuration API", 404: "Not Found"}


def config_api_url(public_url: str) -> str:
    """The simulator's Configuration API root, given the public API URL it serves (same host, `/api/v1`)."""
    parts = urlsplit(public_url)
    return f"{parts.scheme}://{parts.netloc}{CONFIG_API_ROOT}/v1"


def _invalid(message: str, property_path: str) -> JSONResponse:
    body = {"message": message, "validationErrors": [{"propertyPath": property_path, "message": message}]}
    return JSONResponse(body, status_code=422)


async def get_job(sim: Simulator, request: Request) -> Response:
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        return _invalid("The request body is not valid JSON.", "body")
    job_id = body.get("id") if isinstance(body, dict) else None
    if not isinstance(job_id, int) or isinstance(job_id, bool):
        return _invalid("`id` must be an integer job id.", "id")
    job = sim.jobs.get(job_id)
    if job is None:
        return JSONResponse({"id": str(job_id), "message": f"Could not find job with id: {job_id}"}, status_code=404)
    return JSONResponse(job.to_config_api(sim.clock()))


Handler = Callable[[Simulator, Request], Awaitable[Response]]
# (method, path template as in config.yaml, handler)
CONFIG_OPERATIONS: list[tuple[str, str, Handler]] = [("POST", "/v1/jobs/get", get_job)]


def config_routes(sim: Simulator) -> list[Route]:
    return [_route(sim, *operation) for operation in CONFIG_OPERATIONS]


def _route(sim: Simulator, method: str, template: str, handler: Handler) -> Route:
    async def endpoint(request: Request) -> Response:
        sim.requests[method, template] += 1
        fault = sim.faults.take(request.url.path)
        if fault is not None:
            await anyio.sleep(fault.delay_seconds)
            answer = fault.response()
            if answer is not None:
                return answer
        if sim.config_api_refusal is not None:
            status = sim.config_api_refusal
            return JSONResponse({"message": REFUSALS.get(status, "Refused")}, status_code=status)
        try:
            sim.check_token(bearer_token(request))
        except ProblemError as problem:
            return JSONResponse({"message": problem.body["detail"]}, status_code=401)
        return await handler(sim, request)

    return Route(CONFIG_API_ROOT + template, endpoint, methods=[method], name=f"config {method} {template}")
