"""Deals: the opportunities found in the calls' CRM context, with their risk flags.

Built from the in-process summary (summary.py), once per summary. A deal's stage, amount and close
date are those of its newest call; its owner is the rep on most of its calls. The flags:
- `silent`: an open deal with no call for `silent_days`, counted back from the newest call in the
  data (not the wall clock, so data that stopped arriving does not make every deal silent);
- `stage_regressed`: between two consecutive calls the stage moved to one of lower probability
  (Salesforce's Probability field orders the stages; a move to a closed stage is not a regression);
- `single_threaded`: one customer-side person across all of its calls.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from datetime import date
from typing import Literal

from sophia_mcp.gong.errors import InvalidArgumentError, NotFoundError
from sophia_mcp.gong.summary import CallSummary, OpportunityAtCall, Summary

Flag = Literal["silent", "stage_regressed", "single_threaded"]
FLAGS: tuple[Flag, ...] = ("silent", "stage_regressed", "single_threaded")
DEFAULT_SILENT_DAYS = 14
MAX_CANDIDATES = 10


def is_closed(stage: str | None) -> bool:
    return bool(stage) and stage.strip().lower().startswith("closed")  # type: ignore[union-attr]


@dataclass
class Regression:
    before: CallSummary
    after: CallSummary
    from_stage: str
    to_stage: str


@dataclass
class Deal:
    """Built once per summary and never changed after: its derived figures are cached."""

    id: str
    # (call, the opportunity as that call saw it), oldest first.
    history: list[tuple[CallSummary, OpportunityAtCall]] = field(default_factory=list)

    @property
    def newest(self) -> OpportunityAtCall:
        return self.history[-1][1]

    @property
    def last_call(self) -> CallSummary:
        return self.history[-1][0]

    @property
    def first_call(self) -> CallSummary:
        return self.history[0][0]

    @cached_property
    def name(self) -> str | None:
        return next((opp.name for _, opp in reversed(self.history) if opp.name), None)

    @cached_property
    def stage(self) -> str | None:
        return self.newest.stage

    @cached_property
    def amount(self) -> float | None:
        return next((opp.amount for _, opp in reversed(self.history) if opp.amount is not None), None)

    @cached_property
    def close_date(self) -> str | None:
        return next((opp.close_date for _, opp in reversed(self.history) if opp.close_date), None)

    @cached_property
    def account(self) -> tuple[str | None, str | None]:
        call = next((call for call, _ in reversed(self.history) if call.account_id), self.last_call)
        return call.account_id, call.account_name

    @cached_property
    def owner_id(self) -> str | None:
        counts = Counter(call.rep_id for call, _ in self.history if call.rep_id)
        if not counts:
            return None
        best = max(counts.values())
        # Ties go to the rep of the newest call among them.
        return next(call.rep_id for call, _ in reversed(self.history) if counts.get(call.rep_id) == best)

    @cached_property
    def customers(self) -> dict[str, str]:
        people: dict[str, str] = {}
        for call, _ in self.history:
            for key, shown in call.customers:
                people.setdefault(key, shown)
        return people

    @cached_property
    def regressions(self) -> list[Regression]:
        found = []
        previous: tuple[CallSummary, OpportunityAtCall] | None = None
        for call, opp in self.history:
            if opp.probability is None or not opp.stage:
                continue
            if (
                previous is not None
                and opp.probability < (previous[1].probability or 0)
                and not is_closed(opp.stage)
                and not is_closed(previous[1].stage)
            ):
                found.append(Regression(previous[0], call, previous[1].stage or "?", opp.stage))
            previous = (call, opp)
        return found

    def days_silent(self, newest_call: date) -> int:
        return (newest_call - self.last_call.started.date()).days

    def flags(self, newest_call: date, silent_days: int) -> list[Flag]:
        flags: list[Flag] = []
        if not is_closed(self.stage) and self.days_silent(newest_call) >= silent_days:
            flags.append("silent")
        if self.regressions:
            flags.append("stage_regressed")
        if len(self.customers) == 1:
            flags.append("single_threaded")
        return flags


def deals_of(summary: Summary) -> list[Deal]:
    """Every deal, newest activity first (then by id)."""
    cached = summary.derived.get("deals")
    if cached is None:
        deals: dict[str, Deal] = {}
        for call in summary.calls:
            for opp in call.opportunities:
                deals.setdefault(opp.id, Deal(opp.id)).history.append((call, opp))
        cached = sorted(deals.values(), key=lambda d: (d.last_call.started, d.id), reverse=True)
        summary.derived["deals"] = cached
    return cached


def find_deal(summary: Summary, wanted: str) -> Deal:
    """A deal by CRM id, or the one deal whose name contains `wanted` (ignoring case)."""
    deals = deals_of(summary)
    exact = next((deal for deal in deals if deal.id == wanted), None)
    if exact is not None:
        return exact
    needle = wanted.casefold()
    named = [deal for deal in deals if deal.name and needle in deal.name.casefold()]
    if len(named) == 1:
        return named[0]
    if not named:
        raise NotFoundError(
            f"No deal has the id or a name containing {wanted!r}. gong_list_deals lists deals with their ids."
        )
    listed = "; ".join(f"{deal.name} ({deal.id})" for deal in named[:MAX_CANDIDATES])
    more = f" and {len(named) - MAX_CANDIDATES} more" if len(named) > MAX_CANDIDATES else ""
    raise InvalidArgumentError(f"{wanted!r} matches several deals: {listed}{more}. Pass one id as opportunity.")
