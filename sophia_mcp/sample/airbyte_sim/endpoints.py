"""One function per API operation: read the request, ask the simulator, render the answer."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from sophia_mcp.sample.airbyte_sim import parsing
from sophia_mcp.sample.airbyte_sim.pagination import paginated
from sophia_mcp.sample.airbyte_sim.problems import bad_request
from sophia_mcp.sample.airbyte_sim.state import JOB_TYPES, Simulator

JOB_STATUSES = ("pending", "queued", "running", "incomplete", "failed", "succeeded", "cancelled")
ORDER_BY = re.compile(r"^(createdAt|updatedAt)\|(ASC|DESC)$")


def _listed(sim: Simulator, request: Request, records: Iterable[Any]) -> Response:
    """One page of a list endpoint: the records as the API shows them, with `next`/`previous` links."""
    return JSONResponse(paginated(request, [record.to_api() for record in records], sim.next_host))


async def health(sim: Simulator, request: Request) -> Response:
    return PlainTextResponse("Successful operation")


async def create_token(sim: Simulator, request: Request) -> Response:
    body = await parsing.form_or_json(request)
    grant = body.get("grant-type", body.get("grant_type", "client_credentials"))
    if grant != "client_credentials":
        raise bad_request(f"grant-type must be client_credentials, got {grant!r}")
    return JSONResponse(sim.issue_token(body.get("client_id"), body.get("client_secret")))


async def list_workspaces(sim: Simulator, request: Request) -> Response:
    return _listed(sim, request, sim.list_workspaces(parsing.id_list(request, "workspaceIds")))


async def get_workspace(sim: Simulator, request: Request) -> Response:
    return JSONResponse(sim.workspace(request.path_params["workspaceId"]).to_api())


async def patch_workspace(sim: Simulator, request: Request) -> Response:
    body = await parsing.json_object(request)
    return JSONResponse(sim.update_workspace(request.path_params["workspaceId"], body).to_api())


async def list_sources(sim: Simulator, request: Request) -> Response:
    return _listed(sim, request, sim.list_sources(parsing.id_list(request, "workspaceIds")))


async def get_source(sim: Simulator, request: Request) -> Response:
    return JSONResponse(sim.source(request.path_params["sourceId"]).to_api())


async def list_destinations(sim: Simulator, request: Request) -> Response:
    return _listed(sim, request, sim.list_destinations(parsing.id_list(request, "workspaceIds")))


async def get_destination(sim: Simulator, request: Request) -> Response:
    return JSONResponse(sim.destination(request.path_params["destinationId"]).to_api())


async def create_destination(sim: Simulator, request: Request) -> Response:
    return JSONResponse(sim.create_destination(await parsing.json_object(request)).to_api())


async def patch_destination(sim: Simulator, request: Request) -> Response:
    body = await parsing.json_object(request)
    return JSONResponse(sim.update_destination(request.path_params["destinationId"], body, replace=False).to_api())


async def put_destination(sim: Simulator, request: Request) -> Response:
    body = await parsing.json_object(request)
    return JSONResponse(sim.update_destination(request.path_params["destinationId"], body, replace=True).to_api())


async def list_connections(sim: Simulator, request: Request) -> Response:
    connections = sim.list_connections(
        parsing.id_list(request, "workspaceIds"), parsing.boolean(request, "includeDeleted")
    )
    return _listed(sim, request, connections)


async def get_connection(sim: Simulator, request: Request) -> Response:
    return JSONResponse(sim.connection(request.path_params["connectionId"]).to_api())


async def create_connection(sim: Simulator, request: Request) -> Response:
    return JSONResponse(sim.create_connection(await parsing.json_object(request)).to_api())


async def patch_connection(sim: Simulator, request: Request) -> Response:
    body = await parsing.json_object(request)
    return JSONResponse(sim.update_connection(request.path_params["connectionId"], body).to_api())


async def delete_connection(sim: Simulator, request: Request) -> Response:
    sim.delete_connection(request.path_params["connectionId"])
    return Response(status_code=204)


async def stream_properties(sim: Simulator, request: Request) -> Response:
    source_id = request.query_params.get("sourceId")
    if not source_id:
        raise bad_request("Required parameters are missing: sourceId.")
    return JSONResponse(sim.stream_properties(source_id, request.query_params.get("destinationId") or None))


async def list_jobs(sim: Simulator, request: Request) -> Response:
    order = ORDER_BY.match(request.query_params.get("orderBy", "createdAt|ASC"))
    if order is None:
        raise bad_request("orderBy must be createdAt|ASC, createdAt|DESC, updatedAt|ASC or updatedAt|DESC.")
    jobs = sim.list_jobs(
        connection_id=request.query_params.get("connectionId") or None,
        workspace_ids=parsing.id_list(request, "workspaceIds"),
        job_type=parsing.choice(request, "jobType", JOB_TYPES),
        status=parsing.choice(request, "status", JOB_STATUSES),
        created_after=parsing.moment(request, "createdAtStart"),
        created_before=parsing.moment(request, "createdAtEnd"),
        order_by=order.group(1),
        descending=order.group(2) == "DESC",
    )
    now = sim.clock()
    return JSONResponse(paginated(request, [job.to_api(now) for job in jobs], sim.next_host))


async def get_job(sim: Simulator, request: Request) -> Response:
    return JSONResponse(sim.job(_job_id(request)).to_api(sim.clock()))


async def create_job(sim: Simulator, request: Request) -> Response:
    body = await parsing.json_object(request)
    job_type = parsing.required_field(body, "jobType", str)
    job = sim.start_job(parsing.required_field(body, "connectionId", str), job_type)
    return JSONResponse(job.to_api(sim.clock()))


async def cancel_job(sim: Simulator, request: Request) -> Response:
    return JSONResponse(sim.cancel_job(_job_id(request)).to_api(sim.clock()))


def _job_id(request: Request) -> int:
    raw = request.path_params["jobId"]
    try:
        return int(raw)
    except ValueError:
        raise bad_request(f"jobId must be an integer, got {raw!r}") from None
