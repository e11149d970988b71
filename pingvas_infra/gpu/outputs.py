"""What the GPU capacity (Karpenter) layer hands to the others."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi


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
