"""`pingvas-infra bootstrap-state`: the team's Pulumi state backend, created idempotently.

An S3 bucket holds the state (versioned, so any checkpoint can be restored; SSE-KMS;
public access blocked; ACLs disabled; TLS-only policy) and one KMS key serves both the
bucket's encryption and Pulumi's secrets provider, so whoever may read the state may
also decrypt its secrets, and nobody else. Every step compares first and writes only
what differs: a second run changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from pingvas_infra import iam

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ServerSideEncryptionRuleTypeDef


class BootstrapError(Exception):
    """The backend cannot be created as asked (name taken, key pending deletion ...)."""


_BLOCK_ALL = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


def default_bucket_name(project: str, account: str, region: str) -> str:
    # Bucket names are global: account and region make this one unique and recognisable.
    return f"{project}-pulumi-state-{account}-{region}"


def key_alias(project: str) -> str:
    return f"alias/{project}-pulumi-secrets"


@dataclass
class StateBackend:
    bucket: str
    region: str
    key_alias: str
    key_arn: str
    # What this run changed, in order; empty when everything was already in place.
    changes: list[str] = field(default_factory=list)

    def backend_url(self, profile: str | None = None) -> str:
        url = f"s3://{self.bucket}?region={self.region}&awssdk=v2"
        return url + (f"&profile={profile}" if profile else "")

    @property
    def secrets_provider(self) -> str:
        return f"awskms://{self.key_alias}?region={self.region}"


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> int | None:
    return exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")


def _ensure_key(kms: KMSClient, alias: str, tags: dict[str, str], changes: list[str]) -> str:
    try:
        metadata = kms.describe_key(KeyId=alias)["KeyMetadata"]
    except ClientError as exc:
        if _code(exc) != "NotFoundException":
            raise
        metadata = kms.create_key(
            Description="Pulumi state encryption and secrets provider (pingvas-infra)",
            KeySpec="SYMMETRIC_DEFAULT",
            KeyUsage="ENCRYPT_DECRYPT",
            Tags=[{"TagKey": k, "TagValue": v} for k, v in sorted(tags.items())],
        )["KeyMetadata"]
        kms.create_alias(AliasName=alias, TargetKeyId=metadata["KeyId"])
        changes.append(f"created KMS key {metadata['Arn']} as {alias}")
    if metadata.get("KeyState") not in ("Enabled", None):
        raise BootstrapError(
            f"{alias} points at key {metadata['Arn']} in state {metadata['KeyState']}: "
            "enable it (or cancel its deletion) first"
        )
    if not kms.get_key_rotation_status(KeyId=metadata["KeyId"])["KeyRotationEnabled"]:
        kms.enable_key_rotation(KeyId=metadata["KeyId"])
        changes.append(f"enabled yearly rotation of {alias}")
    return metadata["Arn"]


def _bucket_exists(s3: S3Client, bucket: str, account: str) -> bool:
    try:
        s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=account)
    except ClientError as exc:
        if _status(exc) == 404 or _code(exc) in ("404", "NoSuchBucket"):
            return False
        if _status(exc) == 403 or _code(exc) == "403":
            raise BootstrapError(
                f"bucket {bucket} belongs to another account: choose another --bucket"
            ) from None
        raise
    return True


def _current(read: Any, missing_code: str) -> Any:
    """What a Get* call returns, or None when the setting was never made."""
    try:
        return read()
    except ClientError as exc:
        if _code(exc) == missing_code:
            return None
        raise


def _ensure_bucket(
    s3: S3Client, backend: StateBackend, *, account: str, tags: dict[str, str]
) -> None:
    bucket, region, key_arn, changes = (
        backend.bucket,
        backend.region,
        backend.key_arn,
        backend.changes,
    )
    if not _bucket_exists(s3, bucket, account):
        if region == "us-east-1":
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(
                Bucket=bucket,
                CreateBucketConfiguration={"LocationConstraint": region},  # type: ignore[typeddict-item]
            )
        changes.append(f"created bucket {bucket}")

    if s3.get_bucket_versioning(Bucket=bucket).get("Status") != "Enabled":
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        changes.append("enabled versioning")

    wanted_rule: ServerSideEncryptionRuleTypeDef = {
        "ApplyServerSideEncryptionByDefault": {
            "SSEAlgorithm": "aws:kms",
            "KMSMasterKeyID": key_arn,
        },
        # One data key per bucket instead of a KMS call per object write.
        "BucketKeyEnabled": True,
    }
    encryption = _current(
        lambda: s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"],
        "ServerSideEncryptionConfigurationNotFoundError",
    )
    rules = (encryption or {}).get("Rules", [])
    if not any(
        rule.get("ApplyServerSideEncryptionByDefault")
        == wanted_rule["ApplyServerSideEncryptionByDefault"]
        and rule.get("BucketKeyEnabled") is True
        for rule in rules
    ):
        s3.put_bucket_encryption(
            Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [wanted_rule]}
        )
        changes.append("set SSE-KMS default encryption")

    block = _current(
        lambda: s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"],
        "NoSuchPublicAccessBlockConfiguration",
    )
    if block != _BLOCK_ALL:
        s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=_BLOCK_ALL)  # type: ignore[arg-type]
        changes.append("blocked all public access")

    ownership = _current(
        lambda: s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"],
        "OwnershipControlsNotFoundError",
    )
    if [r.get("ObjectOwnership") for r in ownership or []] != ["BucketOwnerEnforced"]:
        s3.put_bucket_ownership_controls(
            Bucket=bucket,
            OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        )
        changes.append("disabled ACLs (BucketOwnerEnforced)")

    arn = f"arn:aws:s3:::{bucket}"
    wanted_policy = {
        "Version": "2012-10-17",
        "Statement": [iam.deny_insecure_transport([arn, f"{arn}/*"])],
    }
    policy = _current(lambda: s3.get_bucket_policy(Bucket=bucket)["Policy"], "NoSuchBucketPolicy")
    if policy is None or json.loads(policy) != wanted_policy:
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(wanted_policy))
        changes.append("set the TLS-only bucket policy")

    tag_set = _current(lambda: s3.get_bucket_tagging(Bucket=bucket)["TagSet"], "NoSuchTagSet")
    current_tags = {t["Key"]: t["Value"] for t in tag_set or []}
    merged = {**current_tags, **tags}
    if merged != current_tags:
        s3.put_bucket_tagging(
            Bucket=bucket,
            Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in sorted(merged.items())]},
        )
        changes.append("tagged the bucket")


def bootstrap_state(
    session: boto3.session.Session,
    *,
    project: str,
    region: str,
    bucket: str | None = None,
) -> StateBackend:
    """Create or complete the state bucket and secrets key; report what changed."""
    account = session.client("sts", region_name=region).get_caller_identity()["Account"]
    tags = {"Project": project, "Purpose": "pulumi-state", "ManagedBy": "pingvas-infra"}
    alias = key_alias(project)
    backend = StateBackend(
        bucket=bucket or default_bucket_name(project, account, region),
        region=region,
        key_alias=alias,
        key_arn="",
    )
    backend.key_arn = _ensure_key(
        session.client("kms", region_name=region), alias, tags, backend.changes
    )
    _ensure_bucket(session.client("s3", region_name=region), backend, account=account, tags=tags)
    return backend
