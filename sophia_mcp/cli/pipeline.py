"""`sophia-mcp pipeline plan|apply|sync`: the pipeline tools, from a terminal.

Exit status: 0 when done, 1 when the plan has problems (something could not be planned) or a
connection's sync could not be started.
"""

from __future__ import annotations

import anyio

from sophia_mcp.airbyte.client import AirbyteClient
from sophia_mcp.pipeline.plan import PipelinePlan, PipelinePlanner
from sophia_mcp.pipeline.sync_all import SyncOutcome, sync_all
from sophia_mcp.settings import Settings

SIMULATOR_LINE = "(This Airbyte is the Sophia simulator, not a real Airbyte.)"


def render_plan(plan: PipelinePlan) -> str:
    lines = [f"Workspace {plan.workspace_id}, source {plan.source or '(none)'}"]
    for step in plan.steps:
        target = f" ({step.id})" if step.id else ""
        lines.append(f"  {step.action:<8} {step.kind:<12} {step.name}{target}")
        lines += [f"             {detail}" for detail in step.details]
    lines += [f"  problem: {problem}" for problem in plan.problems]
    verb = "applied" if plan.applied else "to apply"
    lines.append(f"{plan.changes} change(s) {verb}." if plan.changes else "Nothing to change.")
    return "\n".join(lines)


def render_outcomes(outcomes: list[SyncOutcome]) -> str:
    return "\n".join(f"{o.name} ({o.connection_id}): {o.outcome}" for o in outcomes) or "No connection matched."


async def _run(action: str, name_contains: str | None) -> tuple[str, int]:
    settings = Settings()
    if not settings.airbyte.configured:
        raise ValueError("set AIRBYTE_CLIENT_ID and AIRBYTE_CLIENT_SECRET (or AIRBYTE_ACCESS_TOKEN) first")
    async with AirbyteClient(settings.airbyte) as client:
        if action == "sync":
            run = await sync_all(client, settings.airbyte.workspace_id, name_contains)
            failed = any(o.status == "failed" for o in run.outcomes) or run.cut_short is not None
            text, status = "\n".join(filter(None, (render_outcomes(run.outcomes), run.cut_short))), int(failed)
        else:
            plan = await PipelinePlanner(client, settings).plan(apply=action == "apply")
            text, status = render_plan(plan), int(bool(plan.problems))
    if settings.airbyte.simulated:
        text = f"{text}\n{SIMULATOR_LINE}"
    return text, status


def run_pipeline(action: str, name_contains: str | None = None) -> int:
    text, status = anyio.run(_run, action, name_contains)
    print(text)
    return status
