"""IAM policy documents built as data (no `aws.iam.get_policy_document` invokes).

Documents are plain dicts turned into JSON with ``pulumi.Output.json_dumps`` so they can
hold outputs (ARNs) and stay readable in the offline plan and in tests, which parse them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

Statement = Mapping[str, Any]

# Pod Identity: the EKS Pod Identity Agent assumes roles through this service principal and
# tags the session (https://docs.aws.amazon.com/eks/latest/userguide/pod-id-role.html).
POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"
POD_IDENTITY_ACTIONS = ("sts:AssumeRole", "sts:TagSession")


def account_root_arn(account_id: str) -> str:
    """The principal that stands for a whole account (its IAM policies decide)."""
    return f"arn:aws:iam::{account_id}:root"


def document(statements: Sequence[Statement]) -> pulumi.Output[str]:
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": list(statements)})


def service_trust(
    services: str | Sequence[str],
    actions: Sequence[str] = ("sts:AssumeRole",),
    condition: Mapping[str, Any] | None = None,
) -> pulumi.Output[str]:
    """Trust policy letting AWS service principals assume a role."""
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": services},
        "Action": list(actions),
    }
    if condition:
        statement["Condition"] = condition
    return document([statement])


# Session tags EKS Pod Identity sets when it assumes a role for a pod: eks-cluster-arn,
# eks-cluster-name, kubernetes-namespace, kubernetes-service-account, kubernetes-pod-name
# and kubernetes-pod-uid ("List of session tags added by EKS Pod Identity",
# https://docs.aws.amazon.com/eks/latest/userguide/pod-id-abac.html).
POD_CLUSTER_TAG = "aws:RequestTag/eks-cluster-arn"
POD_NAMESPACE_TAG = "aws:RequestTag/kubernetes-namespace"
POD_SERVICE_ACCOUNT_TAG = "aws:RequestTag/kubernetes-service-account"


def pod_identity_trust(
    cluster_arn: pulumi.Input[str],
    namespace: pulumi.Input[str],
    service_accounts: pulumi.Input[str] | Sequence[str],
) -> pulumi.Output[str]:
    """Trust for Pod Identity, only for the given ServiceAccount(s) of ``namespace`` in the
    cluster ``cluster_arn``.

    The association already decides which ServiceAccount gets the role; the condition on
    the session tags EKS sets makes the role refuse any other association too: one someone
    adds from a dev ServiceAccount to a prod role, or one from another cluster of the
    account whose namespace and ServiceAccount happen to carry the same names.
    """
    accounts = (
        list(service_accounts) if isinstance(service_accounts, list | tuple) else service_accounts
    )
    return service_trust(
        POD_IDENTITY_PRINCIPAL,
        POD_IDENTITY_ACTIONS,
        condition={
            "StringEquals": {
                POD_CLUSTER_TAG: cluster_arn,
                POD_NAMESPACE_TAG: namespace,
                POD_SERVICE_ACCOUNT_TAG: accounts,
            }
        },
    )


def account_root(account_id: pulumi.Input[str]) -> pulumi.Output[str]:
    """The account as a principal: its own IAM policies decide for its principals."""
    return pulumi.Output.from_input(account_id).apply(account_root_arn)


def listed_principals_trust(
    account_id: pulumi.Input[str], principal_arns: Sequence[str]
) -> pulumi.Output[str]:
    """Trust for a role people or CI assume: the account's principals named by ARN
    (`aws:PrincipalArn`), whose own IAM policy must allow sts:AssumeRole on the role too.
    Naming the account rather than each principal keeps a mistyped or deleted principal from
    failing the update (IAM refuses a trust policy that names a principal it does not know).
    With nobody listed, a Deny: nobody assumes the role until someone is."""
    if not principal_arns:
        return document(
            [
                {
                    "Sid": "NobodyUntilListed",
                    "Effect": "Deny",
                    "Principal": {"AWS": "*"},
                    "Action": "sts:AssumeRole",
                }
            ]
        )
    return document(
        [
            {
                "Sid": "ListedPrincipalsOnly",
                "Effect": "Allow",
                "Principal": {"AWS": account_root(account_id)},
                "Action": "sts:AssumeRole",
                "Condition": {"ArnEquals": {"aws:PrincipalArn": list(principal_arns)}},
            }
        ]
    )


def deny_insecure_transport(resources: Sequence[Any], principal: Any = "*") -> dict[str, Any]:
    """The standard statement refusing any request not made over TLS."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": principal,
        "Action": "*",
        "Resource": list(resources),
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
