"""The plan's `config` step turns risky but valid settings into console warnings."""

from __future__ import annotations

from pathlib import Path

from pingvas_infra.plan.model import PlanResult
from pingvas_infra.plan.stackfile import StackFile
from pingvas_infra.plan_run import PlanContext, config_step, plan_steps
from tests.support.config_cases import config_with


def test_config_step_is_part_of_the_plan() -> None:
    assert "config" in dict(plan_steps())


def test_open_api_endpoint_is_a_plan_warning(
    stack_file: StackFile, graph: PlanResult, tmp_path: Path
) -> None:
    outcome = config_step(PlanContext(stack_file, config_with(stack_file, {}), graph, tmp_path))
    assert not outcome.failed
    (warning,) = [w for w in outcome.warnings if "publicAccessCidrs" in w]
    assert warning.startswith('pingvas-infra:cluster.publicAccessCidrs = ["0.0.0.0/0"]: ')


def test_narrowed_endpoint_leaves_no_warning(
    stack_file: StackFile, graph: PlanResult, tmp_path: Path
) -> None:
    config = config_with(
        stack_file, {"pingvas-infra:cluster": {"publicAccessCidrs": ["203.0.113.0/24"]}}
    )
    outcome = config_step(PlanContext(stack_file, config, graph, tmp_path))
    assert not [w for w in outcome.warnings if "publicAccessCidrs" in w]
