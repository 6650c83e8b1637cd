"""Every kind of answer the simulator gives is one that api.yaml / api-problems.yaml allow.

The `client` fixture validates each response as it arrives; this module drives every operation
through its success and error answers, then checks that all of them were seen.
"""

from __future__ import annotations

import pytest

from sophia_mcp.sample.airbyte_sim.routes import OPERATIONS
from sophia_mcp.sample.airbyte_sim.seed import (
    GONG_POSTGRES_CONNECTION_ID,
    GONG_SOURCE_ID,
    POSTGRES_DESTINATION_ID,
    REDIS_DESTINATION_ID,
    WORKSPACE_ID,
)

MISSING = "00000000-0000-4000-8000-000000000000"
POSTGRES_CONFIGURATION = {"destinationType": "postgres", "host": "db", "port": 5432, "database": "sophia",
                          "schema": "public", "username": "airbyte", "password": "sim-pass"}

# (method, path, request keyword arguments, expected status), in an order where each step's state holds.
CALLS = [
    ("GET", "/health", {}, 200),
    ("POST", "/applications/token", {"json": {"client_id": "sophia-sim", "client_secret": "sim-pass"}}, 200),
    ("POST", "/applications/token", {"json": {"client_id": "sophia-sim", "client_secret": "wrong"}}, 401),
    ("POST", "/applications/token", {"json": {"client_id": "sophia-sim", "client_secret": "sim-pass",
                                              "grant-type": "password"}}, 400),
    ("POST", "/applications/token", {"data": {"client_id": "sophia-sim", "client_secret": "sim-pass",
                                              "grant-type": "client_credentials"}}, 200),
    ("GET", "/workspaces", {}, 200),
    ("GET", "/workspaces", {"params": {"limit": 101}}, 400),
    ("GET", f"/workspaces/{WORKSPACE_ID}", {}, 200),
    ("GET", f"/workspaces/{MISSING}", {}, 404),
    ("PATCH", f"/workspaces/{WORKSPACE_ID}", {"json": {"notifications": {
        "failure": {"email": {"enabled": True}, "webhook": {"enabled": True, "url": "https://hooks.example.test/T1"}},
        "syncDisabled": {"webhook": {"enabled": True, "url": "https://hooks.example.test/T1"}}}}}, 200),
    ("PATCH", f"/workspaces/{WORKSPACE_ID}", {"json": {"notifications": {"onFire": {}}}}, 400),
    ("PATCH", f"/workspaces/{WORKSPACE_ID}", {"json": {"notifications": {"failure": {"webhook": {"enabled": True}}}}}, 400),
    ("PATCH", f"/workspaces/{MISSING}", {"json": {"name": "x"}}, 404),
    ("GET", "/sources", {"params": {"workspaceIds": WORKSPACE_ID, "limit": 1, "offset": 0}}, 200),
    ("GET", "/sources", {"params": {"limit": 0}}, 400),
    ("GET", f"/sources/{GONG_SOURCE_ID}", {}, 200),
    ("GET", f"/sources/{MISSING}", {}, 404),
    ("GET", "/destinations", {"params": {"offset": 1, "limit": 1}}, 200),
    ("GET", f"/destinations/{POSTGRES_DESTINATION_ID}", {}, 200),
    ("GET", f"/destinations/{MISSING}", {}, 404),
    ("POST", "/destinations", {"json": {"name": "Other Postgres", "workspaceId": WORKSPACE_ID,
                                        "configuration": POSTGRES_CONFIGURATION}}, 200),
    ("POST", "/destinations", {"json": {"name": "No configuration", "workspaceId": WORKSPACE_ID}}, 422),
    ("POST", "/destinations", {"json": {"name": "Unknown", "workspaceId": WORKSPACE_ID,
                                        "configuration": {"destinationType": "nowhere"}}}, 400),
    ("POST", "/destinations", {"content": b"{not json", "headers": {"content-type": "application/json"}}, 400),
    ("PATCH", f"/destinations/{REDIS_DESTINATION_ID}", {"json": {"name": "Cache"}}, 200),
    ("PUT", f"/destinations/{REDIS_DESTINATION_ID}", {"json": {"name": "Cache", "configuration": {"host": "r"}}}, 200),
    ("PUT", f"/destinations/{REDIS_DESTINATION_ID}", {"json": {"name": "Cache"}}, 422),
    ("PATCH", f"/destinations/{MISSING}", {"json": {"name": "x"}}, 404),
    ("GET", "/connections", {"params": {"workspaceIds": WORKSPACE_ID, "includeDeleted": "true"}}, 200),
    ("GET", f"/connections/{GONG_POSTGRES_CONNECTION_ID}", {}, 200),
    ("GET", f"/connections/{MISSING}", {}, 404),
    ("POST", "/connections", {"json": {"sourceId": GONG_SOURCE_ID, "destinationId": POSTGRES_DESTINATION_ID,
                                       "name": "Users only",
                                       "configurations": {"streams": [{"name": "users"}]}}}, 200),
    ("POST", "/connections", {"json": {"sourceId": GONG_SOURCE_ID, "destinationId": POSTGRES_DESTINATION_ID,
                                       "configurations": {"streams": [{"name": "users",
                                                                       "syncMode": "incremental_append"}]}}}, 400),
    ("POST", "/connections", {"json": {"sourceId": GONG_SOURCE_ID, "destinationId": POSTGRES_DESTINATION_ID,
                                       "schedule": {"scheduleType": "cron"}}}, 400),
    ("POST", "/connections", {"json": {"sourceId": GONG_SOURCE_ID, "destinationId": POSTGRES_DESTINATION_ID,
                                       "schedule": {"scheduleType": "cron", "cronExpression": "0 */6 * *"}}}, 400),
    ("POST", "/connections", {"json": {"sourceId": GONG_SOURCE_ID}}, 422),
    ("POST", "/connections", {"json": {"sourceId": MISSING, "destinationId": POSTGRES_DESTINATION_ID}}, 404),
    ("PATCH", f"/connections/{GONG_POSTGRES_CONNECTION_ID}", {"json": {"status": "inactive"}}, 200),
    ("PATCH", f"/connections/{GONG_POSTGRES_CONNECTION_ID}", {"json": {"status": "asleep"}}, 400),
    ("GET", "/streams", {"params": {"sourceId": GONG_SOURCE_ID, "destinationId": POSTGRES_DESTINATION_ID}}, 200),
    ("GET", "/streams", {}, 400),
    ("GET", "/streams", {"params": {"sourceId": MISSING}}, 404),
    ("GET", "/jobs", {"params": {"connectionId": GONG_POSTGRES_CONNECTION_ID, "orderBy": "createdAt|DESC"}}, 200),
    ("GET", "/jobs", {"params": {"orderBy": "sideways"}}, 400),
    ("GET", "/jobs", {"params": {"status": "done"}}, 400),
    ("POST", "/jobs", {"json": {"connectionId": GONG_POSTGRES_CONNECTION_ID, "jobType": "sync"}}, 200),
    ("POST", "/jobs", {"json": {"connectionId": GONG_POSTGRES_CONNECTION_ID, "jobType": "sync"}}, 409),
    ("POST", "/jobs", {"json": {"connectionId": GONG_POSTGRES_CONNECTION_ID}}, 422),
    ("POST", "/jobs", {"json": {"connectionId": MISSING, "jobType": "sync"}}, 404),
    ("GET", "/jobs/{new_job}", {}, 200),
    ("GET", "/jobs/999999", {}, 404),
    ("GET", "/jobs/not-a-number", {}, 400),
    ("DELETE", "/jobs/{new_job}", {}, 200),
    ("DELETE", "/jobs/{new_job}", {}, 409),
    ("DELETE", f"/connections/{GONG_POSTGRES_CONNECTION_ID}", {}, 204),
    ("DELETE", f"/connections/{GONG_POSTGRES_CONNECTION_ID}", {}, 404),
    ("GET", "/no-such-route", {}, 404),
]


@pytest.mark.anyio
async def test_every_operation_answers_as_the_spec_declares(client, airbyte_sim):
    airbyte_sim.job_running_seconds = 60  # the new job must still run for the 409 and the cancel
    new_job = max(airbyte_sim.jobs) + 1
    for method, path, kwargs, status in CALLS:
        response = await client.request(method, path.format(new_job=new_job), **kwargs)
        assert response.status_code == status, (method, path, response.text)

    operations = {(method, template) for method, template, _ in client.seen if template}
    served = {(method, template) for method, template, *_ in OPERATIONS}
    assert served <= operations, f"operations never exercised: {served - operations}"
    statuses = {status for *_, status in client.seen}
    assert {200, 204, 400, 401, 404, 409, 422} <= statuses


@pytest.mark.anyio
async def test_an_unauthenticated_request_gets_the_invalid_api_key_problem(client):
    del client.headers["Authorization"]
    response = await client.get("/jobs")
    assert response.status_code == 401
    assert response.json()["title"] == "invalid-api-key"


# ---- the checker itself must be able to fail -----------------------------------------------------

VALID_JOB = {"jobId": 7, "status": "running", "jobType": "sync", "startTime": "2026-01-01T00:00:00Z",
             "connectionId": GONG_POSTGRES_CONNECTION_ID}


def test_a_valid_job_passes(spec):
    assert spec.body_errors("GET", "/jobs/{jobId}", 200, VALID_JOB) == []


@pytest.mark.parametrize(
    "wrong_job",
    [
        {key: value for key, value in VALID_JOB.items() if key != "jobId"},  # required field missing
        {**VALID_JOB, "status": "done"},  # not in JobStatusEnum
        {**VALID_JOB, "jobId": "7"},  # wrong type
        {**VALID_JOB, "jobID": 7},  # undeclared (misspelt) field
    ],
)
def test_a_wrong_job_fails(spec, wrong_job):
    assert spec.body_errors("GET", "/jobs/{jobId}", 200, wrong_job)


def test_a_list_without_a_data_array_fails(spec):
    assert spec.body_errors("GET", "/jobs", 200, {"data": VALID_JOB, "next": "x"})
    assert spec.body_errors("GET", "/connections", 200, {"data": [], "next": 3})


def test_problems_are_checked_against_api_problems(spec):
    conflict = {"status": 409, "type": "https://reference.airbyte.com/reference/errors#try-again-later",
                "title": "try-again-later", "detail": "A sync is already running"}
    assert spec.problem_errors(conflict) == []
    assert spec.problem_errors({**conflict, "title": "conflict"})  # no such problem
    assert spec.problem_errors({**conflict, "status": 400})  # status not the problem's
    assert spec.problem_errors({**conflict, "data": {"msg": "x"}})  # ProblemMessageData needs `message`
    assert spec.problem_errors({"message": "Too Many Requests"})


def test_nullable_fields_accept_null_and_nothing_else(spec):
    group = {"groupId": WORKSPACE_ID, "name": "Sales", "organizationId": WORKSPACE_ID, "memberCount": 3}
    assert spec.body_errors("GET", "/groups/{groupId}", 200, {**group, "description": None}) == []
    assert spec.body_errors("GET", "/groups/{groupId}", 200, {**group, "description": 5})


def test_paths_map_to_their_templates(spec):
    assert spec.template_of("/applications/token") == "/applications/token"
    assert spec.template_of("/jobs/12") == "/jobs/{jobId}"
    assert spec.template_of("/jobs") == "/jobs"
    assert spec.template_of("/nothing/here") is None
