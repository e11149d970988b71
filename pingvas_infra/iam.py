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


def pod_identity_trust() -> pulumi.Output[str]:
    return service_trust(POD_IDENTITY_PRINCIPAL, POD_IDENTITY_ACTIONS)


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
