"""Prometheus metrics for operators (`GET /metrics` on the HTTP transport, behind its bearer token).

Defined once per process in prometheus-client's default registry (which also carries the process's
CPU, memory and file descriptors). The parts that feed them call the small functions below; none of
them knows about MCP.

| metric | labels | what |
| --- | --- | --- |
| `sophia_tool_calls_total` | tool, outcome (`ok`, `error`) | tool calls answered |
| `sophia_tool_call_seconds` | tool | tool call latency (histogram) |
| `sophia_airbyte_requests_total` | status (HTTP code, `timeout`, `network`) | requests sent to Airbyte, token requests included |
| `sophia_airbyte_retries_total` | | requests retried after a 429, 5xx or network failure |
| `sophia_postgres_pool_connections` | state (`in_use`, `idle`) | the read-only pools' connections |
| `sophia_postgres_pool_waiting` | | sessions waiting for a connection |
| `sophia_search_seconds` | stage (`embed`, `query`) | semantic search: embedding the question, querying Qdrant (histogram) |
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from prometheus_client.core import REGISTRY, GaugeMetricFamily
from prometheus_client.registry import Collector

__all__ = ["CONTENT_TYPE_LATEST", "exposition"]

# From a 1 ms lookup to a 60 s Airbyte wait.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

TOOL_CALLS = Counter("sophia_tool_calls", "Tool calls answered, by tool and outcome.", ["tool", "outcome"])
TOOL_SECONDS = Histogram("sophia_tool_call_seconds", "Tool call latency.", ["tool"], buckets=LATENCY_BUCKETS)
AIRBYTE_REQUESTS = Counter("sophia_airbyte_requests", "Requests sent to the Airbyte API, by status.", ["status"])
AIRBYTE_RETRIES = Counter("sophia_airbyte_retries", "Airbyte requests retried (429, 5xx, network failures).")
SEARCH_SECONDS = Histogram("sophia_search_seconds", "Semantic search time by stage.", ["stage"], buckets=LATENCY_BUCKETS)


def tool_call(tool: str, outcome: str, seconds: float) -> None:
    TOOL_CALLS.labels(tool, outcome).inc()
    TOOL_SECONDS.labels(tool).observe(seconds)


def airbyte_response(status: int | str) -> None:
    AIRBYTE_REQUESTS.labels(str(status)).inc()


def airbyte_retry() -> None:
    AIRBYTE_RETRIES.inc()


@contextmanager
def search_stage(stage: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        SEARCH_SECONDS.labels(stage).observe(time.perf_counter() - started)


class PoolStats(Protocol):
    def stats(self) -> tuple[int, int, int]:
        """(connections in use, idle connections, sessions waiting for one)."""
        ...


_pools: weakref.WeakSet[PoolStats] = weakref.WeakSet()


def watch_pool(pool: PoolStats) -> None:
    """Count this pool in the Postgres gauges for as long as it exists."""
    _pools.add(pool)


class _PoolCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        in_use = idle = waiting = 0
        for pool in list(_pools):
            used, free, queued = pool.stats()
            in_use, idle, waiting = in_use + used, idle + free, waiting + queued
        connections = GaugeMetricFamily(
            "sophia_postgres_pool_connections", "Read-only pool connections, by state.", labels=["state"]
        )
        connections.add_metric(["in_use"], in_use)
        connections.add_metric(["idle"], idle)
        yield connections
        yield GaugeMetricFamily("sophia_postgres_pool_waiting", "Sessions waiting for a pool connection.", value=waiting)


REGISTRY.register(_PoolCollector())


def exposition() -> bytes:
    """The Prometheus text format of every metric of this process."""
    return generate_latest(REGISTRY)
