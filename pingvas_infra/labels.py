"""The label, taint, tag and resource keys the stack writes or selects by, each spelled once.

The layers put them on what they create (NodePools, pods, namespaces, subnets); the cost
estimate, the architecture picture and the tests read the graph by them. A key Kubernetes,
Karpenter or NVIDIA defines is written here as they document it; the `pingvas.io/` keys
are this stack's own.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

# --- Kubernetes --------------------------------------------------------------------------

# Set by the API server on every namespace; nobody can put it on another namespace, so a
# selector on it names exactly one namespace.
NAMESPACE_NAME_LABEL: Final = "kubernetes.io/metadata.name"
OS_LABEL: Final = "kubernetes.io/os"
LINUX: Final = "linux"
ARCH_LABEL: Final = "kubernetes.io/arch"
HOSTNAME_LABEL: Final = "kubernetes.io/hostname"
INSTANCE_TYPE_LABEL: Final = "node.kubernetes.io/instance-type"

# The recommended labels (https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/).
APP_NAME_LABEL: Final = "app.kubernetes.io/name"
APP_INSTANCE_LABEL: Final = "app.kubernetes.io/instance"
APP_COMPONENT_LABEL: Final = "app.kubernetes.io/component"
APP_PART_OF_LABEL: Final = "app.kubernetes.io/part-of"
APP_MANAGED_BY_LABEL: Final = "app.kubernetes.io/managed-by"
# What every object of the platform is part of.
PART_OF: Final = "pingvas"
# On every object the tenancy layer applies from the cluster policy.
MANAGED_LABELS: Final = {APP_MANAGED_BY_LABEL: "pulumi", APP_PART_OF_LABEL: PART_OF}


def app_labels(name: str, component: str | None = None) -> dict[str, str]:
    """The labels of one of the platform's own workloads (its pods' selector)."""
    labels = {APP_NAME_LABEL: name}
    if component is not None:
        labels[APP_COMPONENT_LABEL] = component
    labels[APP_PART_OF_LABEL] = PART_OF
    return labels


# --- Karpenter ---------------------------------------------------------------------------

# Tag on the subnets and security groups Karpenter launches into (value: the cluster name).
KARPENTER_DISCOVERY_TAG: Final = "karpenter.sh/discovery"
# Set by Karpenter on every node it launches (value: the NodePool's name).
NODE_POOL_LABEL: Final = "karpenter.sh/nodepool"
CAPACITY_TYPE_LABEL: Final = "karpenter.sh/capacity-type"
INSTANCE_FAMILY_LABEL: Final = "karpenter.k8s.aws/instance-family"
# Set by Karpenter on every node it launches with GPUs (value: nvidia, ...).
GPU_MANUFACTURER_LABEL: Final = "karpenter.k8s.aws/instance-gpu-manufacturer"

# The values of CAPACITY_TYPE_LABEL.
CapacityType = Literal["spot", "on-demand"]
SPOT: Final[CapacityType] = "spot"
ON_DEMAND: Final[CapacityType] = "on-demand"
CAPACITY_TYPES: Final[tuple[CapacityType, ...]] = get_args(CapacityType)

# --- NVIDIA ------------------------------------------------------------------------------

# The extended resource the device plugin advertises (and the GPU nodes' taint key).
GPU_RESOURCE: Final = "nvidia.com/gpu"

# --- this stack --------------------------------------------------------------------------

# A GPU node's environment (label and taint); a workload selects and tolerates it.
ENVIRONMENT_LABEL: Final = "pingvas.io/environment"
# On the overflow NodePool object (not its nodes): what the pool is for, read by the cost
# estimate.
POOL_PURPOSE_LABEL: Final = "pingvas.io/pool-purpose"
# Its value on the system tier's overflow NodePool.
OVERFLOW_PURPOSE: Final = "system-overflow"
# On the pods an environment's load balancer may reach.
INGRESS_LABEL: Final = "pingvas.io/ingress"
# On an Argo CD Application: automated or manual sync.
SYNC_MODE_LABEL: Final = "pingvas.io/sync"
# On the model store's PersistentVolume (its claim selects it).
VOLUME_LABEL: Final = "pingvas.io/volume"
# On the cluster policy's namespaces and priority classes and the tenancy layer's Secrets:
# dev, prod or platform (GPU nodes carry ENVIRONMENT_LABEL instead).
TENANCY_ENVIRONMENT_LABEL: Final = "environment"
