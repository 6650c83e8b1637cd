"""Error bodies as the Airbyte public API sends them: RFC 9457 problems from api-problems.yaml.

Each constructor uses the `type` and `title` that api-problems.yaml fixes for that problem, so a
client written against the real API sees the same bodies here.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

ERRORS_URL = "https://reference.airbyte.com/reference/errors"


class ProblemError(Exception):
    """Raised anywhere in the simulator; the app turns it into an application/problem+json answer."""

    def __init__(self, status: int, type_: str, title: str, detail: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.body: dict[str, Any] = {"status": status, "type": type_, "title": title, "detail": detail}
        if data is not None:
            self.body["data"] = data

    def response(self, headers: dict[str, str] | None = None) -> JSONResponse:
        return problem_response(self.body, headers)


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=body["status"], headers=headers, media_type="application/problem+json")


def invalid_api_key(detail: str = "The API key in the Authorization header is invalid.") -> ProblemError:
    return ProblemError(401, f"{ERRORS_URL}#invalid-api-key", "invalid-api-key", detail)


def bad_request(detail: str) -> ProblemError:
    return ProblemError(400, f"{ERRORS_URL}#bad-request", "bad-request", detail, {"message": detail})


def unprocessable(detail: str) -> ProblemError:
    return ProblemError(422, f"{ERRORS_URL}#unprocessable-entity", "unprocessable-entity", detail, {"message": detail})


def not_found(resource_type: str, resource_id: str) -> ProblemError:
    return ProblemError(
        404,
        f"{ERRORS_URL}#resource-not-found",
        "resource-not-found",
        f"Could not find a resource for: {resource_id}",
        {"resourceType": resource_type, "resourceId": resource_id},
    )


def route_not_found(path: str) -> ProblemError:
    return ProblemError(404, f"{ERRORS_URL}#resource-not-found", "resource-not-found", f"No API route at {path}")


def sync_conflict(connection_id: str) -> ProblemError:
    # What Airbyte answers when a job is started while another one of the connection is not finished.
    detail = f"A sync is already running for: {connection_id}"
    return ProblemError(409, f"{ERRORS_URL}#try-again-later", "try-again-later", detail, {"message": detail})


def state_conflict(detail: str) -> ProblemError:
    return ProblemError(409, f"{ERRORS_URL}#409-state-conflict", "state-conflict", detail, {"message": detail})


def missing_cron() -> ProblemError:
    return ProblemError(
        400,
        "error:cron-validation/missing-cron-data",
        "Cron data is missing",
        "If schedule type is cron, scheduleData.cron must be provided.",
    )


def invalid_cron(expression: str, reason: str) -> ProblemError:
    return ProblemError(
        400,
        "error:cron-validation/invalid-expression",
        "Invalid cron expression",
        f"The cron expression is invalid: {reason}",
        {"cronExpression": expression, "validationErrorMessage": reason},
    )


def unexpected() -> ProblemError:
    return ProblemError(
        500,
        ERRORS_URL,
        "unexpected-problem",
        "An unexpected problem has occurred. If this is an error that needs to be addressed, please submit a "
        "pull request or github issue.",
    )


def service_unavailable() -> ProblemError:
    return ProblemError(503, ERRORS_URL, "service-unavailable", "The server is currently unable to handle the request.")
