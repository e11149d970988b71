"""The plan's cost step: what it writes, prints and warns about."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import graphviz
import pytest

from pingvas_infra import resource_types as rt
from pingvas_infra.cost import step
from pingvas_infra.cost.step import write_cost
from pingvas_infra.plan.model import PlanResult
from pingvas_infra.plan_run import plan_steps


def test_cost_is_a_plan_step() -> None:
    assert "cost" in dict(plan_steps())


def test_cost_json_has_the_documented_keys(graph: PlanResult, tmp_path: Path) -> None:
    written = write_cost(graph, "us-east-1", tmp_path)
    assert sorted(p.name for p in written.files) == ["cost-map.svg", "cost.json", "cost.md"]
    document = json.loads((tmp_path / "cost.json").read_text())
    assert {"date", "region"} <= set(document["price_table"])
    for profile in ("idle", "guide-reference"):
        assert {"total", "lines"} <= set(document["profiles"][profile])
    for baseline in ("guide-single-cluster", "legacy-two-cluster"):
        assert {"idle", "guide-reference"} <= set(document["baselines"][baseline])
    assert set(document["guide_tables_reproduced"]) == {
        "guide-single-cluster",
        "legacy-two-cluster",
    }
    assert {"dev", "prod", "on_demand"} <= set(document["gpu_cost_per_1000_images"])
    line = document["profiles"]["idle"]["lines"][0]
    assert {"component", "unit", "quantity", "unit_price", "monthly", "kind", "layer"} <= set(line)
    assert document["completeness"] == {"complete": True, "missing_layers": []}
    assert document["unpriced"] == []
    targets = {t["name"]: t for t in document["targets"]}
    assert [t["met"] for t in targets.values()] == [True, True, True, True]
    assert {"margin_usd", "value", "limit"} <= set(targets["idle total vs guide-single-cluster"])
    assert document["profiles"]["idle"]["complete"] is True


def test_the_console_table_compares_both_profiles_with_both_baselines(
    graph: PlanResult, tmp_path: Path
) -> None:
    written = write_cost(graph, "us-east-1", tmp_path)
    header, idle, reference = written.lines[1:4]
    assert header.split()[:4] == ["profile", "this", "stack", "guide"]
    assert idle.startswith("idle ") and "saves" in idle
    assert reference.startswith("guide-reference ")
    assert not any("[" in line for line in written.lines)  # printed through rich markup
    md = (tmp_path / "cost.md").read_text()
    assert "## This stack against the design guide's designs" in md
    assert "| guide-reference |" in md


def test_a_region_without_a_price_table_is_not_priced(graph: PlanResult, tmp_path: Path) -> None:
    written = write_cost(graph, "sa-east-1", tmp_path)
    document = json.loads((tmp_path / "cost.json").read_text())
    assert document["price_table"] == {
        "region": "sa-east-1",
        "status": "not priced",
        "reason": written.warnings[0],
    }
    assert "profiles" not in document
    assert [p.name for p in written.files] == ["cost.json"]
    assert written.failed


def test_a_table_missing_figures_gives_unknown_totals_naming_what_is_unpriced(
    graph: PlanResult, tmp_path: Path
) -> None:
    """eu-west-1's table has no sourced Aurora storage, I/O or EFS backup price: the
    default graph priced there is unknown, never the sum of what could be priced."""
    written = write_cost(graph, "eu-west-1", tmp_path)
    assert written.failed
    document = json.loads((tmp_path / "cost.json").read_text())
    for profile in ("idle", "guide-reference"):
        entry = document["profiles"][profile]
        assert entry["total"] is None and entry["complete"] is False
        assert entry["priced_total"] > 0
    assert document["comparison"]["idle"]["ratio_to_guide-single-cluster"] is None
    reasons = " ".join(u["reason"] for u in document["unpriced"])
    assert "aurora-storage-gb-month" in reasons and "backup-efs-warm-gb-month" in reasons
    assert not any(t["met"] for t in document["targets"] if t["limit"] in (0.48, 0.7))
    assert written.lines[0].startswith("UNKNOWN TOTAL:")
    md = (tmp_path / "cost.md").read_text()
    assert md.splitlines()[2].startswith("**UNKNOWN TOTAL:")
    assert "| idle | unknown |" in md


def test_without_graphviz_the_svg_is_skipped_with_a_warning(
    graph: PlanResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_dot(*_: object) -> bytes:
        raise graphviz.ExecutableNotFound(["dot"])

    monkeypatch.setattr(step, "render_svg", no_dot)
    written = write_cost(graph, "us-east-1", tmp_path)
    assert not (tmp_path / "cost-map.svg").exists()
    assert (tmp_path / "cost.json").exists()
    assert any("cost-map.svg skipped" in w for w in written.warnings)


def test_a_missed_target_is_printed_and_warned_with_its_ratio(
    graph: PlanResult, tmp_path: Path
) -> None:
    written = write_cost(graph, "us-east-1", tmp_path)
    assert (
        "target guide-reference total vs guide-single-cluster: 0.6821x "
        "(limit 0.70x, margin $18.51 a month) met" in written.lines
    )
    md = (tmp_path / "cost.md").read_text()
    assert (
        "- idle total vs guide-single-cluster: 0.4726x (limit 0.48x, margin $4.28 a month) met"
        in md
    )
    # A missed target is warned with its ratio: the design guide's tier-1 reader.
    mirrored = dataclasses.replace(
        graph,
        resources=[
            dataclasses.replace(
                r,
                inputs={**r.inputs, "promotionTier": 1},
                raw_inputs={**r.raw_inputs, "promotionTier": 1},
            )
            if r.type == rt.RDS_CLUSTER_INSTANCE
            else r
            for r in graph.resources
        ],
    )
    missed = write_cost(mirrored, "us-east-1", tmp_path / "mirrored")
    assert any(
        w.startswith("cost target not met: guide-reference total vs guide-single-cluster is 0.7668")
        for w in missed.warnings
    )


def test_an_incomplete_graph_says_its_totals_are_not_comparable(
    graph: PlanResult, tmp_path: Path
) -> None:
    """A graph without a layer (here: operations left out) is priced, but its totals are
    not compared with the design guide's designs."""
    partial = dataclasses.replace(
        graph, resources=[r for r in graph.resources if r.layer != "operations"]
    )
    written = write_cost(partial, "us-east-1", tmp_path)
    assert any("not comparable" in w for w in written.warnings)
    assert any(line.startswith("incomplete graph: no operations layer") for line in written.lines)
    assert not any(w.startswith("cost target not met") for w in written.warnings)
