"""Prompts: ready-made instructions that walk an assistant through the tools for common questions."""

from typing import Annotated

from mcp.server import MCPServer
from pydantic import Field

from sophia_mcp.surface.context import AppContext


def call_brief(call_id: Annotated[str, Field(description="The Gong call id.")]) -> str:
    """Brief me on one Gong call before a follow-up."""
    return (
        f"Prepare a brief of Gong call {call_id}.\n"
        f"1. Call gong_get_call with call_id={call_id!r}: who took part, the account and opportunity (stage, amount), "
        "the brief, key points, topics, trackers and outcome.\n"
        "2. Call gong_get_transcript for the passages behind the key points and any objection; quote them with "
        "speaker and m:ss offset.\n"
        "3. Write: context (account, opportunity, people), what the customer wants, objections and how they were "
        "handled, commitments and next steps, and risks. Keep it under 250 words and cite offsets."
    )


def account_review(account: Annotated[str, Field(description="A CRM account id or name.")]) -> str:
    """Review everything that happened with one account."""
    return (
        f"Review the account {account!r}.\n"
        f"1. Call gong_account_activity with account={account!r} (widen `since` if there is little): calls over "
        "time, the people on them, and how each opportunity's stage moved.\n"
        f"2. Call gong_list_deals with account={account!r}: each deal's stage, amount, close date and risk flags "
        "(silent, stage_regressed, single_threaded); for every flagged deal call gong_deal_brief for the evidence.\n"
        "3. For the two or three most recent or most important calls, call gong_get_call.\n"
        f"4. Call gong_search_transcripts with account={account!r} for competitors or product names you saw, and "
        f"gong_semantic_search with account={account!r} for objections and pricing concerns.\n"
        "5. Write: relationship timeline, stakeholders (who is engaged, who went quiet), deal status and risks with "
        "their evidence, open concerns with quotes and call ids, and recommended next steps. Say how current the "
        "data is (`as_of`; flag it if `stale`)."
    )


def rep_coaching(rep: Annotated[str, Field(description="A Gong user id, or the rep's name or email.")]) -> str:
    """Coaching notes for one rep from their recent calls."""
    return (
        f"Write coaching notes for the rep {rep!r}.\n"
        f"1. Call gong_rep_stats (last 30 days) and find {rep!r}; compare talk ratio, questions per call, "
        "longest monologue and patience with the team's median from the same result.\n"
        f"2. Call gong_scorecard_stats with rep={rep!r}, and without it for the team: the rep's average per "
        "question against the team's.\n"
        f"3. Call gong_tracker_stats with by=rep for the trackers that fire on the rep's calls (pricing, "
        f"competitors), and gong_list_deals with owner={rep!r} for deals at risk.\n"
        f"4. Call gong_search_calls with rep={rep!r} for the recent calls, gong_get_call on three of them, and "
        "gong_get_transcript to find one moment done well and one to improve, with offsets.\n"
        "5. Write three strengths and three specific things to practise, each backed by a figure, a score or a quote."
    )


def pipeline_health_report() -> str:
    """Check that the Airbyte pipeline delivers fresh Gong data, and say what to fix."""
    return (
        "Report on the health of the Gong data pipeline.\n"
        "1. Call airbyte_health: is the API reachable, which connections failed their last job or are late.\n"
        "2. Call airbyte_list_connections, and airbyte_diagnose_connection for any connection that failed or is late "
        "(which stream failed, why, since when, whether a retry helps, and the next step).\n"
        "3. Call gong_data_status: for each stream, did rows arrive, how old is the newest "
        "_airbyte_extracted_at and the newest call. Compare with the last successful sync of the Postgres "
        "connection: a succeeded job with stale tables means the sync wrote nothing new.\n"
        "4. Call airbyte_setup_pipeline (plan only) to see whether the pipeline drifted from the Sophia design.\n"
        "5. Write a short report: status per connection and stream (OK / late / failing / missing), the likely "
        "cause, and the next action (the diagnosis's next step: e.g. airbyte_trigger_sync, fix credentials, resume a "
        "paused connection). Do not trigger, pause or reset anything unless asked."
    )


def register(server: MCPServer[AppContext]) -> None:
    for prompt in (call_brief, account_review, rep_coaching, pipeline_health_report):
        server.prompt()(prompt)
