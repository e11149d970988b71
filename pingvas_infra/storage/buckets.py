"""The five S3 buckets and everything that makes each one private, encrypted and logged."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from pingvas_infra import iam
from pingvas_infra.environments import ENVIRONMENTS, PROD
from pingvas_infra.storage.config import StorageConfig, bucket_name
from pingvas_infra.tables import load_table

LOGS = "logs"
BACKUPS = "backups"
# The off-region copy of the prod dumps (storage/backup_copy.py), kept as long.
BACKUPS_COPY = "backups-copy"
# Where the prod backup job writes its dumps in the backups bucket.
PROD_DUMPS_PREFIX = f"{PROD.name}/"
# Server access logs land under s3/<purpose>/ in the logs bucket.
ACCESS_LOG_PREFIX = "s3/"
# Each environment's load balancer writes its access logs under elb/<environment>/ (the
# service appends AWSLogs/<account>/elasticloadbalancing/<region>/...).
LOAD_BALANCER_LOG_PREFIX = "elb/"
# S3 server access log delivery writes only to buckets encrypted with SSE-S3, never
# SSE-KMS (S3 user guide, "Enabling Amazon S3 server access logging").
SSE_S3 = "AES256"
SSE_KMS = "aws:kms"
# The request headers a bucket policy sees as condition keys (S3's service authorization
# reference): the algorithm and key a PutObject, CopyObject or CreateMultipartUpload asks
# for, and the algorithm of a customer-provided key (SSE-C).
SSE_HEADER = "s3:x-amz-server-side-encryption"
SSE_KMS_KEY_HEADER = "s3:x-amz-server-side-encryption-aws-kms-key-id"
SSE_C_HEADER = "s3:x-amz-server-side-encryption-customer-algorithm"


@dataclass(frozen=True)
class BucketSpec:
    purpose: str
    # "prod" or "models": the customer-managed key that encrypts it; None: SSE-S3.
    key: str | None
    # Versioned buckets hold what cannot be regenerated; they are also `protect`ed.
    versioned: bool
    # The environment whose data it holds (a cost-allocation tag); None: shared.
    environment: str | None


BUCKETS: tuple[BucketSpec, ...] = (
    # SSE-S3 keeps every KMS key out of dev's IAM policy.
    BucketSpec("dev-images", key=None, versioned=False, environment="dev"),
    BucketSpec("prod-images", key="prod", versioned=True, environment="prod"),
    BucketSpec("models", key="models", versioned=True, environment=None),
    BucketSpec(LOGS, key=None, versioned=False, environment=None),
    BucketSpec(BACKUPS, key="prod", versioned=True, environment="prod"),
)


@dataclass(frozen=True)
class Buckets:
    names: dict[str, pulumi.Output[str]]
    arns: dict[str, pulumi.Output[str]]
    resources: dict[str, aws.s3.Bucket]
    versionings: dict[str, aws.s3.BucketVersioning]
    # Environment name -> where its load balancer's access logs go in the logs bucket.
    load_balancer_log_prefixes: dict[str, str]


def load_balancer_log_prefix(environment: str) -> str:
    return f"{LOAD_BALANCER_LOG_PREFIX}{environment}"


def load_balancer_log_principal(region: str) -> dict[str, str]:
    """Who delivers load balancer access logs in ``region``: the region's Elastic Load
    Balancing account where one exists (regions available before August 2022), else the
    log delivery service principal (tables/ingress.yaml)."""
    delivery = load_table("ingress")["accessLogDelivery"]
    account = delivery["accounts"].get(region)
    if account is not None:
        return {"AWS": iam.account_root_arn(account)}
    return {"Service": str(delivery["servicePrincipal"])}


def create_buckets(
    name: str,
    config: StorageConfig,
    *,
    project: str,
    region: str,
    account_id: pulumi.Output[str],
    keys: Mapping[str, pulumi.Input[str]],
    parent: pulumi.Resource,
) -> Buckets:
    child = pulumi.ResourceOptions(parent=parent)
    created: dict[str, aws.s3.Bucket] = {}
    versionings: dict[str, aws.s3.BucketVersioning] = {}
    for spec in BUCKETS:
        full_name = account_id.apply(namer(config, project, spec.purpose))
        tags: dict[str, pulumi.Input[str]] = {"Name": full_name, "Purpose": spec.purpose}
        if spec.environment:
            tags["Environment"] = spec.environment
        bucket = aws.s3.Bucket(
            f"{name}-{spec.purpose}",
            bucket=full_name,
            force_destroy=False,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=parent, protect=spec.versioned),
        )
        created[spec.purpose] = bucket
        private_and_encrypted(f"{name}-{spec.purpose}", bucket, spec, keys, child)
        versioning = lifecycle(f"{name}-{spec.purpose}", bucket, spec, config, parent)
        if versioning is not None:
            versionings[spec.purpose] = versioning

    logs = created[LOGS]
    logged = {p: b for p, b in created.items() if p != LOGS}
    log_prefixes = {env.name: load_balancer_log_prefix(env.name) for env in ENVIRONMENTS}
    log_policy = aws.s3.BucketPolicy(
        f"{name}-{LOGS}",
        bucket=logs.bucket,
        policy=iam.document(
            [
                iam.deny_insecure_transport([logs.arn, pulumi.Output.concat(logs.arn, "/*")]),
                {
                    # Policy-based delivery (ACLs are disabled): only S3 logging, only
                    # for this account's buckets, only under the log prefix.
                    "Sid": "AllowServerAccessLogDelivery",
                    "Effect": "Allow",
                    "Principal": {"Service": "logging.s3.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": pulumi.Output.concat(logs.arn, "/", ACCESS_LOG_PREFIX, "*"),
                    "Condition": {
                        "ArnLike": {"aws:SourceArn": [b.arn for b in logged.values()]},
                        "StringEquals": {"aws:SourceAccount": account_id},
                    },
                },
                {
                    # Load balancer access logs: each environment's prefix, this account's
                    # folder under it, nothing else. The bucket is SSE-S3, the only
                    # encryption ALB log delivery supports.
                    "Sid": "AllowLoadBalancerAccessLogDelivery",
                    "Effect": "Allow",
                    "Principal": load_balancer_log_principal(region),
                    "Action": "s3:PutObject",
                    "Resource": [
                        pulumi.Output.concat(logs.arn, f"/{prefix}/AWSLogs/", account_id, "/*")
                        for prefix in log_prefixes.values()
                    ],
                },
            ]
        ),
        opts=child,
    )
    specs = {spec.purpose: spec for spec in BUCKETS}
    for purpose, bucket in logged.items():
        key = specs[purpose].key
        aws.s3.BucketPolicy(
            f"{name}-{purpose}",
            bucket=bucket.bucket,
            policy=iam.document(
                [
                    iam.deny_insecure_transport(
                        [bucket.arn, pulumi.Output.concat(bucket.arn, "/*")]
                    ),
                    *(deny_other_encryption(bucket.arn, keys[key]) if key is not None else []),
                ]
            ),
            opts=child,
        )
        aws.s3.BucketLogging(
            f"{name}-{purpose}",
            bucket=bucket.bucket,
            target_bucket=logs.bucket,
            target_prefix=f"{ACCESS_LOG_PREFIX}{purpose}/",
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[log_policy]),
        )
    return Buckets(
        names={p: b.bucket for p, b in created.items()},
        arns={p: b.arn for p, b in created.items()},
        resources=created,
        versionings=versionings,
        load_balancer_log_prefixes=log_prefixes,
    )


def deny_other_encryption(
    bucket_arn: pulumi.Input[str], key_arn: pulumi.Input[str]
) -> list[dict[str, object]]:
    """A write that names its encryption must name the bucket's own key; one that names
    none gets the bucket's default (that key) and passes.

    Each Deny holds only while the request carries the header (`Null` false): a key a
    request does not carry makes a negated operator true, with or without `IfExists` (IAM
    user guide, "Condition operators"), so `StringNotEquals[IfExists]` alone would refuse
    every upload that relies on default encryption, and every UploadPart of a multipart
    upload (it carries no encryption header). Refused: SSE-S3 (AES256), DSSE-KMS, SSE-KMS
    without a key id (S3 would use the account's aws/s3 key) or with another key, and
    customer-provided keys (SSE-C). Clients name the key by its ARN, or name nothing."""
    objects = pulumi.Output.concat(bucket_arn, "/*")
    when_named = {"Null": {SSE_HEADER: "false"}}
    return [
        {
            "Sid": "DenyOtherEncryption",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": objects,
            "Condition": {**when_named, "StringNotEquals": {SSE_HEADER: SSE_KMS}},
        },
        {
            "Sid": "DenyOtherKmsKey",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": objects,
            "Condition": {**when_named, "StringNotEquals": {SSE_KMS_KEY_HEADER: key_arn}},
        },
        {
            "Sid": "DenyCustomerProvidedKeys",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": objects,
            "Condition": {"Null": {SSE_C_HEADER: "false"}},
        },
    ]


def namer(config: StorageConfig, project: str, purpose: str) -> Callable[[str], str]:
    """The bucket's full name once the account id is known."""

    def name(account_id: str) -> str:
        return bucket_name(config.bucket_prefix, project, purpose, config.suffix_for(account_id))

    return name


def private_and_encrypted(
    name: str,
    bucket: aws.s3.Bucket,
    spec: BucketSpec,
    keys: Mapping[str, pulumi.Input[str]],
    child: pulumi.ResourceOptions,
    *,
    region: str | None = None,
) -> None:
    aws.s3.BucketPublicAccessBlock(
        name,
        bucket=bucket.bucket,
        region=region,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=child,
    )
    aws.s3.BucketOwnershipControls(
        name,
        bucket=bucket.bucket,
        region=region,
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
        opts=child,
    )
    default_encryption = (
        aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs
    )
    if spec.key is None:
        by_default = default_encryption(sse_algorithm=SSE_S3)
    else:
        by_default = default_encryption(sse_algorithm=SSE_KMS, kms_master_key_id=keys[spec.key])
    aws.s3.BucketServerSideEncryptionConfiguration(
        name,
        bucket=bucket.bucket,
        region=region,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=by_default,
                # Bucket keys cut KMS requests (and their cost) by orders of magnitude.
                bucket_key_enabled=spec.key is not None,
            )
        ],
        opts=child,
    )


# How S3 lifecycle runs (S3 user guide, "Lifecycle configuration elements" and "Examples
# of S3 Lifecycle configurations", examples 6 and 7): an action falls due a number of days
# after its start and runs at the first midnight UTC after that. On a versioned bucket,
# `Expiration` only makes the current version noncurrent behind a delete marker;
# `NoncurrentVersionExpiration` removes that version; `ExpiredObjectDeleteMarker` removes
# a delete marker left with no version behind it. Each step can wait for its midnight, so
# a dump is gone, every version and marker, at most this many days after its expiration
# and noncurrent periods: the three midnights.
LIFECYCLE_ROUNDING_DAYS = 3
# A dump's noncurrent version is kept one day: long enough to undo a mistaken delete the
# same day, short enough that the retention means what it says.
BACKUP_NONCURRENT_DAYS = 1


def backup_expiration_days(retention_days: int) -> int:
    """Days after which a dump expires (becomes noncurrent), so that the dump, its
    noncurrent version and its delete marker are all gone within ``retention_days``."""
    return retention_days - BACKUP_NONCURRENT_DAYS - LIFECYCLE_ROUNDING_DAYS


def lifecycle(
    name: str,
    bucket: aws.s3.Bucket,
    spec: BucketSpec,
    config: StorageConfig,
    parent: pulumi.Resource,
    *,
    region: str | None = None,
) -> aws.s3.BucketVersioning | None:
    """The bucket's lifecycle rules (and its versioning, for a versioned bucket, which the
    rules need first); returns the versioning, if any."""
    whole_bucket = aws.s3.BucketLifecycleConfigurationRuleFilterArgs()
    rules = [
        aws.s3.BucketLifecycleConfigurationRuleArgs(
            id="abort-incomplete-multipart-uploads",
            status="Enabled",
            filter=whole_bucket,
            abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                days_after_initiation=config.abort_incomplete_multipart_upload_days
            ),
        )
    ]
    depends_on: list[pulumi.Resource] = []
    versioning = None
    if spec.versioned:
        versioning = aws.s3.BucketVersioning(
            name,
            bucket=bucket.bucket,
            region=region,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
                status="Enabled"
            ),
            opts=pulumi.ResourceOptions(parent=parent),
        )
        # Lifecycle rules on noncurrent versions need versioning in place first.
        depends_on.append(versioning)
    rules += retention_rules(spec, config, whole_bucket)
    aws.s3.BucketLifecycleConfiguration(
        name,
        bucket=bucket.bucket,
        region=region,
        rules=rules,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=depends_on),
    )
    return versioning


def retention_rules(
    spec: BucketSpec,
    config: StorageConfig,
    scope: aws.s3.BucketLifecycleConfigurationRuleFilterArgs,
) -> list[aws.s3.BucketLifecycleConfigurationRuleArgs]:
    """How long a bucket keeps what it holds.

    Backups keep `backupRetentionDays` in full: the dump expires early enough that its one
    day as a noncurrent version and the removal of its delete marker still fall inside the
    retention (versioning alone would keep every dump `noncurrentVersionExpirationDays`
    longer, and expired delete markers would pile up). Logs expire after
    `logExpirationDays` (not versioned). Other versioned buckets keep overwritten and
    deleted versions `noncurrentVersionExpirationDays`; the delete marker a deletion leaves
    goes once no version is left behind it (without the rule it stays forever, and every
    listing of versions walks past it).
    """
    rule = aws.s3.BucketLifecycleConfigurationRuleArgs
    if spec.purpose in (BACKUPS, BACKUPS_COPY):
        return [
            rule(
                id="expire-backups",
                status="Enabled",
                filter=scope,
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                    days=backup_expiration_days(config.backup_retention_days)
                ),
                noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=BACKUP_NONCURRENT_DAYS
                ),
            ),
            expired_delete_markers_rule(scope),
        ]
    rules = []
    if spec.versioned:
        rules += [
            rule(
                id="expire-noncurrent-versions",
                status="Enabled",
                filter=scope,
                noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=config.noncurrent_version_expiration_days
                ),
            ),
            expired_delete_markers_rule(scope),
        ]
    if spec.purpose == LOGS:
        rules.append(
            rule(
                id="expire-logs",
                status="Enabled",
                filter=scope,
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                    days=config.log_expiration_days
                ),
            )
        )
    return rules


def expired_delete_markers_rule(
    scope: aws.s3.BucketLifecycleConfigurationRuleFilterArgs,
) -> aws.s3.BucketLifecycleConfigurationRuleArgs:
    """Removes a delete marker once no version is left behind it. A rule of its own: S3
    refuses ExpiredObjectDeleteMarker beside Days in one Expiration."""
    return aws.s3.BucketLifecycleConfigurationRuleArgs(
        id="remove-expired-delete-markers",
        status="Enabled",
        filter=scope,
        expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
            expired_object_delete_marker=True
        ),
    )
