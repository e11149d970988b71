"""The cost model on the real default stack (tests/support/plan_graph.py `graph`), line by line.

Every figure below is worked out by hand from the us-east-1 table (pingvas_infra/cost/
prices/us-east-1.yaml) and the resource's own inputs in the graph, so a rule that misreads
what a layer really registers (a claim's storage class, a node class's volume size, a log
group's owner) fails here.
"""

from __future__ import annotations

import json

import pytest

from pingvas_infra import resource_types as rt
from pingvas_infra.cost.context import quantity_gib
from pingvas_infra.cost.data import load_free_types
from pingvas_infra.cost.model import CostLine
from pingvas_infra.cost.report import IDLE, LAYER_ORDER, REFERENCE, CostReport
from pingvas_infra.cost.rules import RULES
from pingvas_infra.plan.model import PlanResult, RecordedResource, reveal

SPOT = 0.3  # 70% off on-demand
HOURS = 730


@pytest.fixture(scope="module")
def lines(default_report: CostReport) -> dict[str, list[CostLine]]:
    return {name: priced.lines for name, priced in default_report.this_stack.items()}


def of(lines: list[CostLine], resource: RecordedResource) -> list[CostLine]:
    return [
        line
        for line in lines
        if (line.resource_type, line.resource) == (resource.type, resource.name)
    ]


def one(lines: list[CostLine], resource: RecordedResource, component: str) -> CostLine:
    (found,) = [line for line in of(lines, resource) if line.component.startswith(component)]
    return found


def test_every_layer_is_in_the_graph_and_nothing_is_unpriced(default_report: CostReport) -> None:
    assert default_report.missing_layers == []
    assert set(LAYER_ORDER) <= default_report.layers
    assert default_report.unpriced() == []


def test_every_type_in_the_default_graph_has_a_rule_or_a_reason_to_be_free(
    graph: PlanResult,
) -> None:
    types = {r.type for r in graph.resources}
    free = load_free_types()
    assert all(t in RULES or free.reason(t) for t in types), sorted(
        t for t in types if t not in RULES and not free.reason(t)
    )


def test_system_node_group_at_the_mean_of_its_spot_types_and_its_launch_template_disks(
    graph: PlanResult, lines: dict[str, list[CostLine]]
) -> None:
    group = graph.one(rt.EKS_NODE_GROUP_COMPONENT)
    assert group.inputs["instanceTypes"] == ["t3.medium", "t3a.medium", "c5a.large"]
    assert group.inputs["scalingConfig"]["desiredSize"] == 2
    instances = one(lines[IDLE], group, "Instances (spot")
    # (0.0416 + 0.0376 + 0.077) / 3 x 0.3 = $0.015620 an hour, 2 nodes x 730 h = $22.81.
    assert instances.unit_price == pytest.approx((0.0416 + 0.0376 + 0.077) / 3 * SPOT)
    assert instances.monthly == pytest.approx(22.8052)
    # The launch template's 30 GiB gp3 root volume on each node: 2 x 30 x $0.08.
    (template,) = graph.of_type(rt.LAUNCH_TEMPLATE)
    assert template.inputs["blockDeviceMappings"][0]["ebs"]["volumeSize"] == 30
    assert one(lines[IDLE], group, "Node volumes (gp3)").monthly == pytest.approx(4.80)


def test_gpu_pools_price_their_node_class_volume_for_the_hours_they_run(
    graph: PlanResult, lines: dict[str, list[CostLine]]
) -> None:
    (node_class,) = [
        c for c in graph.of_type(rt.EC2_NODE_CLASS) if c.inputs["metadata"]["name"] == "gpu"
    ]
    (root,) = node_class.inputs["spec"]["blockDeviceMappings"]
    gib = quantity_gib(root["ebs"]["volumeSize"])
    assert gib == 100
    pools = {
        p.inputs["metadata"]["name"]: p
        for p in graph.of_type(rt.NODE_POOL)
        if p.inputs["metadata"]["name"].startswith("gpu-")
    }
    reference = lines[REFERENCE]
    # dev: 107.11 spot hours; prod: 535.53 hours, half spot (profile guide-reference).
    dev, prod = pools["gpu-dev"], pools["gpu-prod"]
    assert one(reference, dev, "GPU instance-hours, spot").monthly == pytest.approx(
        107.11 * 0.526 * SPOT
    )
    assert one(reference, dev, "GPU instance-hours, on-demand").monthly == 0
    assert one(reference, prod, "GPU instance-hours, on-demand").monthly == pytest.approx(
        535.53 / 2 * 0.526
    )
    assert one(reference, dev, "Node volumes").monthly == pytest.approx(100 * 107.11 / HOURS * 0.08)
    assert one(reference, prod, "Node volumes").monthly == pytest.approx(
        100 * 535.53 / HOURS * 0.08
    )
    assert one(reference, dev, "Node volumes").environment == "dev"
    assert sum(line.monthly for p in pools.values() for line in of(lines[IDLE], p)) == 0


def test_aurora_instances_pay_their_floor_and_the_cluster_its_managed_secret(
    graph: PlanResult, lines: dict[str, list[CostLine]]
) -> None:
    (cluster,) = graph.of_type(rt.RDS_CLUSTER)
    assert cluster.inputs["serverlessv2ScalingConfiguration"] == {
        "maxCapacity": 4,
        "minCapacity": 0,
        "secondsUntilAutoPause": 300,
    }
    instances = {i.inputs["tags"]["Role"]: i for i in graph.of_type(rt.RDS_CLUSTER_INSTANCE)}
    assert sorted(instances) == ["reader", "writer"]
    writer, reader = instances["writer"], instances["reader"]
    for instance in instances.values():
        assert one(lines[IDLE], instance, "ACU floor").monthly == 0  # 0 ACU minimum
    # The writer stays connected: 0.5 ACU while running (x 730 h x $0.12 = $43.80), the
    # design guide's 1 ACU at guide-reference ($87.60).
    assert one(lines[IDLE], writer, "ACU above").monthly == pytest.approx(43.80)
    assert one(lines[REFERENCE], writer, "ACU above").monthly == pytest.approx(87.60)
    # The tier-2 reader: nobody connects to it, it pauses.
    assert reader.inputs["promotionTier"] == 2
    for profile in (IDLE, REFERENCE):
        assert one(lines[profile], reader, "ACU above").monthly == 0
        assert "paused" in one(lines[profile], reader, "ACU above").basis
    # RDS keeps the master password in a Secrets Manager secret it creates: $0.40.
    assert cluster.inputs["manageMasterUserPassword"] is True
    assert not graph.of_type(rt.SECRETS_MANAGER_SECRET)
    assert one(lines[IDLE], cluster, "Master password secret").monthly == pytest.approx(0.40)
    # Storage and I/O of the guide-reference profile: 20 GB x $0.10 + 20 M x $0.20.
    assert one(lines[REFERENCE], cluster, "Storage").monthly == pytest.approx(2.00)
    assert one(lines[REFERENCE], cluster, "I/O requests").monthly == pytest.approx(4.00)


def test_cache_is_two_valkey_micro_nodes(
    graph: PlanResult, lines: dict[str, list[CostLine]]
) -> None:
    (cache,) = graph.of_type(rt.CACHE_REPLICATION_GROUP)
    assert (cache.inputs["engine"], cache.inputs["nodeType"], cache.inputs["numCacheClusters"]) == (
        "valkey",
        "cache.t4g.micro",
        2,
    )
    assert one(lines[IDLE], cache, "Cache nodes").monthly == pytest.approx(2 * HOURS * 0.0128)


def test_efs_is_priced_as_configured_and_its_backups_too(
    graph: PlanResult, lines: dict[str, list[CostLine]]
) -> None:
    (file_system,) = graph.of_type(rt.EFS_FILE_SYSTEM)
    assert file_system.inputs["throughputMode"] == "bursting"
    reference = lines[REFERENCE]
    # Bursting: storage only (50 GB x $0.30), no per-GB throughput charge.
    assert [line.component for line in of(reference, file_system)] == [
        "Storage, Standard",
        "Storage, Infrequent Access",
    ]
    assert one(reference, file_system, "Storage, Standard").monthly == pytest.approx(15.00)
    (backup,) = graph.of_type(rt.EFS_BACKUP_POLICY)
    assert backup.inputs["backupPolicy"] == {"status": "ENABLED"}
    assert one(reference, backup, "AWS Backup storage").monthly == pytest.approx(50 * 0.05)


def test_efs_claims_and_static_volumes_cost_nothing_of_their_own(
    graph: PlanResult, default_report: CostReport, lines: dict[str, list[CostLine]]
) -> None:
    claims = graph.of_type(rt.PERSISTENT_VOLUME_CLAIM)
    volumes = graph.of_type(rt.PERSISTENT_VOLUME)
    assert len(claims) == len(volumes) == 3
    classes = {c.inputs["metadata"]["name"]: c for c in graph.of_type(rt.STORAGE_CLASS)}
    for claim in claims:
        assert (
            classes[claim.inputs["spec"]["storageClassName"]].inputs["provisioner"]
            == "efs.csi.aws.com"
        )
    for volume in volumes:
        assert volume.inputs["spec"]["csi"]["driver"] == "efs.csi.aws.com"
    billed = {line.resource_type for profile in lines.values() for line in profile}
    assert not billed & {
        rt.PERSISTENT_VOLUME_CLAIM,
        rt.PERSISTENT_VOLUME,
    }
    free = {(f.resource_type, f.resource) for f in default_report.this_stack[IDLE].free}
    assert {(r.type, r.name) for r in [*claims, *volumes]} <= free


def test_prometheus_volume_follows_its_class_to_ebs_gp3(
    graph: PlanResult, lines: dict[str, list[CostLine]]
) -> None:
    (release,) = [
        r for r in graph.of_type(rt.HELM_RELEASE) if r.inputs["chart"] == "kube-prometheus-stack"
    ]
    spec = release.inputs["values"]["prometheus"]["prometheusSpec"]["storageSpec"][
        "volumeClaimTemplate"
    ]["spec"]
    (storage_class,) = [
        c
        for c in graph.of_type(rt.STORAGE_CLASS)
        if c.inputs["metadata"]["name"] == spec["storageClassName"]
    ]
    assert storage_class.inputs["provisioner"] == "ebs.csi.aws.com"
    volume = one(lines[IDLE], release, "Volume")
    assert volume.price_key == "ebs-gp3-gb-month"
    assert volume.monthly == pytest.approx(20 * 0.08)


def test_every_bucket_is_priced_for_its_purpose_and_owner(
    graph: PlanResult, lines: dict[str, list[CostLine]]
) -> None:
    purposes = {}
    for bucket in graph.of_type(rt.BUCKET):
        (storage,) = of(lines[REFERENCE], bucket)
        purposes[bucket.inputs["tags"]["Purpose"]] = (storage.quantity, storage.environment)
    # The guide-reference profile's GB per purpose; dev-/prod- purposes and the backups
    # bucket's Environment tag (prod dumps) say whose data it is.
    assert purposes == {
        "dev-images": (200, "dev"),
        "prod-images": (1359.13, "prod"),
        "models": (50, "shared"),
        "logs": (100, "shared"),
        "backups": (30, "prod"),
    }


def test_each_log_group_is_priced_for_what_writes_into_it(
    graph: PlanResult, lines: dict[str, list[CostLine]]
) -> None:
    groups = {g.inputs["name"]: g for g in graph.of_type(rt.LOG_GROUP)}
    assert set(groups) == {
        "/aws/eks/pingvas-shared-eks/cluster",
        "/aws/rds/cluster/pingvas-shared-aurora/postgresql",
        "/aws/vpc/network-flow-logs",
    }
    idle = lines[IDLE]
    eks = groups["/aws/eks/pingvas-shared-eks/cluster"]
    assert sorted(line.component for line in of(idle, eks)) == [
        "Log ingestion (eks:api)",
        "Log ingestion (eks:audit)",
        "Log ingestion (eks:authenticator)",
        "Log storage (30 days kept)",
    ]
    # idle: 15 GB of audit log at $0.50; 18 GB ingested kept 30 days at $0.03.
    assert one(idle, eks, "Log ingestion (eks:audit)").monthly == pytest.approx(7.50)
    assert one(idle, eks, "Log storage").quantity == pytest.approx(18 * 30 / (HOURS / 24))
    rds = groups["/aws/rds/cluster/pingvas-shared-aurora/postgresql"]
    assert one(idle, rds, "Log ingestion (rds:postgresql)").quantity == 0.5
    flow = groups["/aws/vpc/network-flow-logs"]
    assert one(idle, flow, "Log ingestion (vpc-flow-logs)").quantity == 1
    assert one(idle, flow, "Log storage").component == "Log storage (14 days kept)"


def test_every_key_address_and_gateway_is_billed(
    graph: PlanResult, lines: dict[str, list[CostLine]]
) -> None:
    keys = graph.of_type(rt.KMS_KEY)
    assert len(keys) == 5  # EKS secrets, data tier, prod data, models, log groups
    assert [one(lines[IDLE], key, "Customer-managed key").monthly for key in keys] == [1.0] * 5
    (address,) = graph.of_type(rt.EIP)
    assert one(lines[IDLE], address, "Public IPv4 address").monthly == pytest.approx(3.65)
    (nat,) = graph.of_type(rt.NAT_GATEWAY)
    assert one(lines[IDLE], nat, "NAT gateway hours").monthly == pytest.approx(32.85)
    assert one(lines[REFERENCE], nat, "Data processed").monthly == pytest.approx(50 * 0.045)
    (cluster,) = graph.of_type(rt.EKS_CLUSTER_COMPONENT)
    assert one(lines[IDLE], cluster, "Control plane hours").monthly == pytest.approx(73.00)


def test_each_environment_pays_one_load_balancer_and_its_traffic(
    graph: PlanResult, lines: dict[str, list[CostLine]]
) -> None:
    """One IngressClassParams per environment is one Application Load Balancer: 730 h x
    $0.0225 = $16.425 each, idle or not, and its public IPv4 address in each of its three
    zones, 3 x 730 h x $0.005 = $10.95; LCUs from the profile's processed GB (prod
    555.56 GB a month = 0.761 GB an hour = 0.761 LCU, far above its 0.92 new connections a
    second / 25)."""
    params = graph.of_type(rt.INGRESS_CLASS_PARAMS)
    assert sorted(p.inputs["metadata"]["name"] for p in params) == ["alb-dev", "alb-prod"]
    gb = {"dev": 111.11, "prod": 555.56}
    for item in params:
        environment = item.inputs["metadata"]["labels"]["environment"]
        hours = one(lines[IDLE], item, "Application Load Balancer hours")
        assert hours.monthly == pytest.approx(16.425)
        assert hours.environment == environment
        addresses = one(lines[IDLE], item, "Public IPv4 addresses (3 AZ)")
        assert addresses.monthly == pytest.approx(10.95)
        assert one(lines[IDLE], item, "Load balancer capacity units").monthly == 0
        capacity = one(lines[REFERENCE], item, "Load balancer capacity units")
        assert capacity.quantity == pytest.approx(gb[environment])
        assert capacity.monthly == pytest.approx(gb[environment] * 0.008)


def test_the_totals_are_the_sum_of_these_lines(default_report: CostReport) -> None:
    """The figures the README quotes (pingvas-infra plan prints the same)."""
    assert default_report.total("this stack", IDLE) == pytest.approx(271.65, abs=0.005)
    assert default_report.total("this stack", REFERENCE) == pytest.approx(705.11, abs=0.005)


def test_nothing_in_the_stack_connects_to_the_reader_endpoint(graph: PlanResult) -> None:
    """What the profiles' `readerAverageAcu: null` rests on: every connection string the
    stack writes names the cluster (writer) endpoint; none names the reader endpoint
    (`<cluster>.cluster-ro-...`), so a tier-2 reader has no load of its own and pauses."""
    text = json.dumps([reveal(r.raw_inputs or r.inputs) for r in graph.resources], default=str)
    assert ".cluster-ro-" not in text
    assert "pingvas-shared-aurora.cluster-" in text


def test_the_system_tiers_overflow_pool_costs_nothing_idle_and_its_hours_otherwise(
    graph: PlanResult, lines: dict[str, list[CostLine]]
) -> None:
    """Karpenter launches the overflow node only when a platform pod finds no system node:
    $0 at idle; guide-reference assumes 36.5 h a month (profile) at the system types' mean
    spot price, plus the 30 GiB root volume for those hours."""
    (overflow,) = [
        p for p in graph.of_type(rt.NODE_POOL) if p.inputs["metadata"]["name"] == "system-overflow"
    ]
    assert sum(line.monthly for line in of(lines[IDLE], overflow)) == 0
    hourly = (0.0416 + 0.0376 + 0.077) / 3 * SPOT
    assert one(lines[REFERENCE], overflow, "Overflow node-hours").monthly == pytest.approx(
        36.5 * hourly
    )
    assert one(lines[REFERENCE], overflow, "Overflow node volumes").monthly == pytest.approx(
        30 * 36.5 / HOURS * 0.08
    )
    # Worst case, one node the whole month: what the README quotes.
    assert HOURS * hourly + 30 * 0.08 == pytest.approx(13.80, abs=0.01)
