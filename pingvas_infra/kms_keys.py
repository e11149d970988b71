"""Customer-managed KMS keys: one per trust boundary, rotated, with a readable alias.

Keys are split by who may use them, not by service: a role that can decrypt prod images
must not thereby read the database's secrets. The key policy is the AWS default (the
account's IAM policies decide who may use the key), so access is granted where it is
needed, in the IAM policies of the roles and by the services' own grants.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

# KMS accepts a waiting period of 7 to 30 days before a key scheduled for deletion is gone.
DELETION_WINDOW_DAYS = range(7, 31)


def customer_managed_key(
    name: str,
    *,
    alias: str,
    description: str,
    deletion_window_days: int,
    opts: pulumi.ResourceOptions,
) -> aws.kms.Key:
    """A symmetric key with yearly automatic rotation and an `alias/<alias>`."""
    key = aws.kms.Key(
        name,
        description=description,
        enable_key_rotation=True,
        deletion_window_in_days=deletion_window_days,
        tags={"Name": alias},
        opts=opts,
    )
    aws.kms.Alias(name, name=f"alias/{alias}", target_key_id=key.key_id, opts=opts)
    return key
