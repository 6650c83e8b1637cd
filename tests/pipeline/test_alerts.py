"""Alerts in the pipeline plan: the workspace's failure and sync-disabled notifications post to
SOPHIA_ALERT_WEBHOOK_URL, planned, applied once, idempotent, and the URL never shown."""

from __future__ import annotations

import logging

import pytest

from sophia_mcp.cli.pipeline import render_plan
from sophia_mcp.sample.airbyte_sim.seed import WORKSPACE_ID
from tests.pipeline.conftest import fast_sim, planner, writes

pytestmark = pytest.mark.anyio

WEBHOOK = "https://hooks.slack.example/services/T0SOPHIA/B0ALERTS/xyzzySecretToken42"
SECRET_PART = "xyzzySecretToken42"
PATCH_WORKSPACE = ("PATCH", "/workspaces/{workspaceId}")


def notifications_steps(plan):
    return [step for step in plan.steps if step.kind == "notifications"]


async def test_alerts_are_planned_applied_once_and_never_shown(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)
    sim = fast_sim()
    async with planner(sim, pipeline={"SOPHIA_ALERT_WEBHOOK_URL": WEBHOOK}) as p:
        plan = await p.plan()
        assert writes(sim) == {}
        applied = await p.plan(apply=True)
        again = await p.plan(apply=True)
    (step,) = notifications_steps(plan)
    assert (step.action, step.id) == ("update", WORKSPACE_ID)
    assert step.details == [
        "failure notifications: no webhook → the alert webhook (SOPHIA_ALERT_WEBHOOK_URL)",
        "syncDisabled notifications: no webhook → the alert webhook (SOPHIA_ALERT_WEBHOOK_URL)",
    ]
    assert plan.changes == 1 and applied.applied
    assert [s.action for s in notifications_steps(again)] == ["keep"] and again.changes == 0
    assert writes(sim) == {PATCH_WORKSPACE: 1}
    stored = sim.workspaces[WORKSPACE_ID].notifications
    for event in ("failure", "syncDisabled"):
        assert stored[event]["webhook"] == {"enabled": True, "url": WEBHOOK}
    assert stored["failure"]["email"] == {"enabled": True}  # what was there is kept
    for shown in (plan, applied, again):
        for text in (shown.model_dump_json(), render_plan(shown)):
            assert SECRET_PART not in text and "hooks.slack" not in text
    assert caplog.records and SECRET_PART not in caplog.text


async def test_another_webhook_is_replaced_without_showing_either_url():
    sim = fast_sim()
    other = "https://hooks.slack.example/services/T0OTHER/B0OLD/oldSecretValue99"
    sim.workspaces[WORKSPACE_ID].notifications["failure"]["webhook"] = {"enabled": True, "url": other}
    sim.workspaces[WORKSPACE_ID].notifications["syncDisabled"] = {"webhook": {"enabled": False, "url": WEBHOOK}}
    async with planner(sim, pipeline={"SOPHIA_ALERT_WEBHOOK_URL": WEBHOOK}) as p:
        plan = await p.plan(apply=True)
    (step,) = notifications_steps(plan)
    assert step.details == [
        "failure notifications: another webhook → the alert webhook (SOPHIA_ALERT_WEBHOOK_URL)",
        "syncDisabled notifications: the alert webhook, disabled → the alert webhook (SOPHIA_ALERT_WEBHOOK_URL)",
    ]
    assert "oldSecretValue99" not in render_plan(plan) and SECRET_PART not in render_plan(plan)
    assert sim.workspaces[WORKSPACE_ID].notifications["failure"]["webhook"]["url"] == WEBHOOK


@pytest.mark.parametrize("url", ["hooks.slack.example/xyzzySecretToken42", "ftp://hooks.example/xyzzySecretToken42"])
async def test_a_url_that_is_no_webhook_is_a_problem_that_never_quotes_it(url: str):
    sim = fast_sim()
    async with planner(sim, pipeline={"SOPHIA_ALERT_WEBHOOK_URL": url}) as p:
        plan = await p.plan(apply=True)
    (step,) = notifications_steps(plan)
    assert step.action == "blocked"
    assert any("SOPHIA_ALERT_WEBHOOK_URL must be an https:// URL" in problem for problem in plan.problems)
    assert SECRET_PART not in plan.model_dump_json()
    assert PATCH_WORKSPACE not in writes(sim)


async def test_without_the_setting_alerts_are_not_part_of_the_plan():
    sim = fast_sim()
    async with planner(sim) as p:
        plan = await p.plan(apply=True)
    assert notifications_steps(plan) == [] and sim.requests["GET", "/workspaces/{workspaceId}"] <= 1
