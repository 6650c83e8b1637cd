"""Airbyte slice figures over stdio with the official MCP client, against the simulator.

    python -m benchmarks.airbyte_stdio [--calls 300]

Prints: time to `initialize` (process start to handshake done), p50/p99 of airbyte_list_connections,
airbyte_get_job, airbyte_get_connection and airbyte_diagnose_connection (on the seeded failing
connection, failure details from the simulator's Configuration API), diagnose's p50 as a multiple of
get_connection's (both two round trips to Airbyte), and token requests made when 50 calls arrive at
token expiry.
"""

from __future__ import annotations

import argparse
import statistics
import time

import anyio
import httpx
from mcp import Client

from benchmarks.stdio import percentile, simulator_process, stdio_server
from sophia_mcp.airbyte.client import AirbyteClient
from sophia_mcp.sample.airbyte_sim import create_app, seeded
from sophia_mcp.sample.airbyte_sim import config_api_url
from sophia_mcp.sample.airbyte_sim.seed import FAILING_CONNECTION_ID, GONG_POSTGRES_CONNECTION_ID
from sophia_mcp.settings import AirbyteSettings


async def token_requests_at_expiry(calls: int = 50) -> int:
    sim = seeded()
    settings = AirbyteSettings(
        AIRBYTE_API_URL="http://airbyte.test/v1", AIRBYTE_CLIENT_ID=sim.client_id, AIRBYTE_CLIENT_SECRET=sim.client_secret
    )
    async with AirbyteClient(settings, transport=httpx.ASGITransport(create_app(sim))) as client:
        await client.list_workspaces()
        before = sim.token_requests
        sim.expire_tokens()
        async with anyio.create_task_group() as tg:
            for _ in range(calls):
                tg.start_soon(client.get_connection, GONG_POSTGRES_CONNECTION_ID)
        return sim.token_requests - before


async def timed_calls(client: Client, name: str, args: dict, calls: int) -> list[float]:
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        result = await client.call_tool(name, args)
        times.append((time.perf_counter() - started) * 1000)
        assert not result.is_error, result.content[0].text
    return times


async def main(calls: int) -> None:
    with simulator_process() as url:
        env = {"AIRBYTE_API_URL": url, "AIRBYTE_CONFIG_API_URL": config_api_url(url), "AIRBYTE_CLIENT_ID": "sophia-sim",
               "AIRBYTE_CLIENT_SECRET": "sim-pass"}
        initialize_ms = []
        for _ in range(3):
            started = time.perf_counter()
            async with stdio_server(env) as client:
                initialize_ms.append((time.perf_counter() - started) * 1000)
        async with stdio_server(env) as client:
            await timed_calls(client, "airbyte_list_connections", {}, 10)  # warm up: token, connections
            connections = await timed_calls(client, "airbyte_list_connections", {}, calls)
            job_id = (await client.call_tool("airbyte_list_jobs", {"limit": 1})).structured_content["items"][0]["id"]
            jobs = await timed_calls(client, "airbyte_get_job", {"job_id": job_id}, calls)
            failing = {"connection_id": FAILING_CONNECTION_ID}
            diagnosis = (await client.call_tool("airbyte_diagnose_connection", failing)).structured_content
            assert diagnosis["failures"], f"no failure details: {diagnosis}"  # measure the whole path
            # Interleaved, so both see the same machine load.
            connection, diagnose = [], []
            for _ in range(calls):
                connection += await timed_calls(client, "airbyte_get_connection", failing, 1)
                diagnose += await timed_calls(client, "airbyte_diagnose_connection", failing, 1)
    tokens = await token_requests_at_expiry()
    print("| figure | value |\n| --- | --- |")
    print(f"| time to initialize over stdio (process start → handshake), median of 3 | {statistics.median(initialize_ms):.0f} ms |")
    measured = (("airbyte_list_connections", connections), ("airbyte_get_job", jobs),
                ("airbyte_get_connection", connection), ("airbyte_diagnose_connection", diagnose))
    for name, times in measured:
        print(f"| {name} over stdio, p50 / p99 ({calls} calls) | {percentile(times, 50):.1f} / {percentile(times, 99):.1f} ms |")
    ratio = percentile(diagnose, 50) / percentile(connection, 50)
    print(f"| airbyte_diagnose_connection p50 / airbyte_get_connection p50 | {ratio:.2f} |")
    print(f"| token requests when 50 calls arrive at token expiry | {tokens} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    anyio.run(main, parser.parse_args().calls)
