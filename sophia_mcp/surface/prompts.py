"""Prompts: ready-made instructions that walk an assistant through the tools for common questions.

Each prompt is served only with the tool its question rests on (`needs`): with SOPHIA_TOOLSETS
leaving the Gong tools out, no prompt asks for them. A step that calls a tool this server does not
serve (semantic search off, Gong data off, a changing tool under SOPHIA_READ_ONLY) is left out of the
text, so every step the assistant reads can be carried out here.
"""

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from mcp.server import MCPServer
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS
from pydantic import Field

from sophia_mcp.surface.context import AppContext

# A step of a prompt, and the tools it calls (none for the closing "Write ..." step).
Step = tuple[str, tuple[str, ...]]


def steps(title: str, all_steps: Sequence[Step], served: Collection[str]) -> str:
    kept = [text for text, tools in all_steps if all(tool in served for tool in tools)]
    return "\n".join([title, *(f"{number}. {text}" for number, text in enumerate(kept, 1))])


def call_brief_prompt(served: Collection[str]) -> Callable[..., str]:
    def call_brief(call_id: Annotated[str, Field(description="The Gong call id.")]) -> str:
        """Brief me on one Gong call before a follow-up."""
        return steps(f"Prepare a brief of Gong call {call_id}.", [
            (f"Call gong_get_call with call_id={call_id!r}: who took part, the account and opportunity (stage, "
             "amount), the brief, key points, topics, trackers and outcome.", ("gong_get_call",)),
            ("Call gong_get_transcript for the passages behind the key points and any objection; quote them with "
             "speaker and m:ss offset.", ("gong_get_transcript",)),
            ("Write: context (account, opportunity, people), what the customer wants, objections and how they were "
             "handled, commitments and next steps, and risks. Keep it under 250 words and cite offsets.", ()),
        ], served)

    return call_brief


def account_review_prompt(served: Collection[str]) -> Callable[..., str]:
    def account_review(account: Annotated[str, Field(description="A CRM account id or name.")]) -> str:
        """Review everything that happened with one account."""
        return steps(f"Review the account {account!r}.", [
            (f"Call gong_account_activity with account={account!r} (widen `since` if there is little): calls over "
             "time, the people on them, and how each opportunity's stage moved.", ("gong_account_activity",)),
            (f"Call gong_list_deals with account={account!r}: each deal's stage, amount, close date and risk flags "
             "(silent, stage_regressed, single_threaded); for every flagged deal call gong_deal_brief for the "
             "evidence.", ("gong_list_deals", "gong_deal_brief")),
            ("For the two or three most recent or most important calls, call gong_get_call.", ("gong_get_call",)),
            (f"Call gong_search_transcripts with account={account!r} for competitors or product names you saw.",
             ("gong_search_transcripts",)),
            (f"Call gong_semantic_search with account={account!r} for objections and pricing concerns.",
             ("gong_semantic_search",)),
            ("Write: relationship timeline, stakeholders (who is engaged, who went quiet), deal status and risks "
             "with their evidence, open concerns with quotes and call ids, and recommended next steps. Say how "
             "current the data is (`as_of`; flag it if `stale`).", ()),
        ], served)

    return account_review


def rep_coaching_prompt(served: Collection[str]) -> Callable[..., str]:
    def rep_coaching(rep: Annotated[str, Field(description="A Gong user id, or the rep's name or email.")]) -> str:
        """Coaching notes for one rep from their recent calls."""
        return steps(f"Write coaching notes for the rep {rep!r}.", [
            (f"Call gong_rep_stats (last 30 days) and find {rep!r}; compare talk ratio, questions per call, "
             "longest monologue and patience with the team's median from the same result.", ("gong_rep_stats",)),
            (f"Call gong_scorecard_stats with rep={rep!r}, and without it for the team: the rep's average per "
             "question against the team's.", ("gong_scorecard_stats",)),
            (f"Call gong_tracker_stats with by=rep for the trackers that fire on the rep's calls (pricing, "
             f"competitors), and gong_list_deals with owner={rep!r} for deals at risk.",
             ("gong_tracker_stats", "gong_list_deals")),
            (f"Call gong_search_calls with rep={rep!r} for the recent calls, gong_get_call on three of them, and "
             "gong_get_transcript to find one moment done well and one to improve, with offsets.",
             ("gong_search_calls", "gong_get_call", "gong_get_transcript")),
            ("Write three strengths and three specific things to practise, each backed by a figure, a score or a "
             "quote.", ()),
        ], served)

    return rep_coaching


def pipeline_health_report_prompt(served: Collection[str]) -> Callable[..., str]:
    def pipeline_health_report() -> str:
        """Check that the Airbyte pipeline delivers fresh Gong data, and say what to fix."""
        return steps("Report on the health of the Gong data pipeline.", [
            ("Call airbyte_health: is the API reachable, which connections failed their last job or are late.",
             ("airbyte_health",)),
            ("Call airbyte_list_connections, and airbyte_diagnose_connection for any connection that failed or is "
             "late (which stream failed, why, since when, whether a retry helps, and the next step).",
             ("airbyte_list_connections", "airbyte_diagnose_connection")),
            ("Call gong_data_status: for each stream, did rows arrive, how old is the newest "
             "_airbyte_extracted_at and the newest call. Compare with the last successful sync of the Postgres "
             "connection: a succeeded job with stale tables means the sync wrote nothing new.", ("gong_data_status",)),
            ("Call airbyte_setup_pipeline (plan only) to see whether the pipeline drifted from the Sophia design.",
             ("airbyte_setup_pipeline",)),
            ("Write a short report: status per connection and stream (OK / late / failing / missing), the likely "
             "cause, and the next action (the diagnosis's next step: e.g. airbyte_trigger_sync, fix credentials, "
             "resume a paused connection). Do not trigger, pause or reset anything unless asked.", ()),
        ], served)

    return pipeline_health_report


@dataclass(frozen=True)
class PromptSpec:
    make: Callable[[Collection[str]], Callable[..., str]]
    needs: str  # the tool the prompt's question rests on: without it, the prompt is not served


PROMPTS: tuple[PromptSpec, ...] = (
    PromptSpec(call_brief_prompt, "gong_get_call"),
    PromptSpec(account_review_prompt, "gong_account_activity"),
    PromptSpec(rep_coaching_prompt, "gong_rep_stats"),
    PromptSpec(pipeline_health_report_prompt, "airbyte_health"),
)


def register(server: MCPServer[AppContext], served: Collection[str], toolset_of: Mapping[str, str]) -> None:
    """The prompts whose tools `served` (the names of the tools this server serves) includes. Asking
    for one left out, or for no prompt at all, gets an error that says why instead of a bare
    internal error."""
    held_back: dict[str, str] = {}
    for spec in PROMPTS:
        prompt = spec.make(served)
        if spec.needs in served:
            server.prompt()(prompt)
        else:
            held_back[prompt.__name__] = (
                f"The prompt {prompt.__name__!r} is not served here: it needs {spec.needs}, of the "
                f"{toolset_of[spec.needs]!r} toolset. Add `{toolset_of[spec.needs]}` to SOPHIA_TOOLSETS."
            )
    render = server.get_prompt

    async def get_prompt(name: str, arguments: dict[str, Any] | None = None, context: Any = None) -> Any:
        if name in held_back:
            raise MCPError(INVALID_PARAMS, held_back[name])
        try:
            return await render(name, arguments, context)
        except ValueError as exc:  # an unknown name, a missing argument: the SDK's message says which
            raise MCPError(INVALID_PARAMS, str(exc)) from None

    server.get_prompt = get_prompt  # type: ignore[method-assign]
