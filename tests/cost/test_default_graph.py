"""The cost model on the real default stack (tests/conftest.py `graph`).

The target checks run here once every layer is in the graph; until the layers land on
this branch they are skipped with the missing layers named (the synthetic full stack in
test_report.py covers them meanwhile).
"""

from __future__ import annotations

import pytest

from pingvas_infra.cost.report import CostReport, build_report
from pingvas_infra.cost.rules import RULES, known_free_reason
from pingvas_infra.cost.targets import dev_gpu_share, idle_ratio, reference_ratio
from pingvas_infra.plan.model import PlanResult


@pytest.fixture(scope="module")
def report(graph: PlanResult) -> CostReport:
    return build_report(
        graph.resources, project=graph.project, stack=graph.stack, region="us-east-1"
    )


def test_the_default_stack_has_no_unpriced_types(report: CostReport) -> None:
    assert report.unpriced() == []


def test_every_type_in_the_default_graph_has_a_rule_or_a_reason_to_be_free(
    graph: PlanResult,
) -> None:
    types = {r.type for r in graph.resources}
    assert all(t in RULES or known_free_reason(t) for t in types), sorted(
        t for t in types if t not in RULES and not known_free_reason(t)
    )


def test_the_network_lines_are_in_the_stack_total(report: CostReport) -> None:
    lines = report.this_stack["idle"].lines
    nat_hours = [line for line in lines if line.component == "NAT gateway hours"]
    assert [line.monthly for line in nat_hours] == pytest.approx([0.045 * 730])
    assert any(line.component == "Public IPv4 address" for line in lines)


def require_every_layer(report: CostReport) -> None:
    if report.missing_layers:
        pytest.skip(f"the default graph has no {', '.join(report.missing_layers)} layer yet")


def test_idle_target_on_the_default_graph(report: CostReport) -> None:
    require_every_layer(report)
    assert idle_ratio(report).met, idle_ratio(report)


def test_seed_reference_target_on_the_default_graph(report: CostReport) -> None:
    require_every_layer(report)
    assert reference_ratio(report).met, reference_ratio(report)


def test_dev_gpu_target_on_the_default_graph(report: CostReport) -> None:
    require_every_layer(report)
    assert dev_gpu_share(report).met, dev_gpu_share(report)
