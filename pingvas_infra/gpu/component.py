"""The GPU capacity layer: Karpenter, its GPU NodePools, and the NVIDIA device plugin."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from pingvas_infra import iam
from pingvas_infra.aws_parts import pod_identity_role
from pingvas_infra.cluster.outputs import ClusterOutputs, SystemNodeShape
from pingvas_infra.environments import Environment
from pingvas_infra.gpu.config import GpuConfig, GpuPoolConfig, pinned_software
from pingvas_infra.gpu.karpenter_policy import controller_statements
from pingvas_infra.gpu.outputs import GpuCapacityOutputs, MetricsEndpoint
from pingvas_infra.instances import instance_shapes
from pingvas_infra.kube import (
    KUBE_SYSTEM,
    SYSTEM_CLUSTER_CRITICAL,
    SYSTEM_NODE_CRITICAL,
    on_system_nodes,
)
from pingvas_infra.labels import (
    APP_INSTANCE_LABEL,
    APP_NAME_LABEL,
    ARCH_LABEL,
    CAPACITY_TYPE_LABEL,
    CAPACITY_TYPES,
    ENVIRONMENT_LABEL,
    GPU_MANUFACTURER_LABEL,
    GPU_RESOURCE,
    HOSTNAME_LABEL,
    INSTANCE_FAMILY_LABEL,
    INSTANCE_TYPE_LABEL,
    LINUX,
    OS_LABEL,
    OVERFLOW_PURPOSE,
    POOL_PURPOSE_LABEL,
)
from pingvas_infra.network.outputs import NetworkOutputs
from pingvas_infra.node_role import node_role
from pingvas_infra.node_user_data import node_user_data
from pingvas_infra.pod_slots import system_kubelet_settings

KARPENTER_NAMESPACE = KUBE_SYSTEM
KARPENTER_SERVICE_ACCOUNT = "karpenter"
# The Helm release name; the chart labels its pods and metrics Service with it
# (app.kubernetes.io/instance) beside the chart name (app.kubernetes.io/name).
KARPENTER_RELEASE = "karpenter"
# The chart's metrics Service port (controller.metrics.port 8080, named http-metrics).
KARPENTER_METRICS_PORT = "http-metrics"
# Kubernetes' own class for controllers the cluster cannot run without (Karpenter's chart
# default, set here so it is visible and tested); one replica of two may be drained at a time.
KARPENTER_PRIORITY_CLASS = SYSTEM_CLUSTER_CRITICAL
KARPENTER_MAX_UNAVAILABLE = 1
NODE_CLASS_NAME = "gpu"
# The overflow capacity of the system tier: nodes of the system group's own types,
# launched by Karpenter only for platform pods the group cannot place (see __init__).
OVERFLOW_NODE_CLASS = "system-overflow"
OVERFLOW_POOL = OVERFLOW_PURPOSE
# Overflow nodes are tainted for the platform: only pods that tolerate
# pingvas.io/environment=platform land there, and the admission policy lets no dev or prod
# pod tolerate another environment's value.
PLATFORM = "platform"
# Workloads select their environment's pool by this node label, and tolerate the taint
# of the same key: a pod tolerating only nvidia.com/gpu can land on no GPU node at all,
# and a dev pod that tolerates the GPU taint still cannot land on a prod GPU node (nor
# take prod's GPU capacity) by accident. Enforcing who may tolerate what is admission
# control's job (tenancy layer); the taint makes the safe path the default one.
GPU_TAINT = {"key": GPU_RESOURCE, "effect": "NoSchedule"}
GPU_ROOT_DEVICE = "/dev/xvda"
# Same rule as the system nodes: pods never reach IMDS (Pod Identity serves credentials).
IMDS_HOP_LIMIT = 1
# How the device plugin hands a container its GPUs: as volume mounts the NVIDIA toolkit
# reads, not as NVIDIA_VISIBLE_DEVICES, which every CUDA image sets to "all".
DEVICE_LIST_STRATEGY = "volume-mounts"


def gpu_node_user_data() -> str:
    """The EC2NodeClass's userData: the stack's kubelet NodeConfig and gpu-visibility.sh, as
    the MIME multi-part document Karpenter merges with its own on AL2023."""
    script = resources.files(__package__).joinpath("gpu-visibility.sh").read_text(encoding="utf-8")
    return node_user_data([script])


def pool_name(environment: str) -> str:
    return f"gpu-{environment}"


def environment_taint(environment: str) -> dict[str, str]:
    return {"key": ENVIRONMENT_LABEL, "value": environment, "effect": "NoSchedule"}


def pool_taints(environment: str) -> list[dict[str, str]]:
    """The taints of an environment's GPU nodes: the GPU's and the environment's own."""
    return [dict(GPU_TAINT), environment_taint(environment)]


def toleration(environment: str) -> dict[str, str]:
    """What a pod of ``environment`` (or the platform) tolerates to land on its nodes."""
    return {
        "key": ENVIRONMENT_LABEL,
        "operator": "Equal",
        "value": environment,
        "effect": "NoSchedule",
    }


class GpuCapacity(pulumi.ComponentResource):
    """Karpenter (controller, interruption handling, node role) and one GPU pool per env."""

    outputs: GpuCapacityOutputs

    def __init__(
        self,
        name: str,
        config: GpuConfig,
        *,
        network: NetworkOutputs,
        cluster: ClusterOutputs,
        environments: Sequence[Environment],
        gpu_quotas: Mapping[str, int],
        region: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("pingvas:gpu:GpuCapacity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        pinned = pinned_software()

        role, attachments = node_role(f"{name}-karpenter-node", parent=self)
        # Nodes Karpenter launches join through this entry (no aws-auth ConfigMap).
        access_entry = aws.eks.AccessEntry(
            f"{name}-karpenter-node",
            cluster_name=cluster.cluster_name,
            principal_arn=role.arn,
            type="EC2_LINUX",
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*attachments]),
        )
        queue = self._interruption_queue(name, pinned.interruption_events)
        # Karpenter finds the security group for its nodes by this tag: the EKS cluster
        # security group, the one the system nodes carry and the data tier admits.
        aws.ec2.Tag(
            f"{name}-cluster-sg-discovery",
            resource_id=cluster.cluster_security_group_id,
            key=network.karpenter_discovery_tag,
            value=cluster.cluster_name,
            opts=child,
        )
        controller_identity = self._controller_identity(name, cluster, region, queue, role)

        crds = k8s.helm.v3.Release(
            f"{name}-karpenter-crd",
            name="karpenter-crd",
            chart=pinned.karpenter_crd_chart,
            version=pinned.karpenter_version,
            namespace=KARPENTER_NAMESPACE,
            opts=child,
        )
        karpenter = k8s.helm.v3.Release(
            f"{name}-karpenter",
            name=KARPENTER_RELEASE,
            chart=pinned.karpenter_chart,
            version=pinned.karpenter_version,
            namespace=KARPENTER_NAMESPACE,
            # The CRDs come from the karpenter-crd release, which Helm also upgrades.
            skip_crds=True,
            values=karpenter_values(
                cluster.cluster_name, queue.name, region, cluster.system_node_labels
            ),
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[crds, *controller_identity, access_entry]
            ),
        )
        after_karpenter = [crds, karpenter]

        node_class = k8s.apiextensions.CustomResource(
            f"{name}-{NODE_CLASS_NAME}-node-class",
            api_version="karpenter.k8s.aws/v1",
            kind="EC2NodeClass",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=NODE_CLASS_NAME),
            spec=node_class_spec(
                config, cluster.cluster_name, role.name, network.karpenter_discovery_tag
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=after_karpenter),
        )
        pools: dict[str, str] = {}
        for environment in environments:
            pools[environment.name] = pool_name(environment.name)
            k8s.apiextensions.CustomResource(
                f"{name}-{pool_name(environment.name)}",
                api_version="karpenter.sh/v1",
                kind="NodePool",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=pool_name(environment.name),
                    labels={ENVIRONMENT_LABEL: environment.name},
                ),
                spec=node_pool_spec(
                    config,
                    config.pools[environment.name],
                    environment.name,
                    gpu_quotas[environment.name],
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[*after_karpenter, node_class]),
            )

        overflow_toleration = None
        if cluster.system_node_shape.overflow_nodes > 0:
            overflow_toleration = self._overflow_pool(
                name,
                config,
                cluster=cluster,
                node_role_name=role.name,
                network=network,
                after_karpenter=after_karpenter,
            )

        k8s.helm.v3.Release(
            f"{name}-nvidia-device-plugin",
            name="nvidia-device-plugin",
            chart=pinned.device_plugin_chart,
            version=pinned.device_plugin_version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=pinned.device_plugin_repository),
            namespace=KARPENTER_NAMESPACE,
            values=device_plugin_values(),
            opts=child,
        )

        self.outputs = GpuCapacityOutputs(
            node_role_arn=role.arn,
            node_role_name=role.name,
            interruption_queue_name=queue.name,
            node_pools=pools,
            environment_label=ENVIRONMENT_LABEL,
            node_pool_taints={env.name: pool_taints(env.name) for env in environments},
            instance_families=tuple(config.instance_families),
            gpu_manufacturer_label=GPU_MANUFACTURER_LABEL,
            overflow_toleration=overflow_toleration,
            karpenter_metrics=MetricsEndpoint(
                namespace=KARPENTER_NAMESPACE,
                selector={APP_NAME_LABEL: "karpenter", APP_INSTANCE_LABEL: KARPENTER_RELEASE},
                port=KARPENTER_METRICS_PORT,
            ),
        )
        self.register_outputs(
            {
                "nodeRoleArn": role.arn,
                "interruptionQueueName": queue.name,
                "nodePools": pools,
            }
        )

    def _overflow_pool(
        self,
        name: str,
        config: GpuConfig,
        *,
        cluster: ClusterOutputs,
        node_role_name: pulumi.Input[str],
        network: NetworkOutputs,
        after_karpenter: list[pulumi.Resource],
    ) -> dict[str, str]:
        """The system tier's overflow: a NodePool of the system group's own instance types
        that Karpenter uses only for platform pods the group cannot place.

        Why: Prometheus keeps its data on an EBS volume, which lives in one zone, while the
        two spot system nodes spread over three. After a spot replacement both may sit in
        the other zones and Prometheus would wait, Pending, for the group to return. A
        pending pod whose volume is zonal makes Karpenter launch a node in that zone; this
        pool is the one it may use, capped at `overflowNodes` nodes, and consolidated away
        once a group node in the zone can take the pod. It costs nothing until it is used.
        Returns the toleration a platform pod needs to land there.
        """
        shape = cluster.system_node_shape
        node_class = k8s.apiextensions.CustomResource(
            f"{name}-{OVERFLOW_NODE_CLASS}-node-class",
            api_version="karpenter.k8s.aws/v1",
            kind="EC2NodeClass",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=OVERFLOW_NODE_CLASS),
            spec=overflow_node_class_spec(
                config,
                cluster.cluster_name,
                node_role_name,
                network.karpenter_discovery_tag,
                shape.disk_size_gib,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=after_karpenter),
        )
        k8s.apiextensions.CustomResource(
            f"{name}-{OVERFLOW_POOL}",
            api_version="karpenter.sh/v1",
            kind="NodePool",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=OVERFLOW_POOL, labels={POOL_PURPOSE_LABEL: OVERFLOW_PURPOSE}
            ),
            spec=overflow_node_pool_spec(config, cluster.system_node_labels, shape),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*after_karpenter, node_class]),
        )
        return toleration(PLATFORM)

    def _interruption_queue(
        self, name: str, events: Sequence[tuple[str, str, str]]
    ) -> aws.sqs.Queue:
        """SQS queue fed by EventBridge: Karpenter drains a node before EC2 takes it."""
        child = pulumi.ResourceOptions(parent=self)
        queue = aws.sqs.Queue(
            f"{name}-interruption",
            # Interruption notices are worthless after a few minutes.
            message_retention_seconds=300,
            sqs_managed_sse_enabled=True,
            opts=child,
        )
        aws.sqs.QueuePolicy(
            f"{name}-interruption",
            queue_url=queue.url,
            policy=iam.document(
                [
                    {
                        "Sid": "EventBridgeWrite",
                        "Effect": "Allow",
                        "Principal": {"Service": ["events.amazonaws.com", "sqs.amazonaws.com"]},
                        "Action": "sqs:SendMessage",
                        "Resource": queue.arn,
                    },
                    {**iam.deny_insecure_transport([queue.arn]), "Action": "sqs:*"},
                ]
            ),
            opts=child,
        )
        for rule_name, source, detail_type in events:
            rule = aws.cloudwatch.EventRule(
                f"{name}-{rule_name}",
                description=f"Karpenter interruption handling: {detail_type}",
                event_pattern=json.dumps({"source": [source], "detail-type": [detail_type]}),
                opts=child,
            )
            aws.cloudwatch.EventTarget(
                f"{name}-{rule_name}",
                rule=rule.name,
                arn=queue.arn,
                target_id="KarpenterInterruptionQueueTarget",
                opts=child,
            )
        return queue

    def _controller_identity(
        self,
        name: str,
        cluster: ClusterOutputs,
        region: str,
        queue: aws.sqs.Queue,
        node_role: aws.iam.Role,
    ) -> list[pulumi.Resource]:
        """The controller's Pod Identity role, its policy and the association."""
        identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))

        def policy_document(cluster_name: str) -> pulumi.Input[str]:
            return iam.document(
                controller_statements(
                    cluster_name=cluster_name,
                    cluster_arn=cluster.cluster_arn,
                    region=region,
                    account_id=identity.account_id,
                    queue_arn=queue.arn,
                    node_role_arn=node_role.arn,
                )
            )

        controller = pod_identity_role(
            f"{name}-karpenter-controller",
            # Condition keys carry the cluster name, so the document is built once it is known.
            policy=cluster.cluster_name.apply(policy_document),
            cluster=cluster,
            namespace=KARPENTER_NAMESPACE,
            service_account=KARPENTER_SERVICE_ACCOUNT,
            parent=self,
        )
        return [controller.policy, controller.association]


def karpenter_values(
    cluster_name: pulumi.Input[str],
    queue_name: pulumi.Input[str],
    region: str,
    system_node_labels: Mapping[str, str],
) -> dict[str, Any]:
    """Helm values of the Karpenter chart."""
    return {
        "settings": {"clusterName": cluster_name, "interruptionQueue": queue_name},
        "serviceAccount": {"name": KARPENTER_SERVICE_ACCOUNT},
        "replicas": 2,
        # Only on the managed system nodes: never on capacity Karpenter itself manages.
        **on_system_nodes(
            system_node_labels,
            # One replica per node (the chart adds its own pod label selector).
            pod_anti_affinity={
                "requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": HOSTNAME_LABEL}]
            },
        ),
        "controller": {
            # Sized for a small cluster on t3.medium-class nodes (2 vCPU, 4 GiB).
            "resources": {
                "requests": {"cpu": "250m", "memory": "512Mi"},
                "limits": {"memory": "512Mi"},
            },
            # The region without IMDS (pods cannot reach it, by design).
            "env": [{"name": "AWS_REGION", "value": region}],
        },
        "logLevel": "info",
        "priorityClassName": KARPENTER_PRIORITY_CLASS,
        "podDisruptionBudget": {"name": "karpenter", "maxUnavailable": KARPENTER_MAX_UNAVAILABLE},
    }


def node_class_spec(
    config: GpuConfig,
    cluster_name: pulumi.Input[str],
    role_name: pulumi.Input[str],
    discovery_tag: str,
) -> dict[str, Any]:
    spec = _node_class_base(config, cluster_name, role_name, discovery_tag, config.root_volume_gib)
    spec["userData"] = gpu_node_user_data()
    return spec


def _node_class_base(
    config: GpuConfig,
    cluster_name: pulumi.Input[str],
    role_name: pulumi.Input[str],
    discovery_tag: str,
    root_volume_gib: int,
) -> dict[str, Any]:
    """What every EC2NodeClass of the stack shares: the pinned AL2023 release (Karpenter
    picks its NVIDIA or standard variant by instance type), private subnets and the cluster
    security group by discovery tag, IMDSv2 with one hop, an encrypted gp3 root volume."""
    discovery = [{"tags": {discovery_tag: cluster_name}}]
    return {
        "role": role_name,
        "amiSelectorTerms": [{"alias": config.ami_alias}],
        "subnetSelectorTerms": discovery,
        "securityGroupSelectorTerms": discovery,
        "associatePublicIPAddress": False,
        "metadataOptions": {
            "httpEndpoint": "enabled",
            "httpProtocolIPv6": "disabled",
            "httpPutResponseHopLimit": IMDS_HOP_LIMIT,
            "httpTokens": "required",
        },
        "blockDeviceMappings": [
            {
                "deviceName": GPU_ROOT_DEVICE,
                "rootVolume": True,
                "ebs": {
                    "volumeSize": f"{root_volume_gib}Gi",
                    "volumeType": "gp3",
                    "encrypted": True,
                    "deleteOnTermination": True,
                },
            }
        ],
    }


def overflow_node_class_spec(
    config: GpuConfig,
    cluster_name: pulumi.Input[str],
    role_name: pulumi.Input[str],
    discovery_tag: str,
    disk_size_gib: int,
) -> dict[str, Any]:
    """The system group's disk and pod slots on Karpenter's terms (Karpenter writes
    `kubelet` into its own NodeConfig and schedules by it), and every node's kubelet
    NodeConfig (the per-pod PID limit); no GPU script."""
    spec = _node_class_base(config, cluster_name, role_name, discovery_tag, disk_size_gib)
    spec["kubelet"] = system_kubelet_settings()
    spec["userData"] = node_user_data()
    return spec


def overflow_node_pool_spec(
    config: GpuConfig, system_node_labels: Mapping[str, str], shape: SystemNodeShape
) -> dict[str, Any]:
    """Nodes like the system group's (its types and labels), spot first then on-demand,
    tainted for the platform, at most ``shape.overflow_nodes`` of them."""
    vcpus = instance_shapes()[shape.instance_types[0]].vcpu
    return {
        "template": {
            "metadata": {"labels": {**system_node_labels, ENVIRONMENT_LABEL: PLATFORM}},
            "spec": {
                "nodeClassRef": {
                    "group": "karpenter.k8s.aws",
                    "kind": "EC2NodeClass",
                    "name": OVERFLOW_NODE_CLASS,
                },
                "requirements": [
                    {
                        "key": INSTANCE_TYPE_LABEL,
                        "operator": "In",
                        "values": list(shape.instance_types),
                    },
                    {"key": CAPACITY_TYPE_LABEL, "operator": "In", "values": list(CAPACITY_TYPES)},
                    {"key": ARCH_LABEL, "operator": "In", "values": ["amd64"]},
                    {"key": OS_LABEL, "operator": "In", "values": [LINUX]},
                ],
                "taints": [environment_taint(PLATFORM)],
                "expireAfter": config.expire_after,
                "terminationGracePeriod": config.termination_grace_period,
            },
        },
        "disruption": {
            "consolidationPolicy": "WhenEmptyOrUnderutilized",
            "consolidateAfter": config.consolidate_after,
        },
        # The system types share one size class (cluster config check): this many nodes.
        "limits": {"cpu": str(vcpus * shape.overflow_nodes)},
    }


def node_pool_spec(
    config: GpuConfig, pool: GpuPoolConfig, environment: str, gpu_quota: int
) -> dict[str, Any]:
    disruption: dict[str, Any] = {
        "consolidationPolicy": "WhenEmptyOrUnderutilized",
        "consolidateAfter": config.consolidate_after,
    }
    if pool.disruption_budget_nodes is not None:
        disruption["budgets"] = [{"nodes": pool.disruption_budget_nodes}]
    return {
        "template": {
            "metadata": {"labels": {ENVIRONMENT_LABEL: environment}},
            "spec": {
                "nodeClassRef": {
                    "group": "karpenter.k8s.aws",
                    "kind": "EC2NodeClass",
                    "name": NODE_CLASS_NAME,
                },
                "requirements": [
                    {
                        "key": INSTANCE_FAMILY_LABEL,
                        "operator": "In",
                        "values": list(config.instance_families),
                    },
                    {
                        "key": CAPACITY_TYPE_LABEL,
                        "operator": "In",
                        "values": list(pool.capacity_types),
                    },
                    {"key": ARCH_LABEL, "operator": "In", "values": ["amd64"]},
                    {"key": OS_LABEL, "operator": "In", "values": [LINUX]},
                ],
                "taints": pool_taints(environment),
                "expireAfter": config.expire_after,
                "terminationGracePeriod": config.termination_grace_period,
            },
        },
        "disruption": disruption,
        # The namespace's GPU quota (k8s_manifests/resource-quotas.yaml, handed over by
        # __main__.py): the pool never holds more GPUs than its environment may request.
        "limits": {GPU_RESOURCE: str(gpu_quota)},
    }


def device_plugin_values() -> dict[str, Any]:
    """The NVIDIA device plugin DaemonSet: on NVIDIA GPU nodes only, past their taints.

    The chart's own affinity needs Node Feature Discovery labels this cluster does not
    run, so it is replaced by Karpenter's GPU manufacturer label.
    """
    return {
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {
                                    "key": GPU_MANUFACTURER_LABEL,
                                    "operator": "In",
                                    "values": ["nvidia"],
                                }
                            ]
                        }
                    ]
                }
            }
        },
        "tolerations": [
            {"key": "CriticalAddonsOnly", "operator": "Exists"},
            {"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"},
            {"key": ENVIRONMENT_LABEL, "operator": "Exists", "effect": "NoSchedule"},
        ],
        "priorityClassName": SYSTEM_NODE_CRITICAL,
        "deviceListStrategy": DEVICE_LIST_STRATEGY,
    }
