"""The design guide's designs: their totals reproduced with the guide's own unit prices, and
their pricing by the same table and profiles as this stack."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pingvas_infra.cost.baseline_graphs import baseline_resources, reproduce
from pingvas_infra.cost.data import (
    Baseline,
    load_baselines,
    load_free_types,
    load_profiles,
    load_workload,
)
from pingvas_infra.cost.pricing import price_design
from pingvas_infra.cost.rules import RULES
from pingvas_infra.price_tables import load_price_table


def priced(name: str, profile: str) -> object:
    return price_design(
        baseline_resources(load_baselines()[name]),
        load_price_table("us-east-1"),
        load_profiles()[profile],
        load_workload(),
    )


@pytest.mark.parametrize(
    ("name", "total"),
    [("guide-single-cluster", Decimal("944.64")), ("legacy-two-cluster", Decimal("2318.40"))],
)
def test_the_guides_unit_prices_reproduce_its_totals_to_the_cent(name: str, total: Decimal) -> None:
    reproduction = reproduce(load_baselines()[name], priced(name, "guide-reference"))
    assert reproduction.total == total
    assert reproduction.matches


def test_reproduction_counts_the_units_of_the_architecture() -> None:
    reproduction = reproduce(
        load_baselines()["legacy-two-cluster"], priced("legacy-two-cluster", "guide-reference")
    )
    units = {row.item: row.units for row in reproduction.rows}
    # The design guide's legacy table: 2 clusters, 5 system nodes, 4 Aurora, 4 cache nodes, 6 NATs.
    assert units == {
        "EKS Control Plane": 2,
        "System Nodes (t3.medium)": 5,
        "RDS Aurora (db.r6g.large)": 4,
        "ElastiCache (cache.r6g.large)": 4,
        "NAT Gateway": 6,
        "GPU Nodes (average)": None,
        "Data transfer": None,
        "S3 + CloudFront": None,
    }


def test_what_the_guide_table_leaves_out_is_listed_with_its_price() -> None:
    reproduction = reproduce(
        load_baselines()["guide-single-cluster"], priced("guide-single-cluster", "guide-reference")
    )
    # The NAT's public IPv4 address and the database password's secret, among others.
    assert reproduction.omitted["nat-address"] == pytest.approx(0.005 * 730)
    assert reproduction.omitted["database-password"] == pytest.approx(0.40)
    assert "models-efs" in reproduction.omitted
    assert "control-plane" not in reproduction.omitted


def test_every_baseline_resource_is_priced_by_a_rule_or_known_free() -> None:
    for baseline in load_baselines().values():
        for resource in baseline_resources(baseline):
            assert resource.type in RULES or load_free_types().reason(resource.type), resource.type


def test_single_cluster_baseline_by_the_table_line_by_line() -> None:
    idle = priced("guide-single-cluster", "idle")
    assert not idle.unpriced
    monthly = {(line.resource, line.component): line.monthly for line in idle.lines}
    assert monthly[("control-plane", "Control plane hours")] == pytest.approx(73.00)
    assert monthly[("system-nodes", "Instances (spot: t3.medium)")] == pytest.approx(
        2 * 730 * 0.0416 * 0.3
    )
    assert monthly[("cache", "Cache nodes (2 x cache.r6g.large, redis)")] == pytest.approx(
        2 * 730 * 0.206
    )
    assert monthly[("database-writer", "ACU floor (0.5 ACU minimum)")] == pytest.approx(43.80)
    assert monthly[("nat", "NAT gateway hours")] == pytest.approx(32.85)
    assert monthly[("nat-address", "Public IPv4 address")] == pytest.approx(3.65)
    assert monthly[("database-password", "Secret")] == pytest.approx(0.40)


def test_baselines_take_the_same_gpu_usage_as_the_stack() -> None:
    for name in load_baselines():
        reference = priced(name, "guide-reference")
        gpu = sum(
            line.monthly
            for line in reference.lines
            if line.component.startswith("GPU instance-hours")
        )
        assert gpu == pytest.approx(200, abs=0.01), name


def test_legacy_shares_usage_over_its_two_clusters() -> None:
    reference = priced("legacy-two-cluster", "guide-reference")
    processed = [line for line in reference.lines if line.component == "Data processed"]
    assert len(processed) == 6
    assert sum(line.quantity for line in processed) == pytest.approx(
        load_profiles()["guide-reference"].nat.processed_gb
    )


def test_a_guide_table_row_naming_an_unknown_resource_is_refused() -> None:
    document = load_baselines()["guide-single-cluster"].model_dump(by_alias=True)
    document["guideTable"]["rows"][0]["resources"] = ["no-such-thing"]
    with pytest.raises(ValueError, match="no-such-thing"):
        Baseline.model_validate(document)


@pytest.mark.parametrize("name", ["guide-single-cluster", "legacy-two-cluster"])
@pytest.mark.parametrize("profile", ["idle", "guide-reference"])
def test_every_design_pays_the_same_internet_entries(name: str, profile: str) -> None:
    """The design guide prices no load balancer; both baselines get one per environment with
    the profile's traffic, exactly what this stack's two entries cost, so the comparison
    stays like for like."""
    lines = [
        line
        for line in priced(name, profile).lines  # type: ignore[attr-defined]
        if line.component in ("Application Load Balancer hours", "Load balancer capacity units")
    ]
    by_environment: dict[str, float] = {}
    for line in lines:
        by_environment[line.environment] = by_environment.get(line.environment, 0) + line.monthly
    gb = {"idle": {"dev": 0, "prod": 0}, "guide-reference": {"dev": 111.11, "prod": 555.56}}
    assert by_environment == pytest.approx(
        {env: 0.0225 * 730 + gb[profile][env] * 0.008 for env in ("dev", "prod")}
    )
