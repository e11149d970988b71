"""The plan's `warnings` step: what `pulumi preview` and `pulumi up` would warn about (risky
but valid settings, and what the program logs), printed once each by `pingvas-infra plan`."""

from __future__ import annotations

from pathlib import Path

from pingvas_infra.plan.stackfile import StackFile
from pingvas_infra.plan_run import PlanContext, plan_steps, warnings_step
from tests.support.cli import CliPlan
from tests.support.config_cases import config_with
from tests.support.plan_graph import PlanRunner

NARROWED = {"pingvas-infra:cluster": {"publicAccessCidrs": ["203.0.113.0/24"]}}


def test_warnings_step_is_part_of_the_plan() -> None:
    assert "settings" in dict(plan_steps())


def outcome_of(stack_file: StackFile, run_plan: PlanRunner, tmp_path: Path, overrides: dict):
    config = config_with(stack_file, overrides)
    return warnings_step(PlanContext(stack_file, config, run_plan(overrides), tmp_path))


def test_open_api_endpoint_is_a_plan_warning_once(
    stack_file: StackFile, run_plan: PlanRunner, tmp_path: Path
) -> None:
    outcome = outcome_of(stack_file, run_plan, tmp_path, {})
    assert not outcome.failed
    # The config check and the program both say it; the plan prints it once.
    (warning,) = [w for w in outcome.warnings if "publicAccessCidrs" in w]
    assert warning.startswith('pingvas-infra:cluster.publicAccessCidrs = ["0.0.0.0/0"]: ')


def test_narrowed_endpoint_leaves_no_warning(
    stack_file: StackFile, run_plan: PlanRunner, tmp_path: Path
) -> None:
    outcome = outcome_of(stack_file, run_plan, tmp_path, NARROWED)
    assert not [w for w in outcome.warnings if "publicAccessCidrs" in w]


def test_the_program_warnings_reach_the_plan(
    stack_file: StackFile, run_plan: PlanRunner, tmp_path: Path
) -> None:
    """What the layers log (here: alert receivers left unset) is a plan warning too."""
    outcome = outcome_of(stack_file, run_plan, tmp_path, {})
    unrouted = [w for w in outcome.warnings if "alerts reach no one" in w]
    assert [w.split(" ", 1)[0] for w in unrouted] == [
        "pingvas-infra:pagerdutyRoutingKey",
        "pingvas-infra:slackWebhookUrl",
    ]


def test_plan_on_the_default_stack_prints_that_alerts_reach_no_one(cli_plan: CliPlan) -> None:
    printed = " ".join(cli_plan.done.stdout.split())
    assert (
        "warning (settings): pingvas-infra:pagerdutyRoutingKey is not set: prod and platform "
        "(every namespace but dev, and alerts without a namespace) alerts reach no one"
    ) in printed
    assert (
        "warning (settings): pingvas-infra:slackWebhookUrl is not set: dev alerts reach no one"
        in (printed)
    )
