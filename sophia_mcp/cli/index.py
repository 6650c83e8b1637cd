"""`sophia-mcp index`: Gong calls and transcripts from Postgres into Qdrant, with a progress bar."""

from __future__ import annotations

import sys
import time
from typing import TextIO

import anyio

from sophia_mcp.search.errors import StoreFullError
from sophia_mcp.search.indexer import IndexProgress, IndexReport, run_index
from sophia_mcp.settings import Settings

BAR_WIDTH = 30


class ProgressBar:
    """A one-line progress bar on stderr (stdout may be an MCP stream), redrawn at most 10 times a second."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self._stream = stream
        self._last = 0.0
        self._open = False  # a bar drawn and not yet ended by a newline

    def end_line(self) -> None:
        """Ends a bar cut short, so that what is printed next starts on its own line."""
        if self._open:
            self._stream.write("\n")
            self._stream.flush()
            self._open = False

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
        self._open = not done
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


RESUMES = "run `sophia-mcp index` again: it resumes where it stopped, and what is indexed so far stays searchable."


def run_index_command(batch_calls: int) -> int:
    bar = ProgressBar()
    try:
        report = anyio.run(lambda: run_index(Settings(), batch_calls=batch_calls, on_progress=bar))
    except StoreFullError as exc:
        bar.end_line()
        raise StoreFullError(f"{exc}, then {RESUMES}") from None
    except KeyboardInterrupt:
        bar.end_line()
        print(f"sophia-mcp: indexing interrupted; {RESUMES}", file=sys.stderr)
        return 130
    except BaseException:
        bar.end_line()
        raise
    print(describe(report))
    return 0
