"""MCP over stdio with the pipes read and written by the asyncio event loop.

Why: the SDK's `mcp.server.stdio.stdio_server` hands every line it reads and every write it makes
to a worker thread (`anyio.wrap_file`), about 0.35 ms per call on the reference machine; reading and
writing the pipes with `loop.connect_read_pipe` / `connect_write_pipe` does the same work on the
loop (benchmarks/GONG.md: the no-work round trip went from 0.83 to 0.48 ms).

`stdio_server()` is a drop-in for the SDK's: it yields the same `(read_stream, write_stream)` pair
(`SessionMessage | Exception` in, `SessionMessage` out), sends an invalid line on as the exception
(the session answers it and keeps serving), decodes UTF-8 with replacement, ends the read stream at
end of input, and, like the SDK, points fd 0 at the null device and fd 1 at stderr while serving so a
stray `print()` or a child process cannot write into the protocol. It is used only on POSIX, under
asyncio, when stdin and stdout are pipes or sockets (what an MCP client launching the server gives);
anything else (a terminal, a file, Windows, trio) gets the SDK's own transport.

It relies on pieces of the SDK that are not public API (`mcp.shared._context_streams`, the server's
`_lowlevel_server`). `mcp` is allowed anywhere in the 2.3 series: if a release renames or drops one of
them, the server logs one warning and serves with the SDK's own stdio transport instead.
"""

from __future__ import annotations

import asyncio
import os
import stat
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import logging

import anyio
import anyio.lowlevel
import mcp_types as types
from mcp.server.stdio import stdio_server as sdk_stdio_server
from mcp.shared.message import SessionMessage

try:  # private to the SDK: see the module docstring
    from mcp.shared._context_streams import create_context_streams
except ImportError:
    create_context_streams = None

logger = logging.getLogger(__name__)

# Bytes the reader buffers before a line is handed over in pieces (longer lines still work, see
# _read_line); reading pauses at twice this, which is the back-pressure on a fast client.
READ_CHUNK_LIMIT = 4 * 1024 * 1024


def _pipe_or_socket(fd: int) -> os.stat_result | None:
    try:
        st = os.fstat(fd)
    except OSError:
        return None
    return st if stat.S_ISFIFO(st.st_mode) or stat.S_ISSOCK(st.st_mode) else None


def _use_pipe_transport() -> bool:
    if sys.platform == "win32":
        return False
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # not under asyncio (trio)
        return False
    stdin, stdout = _pipe_or_socket(0), _pipe_or_socket(1)
    if stdin is None or stdout is None:
        return False
    # One socket on both fds: asyncio's write transport watches its fd for readability to notice the
    # peer closing, so incoming requests would look like a hang-up. The SDK's transport copes.
    return (stdin.st_dev, stdin.st_ino) != (stdout.st_dev, stdout.st_ino)


async def _read_line(reader: asyncio.StreamReader) -> bytes:
    """One line with its newline (the last may lack it), b"" at end of input; any length."""
    parts: list[bytes] = []
    while True:
        try:
            parts.append(await reader.readuntil(b"\n"))
        except asyncio.IncompleteReadError as eof:
            parts.append(eof.partial)
        except asyncio.LimitOverrunError as long_line:
            parts.append(await reader.readexactly(long_line.consumed))  # already buffered
            continue
        return b"".join(parts)


@asynccontextmanager
async def stdio_server() -> AsyncIterator[tuple[Any, Any]]:
    """Serve MCP over this process's stdin and stdout; see the module docstring."""
    if create_context_streams is None or not _use_pipe_transport():
        async with sdk_stdio_server() as streams:
            yield streams
        return

    import fcntl

    loop = asyncio.get_running_loop()
    # Private duplicates carry the wire (above fd 2, close-on-exec so children never inherit them);
    # then fd 0 reads the null device and fd 1 writes to stderr, as the SDK arranges.
    wire_in = fcntl.fcntl(0, fcntl.F_DUPFD_CLOEXEC, 3)
    wire_out = fcntl.fcntl(1, fcntl.F_DUPFD_CLOEXEC, 3)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    read_transport = write_transport = None
    try:
        reader = asyncio.StreamReader(limit=READ_CHUNK_LIMIT)
        # closefd=False: the transports must not close the duplicates; they are put back on 0 and 1 below.
        read_transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(wire_in, "rb", buffering=0, closefd=False)
        )
        write_transport, write_protocol = await loop.connect_write_pipe(
            asyncio.streams.FlowControlMixin, os.fdopen(wire_out, "wb", buffering=0, closefd=False)
        )
        # drain() returns only once the kernel has every byte (the SDK flushes after each message), so
        # nothing is left in a buffer at exit. A write that fits the pipe is made at once, unbuffered.
        write_transport.set_write_buffer_limits(high=0)
        writer = asyncio.StreamWriter(write_transport, write_protocol, None, loop)

        read_stream_writer, read_stream = create_context_streams[SessionMessage | Exception](0)
        write_stream, write_stream_reader = create_context_streams[SessionMessage](0)

        async def stdin_reader() -> None:
            try:
                async with read_stream_writer:
                    while line := await _read_line(reader):
                        try:
                            text = line.decode("utf-8", errors="replace")
                            message = types.jsonrpc_message_adapter.validate_json(text, by_name=False)
                        except Exception as exc:
                            await read_stream_writer.send(exc)
                            continue
                        await read_stream_writer.send(SessionMessage(message))
            except anyio.ClosedResourceError:
                await anyio.lowlevel.checkpoint()

        async def stdout_writer() -> None:
            try:
                async with write_stream_reader:
                    async for session_message in write_stream_reader:
                        json = session_message.message.model_dump_json(by_alias=True, exclude_unset=True)
                        writer.write((json + "\n").encode())
                        await writer.drain()
            except anyio.ClosedResourceError:
                await anyio.lowlevel.checkpoint()

        async with anyio.create_task_group() as tg:
            reading = anyio.CancelScope()

            async def read_until_done() -> None:
                with reading:
                    await stdin_reader()

            tg.start_soon(read_until_done)
            tg.start_soon(stdout_writer)
            yield read_stream, write_stream
            # The server is done: stop reading (unlike the SDK's thread, this read can be cancelled, so
            # a server that stops with stdin still open does not hang); the writer ends once the session
            # has closed its write stream and everything it sent is written.
            reading.cancel()
    finally:
        # Synchronous, so it also runs under cancellation: both stop watching their fds at once. abort()
        # drops only bytes never drained, which happens only when serving failed.
        if read_transport is not None:
            read_transport.close()
        if write_transport is not None:
            write_transport.abort()
        for fd, wire in ((0, wire_in), (1, wire_out)):
            with suppress(OSError):
                os.set_blocking(wire, True)  # the loop made the shared file description non-blocking
                os.dup2(wire, fd)
            with suppress(OSError):
                os.close(wire)


def _private_pieces_missing(server: Any) -> str | None:
    """What this transport needs from the SDK and cannot find, or None when everything is there."""
    if create_context_streams is None:
        return "mcp.shared._context_streams.create_context_streams"
    if not hasattr(types, "jsonrpc_message_adapter"):
        return "mcp_types.jsonrpc_message_adapter"
    lowlevel = getattr(server, "_lowlevel_server", None)
    if lowlevel is None:
        return "MCPServer._lowlevel_server"
    for name in ("run", "create_initialization_options"):
        if not callable(getattr(lowlevel, name, None)):
            return f"the low-level server's {name}()"
    return None


async def run_stdio_async(server: Any) -> None:
    """`MCPServer.run_stdio_async` with this transport, or the SDK's own when its private pieces are gone.

    MCPServer has no public accessor for its low-level server; this does exactly what its own
    run_stdio_async does with the SDK's transport (mcp 2.x: `_lowlevel_server.run(read, write, options)`).
    """
    missing = _private_pieces_missing(server)
    if missing is not None:
        logger.warning(
            "stdio: %s is not in this mcp release (%s); serving with the SDK's own stdio transport",
            missing, _mcp_version(),
        )
        await server.run_stdio_async()
        return
    lowlevel = server._lowlevel_server
    async with stdio_server() as (read_stream, write_stream):
        await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())


def _mcp_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return "mcp " + version("mcp")
    except PackageNotFoundError:
        return "mcp, version unknown"


def run_stdio(server: Any) -> None:
    """`MCPServer.run("stdio")` with this transport."""
    anyio.run(run_stdio_async, server)
