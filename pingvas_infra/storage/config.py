"""Storage layer configuration (`pingvas-infra:storage`): S3 buckets, EFS model store."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field

from pingvas_infra.configbase import (
    Allowed,
    ConfigModel,
    ConfigWarning,
    Problem,
    aws_limit,
    one_of,
)
from pingvas_infra.kms_keys import DELETION_WINDOW_DAYS

# Purpose -> the middle of the bucket name (the design guide's names: pingvas-dev-images,
# pingvas-prod-images, pingvas-models-shared, pingvas-logs-shared; its backup script
# writes to pingvas-backups). Full name: <prefix><project>-<base><suffix>.
BUCKET_BASE_NAMES: dict[str, str] = {
    "dev-images": "dev-images",
    "prod-images": "prod-images",
    "models": "models-shared",
    "logs": "logs-shared",
    "backups": "backups",
}
# Buckets that exist only when their feature is on: the off-region copy of the prod dumps
# (backupCopy.enabled), in backupCopy.region.
OPTIONAL_BUCKET_BASE_NAMES: dict[str, str] = {"backups-copy": "backups-copy"}

# S3 general purpose bucket naming rules (S3 user guide, "Bucket naming rules"), minus
# dots, which break TLS for virtual-hosted-style requests and so are refused here.
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", "--x-s3", "--table-s3")
_PREFIX = re.compile(r"^([a-z0-9][a-z0-9-]*)?$")
_SUFFIX = re.compile(r"^([a-z0-9-]*[a-z0-9])?$")
# An AWS account id: the default suffix is "-<account id>", 13 characters.
ACCOUNT_ID_LENGTH = 12

# EFS lifecycle: when files not read for a while move to Infrequent Access.
EfsTransition = Literal[
    "AFTER_1_DAY",
    "AFTER_7_DAYS",
    "AFTER_14_DAYS",
    "AFTER_30_DAYS",
    "AFTER_60_DAYS",
    "AFTER_90_DAYS",
    "AFTER_180_DAYS",
    "AFTER_270_DAYS",
    "AFTER_365_DAYS",
]
# S3 lifecycle rules take any positive number of days; a century bounds a typo.
MAX_LIFECYCLE_DAYS = 36_500
_POSIX_WHY = "0 would be root; EFS takes POSIX ids up to 4294967295"
# A week of daily dumps at least; the dump itself expires 4 days before the end (one day
# noncurrent, three midnights of S3's rounding).
MIN_BACKUP_RETENTION_DAYS = 7
PRINCIPAL_ARNS_ALLOWED = (
    "a list of IAM role or user ARNs (paths allowed) of aws:region's partition, each once, "
    "none of them a dev person (cluster.environmentPrincipalArns.dev), such as "
    "arn:aws:iam::123456789012:role/platform-oncall"
)


def bucket_name(prefix: str, project: str, purpose: str, suffix: str) -> str:
    base = {**BUCKET_BASE_NAMES, **OPTIONAL_BUCKET_BASE_NAMES}[purpose]
    return f"{prefix}{project}-{base}{suffix}"


class EfsConfig(ConfigModel):
    """The shared model store; files are owned by this POSIX user through the access point."""

    transition_to_ia: EfsTransition = Field(
        default="AFTER_30_DAYS",
        description="Unread model files move to Infrequent Access after this (back on first read).",
    )
    # Bursting by default: no per-GB throughput charge. Its baseline is 50 KiB/s per GiB
    # stored (1 MiB/s minimum), with bursts to 100 MiB/s on credits earned below it. A
    # model store of 50 GB earns ~6 TiB of throughput a month; the ~320 GB of model loads
    # a month of the design guide's usage is about 5% of it, so Elastic ($0.03 per GB read,
    # $0.06 per GB written: ~$10 a month there) buys nothing.
    throughput_mode: Literal["bursting", "elastic"] = Field(
        default="bursting",
        description=(
            "bursting (free; credits grow with stored data) or elastic (pay per GB read): "
            "choose elastic when many GPU nodes load large models at once, or when "
            "BurstCreditBalance trends down."
        ),
    )
    posix_uid: int = Field(
        default=1000,
        ge=1,
        le=aws_limit("posix_id_max"),
        description="Owner of /models; every NFS call through the access points runs as it.",
        json_schema_extra={"why": _POSIX_WHY},
    )
    posix_gid: int = Field(
        default=1000,
        ge=1,
        le=aws_limit("posix_id_max"),
        description="Group of /models, as posixUid.",
        json_schema_extra={"why": _POSIX_WHY},
    )


# S3 storage classes a replica may be written in (the copy is read only to restore).
COPY_STORAGE_CLASSES = ("STANDARD", "STANDARD_IA", "GLACIER_IR")
CopyStorageClass = Annotated[
    str, one_of(COPY_STORAGE_CLASSES), Allowed(", ".join(COPY_STORAGE_CLASSES))
]


class BackupCopyConfig(ConfigModel):
    """An off-region copy of the prod dumps: S3 replication of the backups bucket's prod/
    objects to a bucket of the same account in another region, under a key of that region,
    kept as long as the originals (backupRetentionDays).

    Off by default: it guards against losing the whole region, which nothing else of the
    stack (one-region EKS, Aurora, cache) survives either, so it buys a restore that needs
    a rebuilt stack first; and it adds $1.00 a month (the copy's key) plus $0.02 per GB
    replicated and the copy's storage (the plan prices both). Turn it on when prod's data
    must outlive a regional outage.
    """

    enabled: bool = Field(default=False, description="The off-region copy of the prod dumps.")
    region: str = Field(
        default="us-west-2",
        description="Where the copy lives.",
        json_schema_extra={"allowed": "a region of tables/regions.yaml other than aws:region"},
    )
    # STANDARD_IA by default: the copy is read only to restore, and each dump is kept at
    # least the class's 30-day minimum (backupRetentionDays is 35 by default).
    storage_class: CopyStorageClass = Field(
        default="STANDARD_IA",
        description=(
            "S3 storage class of the copy; STANDARD_IA is cheapest for dumps kept at least its "
            "30-day minimum and read only to restore."
        ),
    )


class StorageConfig(ConfigModel):
    """Buckets (names, lifecycle), the EFS model store and the keys that encrypt them."""

    bucket_prefix: str = Field(
        default="",
        description=(
            "Bucket names are global: <bucketPrefix><project>-<purpose><bucketSuffix>, valid "
            "S3 names of at most 63 characters, no dots."
        ),
        json_schema_extra={
            "allowed": "lower-case letters, digits and hyphens, starting with a letter or digit"
        },
    )
    bucket_suffix: str | None = Field(
        default=None,
        description="Unset: -<AWS account id>, unique per account without any setting.",
        json_schema_extra={
            "allowed": "lower-case letters, digits and hyphens, ending with a letter or digit",
            "default": "-<account id>",
        },
    )
    log_expiration_days: int = Field(
        default=90,
        ge=1,
        le=MAX_LIFECYCLE_DAYS,
        description="Server access logs in the logs bucket are deleted after this many days.",
    )
    noncurrent_version_expiration_days: int = Field(
        default=30,
        ge=1,
        le=MAX_LIFECYCLE_DAYS,
        description="Overwritten or deleted versions in versioned buckets are kept this long.",
    )
    backup_retention_days: int = Field(
        default=35,
        ge=MIN_BACKUP_RETENTION_DAYS,
        le=MAX_LIFECYCLE_DAYS,
        description=(
            "Database dumps in the backups bucket (and its off-region copy) are kept this "
            "long, and then gone: the dump, its noncurrent version and its delete marker."
        ),
        json_schema_extra={
            "why": "a week of daily dumps at least; each dump expires 4 days before the end "
            "(one day noncurrent, three midnights of S3's rounding)"
        },
    )
    abort_incomplete_multipart_upload_days: int = Field(
        default=7,
        ge=1,
        le=MAX_LIFECYCLE_DAYS,
        description="Unfinished multipart uploads of every bucket are removed after this.",
    )
    kms_deletion_window_days: int = Field(
        default=30,
        ge=DELETION_WINDOW_DAYS.start,
        le=DELETION_WINDOW_DAYS.stop - 1,
        description="Days before the prod and models keys are really deleted.",
    )
    efs: EfsConfig = Field(
        default_factory=EfsConfig,
        description="The shared model store; files are owned by this POSIX user.",
    )
    backup_copy: BackupCopyConfig = Field(
        default_factory=BackupCopyConfig,
        description="An off-region copy of the prod dumps (off by default).",
    )
    model_publisher_principal_arns: tuple[str, ...] = Field(
        default=(),
        description=(
            "Who may assume the models publisher role (<project>-models-publisher), the only "
            "writer of the models bucket; their own IAM must allow sts:AssumeRole on it. "
            "Empty: nobody publishes models (the plan warns)."
        ),
        json_schema_extra={"allowed": PRINCIPAL_ARNS_ALLOWED},
    )
    backup_restore_principal_arns: tuple[str, ...] = Field(
        default=(),
        description=(
            "Who may assume the break-glass restore role (<project>-prod-backup-restore), "
            "the only reader of the prod dumps; their own IAM must allow sts:AssumeRole on "
            "it. Empty: nobody can restore prod backups (the plan warns)."
        ),
        json_schema_extra={"allowed": PRINCIPAL_ARNS_ALLOWED},
    )

    def assuming_principals(self) -> dict[str, str]:
        """Every principal listed for an assumed role: key (relative to the section) -> ARN."""
        return {
            **{
                f"modelPublisherPrincipalArns[{i}]": arn
                for i, arn in enumerate(self.model_publisher_principal_arns)
            },
            **{
                f"backupRestorePrincipalArns[{i}]": arn
                for i, arn in enumerate(self.backup_restore_principal_arns)
            },
        }

    def warnings(self) -> list[ConfigWarning]:
        found: list[ConfigWarning] = []
        if not self.backup_restore_principal_arns:
            found.append(
                ConfigWarning(
                    "backupRestorePrincipalArns",
                    [],
                    "nobody can restore prod backups: only the restore role may decrypt the "
                    "dumps, and nobody may assume it; list the on-call roles that restore "
                    "(README, Prod schema backups)",
                )
            )
        if not self.model_publisher_principal_arns:
            found.append(
                ConfigWarning(
                    "modelPublisherPrincipalArns",
                    [],
                    "nobody can publish models: only the publisher role may write the models "
                    "bucket, and nobody may assume it; list the roles that publish (README, "
                    "Storage)",
                )
            )
        return found

    def suffix_for(self, account_id: str) -> str:
        return self.bucket_suffix if self.bucket_suffix is not None else f"-{account_id}"

    def bucket_name_problems(self, project: str) -> list[Problem]:
        """Every bucket name this config yields for ``project`` must be a valid S3 name.

        Keys are relative to the stack config (``storage.bucketPrefix``), since the check
        needs the project name from outside this section.
        """
        problems: list[Problem] = []
        if not _PREFIX.match(self.bucket_prefix):
            problems.append(
                Problem(
                    "storage.bucketPrefix",
                    self.bucket_prefix,
                    "lower-case letters, digits and hyphens, starting with a letter or digit",
                )
            )
        if self.bucket_suffix is not None and not _SUFFIX.match(self.bucket_suffix):
            problems.append(
                Problem(
                    "storage.bucketSuffix",
                    self.bucket_suffix,
                    "lower-case letters, digits and hyphens, ending with a letter or digit",
                )
            )
        if problems:
            return problems
        suffix = self.suffix_for("0" * ACCOUNT_ID_LENGTH)
        purposes = [
            *BUCKET_BASE_NAMES,
            *(OPTIONAL_BUCKET_BASE_NAMES if self.backup_copy.enabled else ()),
        ]
        for purpose in purposes:
            name = bucket_name(self.bucket_prefix, project, purpose, suffix)
            fault = _bucket_name_fault(name)
            if fault:
                key, value = self._culprit(fault[0], project)
                problems.append(Problem(key, value, f"{fault[1]} ({name})"))
                break
        return problems

    def _culprit(self, part: str, project: str) -> tuple[str, str]:
        """The key to blame for a bad name: the part the fault is in, if configured."""
        if part == "start" and self.bucket_prefix:
            return "storage.bucketPrefix", self.bucket_prefix
        if part == "end" and self.bucket_suffix:
            return "storage.bucketSuffix", self.bucket_suffix
        if part == "length":
            if self.bucket_prefix:
                return "storage.bucketPrefix", self.bucket_prefix
            if self.bucket_suffix:
                return "storage.bucketSuffix", self.bucket_suffix
        return "project", project


def _bucket_name_fault(name: str) -> tuple[str, str] | None:
    """(which part of the name is at fault, why) or None for a valid name."""
    if len(name) > 63:
        return "length", f"bucket names are at most 63 characters; this one has {len(name)}"
    if not _BUCKET_NAME.match(name):
        return "length", "a bucket name of 3-63 lower-case letters, digits and hyphens"
    if name.startswith(_RESERVED_PREFIXES):
        return "start", f"bucket names may not start with {', '.join(_RESERVED_PREFIXES)}"
    if name.endswith(_RESERVED_SUFFIXES):
        return "end", f"bucket names may not end with {', '.join(_RESERVED_SUFFIXES)}"
    return None
