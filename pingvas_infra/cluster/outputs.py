"""What the cluster layer hands to the others."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi


@dataclass(frozen=True)
class ClusterOutputs:
    cluster_name: pulumi.Output[str]
    cluster_arn: pulumi.Output[str]
    # The Kubernetes minor version the cluster runs ("1.35"): manifests are validated
    # against its schema.
    kubernetes_version: str
    # Secret: the kubeconfig the explicit Kubernetes provider is built from.
    kubeconfig_json: pulumi.Output[str]
    # The EKS-created cluster security group, attached to every node (the system node
    # group and Karpenter's nodes) and therefore to every pod: the data tier's security
    # groups admit 5432, 6379 and 2049 from it and from nothing else.
    cluster_security_group_id: pulumi.Output[str]
    system_node_role_arn: pulumi.Output[str]
    # The Pod Identity role of the EFS CSI driver: the node plugin mounts with it (the
    # `iam` mount option), so it is the one principal the model store admits.
    efs_csi_role_arn: pulumi.Output[str]
    # The labels of the managed system nodes: controllers that must never run on capacity
    # they manage themselves (Karpenter) select them.
    system_node_labels: dict[str, str]
