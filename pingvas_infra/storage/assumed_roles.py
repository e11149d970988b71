"""The roles people (or CI) assume for what no workload does: publishing models into the
models bucket, and reading the prod dumps to restore one.

Each is a named role (so a profile can name it: `role_arn = arn:aws:iam::<account>:role/
<name>`) that only the principals listed in the storage config may assume
(`iam.listed_principals_trust`): nobody by default. The models publisher is the only
principal that may write the models bucket and encrypt with the models key; the restore
role the only one beside the writers of the dumps that may decrypt them with the prod key.
Both keys' policies name them; the bucket policies refuse any write that names another
encryption than the bucket's key (`buckets.deny_other_encryption`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from pingvas_infra import iam
from pingvas_infra.storage.buckets import PROD_DUMPS_PREFIX
from pingvas_infra.storage.workload_iam import READ_WRITE_OBJECTS, bucket_statements, key_statement

# Models are published with the multipart uploads of large files: each part is encrypted
# with a data key the upload generates and decrypts again.
PUBLISH_KEY_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")
RESTORE_KEY_ACTIONS = ("kms:Decrypt",)


def models_publisher_role_name(project: str) -> str:
    return f"{project}-models-publisher"


def backup_restore_role_name(project: str) -> str:
    return f"{project}-prod-backup-restore"


def models_publisher_statements(
    models_bucket_arn: pulumi.Output[str], models_key_arn: pulumi.Output[str], region: str
) -> list[dict[str, Any]]:
    """Read, write and delete models (deleted versions stay `noncurrentVersionExpirationDays`),
    encrypting with the models key through S3 only."""
    return [
        *bucket_statements("ModelsPublish", models_bucket_arn, READ_WRITE_OBJECTS),
        key_statement("ModelsKeyPublish", models_key_arn, PUBLISH_KEY_ACTIONS, region),
    ]


def backup_restore_statements(
    backups_bucket_arn: pulumi.Output[str], prod_key_arn: pulumi.Output[str], region: str
) -> list[dict[str, Any]]:
    """List and read the prod dumps (a noncurrent version too: a dump deleted by mistake
    stays one day), decrypting with the prod key through S3, for the backups bucket only
    (with S3 Bucket Keys the encryption context is the bucket's ARN)."""
    return [
        {
            "Sid": "ReadProdDumps",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "Resource": pulumi.Output.concat(backups_bucket_arn, "/", PROD_DUMPS_PREFIX, "*"),
        },
        {
            "Sid": "ListProdDumps",
            "Effect": "Allow",
            "Action": ["s3:ListBucket", "s3:ListBucketVersions"],
            "Resource": backups_bucket_arn,
            "Condition": {
                "StringLike": {"s3:prefix": [PROD_DUMPS_PREFIX, f"{PROD_DUMPS_PREFIX}*"]}
            },
        },
        {
            **key_statement("ProdKeyDecryptsDumps", prod_key_arn, RESTORE_KEY_ACTIONS, region),
            "Condition": {
                "StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"},
                "ArnEquals": {"kms:EncryptionContext:aws:s3:arn": backups_bucket_arn},
            },
        },
    ]


def assumed_role(
    name: str,
    *,
    role_name: str,
    description: str,
    principal_arns: Sequence[str],
    account_id: pulumi.Output[str],
    statements: Sequence[Mapping[str, Any]],
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> aws.iam.Role:
    """A named role only ``principal_arns`` may assume, with one inline policy."""
    child = pulumi.ResourceOptions(parent=parent)
    role = aws.iam.Role(
        name,
        name=role_name,
        description=description,
        assume_role_policy=iam.listed_principals_trust(account_id, principal_arns),
        tags=dict(tags),
        opts=child,
    )
    aws.iam.RolePolicy(name, role=role.id, policy=iam.document(statements), opts=child)
    return role
