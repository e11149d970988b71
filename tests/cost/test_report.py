"""The whole report on the synthetic full stack (every layer, the project's defaults),
the GPU cost per 1,000 images, the target checks, and the README's trade-offs."""

from __future__ import annotations

import pytest

from pingvas_infra.cost.report import IDLE, LAYER_ORDER, REFERENCE, SINGLE, CostReport, build_report
from pingvas_infra.cost.targets import (
    DEV_GPU_SHARE_LIMIT,
    IDLE_RATIO_LIMIT,
    REFERENCE_RATIO_LIMIT,
    check_targets,
    dev_gpu_share,
    idle_ratio,
    prod_gpu_reported,
    reference_ratio,
)
from tests.cost.full_stack import DEFAULTS, Options, full_stack_plan


def report_for(options: Options = DEFAULTS) -> CostReport:
    plan = full_stack_plan(options)
    return build_report(plan.resources, project=plan.project, stack=plan.stack, region="us-east-1")


@pytest.fixture(scope="module")
def full() -> CostReport:
    return report_for()


def test_the_full_stack_has_every_layer_and_nothing_unpriced(full: CostReport) -> None:
    assert full.missing_layers == []
    assert full.unpriced() == []
    assert set(LAYER_ORDER) <= full.layers


def test_fixed_and_usage_add_up_and_idle_is_the_floor(full: CostReport) -> None:
    for priced in full.this_stack.values():
        assert priced.total == pytest.approx(priced.total_of("fixed") + priced.total_of("usage"))
    idle, reference = full.this_stack[IDLE], full.this_stack[REFERENCE]
    # Fixed capacity does not depend on the profile.
    assert idle.total_of("fixed") == pytest.approx(reference.total_of("fixed"))
    assert reference.total > idle.total


def test_costs_are_attributed_to_environments(full: CostReport) -> None:
    by_environment = full.this_stack[REFERENCE].by("environment")
    assert set(by_environment) == {"dev", "prod", "shared"}
    # prod's GPU pool (5/6 of the hours, half on-demand) and its images bucket.
    assert by_environment["prod"] > by_environment["dev"] > 0


def test_gpu_cost_per_1000_images_by_hand(full: CostReport) -> None:
    hours = 1000 * 8 / 3600  # the seed's 8 s per image on a g4dn.xlarge
    on_demand = hours * 0.526
    assert full.gpu.on_demand == pytest.approx(on_demand)  # $1.17
    assert full.gpu.pools["dev"].usd == pytest.approx(on_demand * 0.30)  # spot only: $0.35
    # prod: half the hours on spot (70% off), half on-demand: $0.76.
    assert full.gpu.pools["prod"].usd == pytest.approx(hours * (0.5 * 0.526 * 0.3 + 0.5 * 0.526))
    assert full.gpu.to_json()["dev"] == 0.35
    assert full.gpu.to_json()["on_demand"] == 1.17


def test_target_checks_compare_totals_of_the_same_table_and_profiles(full: CostReport) -> None:
    idle = idle_ratio(full)
    assert idle.value == pytest.approx(full.total("this stack", IDLE) / full.total(SINGLE, IDLE))
    assert idle.limit == IDLE_RATIO_LIMIT == 0.5
    assert reference_ratio(full).limit == REFERENCE_RATIO_LIMIT == 0.72
    assert dev_gpu_share(full).limit == DEV_GPU_SHARE_LIMIT == 0.35
    assert prod_gpu_reported(full).limit is None
    assert len(check_targets(full)) == 4


def test_the_defaults_meet_the_idle_and_dev_gpu_targets(full: CostReport) -> None:
    assert idle_ratio(full).met, idle_ratio(full)
    assert dev_gpu_share(full).met, dev_gpu_share(full)
    assert prod_gpu_reported(full).detail.startswith("$0.7598 at spot share 0.5")


def test_safe_default_changes_alone_do_not_reach_the_seed_reference_target() -> None:
    """Bursting EFS throughput and 100 GiB GPU volumes cost nothing the seed has, and are
    not enough: the README says so and names the trade-off that closes the rest."""
    safe = report_for(Options(efs_throughput="bursting", gpu_volume="100Gi"))
    assert safe.ratio(REFERENCE, SINGLE) < report_for().ratio(REFERENCE, SINGLE)
    assert not reference_ratio(safe).met


def test_dropping_the_aurora_reader_closes_the_seed_reference_gap() -> None:
    single_writer = report_for(Options(aurora_instances=("writer",)))
    assert reference_ratio(single_writer).met
    assert idle_ratio(single_writer).met


def test_dropping_the_cache_replica_and_a_system_node_does_not() -> None:
    lean = report_for(
        Options(efs_throughput="bursting", gpu_volume="100Gi", cache_nodes=1, system_nodes=1)
    )
    assert not reference_ratio(lean).met


def test_rules_read_the_inputs_the_sdks_send(full: CostReport) -> None:
    """The synthetic stack registers through pulumi-aws, pulumi-eks and pulumi-kubernetes:
    these lines exist only if the rules read the SDKs' own input names."""
    monthly = {line.key: line.monthly for line in full.this_stack[REFERENCE].lines}

    def cost_of(fragment: str) -> float:
        (value,) = [v for k, v in monthly.items() if fragment in k]
        return value

    # upgradePolicy.supportType STANDARD: no extended-support warning.
    assert not [w for w in full.this_stack[IDLE].warnings if "supportType" in w]
    # enabledClusterLogTypes (api, audit, authenticator) into the program's log group.
    assert cost_of("LogGroup control-plane / Log ingestion (eks:audit)") == 15.0
    # scalingConfig.desiredSize and launchTemplate.id -> blockDeviceMappings[].ebs.
    assert cost_of("ManagedNodeGroup system / Node volumes (gp3)") == pytest.approx(2 * 20 * 0.08)
    # serverlessv2ScalingConfiguration.minCapacity, found through clusterIdentifier = id.
    assert cost_of("ClusterInstance reader / ACU floor") == pytest.approx(43.80)
    # manageMasterUserPassword.
    assert cost_of("Cluster aurora / Master password secret") == pytest.approx(0.40)
    # engine, nodeType, numCacheClusters.
    assert cost_of("ReplicationGroup cache / Cache nodes") == pytest.approx(2 * 730 * 0.0128)
    # throughputMode elastic.
    assert cost_of("FileSystem models / Elastic throughput, reads") == pytest.approx(320 * 0.03)
    # Helm values: Prometheus's volumeClaimTemplate.
    assert cost_of("Release kube-prometheus-stack / Volume") == pytest.approx(20 * 0.08)
    # NodePool requirements and EC2NodeClass volumeSize "150Gi".
    assert cost_of("NodePool dev-gpu / Node volumes (gp3)") == pytest.approx(
        150 * 107.11 / 730 * 0.08
    )
