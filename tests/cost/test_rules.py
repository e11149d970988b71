"""Each pricing rule against figures computed by hand from the us-east-1 table."""

from __future__ import annotations

import pytest

from pingvas_infra import resource_types as rt
from pingvas_infra.cost.data import load_free_types
from pingvas_infra.cost.model import Priced
from pingvas_infra.cost.rules import RULES
from pingvas_infra.plan.model import RecordedResource
from pingvas_infra.sdk_internals import resource_class
from tests.cost.builders import HOURS, line, price, profile, resource
from tests.support.plan_graph import is_custom_resource

DAYS = HOURS / 24


def test_nat_gateway_hours_and_processed_gb_split_over_gateways() -> None:
    usage = profile(nat={"processedGb": 100})
    priced = price([resource(rt.NAT_GATEWAY, "a"), resource(rt.NAT_GATEWAY, "b")], usage)
    assert line(priced, "NAT gateway hours", "a").monthly == pytest.approx(0.045 * 730)  # 32.85
    processed = line(priced, "Data processed", "b")
    assert processed.quantity == 50  # 100 GB over two gateways
    assert processed.monthly == pytest.approx(50 * 0.045)
    assert processed.kind == "usage"
    assert priced.total == pytest.approx(2 * 32.85 + 100 * 0.045)


def test_every_public_ipv4_address_is_billed_by_the_hour() -> None:
    priced = price([resource(rt.EIP, "nat", {"domain": "vpc"})])
    assert line(priced, "Public IPv4").monthly == pytest.approx(0.005 * 730)  # 3.65
    assert line(priced, "Public IPv4").kind == "fixed"


def test_gateway_endpoints_are_free_and_interface_endpoints_bill_per_zone() -> None:
    gateway = resource(rt.VPC_ENDPOINT, "s3", {"vpcEndpointType": "Gateway"})
    interface = resource(
        rt.VPC_ENDPOINT, "ecr", {"vpcEndpointType": "Interface", "subnetIds": ["a", "b", "c"]}
    )
    priced = price([gateway, interface], profile(interfaceEndpoints={"processedGb": 10}))
    assert [f.resource for f in priced.free] == ["s3"]
    assert line(priced, "Interface endpoint hours").monthly == pytest.approx(3 * 730 * 0.01)
    assert line(priced, "Data processed").monthly == pytest.approx(10 * 0.01)


def test_flow_log_group_prices_ingestion_and_retained_storage() -> None:
    group = resource(rt.LOG_GROUP, "flow", {"name": "/aws/vpc/flow", "retentionInDays": 14})
    flow_log = resource(rt.FLOW_LOG, "flow", dependencies=[group.urn])
    priced = price([group, flow_log], profile(logs={"ingestedGb": {"vpc-flow-logs": 2}}))
    assert line(priced, "Log ingestion (vpc-flow-logs)").monthly == pytest.approx(2 * 0.50)
    # 14 days of 2 GB a month kept: 2 x 14 / 30.42 GB-month at $0.03.
    storage = line(priced, "Log storage (14 days kept)")
    assert storage.monthly == pytest.approx(2 * 14 / DAYS * 0.03)
    assert [f.resource_type for f in priced.free] == [rt.FLOW_LOG]


def test_eks_control_plane_standard_rate_and_a_warning_for_extended_policy() -> None:
    standard = resource(
        rt.EKS_CLUSTER_COMPONENT, "std", {"upgradePolicy": {"supportType": "STANDARD"}}
    )
    unset = resource(rt.EKS_CLUSTER_COMPONENT, "unset", {})
    priced = price([standard, unset])
    assert line(priced, "Control plane", "std").monthly == pytest.approx(0.10 * 730)  # 73.00
    assert line(priced, "Control plane", "unset").monthly == pytest.approx(73.0)
    (warning,) = [w for w in priced.warnings if "unset" in w]
    assert "$365.00 more a month" in warning  # (0.60 - 0.10) x 730


def test_eks_logs_priced_on_the_program_log_group_when_it_exists() -> None:
    cluster = resource(
        rt.EKS_CLUSTER_COMPONENT,
        "eks",
        {"name": "main", "enabledClusterLogTypes": ["api", "audit"]},
    )
    group = resource(rt.LOG_GROUP, "cp", {"name": "/aws/eks/main/cluster", "retentionInDays": 30})
    usage = profile(logs={"ingestedGb": {"eks:api": 2, "eks:audit": 20, "eks:scheduler": 5}})
    priced = price([cluster, group], usage)
    assert line(priced, "Log ingestion (eks:audit)", "cp").monthly == pytest.approx(20 * 0.5)
    assert line(priced, "Log ingestion (eks:api)", "cp").monthly == pytest.approx(2 * 0.5)
    storage = line(priced, "Log storage (30 days kept)", "cp")
    assert storage.monthly == pytest.approx(22 * 30 / DAYS * 0.03)
    # Nothing logs on the cluster itself; the scheduler type is not enabled.
    assert [item.component for item in priced.lines if item.resource == "eks"] == [
        "Control plane hours"
    ]
    assert any("logs:eks:scheduler is not priced" in w for w in priced.warnings)


def test_eks_logs_without_a_log_group_are_priced_on_the_cluster_and_never_expire() -> None:
    cluster = resource(
        rt.EKS_CLUSTER_COMPONENT, "eks", {"name": "main", "enabledClusterLogTypes": ["audit"]}
    )
    priced = price([cluster], profile(logs={"ingestedGb": {"eks:audit": 10}}))
    assert line(priced, "Log ingestion (eks:audit)").monthly == pytest.approx(5.0)
    # Never expires: priced after a year of it, 10 GB x 12 months (365 days) at $0.03.
    assert line(priced, "Log storage (365 days").monthly == pytest.approx(10 * 365 / DAYS * 0.03)
    assert any("never expires" in w for w in priced.warnings)


def test_spot_node_group_at_the_mean_of_its_types_with_launch_template_volumes() -> None:
    template = resource(
        rt.LAUNCH_TEMPLATE,
        "lt",
        {"blockDeviceMappings": [{"ebs": {"volumeSize": 30, "volumeType": "gp3"}}]},
        resource_id="lt-123",
    )
    group = resource(
        rt.EKS_NODE_GROUP_COMPONENT,
        "system",
        {
            "capacityType": "SPOT",
            "instanceTypes": ["t3.medium", "t3a.medium", "t2.medium"],
            "scalingConfig": {"desiredSize": 2, "minSize": 2, "maxSize": 4},
            "launchTemplate": {"id": "lt-123", "version": "1"},
        },
    )
    priced = price([template, group])
    instances = line(priced, "Instances (spot")
    mean = (0.0416 + 0.0376 + 0.0464) / 3
    assert instances.quantity == 2 * 730
    assert instances.monthly == pytest.approx(2 * 730 * mean * 0.30)  # 18.34
    assert line(priced, "Node volumes (gp3)").monthly == pytest.approx(2 * 30 * 0.08)
    assert [f.resource for f in priced.free] == ["lt"]


def test_on_demand_node_group_without_template_uses_disk_size() -> None:
    group = resource(
        rt.EKS_NODE_GROUP_COMPONENT,
        "legacy",
        {"instanceTypes": ["t3.medium"], "scalingConfig": {"desiredSize": 3}, "diskSize": 20},
    )
    priced = price([group])
    assert line(priced, "Instances (on-demand").monthly == pytest.approx(3 * 730 * 0.0416)
    assert line(priced, "Node volumes (gp3)").monthly == pytest.approx(3 * 20 * 0.08)


def test_an_instance_type_missing_from_the_table_leaves_the_group_unpriced() -> None:
    group = resource(rt.EKS_NODE_GROUP_COMPONENT, "odd", {"instanceTypes": ["x9.huge"]})
    priced = price([group])
    assert not priced.lines
    (unpriced,) = priced.unpriced
    assert "x9.huge" in unpriced.reason


def gpu_pool(environment: str, capacity_types: list[str] | None, limit: int = 15) -> object:
    requirements = [
        {"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["g4dn"]}
    ]
    if capacity_types is not None:
        requirements.append(
            {"key": "karpenter.sh/capacity-type", "operator": "In", "values": capacity_types}
        )
    return resource(
        rt.NODE_POOL,
        f"{environment}-gpu",
        {
            "metadata": {"name": f"{environment}-gpu"},
            "spec": {
                "template": {
                    "metadata": {"labels": {"pingvas.io/environment": environment}},
                    "spec": {"nodeClassRef": {"name": "gpu"}, "requirements": requirements},
                },
                "limits": {"nvidia.com/gpu": limit},
            },
        },
    )


GPU_NODE_CLASS = resource(
    rt.EC2_NODE_CLASS,
    "gpu",
    {
        "metadata": {"name": "gpu"},
        "spec": {"blockDeviceMappings": [{"ebs": {"volumeSize": "150Gi", "volumeType": "gp3"}}]},
    },
)


def test_gpu_pools_price_profile_hours_at_their_spot_share_plus_node_volumes() -> None:
    usage = profile(
        gpu={
            "pools": {
                "dev": {"gpuHours": 100, "spotShare": 1.0},
                "prod": {"gpuHours": 400, "spotShare": 0.5},
            }
        }
    )
    priced = price(
        [gpu_pool("dev", ["spot"]), gpu_pool("prod", ["spot", "on-demand"]), GPU_NODE_CLASS],
        usage,
    )
    spot = 0.526 * 0.30
    assert line(priced, "GPU instance-hours, spot", "dev-gpu").monthly == pytest.approx(100 * spot)
    assert line(priced, "GPU instance-hours, on-demand", "dev-gpu").monthly == 0
    assert line(priced, "GPU instance-hours, spot", "prod-gpu").monthly == pytest.approx(200 * spot)
    assert line(priced, "GPU instance-hours, on-demand", "prod-gpu").monthly == pytest.approx(
        200 * 0.526
    )
    # 150 GiB per node for 400 node-hours of a 730-hour month.
    volumes = line(priced, "Node volumes (gp3)", "prod-gpu")
    assert volumes.monthly == pytest.approx(150 * 400 / 730 * 0.08)
    assert {item.environment for item in priced.lines if item.resource == "dev-gpu"} == {"dev"}
    assert not priced.warnings


def test_a_pool_that_allows_no_spot_is_priced_on_demand_whatever_the_profile() -> None:
    usage = profile(gpu={"pools": {"prod": {"gpuHours": 10, "spotShare": 0.9}}})
    # No capacity-type requirement: Karpenter launches on-demand only.
    priced = price([gpu_pool("prod", None), GPU_NODE_CLASS], usage)
    assert line(priced, "GPU instance-hours, on-demand").monthly == pytest.approx(10 * 0.526)
    assert line(priced, "GPU instance-hours, spot").monthly == 0
    assert any("priced at spot share 0" in w for w in priced.warnings)


def test_gpu_hours_beyond_the_pool_limit_are_flagged() -> None:
    usage = profile(gpu={"pools": {"dev": {"gpuHours": 3000, "spotShare": 1.0}}})
    priced = price([gpu_pool("dev", ["spot"], limit=3), GPU_NODE_CLASS], usage)
    assert any("exceed its limit of 3 GPUs" in w for w in priced.warnings)


def test_serverless_aurora_floor_is_fixed_and_the_profile_average_is_usage() -> None:
    cluster = resource(
        rt.RDS_CLUSTER,
        "aurora",
        {
            "engine": "aurora-postgresql",
            "clusterIdentifier": "db",
            "manageMasterUserPassword": True,
            "serverlessv2ScalingConfiguration": {"minCapacity": 0.5, "maxCapacity": 4},
        },
    )
    writer = resource(
        rt.RDS_CLUSTER_INSTANCE,
        "writer",
        {"clusterIdentifier": "db", "instanceClass": "db.serverless"},
    )
    reader = resource(
        rt.RDS_CLUSTER_INSTANCE,
        "reader",
        {"clusterIdentifier": "aurora-id", "instanceClass": "db.serverless"},
        dependencies=[cluster.urn],
    )
    idle = price([cluster, writer, reader])
    assert line(idle, "ACU floor", "writer").monthly == pytest.approx(0.5 * 730 * 0.12)  # 43.80
    assert line(idle, "ACU floor", "reader").monthly == pytest.approx(43.80)
    assert line(idle, "ACU above the floor", "writer").monthly == 0
    assert line(idle, "Master password secret").monthly == pytest.approx(0.40)
    busy = price(
        [cluster, writer, reader],
        profile(aurora={"writerAverageAcu": 1.0, "storageGb": 20, "ioMillions": 10}),
    )
    assert line(busy, "ACU above the floor", "writer").monthly == pytest.approx(0.5 * 730 * 0.12)
    assert line(busy, "Storage").monthly == pytest.approx(20 * 0.10)
    assert line(busy, "I/O requests").monthly == pytest.approx(10 * 0.20)
    # The design guide's $87 an instance is 1 ACU all month: 730 x $0.12 = $87.60 a month.
    writer_total = sum(item.monthly for item in busy.lines if item.resource == "writer")
    assert writer_total == pytest.approx(87.60)


def _serverless(minimum: float, maximum: float, reader_tier: int) -> list:
    cluster = resource(
        rt.RDS_CLUSTER,
        "aurora",
        {
            "engine": "aurora-postgresql",
            "serverlessv2ScalingConfiguration": {"minCapacity": minimum, "maxCapacity": maximum},
        },
    )
    return [
        cluster,
        resource(
            rt.RDS_CLUSTER_INSTANCE,
            "writer",
            {"instanceClass": "db.serverless", "promotionTier": 0},
            dependencies=[cluster.urn],
        ),
        resource(
            rt.RDS_CLUSTER_INSTANCE,
            "reader",
            {"instanceClass": "db.serverless", "promotionTier": reader_tier},
            dependencies=[cluster.urn],
        ),
    ]


def _acu(priced: Priced, name: str) -> float:
    return sum(item.quantity for item in priced.lines if item.resource == name) / 730


def test_aurora_average_is_capped_at_max_and_a_running_instance_never_below_half_an_acu() -> None:
    graph = _serverless(0, 2, reader_tier=1)
    idle = price(graph)
    # Connected all month: the writer runs at 0.5 ACU even with a 0 ACU minimum.
    assert _acu(idle, "writer") == 0.5
    busy = price(graph, profile(aurora={"writerAverageAcu": 6.0}))
    assert _acu(busy, "writer") == 2  # capped at the maximum
    assert _acu(busy, "reader") == 2  # tier 1 follows the writer


def test_a_writer_nobody_connects_to_pauses_only_with_a_zero_minimum() -> None:
    unused = profile(aurora={"writerConnected": False})
    assert price(_serverless(0, 4, reader_tier=1), unused).total == 0
    assert _acu(price(_serverless(0.5, 4, reader_tier=1), unused), "writer") == 0.5


@pytest.mark.parametrize(
    ("minimum", "tier", "reader_load", "expected"),
    [
        (0.5, 1, None, 1.0),  # tier 0-1: kept at the writer's capacity
        (0.5, 0, None, 1.0),
        (0.5, 2, None, 0.5),  # tier 2-15: its own load; none sent, so its minimum
        (0, 2, None, 0.0),  # ... and with a 0 ACU minimum it pauses
        (0, 15, None, 0.0),
        (0, 1, None, 1.0),  # tier 1 never pauses while the writer runs
        (0, 2, 1.5, 1.5),  # reads sent to the reader endpoint are paid for
    ],
)
def test_the_readers_promotion_tier_decides_what_it_scales_with(
    minimum: float, tier: int, reader_load: float | None, expected: float
) -> None:
    usage = profile(aurora={"writerAverageAcu": 1.0, "readerAverageAcu": reader_load})
    priced = price(_serverless(minimum, 4, reader_tier=tier), usage)
    assert _acu(priced, "writer") == 1.0
    assert _acu(priced, "reader") == pytest.approx(expected)
    basis = next(i.basis for i in priced.lines if i.resource == "reader" and i.basis)
    assert f"promotion tier {tier}" in basis


def test_provisioned_aurora_instance_and_non_aurora_engine() -> None:
    cluster = resource(
        rt.RDS_CLUSTER, "legacy", {"engine": "aurora-postgresql", "clusterIdentifier": "l"}
    )
    instance = resource(
        rt.RDS_CLUSTER_INSTANCE, "one", {"clusterIdentifier": "l", "instanceClass": "db.r6g.large"}
    )
    mysql = resource(rt.RDS_CLUSTER, "mysql", {"engine": "mysql"})
    priced = price([cluster, instance, mysql])
    assert line(priced, "Instance hours (db.r6g.large)").monthly == pytest.approx(0.26 * 730)
    assert [u.resource for u in priced.unpriced] == ["mysql"]


def test_io_optimized_storage_and_long_performance_insights_are_unpriced() -> None:
    cluster = resource(
        rt.RDS_CLUSTER,
        "aurora",
        {
            "engine": "aurora-postgresql",
            "storageType": "aurora-iopt1",
            "serverlessv2ScalingConfiguration": {"minCapacity": 1, "maxCapacity": 4},
        },
    )
    instance = resource(
        rt.RDS_CLUSTER_INSTANCE,
        "writer",
        {
            "instanceClass": "db.serverless",
            "performanceInsightsEnabled": True,
            "performanceInsightsRetentionPeriod": 731,
        },
        dependencies=[cluster.urn],
    )
    priced = price([cluster, instance])
    # I/O-Optimized ACU: $0.16 (the higher of the two figures found).
    assert line(priced, "ACU floor").monthly == pytest.approx(1 * 730 * 0.16)
    reasons = sorted(u.reason for u in priced.unpriced)
    assert len(reasons) == 2
    assert "I/O-Optimized storage" in reasons[0]
    assert "Performance Insights kept 731 days" in reasons[1]


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        ({"engine": "valkey", "nodeType": "cache.t4g.micro", "numCacheClusters": 2}, 2 * 0.0128),
        ({"engine": "redis", "nodeType": "cache.r6g.large", "numCacheClusters": 2}, 2 * 0.206),
        (
            {
                "engine": "valkey",
                "nodeType": "cache.t4g.small",
                "numNodeGroups": 2,
                "replicasPerNodeGroup": 1,
            },
            4 * 0.0256,
        ),
    ],
)
def test_cache_nodes_by_engine_and_node_type(inputs: dict, expected: float) -> None:
    priced = price([resource(rt.CACHE_REPLICATION_GROUP, "cache", inputs)])
    assert priced.total == pytest.approx(expected * 730)


def test_unknown_cache_node_type_is_unpriced() -> None:
    priced = price(
        [
            resource(
                rt.CACHE_REPLICATION_GROUP, "cache", {"engine": "valkey", "nodeType": "cache.x9"}
            )
        ]
    )
    assert priced.unpriced and not priced.lines


def test_buckets_take_their_purpose_from_tags_or_name_and_prefix_environment() -> None:
    usage = profile(s3={"storedGb": {"dev-images": 100, "prod-images": 1000, "models": 50}})
    dev = resource(rt.BUCKET, "a", {"bucket": "pingvas-dev-images-123"})
    prod = resource(rt.BUCKET, "b", {"tags": {"Purpose": "prod-images"}})
    models = resource(rt.BUCKET, "models")
    stray = resource(rt.BUCKET, "stray", {"bucket": "pingvas-scratch"})
    backups = resource(
        rt.BUCKET, "backups", {"tags": {"Purpose": "backups", "Environment": "prod"}}
    )
    priced = price([dev, prod, models, stray, backups], usage)
    assert line(priced, "Storage", "a").monthly == pytest.approx(100 * 0.023)
    assert line(priced, "Storage", "a").environment == "dev"
    assert line(priced, "Storage", "b").monthly == pytest.approx(1000 * 0.023)
    assert line(priced, "Storage", "b").environment == "prod"
    assert line(priced, "Storage", "models").environment == "shared"
    # No environment in the purpose: the bucket's Environment tag says whose data it holds.
    assert line(priced, "Storage", "backups").environment == "prod"
    assert line(priced, "Storage", "stray").monthly == 0
    assert any("stray" in w for w in priced.warnings)


def test_efs_storage_and_elastic_throughput() -> None:
    usage = profile(
        efs={
            "standardGb": 50,
            "infrequentAccessGb": 100,
            "elasticReadGb": 300,
            "elasticWriteGb": 10,
        }
    )
    bursting = price([resource(rt.EFS_FILE_SYSTEM, "fs")], usage)
    assert bursting.total == pytest.approx(50 * 0.30 + 100 * 0.016)
    elastic = price([resource(rt.EFS_FILE_SYSTEM, "fs", {"throughputMode": "elastic"})], usage)
    assert elastic.total == pytest.approx(50 * 0.30 + 100 * 0.016 + 300 * 0.03 + 10 * 0.06)
    one_zone = price(
        [resource(rt.EFS_FILE_SYSTEM, "fs", {"availabilityZoneName": "us-east-1a"})], usage
    )
    assert line(one_zone, "Storage, One Zone").monthly == pytest.approx(50 * 0.16)
    provisioned = price(
        [resource(rt.EFS_FILE_SYSTEM, "fs", {"throughputMode": "provisioned"})], usage
    )
    assert provisioned.unpriced


def test_efs_backups_store_the_file_systems_data_at_the_backup_rate() -> None:
    usage = profile(efs={"standardGb": 50, "infrequentAccessGb": 30})
    file_system = resource(rt.EFS_FILE_SYSTEM, "fs", resource_id="fs-1")
    enabled = resource(
        rt.EFS_BACKUP_POLICY, "fs", {"fileSystemId": "fs-1", "backupPolicy": {"status": "ENABLED"}}
    )
    priced = price([file_system, enabled], usage)
    backup = line(priced, "AWS Backup storage")
    assert backup.resource_type == rt.EFS_BACKUP_POLICY
    assert backup.monthly == pytest.approx((50 + 30) * 0.05)  # $4.00
    assert backup.kind == "usage"
    disabled = resource(
        rt.EFS_BACKUP_POLICY, "fs", {"fileSystemId": "fs-1", "backupPolicy": {"status": "DISABLED"}}
    )
    off = price([file_system, disabled], usage)
    assert not [item for item in off.lines if item.resource_type == rt.EFS_BACKUP_POLICY]
    assert [f.resource_type for f in off.free] == [rt.EFS_BACKUP_POLICY]


@pytest.mark.parametrize(
    ("type_token", "expected"),
    [
        (rt.KMS_KEY, 1.00),
        (rt.SECRETS_MANAGER_SECRET, 0.40),
        (rt.METRIC_ALARM, 0.10),
    ],
)
def test_monthly_items(type_token: str, expected: float) -> None:
    priced = price([resource(type_token, "thing")])
    assert priced.total == pytest.approx(expected)
    assert priced.lines[0].kind == "fixed"


def test_claims_priced_by_their_storage_class_volume_type() -> None:
    gp3 = resource(
        rt.STORAGE_CLASS,
        "gp3",
        {"metadata": {"name": "fast"}, "provisioner": "ebs.csi.aws.com", "parameters": {}},
    )
    claim = resource(
        rt.PERSISTENT_VOLUME_CLAIM,
        "data",
        {
            "metadata": {"namespace": "prod"},
            "spec": {"storageClassName": "fast", "resources": {"requests": {"storage": "20Gi"}}},
        },
    )
    gp2_claim = resource(
        rt.PERSISTENT_VOLUME_CLAIM,
        "old",
        {"spec": {"storageClassName": "gp2", "resources": {"requests": {"storage": "10Gi"}}}},
    )
    lost = resource(
        rt.PERSISTENT_VOLUME_CLAIM,
        "lost",
        {"spec": {"storageClassName": "nowhere", "resources": {"requests": {"storage": "1Gi"}}}},
    )
    priced = price([gp3, claim, gp2_claim, lost])
    # The EBS CSI driver provisions gp3 when the class names no type.
    assert line(priced, "Volume (gp3)", "data").monthly == pytest.approx(20 * 0.08)
    assert line(priced, "Volume (gp3)", "data").environment == "prod"
    assert line(priced, "Volume (gp2)", "old").monthly == pytest.approx(10 * 0.10)
    assert [u.resource for u in priced.unpriced] == ["lost"]


def _efs_class(name: str = "efs-models") -> RecordedResource:
    return resource(
        rt.STORAGE_CLASS, name, {"metadata": {"name": name}, "provisioner": "efs.csi.aws.com"}
    )


def test_a_claim_is_an_ebs_volume_only_when_its_class_provisions_ebs() -> None:
    """The class's provisioner decides, not the claim's size: EFS bills stored GB."""
    efs_claim = resource(
        rt.PERSISTENT_VOLUME_CLAIM,
        "models",
        {"spec": {"storageClassName": "efs-models", "resources": {"requests": {"storage": "8Gi"}}}},
    )
    odd_class = resource(
        rt.STORAGE_CLASS, "odd", {"metadata": {"name": "odd"}, "provisioner": "example.com/nfs"}
    )
    odd_claim = resource(
        rt.PERSISTENT_VOLUME_CLAIM,
        "odd-claim",
        {"spec": {"storageClassName": "odd", "resources": {"requests": {"storage": "8Gi"}}}},
    )
    priced = price([_efs_class(), efs_claim, odd_class, odd_claim])
    assert priced.lines == []
    assert "models" in {f.resource for f in priced.free}
    (unpriced,) = priced.unpriced
    assert unpriced.resource == "odd-claim"
    assert "example.com/nfs" in unpriced.reason


def test_static_volumes_and_the_claims_bound_to_them_provision_nothing() -> None:
    efs_volume = resource(
        rt.PERSISTENT_VOLUME,
        "models-dev",
        {
            "metadata": {"name": "models-dev"},
            "spec": {
                "capacity": {"storage": "100Gi"},
                "storageClassName": "efs-models",
                "csi": {"driver": "efs.csi.aws.com", "volumeHandle": "fs-1::fsap-1"},
            },
        },
    )
    bound = resource(
        rt.PERSISTENT_VOLUME_CLAIM,
        "models",
        {
            "metadata": {"namespace": "dev"},
            "spec": {
                "storageClassName": "efs-models",
                "volumeName": "models-dev",
                "resources": {"requests": {"storage": "100Gi"}},
            },
        },
    )
    ebs_volume = resource(
        rt.PERSISTENT_VOLUME,
        "imported",
        {"metadata": {"name": "imported"}, "spec": {"csi": {"driver": "ebs.csi.aws.com"}}},
    )
    host_path = resource(
        rt.PERSISTENT_VOLUME, "local", {"metadata": {"name": "local"}, "spec": {"hostPath": {}}}
    )
    priced = price([_efs_class(), efs_volume, bound, ebs_volume, host_path])
    assert priced.lines == []
    assert {f.resource for f in priced.free} == {"efs-models", "models-dev", "models", "imported"}
    assert [u.resource for u in priced.unpriced] == ["local"]


def test_chart_volumes_come_from_values_times_replicas() -> None:
    release = resource(
        rt.HELM_RELEASE,
        "kube-prometheus-stack",
        {
            "values": {
                "prometheus": {
                    "prometheusSpec": {
                        "replicas": 2,
                        "storageSpec": {
                            "volumeClaimTemplate": {
                                "spec": {
                                    "storageClassName": "gp3",
                                    "resources": {"requests": {"storage": "20Gi"}},
                                }
                            }
                        },
                    }
                },
                "grafana": {"persistence": {"enabled": True, "size": "10Gi"}},
                "alertmanager": {"persistence": {"enabled": False, "size": "5Gi"}},
            }
        },
    )
    gp3 = resource(
        rt.STORAGE_CLASS,
        "gp3",
        {
            "metadata": {
                "name": "gp3",
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            },
            "provisioner": "ebs.csi.aws.com",
            "parameters": {"type": "gp3"},
        },
    )
    priced = price([release, gp3])
    assert line(priced, "Volume prometheus").monthly == pytest.approx(2 * 20 * 0.08)
    # No class named: the default class (gp3).
    assert line(priced, "Volume grafana").monthly == pytest.approx(10 * 0.08)
    assert len(priced.lines) == 2
    plain = price([resource(rt.HELM_RELEASE, "karpenter", {"values": {"replicas": 2}})])
    assert not plain.lines and plain.free


def test_stateful_set_claims_and_load_balancer_services() -> None:
    stateful = resource(
        rt.STATEFUL_SET,
        "db",
        {
            "spec": {
                "replicas": 3,
                "volumeClaimTemplates": [
                    {
                        "metadata": {"name": "data"},
                        "spec": {
                            "storageClassName": "gp3",
                            "resources": {"requests": {"storage": "512Mi"}},
                        },
                    }
                ],
            }
        },
    )
    balancer = resource(rt.SERVICE, "web", {"spec": {"type": "LoadBalancer"}})
    internal = resource(rt.SERVICE, "api", {"spec": {"type": "ClusterIP"}})
    priced = price([stateful, balancer, internal])
    assert line(priced, "Volume data").monthly == pytest.approx(3 * 0.5 * 0.08)
    assert [u.resource for u in priced.unpriced] == ["web"]
    assert [f.resource for f in priced.free] == ["api"]


def test_a_volume_type_missing_from_the_table_is_unpriced_not_guessed() -> None:
    template = resource(
        rt.LAUNCH_TEMPLATE,
        "lt",
        {"blockDeviceMappings": [{"ebs": {"volumeSize": 30, "volumeType": "io2"}}]},
        resource_id="lt-io2",
    )
    group = resource(
        rt.EKS_NODE_GROUP_COMPONENT,
        "system",
        {"instanceTypes": ["t3.medium"], "launchTemplate": {"id": "lt-io2"}},
    )
    priced = price([template, group])
    (unpriced,) = priced.unpriced
    assert "ebs-io2-gb-month" in unpriced.reason


def test_unknown_types_are_unpriced_and_known_free_types_carry_their_reason() -> None:
    priced = price(
        [
            resource(rt.BACKUP_VAULT, "vault"),
            resource(rt.IAM_ROLE, "role"),
            resource(rt.NAMESPACE, "dev"),
        ]
    )
    assert [(u.resource_type, u.resource) for u in priced.unpriced] == [(rt.BACKUP_VAULT, "vault")]
    assert {f.reason for f in priced.free} == {
        "IAM is free",
        load_free_types().types[rt.NAMESPACE],
    }


def test_no_type_is_both_priced_and_known_free() -> None:
    assert not set(RULES) & set(load_free_types().types)


def test_every_free_type_is_a_type_its_sdk_registers() -> None:
    """A misspelt token in the free table would never match a resource: each names a
    resource class of the installed provider SDK (the prefixes name whole families)."""
    unknown = [
        t
        for t in load_free_types().types
        if resource_class(t) is None and not is_custom_resource(t)
    ]
    assert unknown == []


def entry(environment: str, name: str = "alb") -> RecordedResource:
    return resource(
        rt.INGRESS_CLASS_PARAMS,
        f"{name}-{environment}",
        {
            "metadata": {"name": f"{name}-{environment}"},
            "spec": {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": environment}}
            },
        },
    )


def test_an_entry_bills_its_hours_and_the_largest_capacity_dimension() -> None:
    """An hour bills the largest of the LCU dimensions: 200 million requests a month are
    200e6 / 730 / 3600 = 76.1 new connections a second = 3.044 LCU, above 10 GB / 730 h =
    0.0137 LCU of processed bytes; 900 GB and few requests bill 900 / 730 = 1.233 LCU."""
    usage = profile(
        loadBalancers={
            "environments": {
                "dev": {"requestsMillions": 200, "processedGb": 10},
                "prod": {"requestsMillions": 1, "processedGb": 900},
            }
        }
    )
    priced = price([entry("dev"), entry("prod")], usage)
    for environment in ("dev", "prod"):
        hours = line(priced, "Application Load Balancer hours", f"alb-{environment}")
        assert hours.monthly == pytest.approx(0.0225 * 730)  # 16.43
        assert (hours.kind, hours.environment) == ("fixed", environment)
    dev = line(priced, "Load balancer capacity units", "alb-dev")
    assert dev.quantity == pytest.approx(200e6 / HOURS / 3600 / 25 * HOURS)
    assert dev.monthly == pytest.approx(dev.quantity * 0.008)
    prod = line(priced, "Load balancer capacity units", "alb-prod")
    assert prod.quantity == pytest.approx(900)
    assert (prod.kind, prod.environment) == ("usage", "prod")


def internet_entry(environment: str, **spec: object) -> RecordedResource:
    item = entry(environment)
    item.inputs["spec"].update({"scheme": "internet-facing", **spec})
    return item


def test_an_internet_facing_entry_pays_a_public_ipv4_address_per_zone() -> None:
    """AWS bills every public IPv4 address it holds for a load balancer: three zones are
    three addresses, 3 x 730 h x $0.005 = $10.95 a month, idle or not."""
    three_zones = {"subnets": {"ids": ["subnet-a", "subnet-b", "subnet-c"]}}
    priced = price([internet_entry("prod", **three_zones)], profile())
    addresses = line(priced, "Public IPv4 addresses (3 AZ)", "alb-prod")
    assert addresses.monthly == pytest.approx(3 * 730 * 0.005)
    assert (addresses.kind, addresses.environment) == ("fixed", "prod")


@pytest.mark.parametrize(
    "spec",
    [{}, {"scheme": "internal"}, {"ipAddressType": "dualstack-without-public-ipv4"}],
    ids=["internal by default", "internal", "no public IPv4"],
)
def test_an_entry_without_public_addresses_pays_none(spec: dict[str, object]) -> None:
    item = entry("dev")
    item.inputs["spec"].update(spec)
    if "ipAddressType" in spec:
        item.inputs["spec"].update(scheme="internet-facing")
    priced = price([item], profile())
    assert not [c for c in priced.lines if c.price_key == "public-ipv4-hour"]
    assert priced.unpriced == []


def test_an_internet_facing_entry_without_listed_subnets_is_left_unpriced() -> None:
    """The controller discovers the subnets: the addresses cannot be counted, and the
    total says so rather than leaving them out."""
    priced = price([internet_entry("dev")], profile())
    assert [u for u in priced.unpriced if "public IPv4" in str(u)]


def test_two_entries_of_one_environment_share_its_traffic() -> None:
    usage = profile(
        loadBalancers={"environments": {"prod": {"requestsMillions": 0, "processedGb": 730}}}
    )
    priced = price([entry("prod", "a"), entry("prod", "b")], usage)
    assert line(priced, "Load balancer capacity units", "a-prod").quantity == pytest.approx(365)
    assert line(priced, "Load balancer capacity units", "b-prod").quantity == pytest.approx(365)


def test_an_entry_the_profile_has_no_traffic_for_says_so() -> None:
    priced = price([entry("dev")])
    assert line(priced, "Load balancer capacity units").quantity == 0
    assert any("no traffic for dev" in w for w in priced.warnings)
