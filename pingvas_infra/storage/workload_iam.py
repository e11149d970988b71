"""Pod Identity roles: what application pods of each environment may do in AWS.

Each environment's role names only its own images bucket, the shared models bucket and
the keys those need; nothing of the other environment. The model-sync role reads the
models bucket to copy weights into EFS.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from pingvas_infra import iam

READ_WRITE_OBJECTS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload")
READ_OBJECTS = ("s3:GetObject",)


def bucket_statements(
    sid: str, bucket_arn: pulumi.Output[str], object_actions: Sequence[str]
) -> list[dict[str, Any]]:
    return [
        {
            "Sid": f"{sid}Objects",
            "Effect": "Allow",
            "Action": list(object_actions),
            "Resource": pulumi.Output.concat(bucket_arn, "/*"),
        },
        {
            "Sid": f"{sid}List",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket_arn,
        },
    ]


def key_statement(
    sid: str, key_arn: pulumi.Output[str], actions: Sequence[str], region: str
) -> dict[str, Any]:
    """Use of a bucket's key, only through S3 (not a general decrypt right)."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": list(actions),
        "Resource": key_arn,
        "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
    }


def pod_identity_role(
    name: str,
    *,
    description: str,
    statements: Sequence[Mapping[str, Any]],
    cluster_name: pulumi.Output[str],
    namespace: pulumi.Input[str],
    service_account: pulumi.Input[str],
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> aws.iam.Role:
    """A role assumed by the EKS Pod Identity agent for one ServiceAccount."""
    child = pulumi.ResourceOptions(parent=parent)
    role = aws.iam.Role(
        name,
        description=description,
        assume_role_policy=iam.pod_identity_trust(),
        tags=dict(tags),
        opts=child,
    )
    aws.iam.RolePolicy(name, role=role.id, policy=iam.document(statements), opts=child)
    aws.eks.PodIdentityAssociation(
        name,
        cluster_name=cluster_name,
        namespace=namespace,
        service_account=service_account,
        role_arn=role.arn,
        tags=dict(tags),
        opts=child,
    )
    return role
