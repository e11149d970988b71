"""Customer-managed KMS keys: one per trust boundary, rotated, each with an explicit policy.

Keys are split by who may use them, not by service: a role that can decrypt prod images
must not thereby read the database's secrets. Every key's policy (tables/kms_key_policy.yaml)
separates three things:

- **administration** (policy, rotation, tags, deletion; never use): the account's IAM
  decides who administers (the account is the principal), so a policy change can never
  lock the account out of its own key;
- **use by AWS services** that keep data under the key (RDS, ElastiCache, Secrets
  Manager, EFS): any principal the account's IAM lets use that service, only through it
  (`kms:ViaService`), the pattern AWS's own managed keys follow;
- **use by named roles** (`aws:PrincipalArn`), only through the named service when one is
  given (S3), and by named service principals for named resources (CloudWatch Logs for
  the stack's log groups, by encryption context). The Kubernetes Secrets key names the
  principal that runs `pulumi up`, for the grant EKS creates through its rights.

There is no statement that lets the account's IAM policies grant use: a role the policy
does not name cannot use the key, whatever its IAM policy says. The policy is a resource of
its own (`aws.kms.KeyPolicy`), created after the roles it names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pulumi
import pulumi_aws as aws

from pingvas_infra import iam
from pingvas_infra.tables import load_table

# KMS accepts a waiting period of 7 to 30 days before a key scheduled for deletion is gone.
DELETION_WINDOW_DAYS = range(7, 31)


@cache
def _actions() -> dict[str, list[str]]:
    table = load_table("kms_key_policy")
    return {
        kind: list(table[kind])
        for kind in (
            "administratorActions",
            "useActions",
            "eksClusterCreatorActions",
            "logsActions",
        )
    }


def administrator_actions() -> list[str]:
    return _actions()["administratorActions"]


def use_actions() -> list[str]:
    return _actions()["useActions"]


def eks_cluster_creator_actions() -> list[str]:
    return _actions()["eksClusterCreatorActions"]


def logs_actions() -> list[str]:
    return _actions()["logsActions"]


def service_endpoint(service: str, region: str) -> str:
    """What kms:ViaService says for a service in a region: "s3.us-east-1.amazonaws.com"."""
    return f"{service}.{region}.amazonaws.com"


@dataclass(frozen=True)
class RoleUse:
    """Named roles' use of a key: which actions, and through which service (None: direct)."""

    sid: str
    roles: Sequence[pulumi.Input[str]]
    actions: Sequence[str]
    through: str | None = None


@dataclass(frozen=True)
class KeyUsers:
    """Who may use a key beside its administrators (see the module docstring)."""

    # AWS services keeping data under the key: "rds", "secretsmanager", "elasticache",
    # "elasticfilesystem" ...
    services: Sequence[str] = ()
    roles: Sequence[RoleUse] = ()
    # CloudWatch Logs, for exactly these log group ARNs.
    log_groups: Sequence[pulumi.Input[str]] = ()
    # Extra statements the caller needs as they are (none so far beside the above).
    extra: Sequence[dict[str, Any]] = field(default_factory=tuple)


def key_policy_statements(
    account_id: pulumi.Input[str], region: str, users: KeyUsers
) -> list[dict[str, Any]]:
    root = iam.account_root(account_id)
    statements: list[dict[str, Any]] = [
        {
            "Sid": "KeyAdministrationThroughIam",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": administrator_actions(),
            "Resource": "*",
        }
    ]
    if users.services:
        statements.append(
            {
                "Sid": "UseOnlyThroughItsServices",
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": [*use_actions(), "kms:CreateGrant", "kms:ListGrants"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:ViaService": [service_endpoint(s, region) for s in users.services],
                        "kms:CallerAccount": account_id,
                    }
                },
            }
        )
    for use in users.roles:
        condition: dict[str, Any] = {"ArnEquals": {"aws:PrincipalArn": list(use.roles)}}
        if use.through is not None:
            condition["StringEquals"] = {"kms:ViaService": service_endpoint(use.through, region)}
        statements.append(
            {
                "Sid": use.sid,
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": list(use.actions),
                "Resource": "*",
                "Condition": condition,
            }
        )
    if users.log_groups:
        statements.append(
            {
                "Sid": "CloudWatchLogsForTheStacksLogGroups",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                "Action": logs_actions(),
                "Resource": "*",
                "Condition": {
                    "ArnEquals": {"kms:EncryptionContext:aws:logs:arn": list(users.log_groups)}
                },
            }
        )
    statements += [dict(s) for s in users.extra]
    return statements


def customer_managed_key(
    name: str,
    *,
    alias: str,
    description: str,
    deletion_window_days: int,
    opts: pulumi.ResourceOptions,
    region: str | None = None,
) -> aws.kms.Key:
    """A symmetric key with yearly automatic rotation and an `alias/<alias>`, in the
    provider's region unless ``region`` names another. Give it its policy with
    :func:`key_policy` once the roles it names exist."""
    key = aws.kms.Key(
        name,
        description=description,
        enable_key_rotation=True,
        deletion_window_in_days=deletion_window_days,
        region=region,
        tags={"Name": alias},
        opts=opts,
    )
    aws.kms.Alias(name, name=f"alias/{alias}", target_key_id=key.key_id, region=region, opts=opts)
    return key


def key_policy(
    name: str,
    key: aws.kms.Key,
    *,
    account_id: pulumi.Input[str],
    region: str,
    users: KeyUsers,
    opts: pulumi.ResourceOptions,
    key_region: str | None = None,
) -> aws.kms.KeyPolicy:
    """The key's explicit policy, replacing the default one KMS gives a new key. ``region``
    is where the services named in it run (the key's own region)."""
    return aws.kms.KeyPolicy(
        name,
        key_id=key.id,
        policy=iam.document(key_policy_statements(account_id, region, users)),
        region=key_region,
        opts=opts,
    )
