"""cost-map.svg: drawn from the real graph, every layer a cluster, a cost on every node."""

from __future__ import annotations

import re

from pingvas_infra.cost.diagram import diagram, render_svg
from pingvas_infra.cost.report import LAYER_ORDER, CostReport
from pingvas_infra.plan.model import PlanResult


def test_the_svg_names_every_layer_with_its_cost(
    default_report: CostReport, graph: PlanResult
) -> None:
    svg = render_svg(default_report, graph.resources).decode()
    assert svg.lstrip().startswith("<?xml")
    for layer in (*LAYER_ORDER, "workload"):
        assert re.search(rf">{layer}: \$[0-9,.]+ idle / \$[0-9,.]+ guide&#45;reference<", svg), (
            layer
        )


def test_billable_nodes_carry_both_profiles_and_free_ones_are_folded(
    default_report: CostReport, graph: PlanResult
) -> None:
    source = diagram(default_report, graph.resources).source
    assert "Cluster\\ncluster-eks\\n$73.00 idle / $73.00 ref" in source
    # Five buckets share one node; subnets and route tables fold into the "no charge" node.
    assert "Bucket x5" in source
    assert "Subnet x15" in source
    # The static EFS volumes and their claims cost nothing: folded too.
    assert "PersistentVolume x3" in source
    # One cluster per layer and one for the workload's traffic (providers are not drawn).
    assert source.count("subgraph cluster_") == len(LAYER_ORDER) + 1


def test_the_drawing_is_deterministic(default_report: CostReport, graph: PlanResult) -> None:
    resources = graph.resources
    assert render_svg(default_report, resources) == render_svg(
        default_report, list(reversed(resources))
    )
