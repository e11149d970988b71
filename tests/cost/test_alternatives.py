"""`cost --alternatives`: the same usage priced under EKS Auto Mode, fees with sources."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pingvas_infra.cost.alternatives import AUTO_MODE, auto_mode, auto_mode_table, fee_share
from pingvas_infra.cost.report import IDLE, REFERENCE, CostReport
from pingvas_infra.cost.step import write_cost
from pingvas_infra.plan.model import PlanResult
from pingvas_infra.price_tables import load_price_table
from tests.support.cli import run_cli


def test_the_fee_model_matches_every_price_list_reading_within_half_a_percent() -> None:
    for reading in auto_mode_table()["readings"]:
        on_demand = load_price_table(reading["region"]).ec2_hourly(reading["type"])
        assert on_demand is not None, reading
        share, entry = fee_share(reading["type"])
        assert reading["usd"] == pytest.approx(on_demand * share, rel=0.005), reading
        assert entry["source"] and entry["date"]


def test_auto_mode_adds_a_fee_on_every_node_hour_and_nothing_else(
    default_report: CostReport,
) -> None:
    costs = auto_mode(default_report)
    # Two system nodes all month: 1,460 h x 12% of the mean on-demand price of their types.
    mean = (0.0416 + 0.0376 + 0.077) / 3
    assert costs[IDLE].fee_total == pytest.approx(1460 * mean * 0.12)
    # guide-reference adds the GPU-hours at 7.8% of g4dn.xlarge's $0.526, and the system
    # tier's overflow node-hours (36.5 h of the system types) at 12%.
    gpu_hours = 107.11 + 535.53
    assert costs[REFERENCE].fee_total == pytest.approx(
        (1460 + 36.5) * mean * 0.12 + gpu_hours * 0.526 * 0.078, rel=1e-6
    )
    for cost in costs.values():
        assert cost.total == pytest.approx(cost.this_stack + cost.fee_total)


def test_cost_alternatives_prints_the_comparison_with_sources(
    graph: PlanResult, tmp_path: Path
) -> None:
    write_cost(graph, "us-east-1", tmp_path)
    document = json.loads((tmp_path / "cost.json").read_text())
    assert set(document["alternatives"][AUTO_MODE]["profiles"]) == {IDLE, REFERENCE}
    shown = run_cli("cost", "--alternatives", "--plan", str(tmp_path))
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout
    assert text.startswith("## The same usage under EKS Auto Mode")
    assert "| idle | $271.65 | $9.12 | $280.78 | +$9.12 |" in text
    assert "| guide-reference | $705.11 | $35.72 | $740.83 | +$35.72 |" in text
    assert "reading us-east-1 m7i.large $0.0121/h, 2026-09-28" in text
    assert "https://aws.amazon.com/eks/pricing/" in text
    # The same table closes cost.md.
    assert "## The same usage under EKS Auto Mode" in (tmp_path / "cost.md").read_text()
