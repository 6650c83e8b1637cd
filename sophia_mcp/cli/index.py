"""`sophia-mcp index`: Gong calls and transcripts from Postgres into Qdrant, with a progress bar."""

from __future__ import annotations

import sys
import time
from typing import TextIO

import anyio

from sophia_mcp.search.indexer import IndexProgress, IndexReport, run_index
from sophia_mcp.settings import Settings

BAR_WIDTH = 30


class ProgressBar:
    """A one-line progress bar on stderr (stdout may be an MCP stream), redrawn at most 10 times a second."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self._stream = stream
        self._last = 0.0

    def __call__(self, progress: IndexProgress) -> None:
        now = time.monotonic()
        done = progress.calls_done >= progress.calls_total
        if not done and now - self._last < 0.1:
            return
        self._last = now
        share = progress.calls_done / progress.calls_total if progress.calls_total else 1.0
        filled = int(share * BAR_WIDTH)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        self._stream.write(
            f"\rindexing [{bar}] {progress.calls_done}/{progress.calls_total} calls, {progress.chunks_written} chunks"
        )
        if done:
            self._stream.write("\n")
        self._stream.flush()


def describe(report: IndexReport) -> str:
    if not report.calls_indexed:
        return "Index is up to date: no call changed since the last run."
    rate = report.chunks_embedded / report.seconds if report.seconds else 0.0
    return (
        f"Indexed {report.calls_indexed} calls: {report.chunks_written} chunks written, {report.chunks_embedded} "
        f"embedded, in {report.seconds:.1f} s ({rate:.0f} chunks/s). Watermark: {report.watermark}."
    )


async def index_once(settings: Settings, batch_calls: int, show_progress: bool = True) -> IndexReport:
    return await run_index(settings, batch_calls=batch_calls, on_progress=ProgressBar() if show_progress else None)


def run_index_command(batch_calls: int) -> int:
    report = anyio.run(index_once, Settings(), batch_calls)
    print(describe(report))
    return 0
