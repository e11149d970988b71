"""Kubernetes' own names and the pod settings several layers share.

The platform's own Jobs (the schema bootstrap, the prod backup) run in namespaces whose Pod
Security level is `restricted`: non-root with a fixed user, the runtime's seccomp profile,
no privilege escalation, no capabilities and a read-only root filesystem. The platform's
controllers (Karpenter, the load balancer controller) run on the managed system nodes only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from pingvas_infra.labels import LINUX, NODE_POOL_LABEL, OS_LABEL

# Where Kubernetes, EKS add-ons and the platform's controllers run.
KUBE_SYSTEM: Final = "kube-system"
# Kubernetes' built-in priority classes: controllers the cluster cannot run without, and
# per-node agents (a DaemonSet) without which a node is useless.
SYSTEM_CLUSTER_CRITICAL: Final = "system-cluster-critical"
SYSTEM_NODE_CRITICAL: Final = "system-node-critical"

# Each run resolves its tag at the registry again: a re-pushed or withdrawn tag is
# noticed, and the node's cached copy is never trusted blindly (one request per run).
ALWAYS_PULL = "Always"


def restricted_pod_security(run_as: int) -> dict[str, Any]:
    """The pod's securityContext: every container runs as user and group ``run_as``, which
    also owns the mounted volumes (fsGroup)."""
    return {
        "runAsNonRoot": True,
        "runAsUser": run_as,
        "runAsGroup": run_as,
        "fsGroup": run_as,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def restricted_container_security() -> dict[str, Any]:
    """A container's securityContext."""
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }


def env_vars(values: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A container's `env`, from name -> value."""
    return [{"name": name, "value": value} for name, value in values.items()]


def on_system_nodes(
    system_node_labels: Mapping[str, str], *, pod_anti_affinity: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """`nodeSelector` and `affinity` of a controller that runs on the managed system nodes
    only: never on capacity Karpenter manages, the overflow nodes included, which carry the
    system labels too (a controller must not depend on nodes it may itself remove)."""
    affinity: dict[str, Any] = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": NODE_POOL_LABEL, "operator": "DoesNotExist"}]}
                ]
            }
        }
    }
    if pod_anti_affinity is not None:
        affinity["podAntiAffinity"] = dict(pod_anti_affinity)
    return {"nodeSelector": {OS_LABEL: LINUX, **system_node_labels}, "affinity": affinity}
