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
from pingvas_infra.cluster.outputs import ClusterOutputs
from pingvas_infra.environments import Environment
from pingvas_infra.gpu.config import GpuConfig, GpuPoolConfig, pinned_software
from pingvas_infra.gpu.karpenter_policy import controller_statements
from pingvas_infra.gpu.outputs import GpuCapacityOutputs
from pingvas_infra.network.outputs import NetworkOutputs
from pingvas_infra.node_role import node_role
from pingvas_infra.node_user_data import node_user_data

KARPENTER_NAMESPACE = "kube-system"
KARPENTER_SERVICE_ACCOUNT = "karpenter"
NODE_CLASS_NAME = "gpu"
# Workloads select their environment's pool by this node label, and tolerate the taint
# of the same key: a pod tolerating only nvidia.com/gpu can land on no GPU node at all,
# and a dev pod that tolerates the GPU taint still cannot land on a prod GPU node (nor
# take prod's GPU capacity) by accident. Enforcing who may tolerate what is admission
# control's job (tenancy layer); the taint makes the safe path the default one.
ENVIRONMENT_LABEL = "pingvas.io/environment"
GPU_RESOURCE = "nvidia.com/gpu"
GPU_TAINT = {"key": GPU_RESOURCE, "effect": "NoSchedule"}
# Set by Karpenter on every node it launches with NVIDIA GPUs.
GPU_MANUFACTURER_LABEL = "karpenter.k8s.aws/instance-gpu-manufacturer"
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
            name="karpenter",
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
        )
        self.register_outputs(
            {
                "nodeRoleArn": role.arn,
                "interruptionQueueName": queue.name,
                "nodePools": pools,
            }
        )

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
        "nodeSelector": {"kubernetes.io/os": "linux", **system_node_labels},
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {"key": "karpenter.sh/nodepool", "operator": "DoesNotExist"}
                            ]
                        }
                    ]
                }
            },
            "podAntiAffinity": {
                # One replica per node (the chart adds its own pod label selector).
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {"topologyKey": "kubernetes.io/hostname"}
                ]
            },
        },
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
    }


def node_class_spec(
    config: GpuConfig,
    cluster_name: pulumi.Input[str],
    role_name: pulumi.Input[str],
    discovery_tag: str,
) -> dict[str, Any]:
    discovery = [{"tags": {discovery_tag: cluster_name}}]
    return {
        "role": role_name,
        "amiSelectorTerms": [{"alias": config.ami_alias}],
        "subnetSelectorTerms": discovery,
        "securityGroupSelectorTerms": discovery,
        "associatePublicIPAddress": False,
        "userData": gpu_node_user_data(),
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
                    "volumeSize": f"{config.root_volume_gib}Gi",
                    "volumeType": "gp3",
                    "encrypted": True,
                    "deleteOnTermination": True,
                },
            }
        ],
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
                        "key": "karpenter.k8s.aws/instance-family",
                        "operator": "In",
                        "values": list(config.instance_families),
                    },
                    {
                        "key": "karpenter.sh/capacity-type",
                        "operator": "In",
                        "values": list(pool.capacity_types),
                    },
                    {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]},
                    {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
                ],
                "taints": [
                    GPU_TAINT,
                    {"key": ENVIRONMENT_LABEL, "value": environment, "effect": "NoSchedule"},
                ],
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
        "priorityClassName": "system-node-critical",
        "deviceListStrategy": DEVICE_LIST_STRATEGY,
    }
