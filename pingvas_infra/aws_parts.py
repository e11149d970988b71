"""AWS building blocks several layers create the same way.

Each function creates its resources under ``parent`` with the logical names it is given,
so a layer's resources keep their names whichever layer builds them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from pingvas_infra import iam
from pingvas_infra.cluster.outputs import ClusterOutputs
from pingvas_infra.network.outputs import NetworkOutputs


def cluster_only_security_group(
    name: str,
    network: NetworkOutputs,
    cluster: ClusterOutputs,
    *,
    port: int,
    service: str,
    parent: pulumi.Resource,
) -> aws.ec2.SecurityGroup:
    """A group admitting TCP ``port`` from the EKS cluster security group and nothing else.

    No egress rule: security groups are stateful, so replies to the cluster flow without
    one, and the services behind these groups (Aurora, the cache, EFS) open no connections
    of their own.
    """
    child = pulumi.ResourceOptions(parent=parent)
    group = aws.ec2.SecurityGroup(
        name,
        vpc_id=network.vpc_id,
        description=f"{service} from the EKS cluster security group only",
        tags={"Name": name},
        opts=child,
    )
    aws.vpc.SecurityGroupIngressRule(
        f"{name}-from-cluster",
        security_group_id=group.id,
        referenced_security_group_id=cluster.cluster_security_group_id,
        ip_protocol="tcp",
        from_port=port,
        to_port=port,
        description=f"{service} from EKS nodes and pods",
        tags={"Name": f"{name}-from-cluster"},
        opts=child,
    )
    return group


@dataclass(frozen=True)
class PodIdentityRole:
    role: aws.iam.Role
    policy: aws.iam.RolePolicy
    association: aws.eks.PodIdentityAssociation


def pod_identity_role(
    name: str,
    *,
    policy: pulumi.Input[str],
    cluster: ClusterOutputs,
    namespace: pulumi.Input[str],
    service_account: pulumi.Input[str],
    parent: pulumi.Resource,
    role_name: str | None = None,
    description: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> PodIdentityRole:
    """A role the EKS Pod Identity agent hands to one ServiceAccount: the role (trusting
    `pods.eks.amazonaws.com`), its inline ``policy`` and the association, all named ``name``.

    The trust policy also requires the session tags EKS sets for the cluster, ``namespace``
    and ``service_account``: an association made later for another ServiceAccount, or in
    another cluster, cannot use the role.
    """
    child = pulumi.ResourceOptions(parent=parent)
    role = aws.iam.Role(
        name,
        name=role_name,
        description=description,
        assume_role_policy=iam.pod_identity_trust(cluster.cluster_arn, namespace, service_account),
        tags=dict(tags) if tags is not None else None,
        opts=child,
    )
    role_policy = aws.iam.RolePolicy(name, role=role.id, policy=policy, opts=child)
    association = aws.eks.PodIdentityAssociation(
        name,
        cluster_name=cluster.cluster_name,
        namespace=namespace,
        service_account=service_account,
        role_arn=role.arn,
        tags=dict(tags) if tags is not None else None,
        opts=child,
    )
    return PodIdentityRole(role, role_policy, association)
