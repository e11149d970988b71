"""architecture.svg: drawn from the graph, every layer a cluster, a cost on every node."""

from __future__ import annotations

import re

import pytest

from pingvas_infra.cost.diagram import diagram, render_svg
from pingvas_infra.cost.report import LAYER_ORDER, CostReport, build_report
from tests.cost.full_stack import full_stack_plan


@pytest.fixture(scope="module")
def full() -> CostReport:
    plan = full_stack_plan()
    return build_report(plan.resources, project=plan.project, stack=plan.stack, region="us-east-1")


def test_the_svg_names_every_layer_with_its_cost(full: CostReport) -> None:
    svg = render_svg(full, full_stack_plan().resources).decode()
    assert svg.lstrip().startswith("<?xml")
    for layer in (*LAYER_ORDER, "workload"):
        assert re.search(rf">{layer}: \$[0-9,.]+ idle / \$[0-9,.]+ seed&#45;reference<", svg), layer


def test_billable_nodes_carry_both_profiles_and_free_ones_are_folded(full: CostReport) -> None:
    source = diagram(full, full_stack_plan().resources).source
    assert "Cluster\\neks\\n$73.00 idle / $73.00 ref" in source
    # Five buckets share one node; subnets and route tables fold into the "no charge" node.
    assert "Bucket x5" in source
    assert "Subnet x9" in source
    assert source.count("subgraph cluster_") == len(LAYER_ORDER) + 1


def test_the_drawing_is_deterministic(full: CostReport) -> None:
    resources = full_stack_plan().resources
    assert render_svg(full, resources) == render_svg(full, list(reversed(resources)))
