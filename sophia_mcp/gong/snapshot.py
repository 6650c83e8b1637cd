"""A private copy of the call summary on the local disk, so that a new process starts from it.

Reading the summary from Postgres takes seconds at 100,000 calls; reading this copy a fraction of
one. A process that finds a copy checks it still describes the table (same database and table,
every row it counted still there) and then reads only the rows extracted after it (summary.py);
otherwise it reads everything, as without a copy, and replaces it.

One file per database, Gong schema and table prefix, named by a hash of them (never the URL itself:
it may hold a password), in a folder only the user can open (0700), the file readable by the user
only (0600): it holds call titles, account and deal names and customers' e-mail addresses. A file
that is truncated, corrupt, or written by another version of this program or of Python is ignored
and replaced; a folder that cannot be written only means no copy. `SOPHIA_GONG_SNAPSHOT_DIR`
chooses the folder (`off` for none).
"""

from __future__ import annotations

import hashlib
import logging
import marshal
import os
import stat
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from functools import partial
from itertools import repeat
from pathlib import Path

from sophia_mcp.gong.summary import (
    STATEMENT_VERSION,
    CallSummary,
    OpportunityAtCall,
    Source,
    Summary,
    no_cycle_collection,
)

logger = logging.getLogger(__name__)

FORMAT = 1
MAGIC = (
    f"sophia-mcp gong summary {FORMAT}.{STATEMENT_VERSION} "
    f"python {sys.version_info[0]}.{sys.version_info[1]} marshal {marshal.version}\n"
).encode()
DIGEST_BYTES = 32
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
ONE_MICROSECOND = timedelta(microseconds=1)
# A temporary file left by a process that stopped while writing is removed after this long.
ABANDONED_AFTER_S = 600.0
# A snapshot no process has written for this long (a database gone, moved or renamed) is removed.
UNUSED_AFTER_S = 30 * 86400.0


def default_dir() -> Path:
    """The user's cache folder, as each system names it."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "sophia-mcp" / "gong-summary"


def snapshot_dir(setting: str | None) -> Path | None:
    """The folder for SOPHIA_GONG_SNAPSHOT_DIR's value: unset or empty for the default, `off` for none."""
    if setting is None or not setting.strip():
        return default_dir()
    if setting.strip().lower() == "off":
        return None
    return Path(setting.strip()).expanduser()


class SummarySnapshots:
    """The snapshot of one database's summary. `identity` names the database, schema and prefix;
    only its hash reaches the disk."""

    def __init__(self, directory: Path, identity: str) -> None:
        self.directory = directory
        digest = hashlib.sha256(f"{identity}\n{FORMAT}.{STATEMENT_VERSION}".encode()).hexdigest()[:32]
        self.path = directory / f"{digest}.summary"
        self._writer: threading.Thread | None = None
        self._lock = threading.Lock()

    def read(self) -> Summary | None:
        """The summary in the file (with its source, no users, `as_of` unset), or None if there is
        no usable file."""
        try:
            with self.path.open("rb") as file:
                if not _private(os.fstat(file.fileno())):
                    logger.warning(
                        "ignoring the Gong summary snapshot %s: another user owns it or can write it; "
                        "reading from Postgres", self.path,
                    )
                    return None
                data = file.read()
        except OSError:
            return None
        try:
            return _decode(data)
        except Exception as exc:  # noqa: BLE001 - any damage means: read from Postgres instead
            logger.info("ignoring the Gong summary snapshot %s (%s); reading from Postgres", self.path, type(exc).__name__)
            return None

    def save_soon(self, summary: Summary) -> None:
        """Write in a background thread; the caller does not wait. Not a daemon thread: a process
        that exits meanwhile finishes the write first (a second or so at 100,000 calls)."""
        writer = threading.Thread(target=self.write, args=(summary,), name="sophia-gong-snapshot")
        self._writer = writer
        writer.start()

    def wait(self) -> None:
        """Until the last write started is done."""
        if self._writer is not None:
            self._writer.join()

    def write(self, summary: Summary) -> bool:
        """Replace the file (atomically) with this summary; False, logged, if that is not possible."""
        if summary.source is None:
            return False
        with self._lock:
            try:
                data = _encode(summary)
                self._make_directory()
                self._remove_abandoned()
                temporary = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
                descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                try:
                    with os.fdopen(descriptor, "wb") as file:
                        file.write(data)
                    os.replace(temporary, self.path)
                except BaseException:
                    temporary.unlink(missing_ok=True)
                    raise
            except OSError as exc:
                logger.info("could not keep a Gong summary snapshot in %s (%s)", self.directory, exc.strerror or exc)
                return False
        return True

    def _make_directory(self) -> None:
        # The umask can only take permissions away: a folder made here is the user's alone.
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)

    def _remove_abandoned(self) -> None:
        now = time.time()
        leftovers = [(path, ABANDONED_AFTER_S) for path in self.directory.glob(f"{self.path.name}.*.tmp")]
        leftovers += [(path, UNUSED_AFTER_S) for path in self.directory.glob("*.summary") if path != self.path]
        for leftover, after in leftovers:
            try:
                if now - leftover.stat().st_mtime > after:
                    leftover.unlink()
            except OSError:
                pass


def _private(status: os.stat_result) -> bool:
    """Whether only this user could have written the file: marshal data is trusted, so a file that
    someone else owns or may write (a shared SOPHIA_GONG_SNAPSHOT_DIR) is never read."""
    if not hasattr(os, "getuid"):  # Windows: the user's own cache folder, no POSIX modes
        return True
    return status.st_uid == os.getuid() and not status.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _encode(summary: Summary) -> bytes:
    """Column by column, with what repeats (extraction times, a deal's state) stored once and
    referred to by position: reading it back is then mostly C loops."""
    source = summary.source
    assert source is not None
    calls = summary.calls
    moments: dict[datetime, int] = {}
    deals: dict[tuple[OpportunityAtCall, ...], int] = {}
    columns = (
        [c.id for c in calls],
        [(c.started - EPOCH) // ONE_MICROSECOND for c in calls],
        [moments.setdefault(c.extracted, len(moments)) for c in calls],
        [moments.setdefault(c.first_extracted, len(moments)) for c in calls],
        [c.rep_id for c in calls],
        [c.title for c in calls],
        [c.account_id for c in calls],
        [c.account_name for c in calls],
        [deals.setdefault(c.opportunities, len(deals)) for c in calls],
        # marshal writes an object met twice once (an account's contacts, a set of trackers).
        [c.customers for c in calls],
        [c.trackers for c in calls],
    )
    payload = marshal.dumps(
        (
            (source.database, source.table, (source.watermark - EPOCH) // ONE_MICROSECOND, source.rows),
            [(moment - EPOCH) // ONE_MICROSECOND for moment in moments],
            [tuple(tuple(deal) for deal in state) for state in deals],
            columns,
        )
    )
    return MAGIC + hashlib.blake2b(payload, digest_size=DIGEST_BYTES).digest() + payload


def _moment(microseconds: int) -> datetime:
    return EPOCH + timedelta(microseconds=microseconds)


def _decode(data: bytes) -> Summary | None:
    if not data.startswith(MAGIC):
        return None
    digest = data[len(MAGIC) : len(MAGIC) + DIGEST_BYTES]
    payload = memoryview(data)[len(MAGIC) + DIGEST_BYTES :]
    if hashlib.blake2b(payload, digest_size=DIGEST_BYTES).digest() != digest:
        return None
    with no_cycle_collection():
        (database, table, watermark, rows), moment_list, deal_list, columns = marshal.loads(payload)
        ids, started, extracted, first, reps, titles, account_ids, account_names, deal_refs, customers, trackers = columns
        moments = [_moment(value) for value in moment_list]
        states = [tuple(OpportunityAtCall(*deal) for deal in state) for state in deal_list]
        make = partial(tuple.__new__, CallSummary)
        calls = list(
            map(
                make,
                zip(
                    ids,
                    map(EPOCH.__add__, map(timedelta, repeat(0), repeat(0), started)),
                    map(moments.__getitem__, extracted),
                    map(moments.__getitem__, first),
                    reps, titles, account_ids, account_names,
                    map(states.__getitem__, deal_refs),
                    customers, trackers,
                    strict=True,
                ),
            )
        )  # fmt: skip
    if len(calls) != len(ids) or any(len(column) != len(ids) for column in columns):
        return None
    return Summary(as_of=None, calls=calls, source=Source(int(database), int(table), _moment(watermark), int(rows)))
