"""The off-region copy of the prod dumps (`storage.backupCopy`, off by default).

S3 replication copies every dump written under prod/ in the backups bucket to a bucket of
the same account in `backupCopy.region`, encrypted there with a key of that region (a KMS
key never leaves its region; S3 re-encrypts each object). What S3 needs is what the S3 user
guide lists for SSE-KMS objects ("Replicating encrypted objects"): versioning on both
buckets, `SseKmsEncryptedObjects` selected, the replica key named in the destination, and a
role that reads the source versions and decrypts them through S3 in the source region, and
replicates and encrypts through S3 in the copy's region. Delete markers are not replicated:
the copy keeps its own lifecycle, the same retention as the source, so a dump is gone from
both within `backupRetentionDays`. Access logs cannot cross regions, so the copy bucket logs
none (the policy pack reports it as advisory).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from pingvas_infra import iam
from pingvas_infra.kms_keys import KeyUsers, RoleUse, customer_managed_key, key_policy
from pingvas_infra.storage.buckets import (
    BACKUPS_COPY,
    PROD_DUMPS_PREFIX,
    BucketSpec,
    lifecycle,
    namer,
    private_and_encrypted,
)
from pingvas_infra.storage.config import StorageConfig

# What replicates: the prod dumps (the backup job writes nothing else).
PREFIX = PROD_DUMPS_PREFIX
SPEC = BucketSpec(BACKUPS_COPY, key="copy", versioned=True, environment="prod")


@dataclass(frozen=True)
class BackupCopy:
    bucket: aws.s3.Bucket
    key: aws.kms.Key
    role: aws.iam.Role


def replication_role_name(project: str) -> str:
    return f"{project}-backups-replication"


def create_backup_copy(
    name: str,
    config: StorageConfig,
    *,
    project: str,
    region: str,
    account_id: pulumi.Output[str],
    source: aws.s3.Bucket,
    source_versioning: aws.s3.BucketVersioning,
    source_key_arn: pulumi.Input[str],
    parent: pulumi.Resource,
) -> BackupCopy:
    copy = config.backup_copy
    child = pulumi.ResourceOptions(parent=parent)
    prefix = f"{name}-{BACKUPS_COPY}"
    key = customer_managed_key(
        f"{prefix}-key",
        alias=f"{project}-backups-copy",
        description=f"pingvas off-region copy of the prod dumps ({copy.region})",
        deletion_window_days=config.kms_deletion_window_days,
        region=copy.region,
        opts=child,
    )
    full_name = account_id.apply(namer(config, project, BACKUPS_COPY))
    bucket = aws.s3.Bucket(
        prefix,
        bucket=full_name,
        force_destroy=False,
        region=copy.region,
        tags={"Name": full_name, "Purpose": BACKUPS_COPY, "Environment": "prod"},
        opts=pulumi.ResourceOptions(parent=parent, protect=True),
    )
    private_and_encrypted(prefix, bucket, SPEC, {"copy": key.arn}, child, region=copy.region)
    versioning = lifecycle(prefix, bucket, SPEC, config, parent, region=copy.region)
    aws.s3.BucketPolicy(
        prefix,
        bucket=bucket.bucket,
        region=copy.region,
        policy=iam.document(
            [iam.deny_insecure_transport([bucket.arn, pulumi.Output.concat(bucket.arn, "/*")])]
        ),
        opts=child,
    )

    role = aws.iam.Role(
        f"{prefix}-replication",
        name=replication_role_name(project),
        description="S3 replication of the prod dumps to the off-region copy",
        assume_role_policy=iam.service_trust(
            "s3.amazonaws.com",
            # Confused-deputy guard: only this account's replication may assume it.
            condition={"StringEquals": {"aws:SourceAccount": account_id}},
        ),
        opts=child,
    )
    role_policy = aws.iam.RolePolicy(
        f"{prefix}-replication",
        role=role.id,
        policy=iam.document(
            replication_statements(
                source_arn=source.arn,
                source_key_arn=source_key_arn,
                source_region=region,
                destination_arn=bucket.arn,
                destination_key_arn=key.arn,
                destination_region=copy.region,
            )
        ),
        opts=child,
    )
    key_policy(
        f"{prefix}-key",
        key,
        account_id=account_id,
        region=copy.region,
        key_region=copy.region,
        users=KeyUsers(
            roles=[
                RoleUse(
                    sid="ReplicationEncryptsThroughS3",
                    roles=[role.arn],
                    actions=["kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt"],
                    through="s3",
                )
            ]
        ),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[role]),
    )
    aws.s3.BucketReplicationConfig(
        prefix,
        bucket=source.bucket,
        role=role.arn,
        rules=[
            aws.s3.BucketReplicationConfigRuleArgs(
                id="prod-dumps-off-region",
                status="Enabled",
                priority=1,
                filter=aws.s3.BucketReplicationConfigRuleFilterArgs(prefix=PREFIX),
                delete_marker_replication=aws.s3.BucketReplicationConfigRuleDeleteMarkerReplicationArgs(
                    status="Disabled"
                ),
                source_selection_criteria=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaArgs(
                    sse_kms_encrypted_objects=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaSseKmsEncryptedObjectsArgs(
                        status="Enabled"
                    )
                ),
                destination=aws.s3.BucketReplicationConfigRuleDestinationArgs(
                    bucket=bucket.arn,
                    storage_class=copy.storage_class,
                    encryption_configuration=aws.s3.BucketReplicationConfigRuleDestinationEncryptionConfigurationArgs(
                        replica_kms_key_id=key.arn
                    ),
                ),
            )
        ],
        opts=pulumi.ResourceOptions(
            parent=parent,
            depends_on=[source_versioning, *([versioning] if versioning else []), role_policy],
        ),
    )
    return BackupCopy(bucket=bucket, key=key, role=role)


def replication_statements(
    *,
    source_arn: pulumi.Input[str],
    source_key_arn: pulumi.Input[str],
    source_region: str,
    destination_arn: pulumi.Input[str],
    destination_key_arn: pulumi.Input[str],
    destination_region: str,
) -> list[dict[str, object]]:
    """Exactly what replicating SSE-KMS objects needs (S3 user guide, "Replicating
    encrypted objects"): read the source's configuration and prod/ versions, write
    replicas (and their deletes, never replicated here) into the copy, decrypt through S3
    in the source region and encrypt through S3 in the copy's region. With S3 Bucket Keys
    the encryption context is the bucket's ARN."""
    return [
        {
            "Sid": "ReadTheReplicationConfiguration",
            "Effect": "Allow",
            "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
            "Resource": source_arn,
        },
        {
            "Sid": "ReadProdDumpVersions",
            "Effect": "Allow",
            "Action": [
                "s3:GetObjectVersionForReplication",
                "s3:GetObjectVersionAcl",
                "s3:GetObjectVersionTagging",
            ],
            "Resource": pulumi.Output.concat(source_arn, "/", PREFIX, "*"),
        },
        {
            "Sid": "WriteReplicas",
            "Effect": "Allow",
            "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
            "Resource": pulumi.Output.concat(destination_arn, "/", PREFIX, "*"),
        },
        {
            "Sid": "DecryptSourceThroughS3",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": source_key_arn,
            "Condition": {
                "StringEquals": {"kms:ViaService": f"s3.{source_region}.amazonaws.com"},
                "ArnLike": {"kms:EncryptionContext:aws:s3:arn": [source_arn]},
            },
        },
        {
            "Sid": "EncryptReplicasThroughS3",
            "Effect": "Allow",
            "Action": ["kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": destination_key_arn,
            "Condition": {
                "StringEquals": {"kms:ViaService": f"s3.{destination_region}.amazonaws.com"},
                "ArnLike": {"kms:EncryptionContext:aws:s3:arn": [destination_arn]},
            },
        },
    ]
