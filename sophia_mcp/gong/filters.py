"""The filters of the cross-call Gong lookups, validated once as one object.

Each filter is spelled here once, with its bounds, its description (which the MCP tools show as
their input schema) and its normalisation: text trimmed and checked for what no Gong field can
hold, a date read as its start in UTC and a naive time as UTC. The tools take these as arguments
and hand the repository one `CallFilters`; the queries read it as it is.
"""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from sophia_mcp.gong.errors import InvalidArgumentError

MAX_TEXT = 200
# A call lasts at most a week (Gong caps recordings far below that).
MAX_DURATION_S = 7 * 24 * 3600
DIRECTIONS = ("Inbound", "Outbound", "Conference", "Unknown")

M = TypeVar("M", bound=BaseModel)


def clean_text(value: str | None) -> str | None:
    """Trimmed text, None when blank; NUL and lone surrogates refused (no Gong field holds them)."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if "\x00" in value:
        raise ValueError("contains a NUL character, which no Gong field can hold")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError("is not valid Unicode text") from error
    return value


def utc_moment(value: datetime | date | None) -> datetime | None:
    """A timezone-aware instant: a date means its start (UTC), a naive time means UTC."""
    if value is None or isinstance(value, datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=timezone.utc)
    return datetime.combine(value, time(), tzinfo=timezone.utc)


def _direction(value: Any) -> Any:
    if isinstance(value, str):
        return next((option for option in DIRECTIONS if option.lower() == value.strip().lower()), value)
    return value


def _text(description: str) -> Any:
    return Annotated[str | None, Field(max_length=MAX_TEXT, description=description)]


# The arguments as tools declare them (bounds and descriptions); the models below add the checks.
Text = _text("Words in the call title.")
Rep = _text("The seller: a Gong user id, or part of a name or email.")
Account = _text("A CRM account id or part of the account name.")
Opportunity = _text("A CRM opportunity id or part of its name.")
Tracker = _text("A Gong tracker name (gong_tracker_stats lists them), matched ignoring case.")
Since = Annotated[datetime | date | None, Field(description="From this date or time (inclusive), ISO 8601, UTC.")]
Until = Annotated[datetime | date | None, Field(description="Before this date or time (exclusive), ISO 8601, UTC.")]
Direction = Literal["Inbound", "Outbound", "Conference", "Unknown"] | None
Seconds = Annotated[int | None, Field(ge=0, le=MAX_DURATION_S)]

Clean = AfterValidator(clean_text)
UTC = AfterValidator(utc_moment)


class Period(BaseModel):
    """A time range: `since` inclusive, `until` exclusive, both optional."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    since: Annotated[Since, UTC] = None
    until: Annotated[Until, UTC] = None

    @model_validator(mode="after")
    def _forwards(self) -> Any:
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise InvalidArgumentError("since must be before until: the date range is backwards or empty.")
        return self


class CallFilters(Period):
    """Which calls: every filter optional, all of them must hold."""

    text: Annotated[Text, Clean] = None
    rep: Annotated[Rep, Clean] = None
    account: Annotated[Account, Clean] = None
    opportunity: Annotated[Opportunity, Clean] = None
    direction: Annotated[Direction, BeforeValidator(_direction)] = None
    min_duration_s: Annotated[Seconds, Field(description="At least this long, seconds.")] = None
    max_duration_s: Annotated[Seconds, Field(description="At most this long, seconds.")] = None
    tracker: Annotated[Tracker, Clean] = None

    @model_validator(mode="after")
    def _durations(self) -> Any:
        if (
            self.min_duration_s is not None
            and self.max_duration_s is not None
            and self.min_duration_s > self.max_duration_s
        ):
            raise InvalidArgumentError("min_duration_s must not be more than max_duration_s.")
        return self


class SpeechFilters(Period):
    """Which calls a search of what was said looks in."""

    rep: Annotated[Rep, Clean] = None
    account: Annotated[Account, Clean] = None


class DealFilters(BaseModel):
    """Which deals: every filter optional, all of them must hold."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stage: Annotated[_text("The deal's current stage, e.g. Proposal (ignoring case)."), Clean] = None
    owner: Annotated[_text("The rep on most of its calls: a Gong user id, or part of a name or email."), Clean] = None
    account: Annotated[Account, Clean] = None
    flag: Annotated[
        Literal["silent", "stage_regressed", "single_threaded"] | None,
        Field(description="Only deals with this risk flag."),
    ] = None
    silent_days: Annotated[
        int, Field(ge=1, le=3650, description="Days without a call, before the newest call in the data, that make an open deal silent.")
    ] = 14


def checked(model: type[M], **values: Any) -> M:
    """`model(**values)`, with a validation failure as an InvalidArgumentError naming each argument."""
    try:
        return model.model_validate(values)
    except ValidationError as error:
        problems = []
        for problem in error.errors(include_url=False, include_input=False):
            where = ".".join(str(part) for part in problem["loc"]) or "arguments"
            message = problem["msg"].removeprefix("Value error, ")
            problems.append(f"{where}: {message}")
        raise InvalidArgumentError("; ".join(problems) + ".") from None
