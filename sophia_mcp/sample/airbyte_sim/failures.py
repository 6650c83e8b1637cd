"""Why simulated jobs fail: failure reasons shaped as the Configuration API's `FailureReason` (config.yaml).

The messages read like what source-gong and destination-postgres report, so that a diagnosis built
on them can be judged as a user would judge one against a real Airbyte.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# A failed job in Airbyte is retried before it is given up: this many attempts, each failed.
ATTEMPTS_BEFORE_GIVING_UP = 3


@dataclass(frozen=True)
class Failure:
    origin: str  # FailureOrigin: source, destination, replication, airbyte_platform…
    failure_type: str  # FailureType: config_error, system_error, transient_error…
    external_message: str
    internal_message: str
    retryable: bool
    stream: str | None = None

    def to_api(self, timestamp_ms: int) -> dict[str, Any]:
        reason: dict[str, Any] = {
            "failureOrigin": self.origin,
            "failureType": self.failure_type,
            "externalMessage": self.external_message,
            "internalMessage": self.internal_message,
            "retryable": self.retryable,
            "timestamp": timestamp_ms,
            "fromTraceMessage": True,
        }
        if self.stream:
            reason["streamDescriptor"] = {"name": self.stream}
        return reason


# The Gong key works for calls but lacks the transcript scope: transcripts fail, every attempt, with no
# hope from a retry. What the seeded "Gong transcripts → Postgres" connection suffers.
TRANSCRIPTS_FORBIDDEN = Failure(
    origin="source",
    failure_type="config_error",
    external_message=(
        "Gong answered 403 Forbidden for POST /v2/calls/transcript: the access key is not authorized for "
        "call transcripts (scope api:calls:read:transcript)."
    ),
    internal_message="io.airbyte.cdk.models.AirbyteTracedException: HTTP 403 Forbidden from api.gong.io",
    retryable=False,
    stream="callTranscripts",
)
# Gong's rate limit, hit while reading calls: the next attempt or sync usually gets through.
GONG_RATE_LIMITED = Failure(
    origin="source",
    failure_type="transient_error",
    external_message="Gong answered 429 Too Many Requests for GET /v2/calls after 5 retries; the rate limit resets hourly.",
    internal_message="requests.exceptions.HTTPError: 429 Client Error: Too Many Requests",
    retryable=True,
    stream="calls",
)
# The Postgres destination cannot be reached.
DESTINATION_UNREACHABLE = Failure(
    origin="destination",
    failure_type="system_error",
    external_message="Could not connect to the Postgres destination: connection refused (host localhost, port 5432).",
    internal_message="org.postgresql.util.PSQLException: Connection to localhost:5432 refused.",
    retryable=True,
)
CANCELLED = Failure(
    origin="airbyte_platform",
    failure_type="manual_cancellation",
    external_message="The sync was cancelled.",
    internal_message="Job was cancelled by a user.",
    retryable=False,
)
