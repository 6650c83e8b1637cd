"""What the Gong lookups return: small models meant to be read by an assistant.

Empty fields are left out when serialised (no nulls to wade through). Every record carries the id
the next lookup takes (call `id` -> get_call / get_transcript, `rep_id` -> rep filters, account
`id` -> account_activity), and lists that go on carry `next_cursor`.
Times are ISO 8601 in UTC; durations are in seconds unless the name says otherwise.
"""

from __future__ import annotations

import copy
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema


def _absent_not_null(schema: dict[str, Any]) -> None:
    """JSON schema as these models serialise: an empty field is left out, never null. So an optional
    field's `anyOf: [X, null]` is just X, and `default: null` and the titles go. The output schema
    stays small, and a client checking every result against it (the official client does) does
    a third of the work."""
    schema.pop("title", None)
    for field in (schema.get("properties") or {}).values():
        field.pop("title", None)
        options = field.get("anyOf")
        if isinstance(options, list) and {"type": "null"} in options and len(options) == 2:
            del field["anyOf"]
            field.update(next(option for option in options if option != {"type": "null"}))
            if field.get("default", 0) is None:
                del field["default"]


def _inline_refs(node: Any, handler: GetJsonSchemaHandler, depth: int = 0) -> None:
    """Replace every `$ref` under `node` by a copy of what it points to (these models do not nest
    themselves). A client resolves no references while it checks a result: a quarter less work."""
    if depth > 20:
        raise ValueError("output models nest too deeply to inline")
    if isinstance(node, dict):
        if "$ref" in node:
            node.update(copy.deepcopy(handler.resolve_ref_schema({"$ref": node.pop("$ref")})))
        for value in node.values():
            _inline_refs(value, handler, depth + 1)
    elif isinstance(node, list):
        for value in node:
            _inline_refs(value, handler, depth + 1)


class Compact(BaseModel):
    model_config = ConfigDict(json_schema_extra=_absent_not_null)

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core_schema)
        _inline_refs(handler.resolve_ref_schema(schema).get("properties"), handler)
        return schema

    # Empty fields are left out of every dump by default. (A wrap serializer would do the same at
    # the cost of a Python call per nested model; this keeps serialising in pydantic-core.)
    def model_dump(self, **kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("exclude_none", True)
        return super().model_dump(**kwargs)

    def model_dump_json(self, **kwargs: Any) -> str:
        kwargs.setdefault("exclude_none", True)
        return super().model_dump_json(**kwargs)


class Dated(Compact):
    """A Gong answer: how old the data behind it is."""

    as_of: datetime | None = Field(None, description="Newest _airbyte_extracted_at of the tables read, UTC.")
    stale: bool | None = Field(None, description="True when as_of is older than SOPHIA_STALE_AFTER_HOURS.")


class CallRow(Compact):
    id: str
    title: str | None = None
    started: datetime | None = None
    duration_s: int | None = None
    direction: str | None = None
    rep: str | None = None
    rep_id: str | None = None
    account: str | None = None
    account_id: str | None = None


class CallPage(Dated):
    calls: list[CallRow]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page; absent on the last page.")


class Person(Compact):
    name: str | None = None
    email: str | None = None
    title: str | None = None
    affiliation: str | None = Field(None, description="Internal (the seller's team) or External.")
    user_id: str | None = None


class Account(Compact):
    id: str
    name: str | None = None
    industry: str | None = None
    website: str | None = None


class Opportunity(Compact):
    id: str
    name: str | None = None
    stage: str | None = Field(None, description="Stage when Gong last synced the call.")
    stage_at_call: str | None = None
    amount: float | None = None
    close_date: str | None = None
    probability: float | None = None
    type: str | None = None


class Topic(Compact):
    name: str
    duration_s: int | None = None


class Tracker(Compact):
    name: str
    count: int | None = None


class Outcome(Compact):
    name: str | None = None
    category: str | None = None


class OutlineSection(Compact):
    section: str | None = None
    at: str | None = Field(None, description="Offset into the call, m:ss.")
    items: list[str] = []


class SpeakerTime(Compact):
    name: str
    talk_s: float | None = None


class CallStats(Compact):
    talk_ratio: float | None = Field(None, description="Share of talk time by the seller's team, 0-1.")
    longest_monologue_s: float | None = None
    longest_customer_story_s: float | None = None
    interactivity: float | None = None
    patience: float | None = None
    question_rate: float | None = None
    questions_by_team: int | None = None
    questions_by_others: int | None = None
    speakers: list[SpeakerTime] | None = None


class ScorecardAnswer(Compact):
    question: str | None = None
    score: int | None = None
    answer: str | None = None


class AnsweredScorecard(Compact):
    id: str
    scorecard: str | None = None
    reviewer: str | None = None
    reviewed: str | None = None
    reviewed_at: datetime | None = None
    overall: int | None = None
    answers: list[ScorecardAnswer] = []


class CallDetail(Dated):
    id: str
    title: str | None = None
    started: datetime | None = None
    duration_s: int | None = None
    direction: str | None = None
    scope: str | None = None
    system: str | None = None
    language: str | None = None
    url: str | None = None
    rep: Person | None = None
    parties: list[Person] | None = None
    account: Account | None = None
    opportunities: list[Opportunity] | None = None
    brief: str | None = None
    key_points: list[str] | None = None
    topics: list[Topic] | None = None
    trackers: list[Tracker] | None = None
    outcome: Outcome | None = None
    highlights: list[str] | None = None
    outline: list[OutlineSection] | None = None
    outline_more: str | None = Field(None, description="Present when the outline was cut to the size budget.")
    stats: CallStats | None = None
    scorecards: list[AnsweredScorecard] | None = None
    unavailable: list[str] | None = Field(None, description="Parts missing because their Airbyte stream is not synced.")


class Turn(Compact):
    speaker: str
    at: str = Field(description="Offset into the call, m:ss.")
    text: str
    topic: str | None = None


class TranscriptPage(Dated):
    call_id: str
    speakers: list[Person] | None = None
    turns: list[Turn]
    turns_total: int
    next_cursor: str | None = Field(None, description="Pass as `cursor` to read on; absent at the end.")
    note: str | None = None


class User(Compact):
    id: str
    name: str | None = None
    email: str | None = None
    title: str | None = None
    active: bool | None = None
    manager_id: str | None = None


class UserDetail(User, Dated):
    manager: str | None = Field(None, description="The manager's name.")
    created: datetime | None = None


class UserPage(Dated):
    users: list[User]
    next_cursor: str | None = None


class StageSpan(Compact):
    stage: str
    first_call: date
    last_call: date


class OpportunityHistory(Compact):
    id: str
    name: str | None = None
    stage: str | None = Field(None, description="Stage at the most recent sync.")
    amount: float | None = None
    close_date: str | None = None
    stages: list[StageSpan] = Field(description="Stage at the time of each call, oldest first.")


class Contact(Compact):
    name: str | None = None
    email: str | None = None
    title: str | None = None
    affiliation: str | None = None
    calls: int
    last_call: date


class AccountActivity(Dated):
    account: Account
    since: datetime | None = None
    until: datetime | None = None
    calls_total: int
    calls: list[CallRow] = Field(description="Newest first, at most `limit`.")
    people: list[Contact] = Field(description="Customer people first, then the seller's team; at most 25.")
    opportunities: list[OpportunityHistory] = Field(description="From the newest 500 calls in the period.")


class RepStat(Compact):
    rep_id: str
    rep: str | None = None
    calls: int
    minutes: float
    talk_ratio: float | None = None
    questions_per_call: float | None = None
    longest_monologue_s: float | None = None
    interactivity: float | None = None
    patience: float | None = None


class RepStats(Dated):
    since: datetime
    until: datetime
    reps: list[RepStat]


class StreamStatus(Compact):
    stream: str
    found: bool
    table: str | None = None
    rows: int | None = None
    records: int | None = Field(None, description="Distinct ids; fewer than rows when syncs kept older versions.")
    last_extracted_at: datetime | None = None
    newest: datetime | None = Field(None, description="Newest call start (or review time) in the table.")
    age_hours: float | None = Field(None, description="Hours since the last extraction.")
    fresh: bool | None = None
    hint: str | None = None


class DataStatus(Dated):
    schema_name: str
    prefix: str | None = None
    streams: list[StreamStatus]


class StreamMapping(Compact):
    stream: str
    found: bool
    table: str | None = None
    key: str | None = Field(None, description="The record id column; the latest row per id is read.")
    columns: dict[str, str] | None = Field(None, description="Documented column name -> its Postgres type here.")
    renamed: dict[str, str] | None = Field(None, description="Documented column name -> name in this database.")
    missing_columns: list[str] | None = None
    problem: str | None = None
    used_by: list[str] | None = Field(None, description="What needs this stream.")


class SchemaReport(Compact):
    schema_name: str
    prefix: str | None = None
    streams: list[StreamMapping]
    rules: list[str] | None = Field(None, description="How tables and columns are matched and read.")


class PhraseHit(Compact):
    speaker: str
    at: str = Field(description="Offset into the call, m:ss.")
    snippet: str


class SaidIn(Compact):
    call_id: str
    title: str | None = None
    started: datetime | None = None
    rep: str | None = None
    account: str | None = None
    account_id: str | None = None
    hits: int = Field(description="Sentences in the call that hold the phrase.")
    said: list[PhraseHit] = Field(description="The first few, in the order spoken.")


class TranscriptSearch(Dated):
    phrase: str
    exact: bool
    calls: list[SaidIn] = Field(description="Newest call first.")
    next_cursor: str | None = Field(None, description="Pass as `cursor` for older calls; absent at the end.")
    note: str | None = None


class DealRow(Compact):
    id: str = Field(description="CRM opportunity id: pass to gong_deal_brief.")
    name: str | None = None
    account: str | None = None
    account_id: str | None = None
    stage: str | None = Field(None, description="Stage at the deal's newest call.")
    amount: float | None = None
    close_date: str | None = None
    owner: str | None = Field(None, description="The rep on most of its calls.")
    owner_id: str | None = None
    first_call: date
    last_call: date
    days_since_last_call: int = Field(description="Counted back from the newest call in the data.")
    calls: int
    customer_people: int = Field(description="Distinct customer-side people across its calls.")
    flags: list[str] | None = Field(None, description="silent, stage_regressed, single_threaded.")


class DealPage(Dated):
    deals: list[DealRow] = Field(description="Newest activity first.")
    total: int = Field(description="Deals matching the filters.")
    newest_call: date | None = Field(None, description="What silence is counted from.")
    next_cursor: str | None = None
    note: str | None = None


class StageRun(Compact):
    stage: str | None = None
    first_call: date
    last_call: date
    calls: int
    first_call_id: str


class DealCall(Compact):
    call_id: str
    title: str | None = None
    started: datetime
    rep: str | None = None
    brief: str | None = None
    next_steps: list[str] | None = None


class Risk(Compact):
    flag: str
    evidence: str


class DealBrief(Dated):
    deal: DealRow
    stages: list[StageRun] = Field(description="The stage call by call, oldest first, repeats folded into runs.")
    customer_people: list[str]
    seller_people: list[str]
    calls: list[DealCall] = Field(description="The newest calls with their brief and next steps.")
    trackers: dict[str, int] | None = Field(None, description="Tracker -> calls of this deal where it fired.")
    topics: list[str] | None = Field(None, description="Topics of the calls listed.")
    risks: list[Risk]


class TrackerBucket(Compact):
    key: str = Field(description="Week (its Monday), month (YYYY-MM), rep id or account id.")
    label: str | None = Field(None, description="The rep's or account's name.")
    calls: int = Field(description="Calls where the tracker fired.")
    hits: int = Field(description="Times it fired in them.")


class TrackerCount(Compact):
    tracker: str
    calls: int
    hits: int
    buckets: list[TrackerBucket]
    buckets_more: int | None = Field(None, description="Buckets left out (smallest first) to keep the answer short.")


class TrackerStats(Dated):
    by: str
    since: datetime | None = None
    until: datetime | None = None
    calls_in_period: int
    trackers: list[TrackerCount] = Field(description="Most calls first.")
    note: str | None = None


class QuestionScore(Compact):
    scorecard: str | None = None
    question: str
    average: float
    answers: int


class RepScore(Compact):
    rep_id: str
    rep: str | None = None
    reviewed: int = Field(description="Answered scorecards about this rep's calls.")
    average: float = Field(description="Average of every scored answer, 1-5.")
    overall: float | None = Field(None, description="Average of the overall question.")


class ScorecardStats(Dated):
    since: datetime | None = None
    until: datetime | None = None
    reviewed: int
    reps: list[RepScore] = Field(description="Most reviewed first.")
    questions: list[QuestionScore]
    note: str | None = None


class CountBy(Compact):
    id: str | None = None
    name: str | None = None
    calls: int


class StageMove(Compact):
    deal_id: str
    deal: str | None = None
    before: str | None = None
    after: str | None = None
    call_id: str = Field(description="The newest call, with the stage now.")


class DealMention(Compact):
    deal_id: str
    deal: str | None = None
    account: str | None = None
    last_call: date


class ChangesSince(Dated):
    since: datetime = Field(description="Changes arrived at or after this moment.")
    new_calls: int
    new_calls_by_account: list[CountBy] = Field(description="Most first; at most 20.")
    new_calls_by_rep: list[CountBy] = Field(description="Most first; at most 20.")
    stage_moves: list[StageMove] = Field(description="Deals whose stage changed with the new calls; at most 50.")
    new_deals: list[DealMention] = Field(description="Deals whose first call arrived; at most 50.")
    newly_silent: list[DealMention] = Field(description="Open deals silent now that were not before; at most 50.")
