"""What every node's kubelet gets beyond the EKS AMI's defaults, as MIME multi-part user data
holding an AL2023 `nodeadm` NodeConfig: the system node group's launch template and the GPU
EC2NodeClass build their user data here.

nodeadm merges every NodeConfig of the user data in order, field by field (amazon-eks-ami,
doc/nodeadm examples, "Merging multiple configuration objects"); EKS managed node groups
and Karpenter add their own NodeConfig (cluster endpoint, labels, Karpenter's `kubelet`
fields) beside this one, and neither sets `podPidsLimit`. The system group's user data also
carries its pod slots (`maxPods` and the kube-reserved memory for them,
`pingvas_infra.pod_slots`); Karpenter writes those from the EC2NodeClass's `kubelet` block.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml

# Processes and threads one pod may hold (kubelet `podPidsLimit`; the kubelet's own default
# is unlimited). A fork bomb or a thread leak in one pod then exhausts its own budget, not
# the node's PID table, which the container runtime, the kubelet and every other tenant's
# pods share. A PyTorch inference worker runs a few hundred threads. Karpenter's v1
# EC2NodeClass `kubelet` block has no field for it, hence the NodeConfig.
POD_PIDS_LIMIT = 4096

NODE_CONFIG_CONTENT_TYPE = "application/node.eks.aws"
SHELL_SCRIPT_CONTENT_TYPE = 'text/x-shellscript; charset="us-ascii"'
BOUNDARY = "pingvas-node"


def kubelet_node_config(kubelet: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The NodeConfig every node of the stack gets, with ``kubelet``'s settings added (the
    system nodes' pod slots; Karpenter's nodes get theirs from the EC2NodeClass instead)."""
    return {
        "apiVersion": "node.eks.aws/v1alpha1",
        "kind": "NodeConfig",
        "spec": {"kubelet": {"config": {"podPidsLimit": POD_PIDS_LIMIT, **(kubelet or {})}}},
    }


def node_user_data(scripts: Sequence[str] = (), *, kubelet: Mapping[str, Any] | None = None) -> str:
    """MIME multi-part user data: the NodeConfig (with ``kubelet``'s settings), then each of
    ``scripts``."""
    node_config = kubelet_node_config(kubelet)
    parts = [(NODE_CONFIG_CONTENT_TYPE, "---\n" + yaml.safe_dump(node_config))]
    parts += [(SHELL_SCRIPT_CONTENT_TYPE, script) for script in scripts]
    lines = [
        "MIME-Version: 1.0",
        f'Content-Type: multipart/mixed; boundary="{BOUNDARY}"',
        "",
    ]
    for content_type, body in parts:
        # The line break before a boundary belongs to the boundary (RFC 2046).
        lines += [f"--{BOUNDARY}", f"Content-Type: {content_type}", "", body]
    lines.append(f"--{BOUNDARY}--")
    return "\n".join(lines) + "\n"
