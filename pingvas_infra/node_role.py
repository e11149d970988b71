"""The IAM role EC2 worker nodes run with: the system node group's and Karpenter's."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from pingvas_infra import iam

# AWS managed policies live in the `aws` account of the partition; the stack only runs in
# commercial regions (tables/regions.yaml).
AWS_MANAGED_POLICY_PREFIX = "arn:aws:iam::aws:policy/"

# What a node needs to join the cluster, pull images and be reachable by SSM Session
# Manager (no SSH keys, no open ports). Workload pods never see these credentials: IMDS
# answers only one network hop (see the launch templates). The VPC CNI's rights
# (AmazonEKS_CNI_Policy: attach network interfaces and move addresses between them, on
# any instance of the account) are not here: aws-node gets them from its own Pod Identity
# role (cluster layer), as EKS recommends, so a process that reaches a node's instance
# metadata, or the node role's credentials, cannot re-plumb other nodes' pod addresses.
NODE_MANAGED_POLICIES = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEC2ContainerRegistryPullOnly",
    "AmazonSSMManagedInstanceCore",
)


def managed_policy_arn(name: str) -> str:
    return AWS_MANAGED_POLICY_PREFIX + name


def node_role(
    name: str, *, parent: pulumi.Resource
) -> tuple[aws.iam.Role, list[aws.iam.RolePolicyAttachment]]:
    """A role EC2 instances assume, with the node policies attached.

    Returns the attachments too: nodes must not launch before their policies are in place.
    """
    child = pulumi.ResourceOptions(parent=parent)
    role = aws.iam.Role(
        name,
        assume_role_policy=iam.service_trust("ec2.amazonaws.com"),
        opts=child,
    )
    attachments = [
        aws.iam.RolePolicyAttachment(
            f"{name}-{policy}",
            role=role.name,
            policy_arn=managed_policy_arn(policy),
            opts=child,
        )
        for policy in NODE_MANAGED_POLICIES
    ]
    return role, attachments
