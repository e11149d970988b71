"""A synthetic full stack: every layer's billable resources with the project's defaults,
registered through the real Pulumi SDKs under the plan's mock engine.

While the other layers are built on their own branches, the default graph holds only the
network; this program stands in for the rest so the cost model is tested on a whole stack
and on the inputs exactly as pulumi-aws 7, pulumi-eks and pulumi-kubernetes send them. The
defaults mirror what the layers use: 2 spot t3.medium-class system nodes, Aurora Serverless
v2 writer + reader at 0.5-4 ACU, Valkey cache.t4g.micro x 2, one NAT gateway, four KMS
keys (eks, data, prod, models), EFS, five buckets, dev/prod GPU pools, and Prometheus on
20 GiB of gp3.

Options change one default at a time, to test the trade-offs the README names.

Print its cost figures with:
    python -m tests.cost.full_stack
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pulumi_kubernetes as k8s

from pingvas_infra.config import StackConfig
from pingvas_infra.network.component import Network
from pingvas_infra.plan.engine import run_program
from pingvas_infra.plan.model import PlanResult

CLUSTER_NAME = "pingvas-shared-eks"
AURORA_ID = "pingvas-shared-aurora"
BUCKET_PURPOSES = ("dev-images", "prod-images", "models", "logs", "backups")
GPU_FAMILIES = ["g4dn", "g5", "g6"]


@dataclass(frozen=True)
class Options:
    """The defaults; a test changes one to price a trade-off."""

    aurora_instances: tuple[str, ...] = ("writer", "reader")
    cache_nodes: int = 2
    system_nodes: int = 2
    efs_throughput: str = "elastic"
    gpu_volume: str = "150Gi"


def _layer(layer: str) -> pulumi.ComponentResource:
    return pulumi.ComponentResource(f"pingvas:{layer}:{layer.title()}", layer)


def _child(parent: pulumi.Resource, **extra: object) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(parent=parent, **extra)  # type: ignore[arg-type]


def program(options: Options) -> None:
    config = StackConfig()
    network = Network("network", config.network, region=config.region, cluster_name=CLUSTER_NAME)

    cluster_layer = _layer("cluster")
    eks_key = aws.kms.Key("eks", enable_key_rotation=True, opts=_child(cluster_layer))
    aws.cloudwatch.LogGroup(
        "control-plane",
        name=f"/aws/eks/{CLUSTER_NAME}/cluster",
        retention_in_days=30,
        opts=_child(cluster_layer),
    )
    cluster = eks.Cluster(
        "eks",
        name=CLUSTER_NAME,
        version="1.34",
        upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type="STANDARD"),
        enabled_cluster_log_types=["api", "audit", "authenticator"],
        encryption_config_key_arn=eks_key.arn,
        skip_default_node_group=True,
        vpc_id=network.outputs.vpc_id,
        private_subnet_ids=network.outputs.private_subnet_ids,
        opts=_child(cluster_layer),
    )
    template = aws.ec2.LaunchTemplate(
        "system-nodes",
        block_device_mappings=[
            aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                device_name="/dev/xvda",
                ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                    volume_size=20, volume_type="gp3", encrypted="true"
                ),
            )
        ],
        opts=_child(cluster_layer),
    )
    eks.ManagedNodeGroup(
        "system",
        cluster=cluster,
        node_role_arn="arn:aws:iam::123456789012:role/system-nodes",
        capacity_type="SPOT",
        instance_types=["t3.medium", "t3a.medium", "t2.medium"],
        scaling_config=aws.eks.NodeGroupScalingConfigArgs(
            desired_size=options.system_nodes, min_size=options.system_nodes, max_size=4
        ),
        launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
            id=template.id, version=template.latest_version.apply(str)
        ),
        opts=_child(cluster_layer),
    )
    for addon in ("vpc-cni", "eks-pod-identity-agent", "aws-ebs-csi-driver", "coredns"):
        aws.eks.Addon(
            addon, cluster_name=CLUSTER_NAME, addon_name=addon, opts=_child(cluster_layer)
        )
    kube = k8s.Provider("k8s", kubeconfig="{}", opts=_child(cluster_layer))
    k8s.storage.v1.StorageClass(
        "gp3",
        metadata={
            "name": "gp3",
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        provisioner="ebs.csi.aws.com",
        parameters={"type": "gp3", "encrypted": "true"},
        volume_binding_mode="WaitForFirstConsumer",
        opts=_child(cluster_layer, provider=kube),
    )

    gpu_layer = _layer("gpu")
    aws.sqs.Queue("interruptions", message_retention_seconds=300, opts=_child(gpu_layer))
    for event in ("health", "spot-interruption", "rebalance", "state-change", "reservation"):
        aws.cloudwatch.EventRule(
            event, event_pattern='{"source": ["aws.ec2"]}', opts=_child(gpu_layer)
        )
    for chart in ("karpenter-crd", "karpenter", "nvidia-device-plugin"):
        k8s.helm.v3.Release(
            chart,
            chart=chart,
            version="1.0.0",
            namespace="kube-system",
            values={"replicas": 2},
            opts=_child(gpu_layer, provider=kube),
        )
    k8s.apiextensions.CustomResource(
        "gpu-nodes",
        api_version="karpenter.k8s.aws/v1",
        kind="EC2NodeClass",
        metadata={"name": "gpu"},
        spec={
            "amiSelectorTerms": [{"alias": "al2023@v20261101"}],
            "blockDeviceMappings": [
                {
                    "deviceName": "/dev/xvda",
                    "ebs": {
                        "volumeSize": options.gpu_volume,
                        "volumeType": "gp3",
                        "encrypted": True,
                    },
                }
            ],
        },
        opts=_child(gpu_layer, provider=kube),
    )
    for environment, capacity_types, gpus in (
        ("dev", ["spot"], 3),
        ("prod", ["spot", "on-demand"], 15),
    ):
        k8s.apiextensions.CustomResource(
            f"{environment}-gpu",
            api_version="karpenter.sh/v1",
            kind="NodePool",
            metadata={"name": f"{environment}-gpu"},
            spec={
                "template": {
                    "metadata": {"labels": {"pingvas.io/environment": environment}},
                    "spec": {
                        "nodeClassRef": {
                            "group": "karpenter.k8s.aws",
                            "kind": "EC2NodeClass",
                            "name": "gpu",
                        },
                        "requirements": [
                            {
                                "key": "karpenter.sh/capacity-type",
                                "operator": "In",
                                "values": capacity_types,
                            },
                            {
                                "key": "karpenter.k8s.aws/instance-family",
                                "operator": "In",
                                "values": GPU_FAMILIES,
                            },
                        ],
                    },
                },
                "limits": {"nvidia.com/gpu": gpus},
            },
            opts=_child(gpu_layer, provider=kube),
        )

    data_layer = _layer("data")
    data_key = aws.kms.Key("data", enable_key_rotation=True, opts=_child(data_layer))
    aws.cloudwatch.LogGroup(
        "postgresql",
        name=f"/aws/rds/cluster/{AURORA_ID}/postgresql",
        retention_in_days=30,
        opts=_child(data_layer),
    )
    database = aws.rds.Cluster(
        "aurora",
        cluster_identifier=AURORA_ID,
        engine="aurora-postgresql",
        engine_version="16.6",
        manage_master_user_password=True,
        master_username="pingvas_admin",
        storage_encrypted=True,
        kms_key_id=data_key.arn,
        backup_retention_period=7,
        enabled_cloudwatch_logs_exports=["postgresql"],
        serverlessv2_scaling_configuration=aws.rds.ClusterServerlessv2ScalingConfigurationArgs(
            min_capacity=0.5, max_capacity=4
        ),
        opts=_child(data_layer),
    )
    for role in options.aurora_instances:
        aws.rds.ClusterInstance(
            role,
            cluster_identifier=database.id,
            instance_class="db.serverless",
            engine="aurora-postgresql",
            performance_insights_enabled=True,
            opts=_child(data_layer),
        )
    aws.elasticache.ReplicationGroup(
        "cache",
        description="pingvas cache",
        engine="valkey",
        node_type="cache.t4g.micro",
        num_cache_clusters=options.cache_nodes,
        automatic_failover_enabled=options.cache_nodes > 1,
        opts=_child(data_layer),
    )
    for environment in ("dev", "prod"):
        aws.elasticache.User(
            f"{environment}-app",
            user_id=f"{environment}-app",
            user_name=f"{environment}-app",
            engine="valkey",
            access_string=f"on ~{environment}:* +@all",
            opts=_child(data_layer),
        )

    storage_layer = _layer("storage")
    for key in ("prod", "models"):
        aws.kms.Key(key, enable_key_rotation=True, opts=_child(storage_layer))
    for purpose in BUCKET_PURPOSES:
        aws.s3.Bucket(
            purpose,
            bucket=f"pingvas-{purpose}",
            tags={"Purpose": purpose},
            opts=_child(storage_layer),
        )
    file_system = aws.efs.FileSystem(
        "models", encrypted=True, throughput_mode=options.efs_throughput, opts=_child(storage_layer)
    )
    for index, subnet in enumerate(network.outputs.data_subnet_ids):
        aws.efs.MountTarget(
            f"models-{index}",
            file_system_id=file_system.id,
            subnet_id=subnet,
            opts=_child(storage_layer),
        )

    tenancy_layer = _layer("tenancy")
    for environment in ("dev", "prod"):
        k8s.core.v1.Namespace(
            environment, metadata={"name": environment}, opts=_child(tenancy_layer, provider=kube)
        )

    operations_layer = _layer("operations")
    k8s.helm.v3.Release(
        "kube-prometheus-stack",
        chart="kube-prometheus-stack",
        version="79.0.0",
        namespace="monitoring",
        values={
            "prometheus": {
                "prometheusSpec": {
                    "retention": "15d",
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
            "grafana": {"persistence": {"enabled": False}},
        },
        opts=_child(operations_layer, provider=kube),
    )


DEFAULTS = Options()


@cache
def full_stack_plan(options: Options = DEFAULTS) -> PlanResult:
    return run_program(
        lambda: program(options),
        project="pingvas-infra",
        stack="shared",
        config={},
        secret_keys=[],
        region="us-east-1",
    )


if __name__ == "__main__":
    from pingvas_infra.cost.markdown import console_summary
    from pingvas_infra.cost.report import build_report
    from pingvas_infra.cost.targets import check_targets

    plan = full_stack_plan()
    report = build_report(
        plan.resources, project=plan.project, stack=plan.stack, region="us-east-1"
    )
    for summary_line in console_summary(report, check_targets(report)):
        print(summary_line)
