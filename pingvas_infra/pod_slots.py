"""Pod slots per node (`tables/pod_slots.yaml`): the VPC CNI's limits per instance type, the
maxPods each node class gets, and the kube-reserved memory that follows from it. Shared by
the cluster layer (system nodes, vpc-cni settings), the GPU layer (Karpenter's overflow
node class) and the operations layer's capacity check."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from pingvas_infra.instances import instance_shapes
from pingvas_infra.tables import load_table

SYSTEM_CLASS = "system"
GPU_CLASS = "gpu"
# Hypervisors on which the VPC CNI hands out /28 prefixes (Nitro, and bare metal on Nitro).
_PREFIX_HYPERVISORS = frozenset({"nitro", "bare-metal"})


@dataclass(frozen=True)
class NetworkLimits:
    """One instance type's network limits, as the VPC CNI reads them."""

    name: str
    enis: int
    ipv4_per_eni: int
    hypervisor: str

    @property
    def takes_prefixes(self) -> bool:
        return self.hypervisor in _PREFIX_HYPERVISORS

    @property
    def eni_limited_pods(self) -> int:
        """Pods without prefix delegation: ENIs x (IPv4 per ENI - 1) + 2."""
        return self.enis * (self.ipv4_per_eni - 1) + 2

    @property
    def prefix_pods(self) -> int:
        """The max-pods calculator's figure with prefix delegation: the addresses the
        prefixes give, capped by vCPUs (110 up to 30 vCPUs, 250 above)."""
        if not self.takes_prefixes:
            return self.eni_limited_pods
        calculator = _table()["calculator"]
        addresses = self.enis * (self.ipv4_per_eni - 1) * calculator["addressesPerPrefix"] + 2
        vcpus = instance_shapes()[self.name].vcpu
        ceiling = (
            calculator["maxPodsUpToThreshold"]
            if vcpus <= calculator["vcpuThreshold"]
            else calculator["maxPodsAboveThreshold"]
        )
        return min(addresses, ceiling)


@cache
def _table() -> dict[str, Any]:
    return dict(load_table("pod_slots"))


@cache
def network_limits() -> dict[str, NetworkLimits]:
    return {
        name: NetworkLimits(
            name=name,
            enis=row["enis"],
            ipv4_per_eni=row["ipv4PerEni"],
            hypervisor=row["hypervisor"],
        )
        for name, row in _table()["instanceTypes"].items()
    }


def vpc_cni_settings() -> dict[str, Any]:
    """The vpc-cni add-on's prefix settings: enablePrefixDelegation, warmPrefixTarget."""
    return dict(_table()["vpcCni"])


def class_max_pods(node_class: str) -> int | None:
    """The maxPods a node class sets; None: the node's ENI-limited default."""
    value = _table()["nodeClasses"][node_class]["maxPods"]
    return None if value is None else int(value)


def system_max_pods() -> int:
    value = class_max_pods(SYSTEM_CLASS)
    assert value is not None, "the system class sets its maxPods"
    return value


def kube_reserved_memory_mib(max_pods: int) -> int:
    """The EKS AMI's kube-reserved memory for a node of ``max_pods`` pods."""
    reserved = _table()["kubeReserved"]
    return int(reserved["memoryPerPodMi"]) * max_pods + int(reserved["memoryBaseMi"])


def eviction_hard_memory_mib() -> int:
    return int(_table()["evictionHardMemoryMi"])


def node_max_pods(instance_type: str, node_class: str) -> int:
    """The pods a node of ``instance_type`` in ``node_class`` runs: the class's maxPods where
    it sets one (never more than the CNI can address), else the ENI-limited count."""
    limits = network_limits()[instance_type]
    chosen = class_max_pods(node_class)
    if chosen is None:
        return limits.eni_limited_pods
    return min(chosen, limits.prefix_pods)


def system_kubelet_settings() -> dict[str, Any]:
    """What a system-class kubelet gets: its maxPods and the kube-reserved memory for it."""
    max_pods = system_max_pods()
    return {
        "maxPods": max_pods,
        "kubeReserved": {"memory": f"{kube_reserved_memory_mib(max_pods)}Mi"},
    }
