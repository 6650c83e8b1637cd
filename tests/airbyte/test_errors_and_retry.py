"""How failed responses become typed errors, and how long a retry waits."""

from datetime import datetime, timezone

import httpx
import pytest

from sophia_mcp.airbyte.errors import (
    AirbyteAuthError,
    AirbyteConflictError,
    AirbyteForbiddenError,
    AirbyteInvalidRequestError,
    AirbyteNotFoundError,
    AirbyteRateLimitedError,
    AirbyteUnavailableError,
    error_from_response,
)
from sophia_mcp.retry import backoff_seconds, retry_after_seconds, should_retry

PROBLEM = {"status": 404, "type": "https://reference.airbyte.com/reference/errors#not-found", "title": "not-found",
           "detail": "Connection 42 was not found."}


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (401, AirbyteAuthError),
        (403, AirbyteForbiddenError),
        (404, AirbyteNotFoundError),
        (409, AirbyteConflictError),
        (400, AirbyteInvalidRequestError),
        (422, AirbyteInvalidRequestError),
        (429, AirbyteRateLimitedError),
        (500, AirbyteUnavailableError),
        (503, AirbyteUnavailableError),
    ],
)
def test_each_status_class_becomes_its_typed_error(status, error_type):
    error = error_from_response(httpx.Response(status, json={"message": "boom"}), "GET /jobs")
    assert isinstance(error, error_type)
    assert error.status == status


def test_problem_json_detail_is_in_the_message():
    error = error_from_response(httpx.Response(404, json=PROBLEM), "GET /connections/42")
    assert "Connection 42 was not found." in str(error)
    assert "GET /connections/42" in str(error)


def test_message_body_is_in_the_message():
    error = error_from_response(httpx.Response(400, json={"message": "syncMode is not supported"}), "POST /connections")
    assert "syncMode is not supported" in str(error)


def test_html_page_from_a_proxy_is_described_not_dumped():
    page = "<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1><script>x()</script></body></html>"
    error = error_from_response(httpx.Response(502, text=page, headers={"content-type": "text/html"}), "GET /jobs")
    assert isinstance(error, AirbyteUnavailableError)
    assert "HTML error page" in str(error)
    assert "<script>" not in str(error)


def test_auth_error_says_which_settings_to_check():
    message = str(error_from_response(httpx.Response(401, json={}), "GET /workspaces"))
    assert "AIRBYTE_CLIENT_ID" in message and "AIRBYTE_API_URL" in message


def test_retry_after_in_seconds():
    assert retry_after_seconds(httpx.Response(429, headers={"retry-after": "7"})) == 7.0


def test_retry_after_as_http_date():
    now = datetime(2026, 11, 25, 12, 0, 0, tzinfo=timezone.utc)
    response = httpx.Response(429, headers={"retry-after": "Wed, 25 Nov 2026 12:00:30 GMT"})
    assert retry_after_seconds(response, now=now) == 30.0


@pytest.mark.parametrize("value", [None, "", "soon", "-3"])
def test_missing_or_unreadable_retry_after_gives_none(value):
    headers = {} if value is None else {"retry-after": value}
    assert retry_after_seconds(httpx.Response(429, headers=headers)) is None


def test_backoff_grows_and_is_capped():
    assert all(0 <= backoff_seconds(0) <= 0.5 for _ in range(50))
    assert all(0 <= backoff_seconds(10, cap=10.0) <= 10.0 for _ in range(50))
    assert max(backoff_seconds(4) for _ in range(200)) > 1.0


def test_a_post_is_retried_on_429_but_not_on_502():
    assert should_retry(httpx.Response(429), idempotent=False)
    assert not should_retry(httpx.Response(502), idempotent=False)
    assert should_retry(httpx.Response(502), idempotent=True)
    assert not should_retry(httpx.Response(500), idempotent=True)
