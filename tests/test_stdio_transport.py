"""sophia_mcp.transports.stdio, the asyncio pipe transport, against the SDK's own stdio transport:
the same server in a real subprocess over real pipes, each behaviour checked on both."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.e2e.conftest import REPO, mcp_json_launch

# A server with one extra tool that print()s to stdout, run on either transport.
SERVER = """
import logging
import sys
if sys.argv[1] == "fallback":
    # As if an mcp 2.3.x release had renamed the private function the pipe transport imports (the
    # SDK's own modules, imported first, keep their reference).
    import mcp.server.stdio, mcp.shared._context_streams as private
    del private.create_context_streams
logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
from sophia_mcp.surface.server import build_server
from sophia_mcp.transports.stdio import run_stdio
server = build_server()

@server.tool()
def shout(text: str) -> str:
    print("stray print from a tool", text[:10])
    sys.stdout.flush()
    return text

if sys.argv[1] == "sdk":
    server.run("stdio")
else:
    run_stdio(server)
"""

INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}


@pytest.fixture(params=["pipes", "sdk", "fallback"])
def server(request):
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "SOPHIA_GONG_SNAPSHOT_DIR") if key in os.environ}
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER, request.param],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
        env=env,
    )
    yield process
    if process.poll() is None:
        process.kill()
        process.wait()


def send(process, message) -> None:
    process.stdin.write((message if isinstance(message, str) else json.dumps(message)).encode() + b"\n")
    process.stdin.flush()


def receive(process) -> dict:
    line = process.stdout.readline()
    assert line, process.stderr.read().decode()
    return json.loads(line)


def initialize(process) -> None:
    send(process, INIT)
    assert receive(process)["id"] == 1
    send(process, {"jsonrpc": "2.0", "method": "notifications/initialized"})


def call(process, id_: int, name: str, arguments: dict) -> dict:
    send(process, {"jsonrpc": "2.0", "id": id_, "method": "tools/call", "params": {"name": name, "arguments": arguments}})
    answer = receive(process)
    assert answer["id"] == id_, answer
    return answer["result"]


def end(process) -> tuple[int, str]:
    process.stdin.close()
    code = process.wait(timeout=30)
    return code, process.stderr.read().decode()


def test_invalid_lines_are_skipped_and_the_server_keeps_serving(server):
    initialize(server)
    send(server, "{not json")
    send(server, "")
    send(server, b"\xff\xfe garbage".decode("latin-1"))
    send(server, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
    answer = receive(server)  # nothing is answered for the bad lines, as with the SDK's transport
    assert answer["id"] == 2 and any(t["name"] == "shout" for t in answer["result"]["tools"])
    assert end(server)[0] == 0


def test_end_of_input_ends_the_server_cleanly(server):
    initialize(server)
    code, stderr = end(server)
    assert code == 0
    assert "Traceback" not in stderr, stderr


def test_five_megabyte_argument_and_result_round_trip(server):
    initialize(server)
    text = "é" * (5 * 1024 * 1024 // 2)  # 5 MB of UTF-8, one line each way
    result = call(server, 2, "shout", {"text": text})
    assert not result.get("isError") and result["content"][0]["text"] == text
    refused = call(server, 3, "airbyte_get_connection", {"connection_id": "x" * (5 * 1024 * 1024)})
    assert refused["isError"]
    assert call(server, 4, "shout", {"text": "still here"})["content"][0]["text"] == "still here"
    assert end(server)[0] == 0


def test_a_print_to_stdout_goes_to_stderr_not_into_the_protocol(server):
    initialize(server)
    assert call(server, 2, "shout", {"text": "hello"})["content"][0]["text"] == "hello"
    code, stderr = end(server)
    assert code == 0 and "stray print from a tool hello" in stderr


def test_the_installed_command_uses_the_pipe_transport():
    """`sophia-mcp serve` as mcp.json launches it answers over pipes, and ends at end of input."""
    command, args = mcp_json_launch()
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "SOPHIA_GONG_SNAPSHOT_DIR") if key in os.environ}
    process = subprocess.Popen([command, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO, env=env)
    try:
        initialize(process)
        code, stderr = end(process)
        assert code == 0 and "Traceback" not in stderr
    finally:
        if process.poll() is None:
            process.kill()


def test_falls_back_to_the_sdk_transport_when_stdio_is_not_a_pipe(tmp_path):
    from sophia_mcp.transports import stdio as stdio_transport

    with open(tmp_path / "file", "wb") as regular:
        assert stdio_transport._pipe_or_socket(regular.fileno()) is None
    read, write = os.pipe()
    try:
        assert stdio_transport._pipe_or_socket(read) is not None
    finally:
        os.close(read)
        os.close(write)


def test_without_the_sdks_private_pieces_the_sdk_transport_serves_and_says_so():
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "SOPHIA_GONG_SNAPSHOT_DIR") if key in os.environ}
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER, "fallback"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO, env=env,
    )
    try:
        initialize(process)
        assert call(process, 2, "shout", {"text": "via the SDK"})["content"][0]["text"] == "via the SDK"
        code, stderr = end(process)
    finally:
        if process.poll() is None:
            process.kill()
    assert code == 0
    assert "mcp.shared._context_streams.create_context_streams is not in this mcp release" in stderr
    assert "serving with the SDK's own stdio transport" in stderr


def test_a_renamed_low_level_server_is_noticed_before_serving():
    from sophia_mcp.surface.server import build_server
    from sophia_mcp.transports import stdio as stdio_transport

    server = build_server()
    assert stdio_transport._private_pieces_missing(server) is None

    class Renamed:  # an MCPServer whose private attribute has another name
        _low_level = server._lowlevel_server

    assert stdio_transport._private_pieces_missing(Renamed()) == "MCPServer._lowlevel_server"
