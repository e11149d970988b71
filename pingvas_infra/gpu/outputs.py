"""What the GPU capacity (Karpenter) layer hands to the others."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi


@dataclass(frozen=True)
class MetricsEndpoint:
    """Where a controller's Prometheus metrics are: its Service's namespace, labels and
    port name (what a ServiceMonitor selects)."""

    namespace: str
    selector: Mapping[str, str]
    port: str


@dataclass(frozen=True)
class GpuCapacityOutputs:
    node_role_arn: pulumi.Output[str]
    node_role_name: pulumi.Output[str]
    interruption_queue_name: pulumi.Output[str]
    # Environment name -> NodePool name.
    node_pools: Mapping[str, str]
    # Node label and value workloads select to reach their environment's pool,
    # e.g. nodeSelector {"pingvas.io/environment": "prod"}.
    environment_label: str
    # Environment name -> the taints of its GPU nodes (a DaemonSet that must run on every
    # GPU node tolerates all of them).
    node_pool_taints: Mapping[str, list[dict[str, str]]]
    # The GPU instance families the pools may launch (priced per hour on the dashboards).
    instance_families: tuple[str, ...]
    # The node label Karpenter sets on NVIDIA GPU nodes (value "nvidia").
    gpu_manufacturer_label: str
    # What a platform pod tolerates to land on the system tier's overflow nodes; None when
    # there are none (cluster.systemNodes.overflowNodes 0).
    overflow_toleration: Mapping[str, str] | None
    # Karpenter's metrics Service, for the monitoring layer's ServiceMonitor.
    karpenter_metrics: MetricsEndpoint
