"""The whole report on the real default stack: totals, environments, the GPU cost per
1,000 images, the stack's cost targets, and the trade-off the README names for the one target
the defaults miss, proven on the real program (`run_plan` with the config override)."""

from __future__ import annotations

import ast
import json
from typing import Any

import pytest

from pingvas_infra import resource_types as rt
from pingvas_infra.cost.report import (
    IDLE,
    LAYER_ORDER,
    REFERENCE,
    SINGLE,
    THIS_STACK,
    CostReport,
)
from pingvas_infra.cost.targets import (
    DEV_GPU_SHARE_LIMIT,
    IDLE_RATIO_LIMIT,
    REFERENCE_RATIO_LIMIT,
    check_targets,
    cost_document,
    dev_gpu_share,
    idle_ratio,
    prod_gpu_reported,
    reference_ratio,
)
from pingvas_infra.plan.model import PlanResult
from pingvas_infra.plan.stackfile import StackFile
from tests.support.cost import report_of
from tests.support.plan_graph import PlanRunner
from tests.support.project import PROJECT_DIR


def section_with(stack_file: StackFile, section: str, path: tuple[str, ...], value: Any) -> dict:
    """The stack file's `pingvas-infra:<section>` with one nested key changed (run_plan merges
    only a section's top-level keys)."""
    document = json.loads(stack_file.config.get(f"pingvas-infra:{section}", "{}"))
    target = document
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value
    return {f"pingvas-infra:{section}": document}


@pytest.fixture(scope="module")
def without_reader_plan(run_plan: PlanRunner, stack_file: StackFile) -> PlanResult:
    return run_plan(section_with(stack_file, "data", ("aurora", "reader"), False))


@pytest.fixture(scope="module")
def without_reader(without_reader_plan: PlanResult) -> CostReport:
    return report_of(without_reader_plan)


def test_fixed_and_usage_add_up_and_idle_is_the_floor(default_report: CostReport) -> None:
    for priced in default_report.this_stack.values():
        assert priced.total == pytest.approx(priced.total_of("fixed") + priced.total_of("usage"))
    idle, reference = default_report.this_stack[IDLE], default_report.this_stack[REFERENCE]
    # Fixed capacity does not depend on the profile.
    assert idle.total_of("fixed") == pytest.approx(reference.total_of("fixed"))
    assert reference.total > idle.total


def test_costs_are_attributed_to_environments(default_report: CostReport) -> None:
    by_environment = default_report.this_stack[REFERENCE].by("environment")
    assert set(by_environment) == {"dev", "prod", "shared"}
    # prod's GPU pool (5/6 of the hours, half on-demand), its images and its backups.
    assert by_environment["prod"] > by_environment["dev"] > 0


def test_gpu_cost_per_1000_images_by_hand(default_report: CostReport) -> None:
    gpu = default_report.gpu
    hours = 1000 * 8 / 3600  # the design guide's 8 s per image on a g4dn.xlarge
    on_demand = hours * 0.526
    assert gpu.on_demand == pytest.approx(on_demand)  # $1.17
    assert gpu.pools["dev"].usd == pytest.approx(on_demand * 0.30)  # spot only: $0.35
    # prod: half the hours on spot (70% off), half on-demand: $0.76.
    assert gpu.pools["prod"].usd == pytest.approx(hours * (0.5 * 0.526 * 0.3 + 0.5 * 0.526))
    assert gpu.to_json()["dev"] == 0.35
    assert gpu.to_json()["prod"] == 0.76
    assert gpu.to_json()["on_demand"] == 1.17


def test_target_checks_compare_totals_of_the_same_table_and_profiles(
    default_report: CostReport,
) -> None:
    idle = idle_ratio(default_report)
    this, baseline = default_report.total(THIS_STACK, IDLE), default_report.total(SINGLE, IDLE)
    assert this is not None and baseline is not None
    assert idle.value == pytest.approx(this / baseline)
    assert idle.margin_usd == pytest.approx(0.48 * baseline - this)
    assert idle.limit == IDLE_RATIO_LIMIT == 0.48
    assert reference_ratio(default_report).limit == REFERENCE_RATIO_LIMIT == 0.70
    assert dev_gpu_share(default_report).limit == DEV_GPU_SHARE_LIMIT == 0.35
    assert prod_gpu_reported(default_report).limit is None
    assert len(check_targets(default_report)) == 4


def test_the_defaults_meet_every_target_with_a_margin(default_report: CostReport) -> None:
    """$271.65 / $574.86 idle and $705.11 / $1,033.74 at guide-reference, the two load
    balancers (hours and public IPv4 addresses) priced on both sides: the margins are what
    the stack may still grow (keys) before a target is missed."""
    idle, reference = idle_ratio(default_report), reference_ratio(default_report)
    assert idle.value == pytest.approx(0.4726, abs=5e-5)
    assert idle.margin_usd == pytest.approx(4.28, abs=0.01)
    assert reference.value == pytest.approx(0.6821, abs=5e-5)
    assert reference.margin_usd == pytest.approx(18.51, abs=0.01)
    assert all(check.met for check in check_targets(default_report))
    assert prod_gpu_reported(default_report).detail.startswith("$0.7598 at spot share 0.5")
    (reported,) = [
        t
        for t in cost_document(default_report, check_targets(default_report))["targets"]
        if t["name"] == reference.name
    ]
    assert reported == {**reported, "met": True, "value": 0.6821, "limit": 0.7}


def _reader(graph: PlanResult) -> dict[str, Any]:
    (reader,) = [
        i.inputs
        for i in graph.of_type(rt.RDS_CLUSTER_INSTANCE)
        if i.inputs["tags"]["Role"] == "reader"
    ]
    return reader


def test_the_reader_is_kept_in_a_second_az_and_costs_nothing_while_paused(
    graph: PlanResult, default_report: CostReport, run_plan: PlanRunner, stack_file: StackFile
) -> None:
    """The saving the README names: the reader in promotion tier 2 scales with its own load
    (none: the services connect to the writer endpoint) and, with a 0 ACU minimum, pauses.
    HA is kept (a reader in another AZ to fail over to); what it costs is a slower failover
    onto a paused, cold instance. In tier 1 it would mirror the writer: $43.80 idle and
    $87.60 at guide-reference."""
    assert _reader(graph)["promotionTier"] == 2
    reader_lines = [
        line for line in default_report.this_stack[REFERENCE].lines if "reader" in line.resource
    ]
    assert sum(line.monthly for line in reader_lines) == 0
    assert any("paused" in line.basis for line in reader_lines)
    mirrored = report_of(
        run_plan(section_with(stack_file, "data", ("aurora", "readerPromotionTier"), 1))
    )
    for profile, extra in ((IDLE, 43.80), (REFERENCE, 87.60)):
        this, before = (
            mirrored.total(THIS_STACK, profile),
            default_report.total(THIS_STACK, profile),
        )
        assert this is not None and before is not None
        assert this - before == pytest.approx(extra)
    assert not reference_ratio(mirrored).met  # the tier is the saving


def test_the_design_guides_half_acu_minimum_keeps_the_reader_running(
    default_report: CostReport, run_plan: PlanRunner, stack_file: StackFile
) -> None:
    """minAcu 0.5 (the design guide's): the tier-2 reader cannot pause and sits at 0.5 ACU
    all month, $43.80 in both profiles; the reference target is then missed (0.7245)."""
    half = report_of(run_plan(section_with(stack_file, "data", ("aurora", "minAcu"), 0.5)))
    for profile in (IDLE, REFERENCE):
        this, before = half.total(THIS_STACK, profile), default_report.total(THIS_STACK, profile)
        assert this is not None and before is not None
        assert this - before == pytest.approx(43.80)
    assert reference_ratio(half).value == pytest.approx(0.7245, abs=5e-5)


def test_dropping_the_aurora_reader_saves_nothing_more_and_gives_up_ha(
    default_report: CostReport, without_reader: CostReport, without_reader_plan: PlanResult
) -> None:
    """No reader costs what the paused reader costs (nothing), and loses the failover
    target: a writer or AZ failure then waits for RDS to create an instance."""
    instances = without_reader_plan.of_type(rt.RDS_CLUSTER_INSTANCE)
    assert [i.inputs["tags"]["Role"] for i in instances] == ["writer"]
    assert any("pingvas-infra:data.aurora.reader" in w for w in without_reader_plan.warnings)
    assert without_reader.total(THIS_STACK, REFERENCE) == pytest.approx(
        default_report.total(THIS_STACK, REFERENCE)
    )


def test_elastic_efs_throughput_would_cost_what_the_default_saves(
    run_plan: PlanRunner, stack_file: StackFile, default_report: CostReport
) -> None:
    """The default is bursting; Elastic bills the profile's 320 GB read and 10 GB
    written: 320 x $0.03 + 10 x $0.06 = $10.20 a month at guide-reference."""
    elastic = report_of(
        run_plan(section_with(stack_file, "storage", ("efs", "throughputMode"), "elastic"))
    )
    after, before = (
        elastic.total(THIS_STACK, REFERENCE),
        default_report.total(THIS_STACK, REFERENCE),
    )
    assert after is not None and before is not None
    assert after - before == pytest.approx(10.20)
    assert elastic.total(THIS_STACK, IDLE) == pytest.approx(default_report.total(THIS_STACK, IDLE))


def test_a_dev_pool_allowing_only_on_demand_is_priced_on_demand(
    run_plan: PlanRunner, stack_file: StackFile, default_report: CostReport
) -> None:
    """The config drives the capacity mix: the profile's spot share applies only where a
    pool allows both; dev set to on-demand pays its 107.11 GPU-hours at $0.526, not $0.1578."""
    plan = run_plan(
        section_with(stack_file, "gpu", ("pools", "dev", "capacityTypes"), ["on-demand"])
    )
    on_demand = report_of(plan)
    dev = [
        line
        for line in on_demand.this_stack[REFERENCE].lines
        if line.environment == "dev" and line.component.startswith("GPU instance-hours")
    ]
    by_component = {line.component: line for line in dev}
    assert by_component["GPU instance-hours, on-demand (g4dn.xlarge)"].quantity == pytest.approx(
        107.11
    )
    assert by_component["GPU instance-hours, spot (g4dn.xlarge)"].quantity == 0
    assert all(line.basis == "on-demand only: the pool allows on-demand" for line in dev)
    before = default_report.total(THIS_STACK, REFERENCE)
    after = on_demand.total(THIS_STACK, REFERENCE)
    assert before is not None and after is not None
    assert after - before == pytest.approx(107.11 * (0.526 - 0.526 * 0.3))  # +$39.44
    assert on_demand.gpu.pools["dev"].spot_share == 0


def test_the_layer_order_is_the_order_main_wires_the_layers() -> None:
    """LAYER_ORDER (the cost report's layers) is __main__.py's: each layer component it
    constructs, in the order it constructs them."""
    tree = ast.parse((PROJECT_DIR / "__main__.py").read_text(encoding="utf-8"))
    layer_of_class = {
        alias.asname or alias.name: node.module.split(".")[1]
        for node in tree.body
        if isinstance(node, ast.ImportFrom)
        and node.module
        and node.module.startswith("pingvas_infra.")
        and node.module.endswith(".component")
        for alias in node.names
    }
    constructed = sorted(
        (call.lineno, layer_of_class[call.func.id])
        for call in ast.walk(tree)
        if isinstance(call, ast.Call)
        and isinstance(call.func, ast.Name)
        and call.func.id in layer_of_class
    )
    assert tuple(layer for _, layer in constructed) == LAYER_ORDER
