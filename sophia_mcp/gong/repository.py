"""The Gong lookups: one object per server, over a read-only pool, that the MCP tools call.

The tables are discovered on first use (not at start-up, so the server starts without touching
the network) and kept. A lookup that needs a missing stream rediscovers once the last discovery is
a minute old, so enabling the stream in Airbyte works without a restart; a table that vanished
(MissingTableError) makes the next lookup rediscover.
"""

from __future__ import annotations

import logging
import time
from datetime import date, datetime
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import TypeVar

import anyio

from sophia_mcp.errors import SophiaError
from sophia_mcp.gong import arguments, layout
from sophia_mcp.gong.arguments import Moment
from sophia_mcp.gong.errors import StreamMissingError
from sophia_mcp.gong.deals import DEFAULT_SILENT_DAYS, deals_of
from sophia_mcp.gong.errors import InvalidArgumentError
from sophia_mcp.gong.filters import CallFilters, DealFilters, Period, SpeechFilters, utc_moment
from sophia_mcp.gong.freshness import DEFAULT_STALE_AFTER_HOURS, DataAge, Freshness
from sophia_mcp.gong.snapshot import SummarySnapshots
from sophia_mcp.gong.summary import Summary, load_summary
from sophia_mcp.gong.models import (
    AccountActivity,
    CallDetail,
    CallPage,
    DataStatus,
    Dated,
    ChangesSince,
    DealBrief,
    DealPage,
    ScorecardStats,
    TrackerStats,
    RepStats,
    SchemaReport,
    TranscriptPage,
    TranscriptSearch,
    UserDetail,
    UserPage,
)
from sophia_mcp.gong.queries.accounts import account_activity
from sophia_mcp.gong.queries.call_detail import get_call
from sophia_mcp.gong.queries.calls import search_calls
from sophia_mcp.gong.queries.changes import changes_since
from sophia_mcp.gong.queries.deals import deal_brief, list_deals
from sophia_mcp.gong.queries.scorecards import scorecard_stats
from sophia_mcp.gong.queries.trackers import tracker_stats
from sophia_mcp.gong.queries.reps import rep_stats
from sophia_mcp.gong.queries.said import search_transcripts
from sophia_mcp.gong.queries.status import data_status
from sophia_mcp.gong.queries.transcripts import get_transcript
from sophia_mcp.gong.queries.users import get_user, list_users
from sophia_mcp.gong.schema import GongSchema, discover
from sophia_mcp.postgres.errors import MissingTableError
from sophia_mcp.postgres.readonly import ReadOnlyPool

T = TypeVar("T")
logger = logging.getLogger(__name__)


# The tables each kind of answer reads, for its `as_of`.
CALLS = ("calls", "extensiveCalls", "users")
CALL_DETAIL = ("calls", "extensiveCalls", "users", "answeredScorecards", "scorecards")
TRANSCRIPTS = ("callTranscripts", "extensiveCalls")
USERS = ("users",)
EXTENSIVE = ("extensiveCalls", "users")
SPEECH = ("callTranscripts", "calls", "extensiveCalls", "users")
SCORECARDS = ("answeredScorecards", "scorecards", "users")


class GongRepository:
    def __init__(
        self,
        pool: ReadOnlyPool,
        schema: str = "public",
        table_prefix: str = "",
        rediscover_after_s: float = 60.0,
        stale_after_hours: float = DEFAULT_STALE_AFTER_HOURS,
        snapshot_dir: Path | None = None,
    ) -> None:
        self._pool = pool
        self._schema_name = schema
        self._prefix = table_prefix
        self._rediscover_after_s = rediscover_after_s
        self._discovered: GongSchema | None = None
        self._lock = anyio.Lock()
        self._freshness = Freshness(pool, stale_after_hours)
        self._summary: Summary | None = None
        self._summary_lock = anyio.Lock()
        # A copy of the summary on the local disk (snapshot.py), for the next process.
        self.snapshots = (
            SummarySnapshots(snapshot_dir, f"{pool.identity}\n{schema}\n{table_prefix}") if snapshot_dir else None
        )

    async def tables(self) -> GongSchema:
        """The discovered tables (discovering them the first time)."""
        discovered = self._discovered
        if discovered is None:
            async with self._lock:
                if self._discovered is None:
                    self._discovered = await discover(self._pool, self._schema_name, self._prefix)
                discovered = self._discovered
        return discovered

    async def refresh(self) -> GongSchema:
        """Discover the tables again, e.g. after a stream was enabled in Airbyte."""
        async with self._lock:
            self._discovered = await discover(self._pool, self._schema_name, self._prefix)
            return self._discovered

    async def describe_schema(self, *, rediscover: bool = True) -> SchemaReport:
        """The tables and columns found and how they map to Gong's streams. Rediscovers by default:
        this is where a user checks what the server sees now."""
        return (await (self.refresh() if rediscover else self.tables())).report()

    async def search_calls(
        self, filters: CallFilters | None = None, *, limit: int | None = None, cursor: str | None = None
    ) -> CallPage:
        """Calls newest first that match every filter (see CallFilters)."""
        filters = filters or CallFilters()
        size = arguments.limit("limit", limit, default=20, maximum=100)
        return await self._run(lambda schema: search_calls(self._pool, schema, filters, size, cursor), CALLS)

    async def get_call(self, call_id: str, *, outline_chars: int = 1500) -> CallDetail:
        return await self._run(lambda schema: get_call(self._pool, schema, call_id, outline_chars), CALL_DETAIL)

    async def get_transcript(self, call_id: str, *, cursor: str | None = None, max_chars: int = 6000) -> TranscriptPage:
        return await self._run(
            lambda schema: get_transcript(self._pool, schema, call_id, cursor, max_chars), TRANSCRIPTS
        )

    async def search_transcripts(
        self,
        phrase: str,
        filters: SpeechFilters | None = None,
        *,
        exact: bool = False,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> TranscriptSearch:
        """Calls, newest first, where someone said `phrase` (case and accents ignored): every word
        in one sentence, or with `exact` the words in this order, adjacent."""
        filters = filters or SpeechFilters()
        size = arguments.limit("limit", limit, default=10, maximum=50)
        return await self._run(
            lambda schema: search_transcripts(self._pool, schema, phrase, exact, filters, size, cursor), SPEECH
        )

    async def list_deals(
        self, filters: DealFilters | None = None, *, limit: int | None = None, cursor: str | None = None
    ) -> DealPage:
        """Every opportunity in the calls' CRM context, newest activity first, with risk flags."""
        filters = filters or DealFilters()
        size = arguments.limit("limit", limit, default=20, maximum=100)
        return await self._run(
            lambda schema: self._with_summary(schema, lambda summary: list_deals(summary, filters, size, cursor)),
            EXTENSIVE,
        )

    async def deal_brief(self, opportunity: str, *, silent_days: int = DEFAULT_SILENT_DAYS) -> DealBrief:
        """One deal by CRM id or name: stage call by call, people, recent briefs, trackers, risks."""
        wanted = arguments.text("opportunity", opportunity)
        if wanted is None:
            raise InvalidArgumentError("opportunity is required: a CRM opportunity id or part of its name.")

        async def brief(schema: GongSchema) -> DealBrief:
            summary = await self._calls_summary(schema)
            return await deal_brief(self._pool, schema, summary, wanted, silent_days)

        return await self._run(brief, EXTENSIVE)

    async def tracker_stats(
        self, tracker: str | None = None, *, by: str = "week", period: Period | None = None
    ) -> TrackerStats:
        """How often each tracker fired (calls and hits), by week, month, rep or account."""
        if by not in ("week", "month", "rep", "account"):
            raise InvalidArgumentError("by must be one of: week, month, rep, account.")
        wanted = arguments.text("tracker", tracker)
        period = period or Period()
        return await self._run(
            lambda schema: self._with_summary(
                schema, lambda summary: tracker_stats(summary, wanted, by, period)  # type: ignore[arg-type]
            ),
            EXTENSIVE,
        )

    async def scorecard_stats(
        self, scorecard: str | None = None, *, rep: str | None = None, period: Period | None = None
    ) -> ScorecardStats:
        """Answered scorecards: per rep and per question averages, and how many were reviewed."""
        wanted, who, period = arguments.text("scorecard", scorecard), arguments.text("rep", rep), period or Period()
        return await self._run(
            lambda schema: scorecard_stats(self._pool, schema, wanted, who, period), SCORECARDS
        )

    async def changes_since(self, since: datetime | date | None = None) -> ChangesSince:
        """What arrived since a moment (default: the newest load): new calls by account and rep,
        stage moves, new deals, deals that went silent."""
        moment = utc_moment(since)
        return await self._run(
            lambda schema: self._with_summary(schema, lambda summary: changes_since(summary, moment)), EXTENSIVE
        )

    async def warm(self) -> None:
        """Read the summary behind the cross-call answers ahead of the first question (it takes
        seconds on large data); a failure is left for that question to report."""
        try:
            summary = await self._calls_summary(await self.tables())
            # The deals too, so the first deal question finds them built.
            await anyio.to_thread.run_sync(deals_of, summary)
        except Exception as exc:  # noqa: BLE001 - warming is best effort; the lookup itself will say what failed
            reason = str(exc) if isinstance(exc, SophiaError) else type(exc).__name__
            logger.info("warming the Gong summary failed (%s); the first cross-call lookup will retry", reason)

    async def _with_summary(self, schema: GongSchema, answer: Callable[[Summary], T]) -> T:
        return answer(await self._calls_summary(schema))

    async def data_age(self, streams: Iterable[str] = layout.STREAMS) -> DataAge:
        """How old the data of these streams is: `as_of`, the newest `_airbyte_extracted_at` among
        their tables (read at most once a minute), and whether that is stale. For answers built
        from the Gong data elsewhere (the semantic search index is built from these tables)."""
        return await self._freshness.age(await self.tables(), streams)

    async def list_users(
        self, query: str | None = None, *, active: bool | None = None, limit: int | None = None, cursor: str | None = None
    ) -> UserPage:
        size = arguments.limit("limit", limit, default=50, maximum=200)
        return await self._run(lambda schema: list_users(self._pool, schema, query, active, size, cursor), USERS)

    async def get_user(self, user_id: str) -> UserDetail:
        return await self._run(lambda schema: get_user(self._pool, schema, user_id), USERS)

    async def account_activity(
        self, account: str, *, since: Moment = None, until: Moment = None, limit: int | None = None
    ) -> AccountActivity:
        size = arguments.limit("limit", limit, default=20, maximum=100)
        return await self._run(
            lambda schema: account_activity(self._pool, schema, account, since, until, size), EXTENSIVE
        )

    async def rep_stats(
        self, *, since: Moment = None, until: Moment = None, rep: str | None = None, limit: int | None = None
    ) -> RepStats:
        """Defaults to the 30 days before `until` (itself defaulting to now)."""
        size = arguments.limit("limit", limit, default=50, maximum=500)
        return await self._run(lambda schema: rep_stats(self._pool, schema, since, until, rep, size), EXTENSIVE)

    async def data_status(self, *, stale_after_hours: float | None = None) -> DataStatus:
        """Per stream; `stale_after_hours` defaults to SOPHIA_STALE_AFTER_HOURS."""
        stale_after_hours = stale_after_hours or self._freshness.stale_after.total_seconds() / 3600
        # Always fresh: this is where a user checks whether a newly enabled stream has arrived.
        schema = await self.refresh()
        return await self._dated(await data_status(self._pool, schema, stale_after_hours), schema, layout.STREAMS)

    async def _run(self, lookup: Callable[[GongSchema], Awaitable[T]], streams: Iterable[str]) -> T:
        schema = await self.tables()
        try:
            result = await lookup(schema)
        except StreamMissingError:
            if time.monotonic() - schema.discovered_at < self._rediscover_after_s:
                raise
            schema = await self.refresh()
            result = await lookup(schema)
        except MissingTableError:
            self._discovered = None
            raise
        return await self._dated(result, schema, streams)

    async def _dated(self, result: T, schema: GongSchema, streams: Iterable[str]) -> T:
        if isinstance(result, Dated):
            age = await self._freshness.age(schema, streams)
            result.as_of, result.stale = age.as_of, age.stale
        return result

    async def _calls_summary(self, schema: GongSchema) -> Summary:
        """The in-process summary of every call (summary.py), read again when extensiveCalls changed."""
        as_of = (await self._freshness.newest(schema)).get("extensiveCalls")
        summary = self._summary
        if summary is None or summary.as_of != as_of:
            async with self._summary_lock:
                if self._summary is None or self._summary.as_of != as_of:
                    self._summary = await self._load_summary(schema, as_of)
                summary = self._summary
        return summary

    async def _load_summary(self, schema: GongSchema, as_of: datetime | None) -> Summary:
        """From the previous summary (in memory, else the snapshot on disk), reading only what
        arrived since when that is safe; the snapshot is then brought up to date in the background."""
        base = self._summary
        if base is None and self.snapshots is not None:
            base = await anyio.to_thread.run_sync(self.snapshots.read)
        summary = await load_summary(self._pool, schema, as_of, base)
        if self.snapshots is not None and summary.source is not None and (base is None or base.source != summary.source):
            # The deals first: most questions need them, and writing competes with them for the CPU.
            await anyio.to_thread.run_sync(deals_of, summary)
            self.snapshots.save_soon(summary)
        return summary
