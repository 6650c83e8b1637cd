"""The Gong tools: read-only lookups over the tables Airbyte writes, via the Gong repository."""

import functools
import inspect
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Annotated, Any, Literal

import annotated_types
from mcp.server.mcpserver import Context
from mcp_types import CallToolResult
from pydantic import BaseModel, Field

from sophia_mcp.surface.context import app_context
from sophia_mcp.gong.models import (
    AccountActivity,
    CallDetail,
    CallPage,
    ChangesSince,
    DataStatus,
    DealBrief,
    DealPage,
    ScorecardStats,
    TrackerStats,
    RepStats,
    TranscriptPage,
    TranscriptSearch,
    UserPage,
)
from sophia_mcp.gong.filters import Account, CallFilters, DealFilters, Period, Rep, Since, SpeechFilters, Until, checked
from sophia_mcp.surface.tools.shaping import compact, tool_errors

__all__ = ["Account", "Rep", "Since", "Until"]


CallId = Annotated[str, Field(min_length=1, max_length=40, description="A Gong call id, e.g. from gong_search_calls.")]
PageCursor = Annotated[str | None, Field(max_length=500, description="`next_cursor` of the previous page.")]


def filter_arguments(model: type[BaseModel]) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
    """Each field of `model` becomes an argument of the tool (so the input schema an assistant reads
    stays flat, with the field's bounds and description), and the tool receives them validated, as
    one `filters` object. Only the bounds go into the schema: the model's own checks (trimming, dates
    to UTC, ranges) run once, in `checked`, and fail with a message naming the argument."""

    def decorate(tool: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        signature = inspect.signature(tool, eval_str=True)
        names = tuple(model.model_fields)

        @functools.wraps(tool)
        async def with_filters(*args: Any, **kwargs: Any) -> Any:
            values = {name: kwargs.pop(name) for name in names if name in kwargs}
            return await tool(*args, filters=checked(model, **values), **kwargs)

        flat = [
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=field.default,
                annotation=Annotated[
                    (
                        field.annotation,
                        *(m for m in field.metadata if isinstance(m, annotated_types.BaseMetadata)),
                        Field(description=field.description),
                    )
                ],
            )
            for name, field in model.model_fields.items()
        ]
        # The context comes first; the tool's own arguments (limit, cursor, ...) follow the filters.
        ctx, *own = (p for p in signature.parameters.values() if p.name != "filters")
        keyword_only = [*flat, *(p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own)]
        with_filters.__signature__ = signature.replace(parameters=[ctx, *keyword_only])  # type: ignore[attr-defined]
        with_filters.__annotations__ = {p.name: p.annotation for p in (ctx, *keyword_only)} | {
            "return": signature.return_annotation
        }
        return with_filters

    return decorate


@tool_errors
@filter_arguments(CallFilters)
async def gong_search_calls(
    ctx: Context, filters: CallFilters, limit: Annotated[int, Field(ge=1, le=100)] = 20, cursor: PageCursor = None
) -> Annotated[CallToolResult, CallPage]:
    """Find Gong calls, newest first, by title words, date range, rep, account, opportunity, direction,
    duration and tracker. Returns compact rows with call ids for gong_get_call and gong_get_transcript; page
    with cursor. For questions about what was said, use gong_search_transcripts (exact words) or
    gong_semantic_search (meaning)."""
    return compact(await app_context(ctx).gong.search_calls(filters, limit=limit, cursor=cursor))


@tool_errors
@filter_arguments(SpeechFilters)
async def gong_search_transcripts(
    ctx: Context,
    phrase: Annotated[
        str, Field(max_length=200, description="Words said, e.g. a competitor, a product code or a name.")
    ],
    filters: SpeechFilters,
    exact: Annotated[
        bool, Field(description="The words in this order, adjacent (a phrase); else all of them in one sentence.")
    ] = False,
    limit: Annotated[int, Field(ge=1, le=50, description="Calls per page.")] = 10,
    cursor: PageCursor = None,
) -> Annotated[CallToolResult, TranscriptSearch]:
    """Find what was said word for word in Gong transcripts: exact names, competitors, product codes that
    meaning-based search misses. Case and accents are ignored. Newest call first; each with the speaker, m:ss
    offset and a snippet of the first matching sentences; page with cursor. Call ids work with
    gong_get_transcript."""
    return compact(
        await app_context(ctx).gong.search_transcripts(phrase, filters, exact=exact, limit=limit, cursor=cursor)
    )


@tool_errors
@filter_arguments(DealFilters)
async def gong_list_deals(
    ctx: Context,
    filters: DealFilters,
    limit: Annotated[int, Field(ge=1, le=100)] = 20,
    cursor: PageCursor = None,
) -> Annotated[CallToolResult, DealPage]:
    """Deals (CRM opportunities found in the calls), newest activity first: stage, amount, close date, owner,
    first and last call, calls, customer people, and risk flags silent (no call for silent_days, counted from
    the newest data), stage_regressed (stage moved back between calls), single_threaded (one customer
    person). Filter by stage, owner, account or flag; ids go to gong_deal_brief."""
    return compact(await app_context(ctx).gong.list_deals(filters, limit=limit, cursor=cursor))


@tool_errors
async def gong_deal_brief(
    ctx: Context,
    opportunity: Annotated[
        str, Field(min_length=1, max_length=200, description="A CRM opportunity id (gong_list_deals) or part of its name.")
    ],
    silent_days: Annotated[int, Field(ge=1, le=3650, description="Days without a call that make it silent.")] = 14,
) -> Annotated[CallToolResult, DealBrief]:
    """One deal: its stage call by call, the people on each side, the newest calls with their briefs and next
    steps, the trackers and topics that came up, and each risk flag with its evidence (dates and call ids)."""
    return compact(await app_context(ctx).gong.deal_brief(opportunity, silent_days=silent_days))


@tool_errors
@filter_arguments(Period)
async def gong_tracker_stats(
    ctx: Context,
    filters: Period,
    tracker: Annotated[
        str | None, Field(max_length=200, description="One tracker's name (ignoring case); all trackers if left out.")
    ] = None,
    by: Annotated[Literal["week", "month", "rep", "account"], Field(description="How to bucket the counts.")] = "week",
) -> Annotated[CallToolResult, TrackerStats]:
    """How often Gong trackers fired (calls and hits) over a period, bucketed by week, month, rep or account;
    most-fired tracker first. The calls behind a tracker are one gong_search_calls(tracker=...) away."""
    return compact(await app_context(ctx).gong.tracker_stats(tracker, by=by, period=filters))


@tool_errors
@filter_arguments(Period)
async def gong_scorecard_stats(
    ctx: Context,
    filters: Period,
    scorecard: Annotated[str | None, Field(max_length=200, description="A scorecard id or part of its name.")] = None,
    rep: Rep = None,
) -> Annotated[CallToolResult, ScorecardStats]:
    """Answered Gong scorecards over a period (by the reviewed call's start): how many were reviewed, the
    average score per rep (all answers and the overall question) and per question, 1-5."""
    return compact(await app_context(ctx).gong.scorecard_stats(scorecard, rep=rep, period=filters))


@tool_errors
async def gong_changes_since(
    ctx: Context,
    since: Annotated[
        datetime | date | None,
        Field(description="From this moment, ISO 8601, UTC; default: the newest load (Airbyte sync) of calls."),
    ] = None,
) -> Annotated[CallToolResult, ChangesSince]:
    """A digest of what arrived since a moment: new calls by account and rep, deals whose stage moved, new
    deals, and open deals that went silent. Use after a sync, or to catch up since a date."""
    return compact(await app_context(ctx).gong.changes_since(since))


@tool_errors
async def gong_get_call(
    ctx: Context,
    call_id: CallId,
    outline_chars: Annotated[int, Field(ge=0, le=20000, description="Size budget for the outline.")] = 1500,
) -> Annotated[CallToolResult, CallDetail]:
    """One Gong call: metadata, parties, CRM account and opportunities, brief, key points, topics, trackers,
    outcome, highlights, outline, interaction stats (talk ratio, monologues, questions) and scorecards."""
    return compact(await app_context(ctx).gong.get_call(call_id, outline_chars=outline_chars))


@tool_errors
async def gong_get_transcript(
    ctx: Context,
    call_id: CallId,
    cursor: PageCursor = None,
    max_chars: Annotated[int, Field(ge=500, le=30000, description="Size budget of this page of turns.")] = 6000,
) -> Annotated[CallToolResult, TranscriptPage]:
    """A call's transcript as speaker turns with names resolved from the call's parties and m:ss offsets,
    paged to a size budget: pass next_cursor back as cursor to read on."""
    return compact(await app_context(ctx).gong.get_transcript(call_id, cursor=cursor, max_chars=max_chars))


@tool_errors
async def gong_list_users(
    ctx: Context,
    query: Annotated[str | None, Field(max_length=200, description="Part of a name or email.")] = None,
    active: Annotated[bool | None, Field(description="Only active (true) or inactive (false) users.")] = None,
    limit: Annotated[int, Field(ge=1, le=200)] = 50,
    cursor: PageCursor = None,
) -> Annotated[CallToolResult, UserPage]:
    """Gong users (the seller's team) by name or email, active or not, with ids for the rep filters."""
    return compact(await app_context(ctx).gong.list_users(query, active=active, limit=limit, cursor=cursor))


@tool_errors
async def gong_account_activity(
    ctx: Context,
    account: Annotated[str, Field(min_length=1, max_length=200, description="A CRM account id or its name.")],
    since: Since = None,
    until: Until = None,
    limit: Annotated[int, Field(ge=1, le=100, description="Most recent calls to list.")] = 20,
) -> Annotated[CallToolResult, AccountActivity]:
    """One account over time: its calls, the people on them (customer side first) and how each opportunity's
    stage moved from call to call."""
    return compact(await app_context(ctx).gong.account_activity(account, since=since, until=until, limit=limit))


@tool_errors
async def gong_rep_stats(
    ctx: Context,
    since: Since = None,
    until: Until = None,
    rep: Rep = None,
    limit: Annotated[int, Field(ge=1, le=500)] = 50,
) -> Annotated[CallToolResult, RepStats]:
    """Per rep over a period (default the last 30 days): calls, minutes, talk ratio, questions per call,
    longest monologue, interactivity and patience."""
    return compact(await app_context(ctx).gong.rep_stats(since=since, until=until, rep=rep, limit=limit))


@tool_errors
async def gong_data_status(
    ctx: Context,
    stale_after_hours: Annotated[
        float | None, Field(gt=0, le=8760, description="Older than this counts as stale; default SOPHIA_STALE_AFTER_HOURS.")
    ] = None,
) -> Annotated[CallToolResult, DataStatus]:
    """Per Gong stream: table found, rows, distinct records, newest _airbyte_extracted_at, newest call, and
    whether it is fresh. Use after a sync to check the data arrived; a missing stream says what to enable."""
    return compact(await app_context(ctx).gong.data_status(stale_after_hours=stale_after_hours))
