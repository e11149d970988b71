"""What the operations workloads request on the system nodes, and whether it fits.

The monitoring stack and the optional Argo CD run on the design guide's two t3.medium-class system
nodes beside the cluster add-ons. Every component's requests and limits are defined once
here: the Helm values are built from them and the config check sums them against the
capacity in ``tables/operations.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pingvas_infra import pod_slots
from pingvas_infra.quantities import MEBI, parse_quantity
from pingvas_infra.tables import load_table

# The design guide's system node group labels its nodes role=system: operations workloads run
# there, never on GPU capacity.
SYSTEM_NODE_SELECTOR = {"role": "system"}


def millicores(value: str) -> int:
    return int(parse_quantity(value) * 1000)


def mebibytes(value: str) -> int:
    return int(parse_quantity(value) / MEBI)


@dataclass(frozen=True)
class Resources:
    """Requests and limits of one container (no CPU limit below the request)."""

    cpu: str
    memory: str
    cpu_limit: str
    memory_limit: str

    def values(self) -> dict[str, Any]:
        return {
            "requests": {"cpu": self.cpu, "memory": self.memory},
            "limits": {"cpu": self.cpu_limit, "memory": self.memory_limit},
        }


@dataclass(frozen=True)
class Workload:
    """A component and how many copies of it run on the system nodes."""

    name: str
    resources: Resources
    copies: int


# kube-prometheus-stack components other than Prometheus itself, sized for a cluster of a
# few dozen pods. Node-exporter runs one copy per node: two on the system nodes.
PROMETHEUS_OPERATOR = Resources("50m", "64Mi", "200m", "128Mi")
CONFIG_RELOADER = Resources("10m", "32Mi", "50m", "64Mi")
KUBE_STATE_METRICS = Resources("20m", "64Mi", "100m", "128Mi")
NODE_EXPORTER = Resources("10m", "32Mi", "100m", "64Mi")
GRAFANA = Resources("50m", "192Mi", "500m", "384Mi")
GRAFANA_SIDECAR = Resources("10m", "64Mi", "100m", "128Mi")
ALERTMANAGER = Resources("20m", "48Mi", "100m", "96Mi")
# Two Alertmanagers on two nodes: one survives a drain or a spot interruption.
ALERTMANAGER_REPLICAS = 2
PROMETHEUS_CPU_LIMIT = "1"
# NVIDIA's DCGM exporter on each GPU node: the chart's own requests and limits (dcgm-exporter
# 4.8.2 values.yaml), checked against the GPU node budget in tables/operations.yaml.
DCGM_EXPORTER = Resources("100m", "128Mi", "200m", "512Mi")

# Argo CD components (argo-cd chart), single replicas, Dex and notifications off.
ARGOCD_CONTROLLER = Resources("100m", "256Mi", "500m", "512Mi")
ARGOCD_REPO_SERVER = Resources("50m", "128Mi", "500m", "256Mi")
ARGOCD_SERVER = Resources("25m", "64Mi", "250m", "128Mi")
ARGOCD_APPLICATIONSET = Resources("25m", "64Mi", "250m", "128Mi")
ARGOCD_REDIS = Resources("25m", "32Mi", "100m", "64Mi")


def monitoring_workloads(prometheus: Resources) -> list[Workload]:
    return [
        Workload("prometheus", prometheus, 1),
        Workload("prometheus-config-reloader", CONFIG_RELOADER, 1),
        Workload("alertmanager", ALERTMANAGER, ALERTMANAGER_REPLICAS),
        Workload("alertmanager-config-reloader", CONFIG_RELOADER, ALERTMANAGER_REPLICAS),
        Workload("prometheus-operator", PROMETHEUS_OPERATOR, 1),
        Workload("kube-state-metrics", KUBE_STATE_METRICS, 1),
        Workload("grafana", GRAFANA, 1),
        # The dashboards and datasources sidecars.
        Workload("grafana-sidecars", GRAFANA_SIDECAR, 2),
        Workload("node-exporter", NODE_EXPORTER, load_table("operations")["systemNodes"]["count"]),
    ]


def argocd_workloads() -> list[Workload]:
    return [
        Workload("argocd-application-controller", ARGOCD_CONTROLLER, 1),
        Workload("argocd-repo-server", ARGOCD_REPO_SERVER, 1),
        Workload("argocd-server", ARGOCD_SERVER, 1),
        Workload("argocd-applicationset-controller", ARGOCD_APPLICATIONSET, 1),
        Workload("argocd-redis", ARGOCD_REDIS, 1),
    ]


@dataclass(frozen=True)
class Budget:
    """What the system nodes have left once the cluster add-ons are placed."""

    cpu_millicores: int
    memory_mebibytes: int

    @classmethod
    def from_table(cls) -> Budget:
        nodes = load_table("operations")["systemNodes"]
        count = int(nodes["count"])
        return cls(
            cpu_millicores=count * millicores(nodes["allocatableCpu"])
            - millicores(nodes["addOnRequestsCpu"]),
            memory_mebibytes=count * system_node_allocatable_memory_mib()
            - mebibytes(nodes["addOnRequestsMemory"]),
        )


def system_node_allocatable_memory_mib() -> int:
    """A system node's allocatable memory: what it reports, less the kube-reserved memory
    for its maxPods and the hard eviction threshold (tables/pod_slots.yaml)."""
    capacity = mebibytes(load_table("operations")["systemNodes"]["memoryCapacity"])
    return (
        capacity
        - pod_slots.kube_reserved_memory_mib(pod_slots.system_max_pods())
        - pod_slots.eviction_hard_memory_mib()
    )


def total_requests(workloads: list[Workload]) -> tuple[int, int]:
    """Summed (millicores, MiB) requests of ``workloads``."""
    cpu = sum(millicores(w.resources.cpu) * w.copies for w in workloads)
    memory = sum(mebibytes(w.resources.memory) * w.copies for w in workloads)
    return cpu, memory
