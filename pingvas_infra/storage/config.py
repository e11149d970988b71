"""Storage layer configuration (`pingvas:storage`): S3 buckets, EFS model store."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, model_validator

from pingvas_infra.configbase import (
    ConfigModel,
    Problem,
    not_one_of,
    out_of_range,
    raise_problems,
    span,
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
EFS_TRANSITIONS = (
    "AFTER_1_DAY",
    "AFTER_7_DAYS",
    "AFTER_14_DAYS",
    "AFTER_30_DAYS",
    "AFTER_60_DAYS",
    "AFTER_90_DAYS",
    "AFTER_180_DAYS",
    "AFTER_270_DAYS",
    "AFTER_365_DAYS",
)
_POSIX_IDS = range(1, 2**32)
_LIFECYCLE_DAYS = range(1, 36_501)
# A week of daily dumps at least; the dump itself expires 4 days before the end (one day
# noncurrent, three midnights of S3's rounding).
BACKUP_RETENTION_DAYS = range(7, 36_501)


def bucket_name(prefix: str, project: str, purpose: str, suffix: str) -> str:
    base = {**BUCKET_BASE_NAMES, **OPTIONAL_BUCKET_BASE_NAMES}[purpose]
    return f"{prefix}{project}-{base}{suffix}"


class EfsConfig(ConfigModel):
    """The shared model store; files are owned by this POSIX user through the access point."""

    transition_to_ia: str = "AFTER_30_DAYS"
    # Bursting by default: no per-GB throughput charge. Its baseline is 50 KiB/s per GiB
    # stored (1 MiB/s minimum), with bursts to 100 MiB/s on credits earned below it. A
    # model store of 50 GB earns ~6 TiB of throughput a month; the ~320 GB of model loads
    # a month of the design guide's usage is about 5% of it, so Elastic ($0.03 per GB read, $0.06
    # per GB written: ~$10 a month there) buys nothing. Choose elastic when many GPU nodes
    # load large models at once and 100 MiB/s slows their start, or when
    # BurstCreditBalance trends down.
    throughput_mode: Literal["bursting", "elastic"] = "bursting"
    posix_uid: int = 1000
    posix_gid: int = 1000

    @model_validator(mode="after")
    def _check(self) -> EfsConfig:
        problems: list[Problem] = []
        problems += not_one_of("transitionToIa", self.transition_to_ia, EFS_TRANSITIONS)
        problems.extend(
            Problem(key, value, "a POSIX id from 1 to 4294967295 (0 would be root)")
            for key, value in (("posixUid", self.posix_uid), ("posixGid", self.posix_gid))
            if value not in _POSIX_IDS
        )
        raise_problems(problems)
        return self


# S3 storage classes a replica may be written in (the copy is read only to restore).
COPY_STORAGE_CLASSES = ("STANDARD", "STANDARD_IA", "GLACIER_IR")


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

    enabled: bool = False
    # Where the copy lives: another region of tables/regions.yaml than aws:region.
    region: str = "us-west-2"
    # STANDARD_IA by default: the copy is read only to restore, and each dump is kept at
    # least the class's 30-day minimum (backupRetentionDays is 35 by default).
    storage_class: str = "STANDARD_IA"

    @model_validator(mode="after")
    def _check(self) -> BackupCopyConfig:
        problems = not_one_of("storageClass", self.storage_class, COPY_STORAGE_CLASSES)
        raise_problems(problems)
        return self


class StorageConfig(ConfigModel):
    """Buckets (names, lifecycle), the EFS model store and the keys that encrypt them."""

    # Bucket names are global: <bucketPrefix><project>-<purpose><bucketSuffix>.
    bucket_prefix: str = ""
    # None: "-<AWS account id>", unique per account without any setting.
    bucket_suffix: str | None = None
    # Server access logs in the logs bucket are deleted after this many days.
    log_expiration_days: int = 90
    # Overwritten or deleted versions in versioned buckets are kept this long.
    noncurrent_version_expiration_days: int = 30
    # Database backups (pg_dump files) are kept this long, and then gone: the dump, its
    # noncurrent version and its delete marker (storage/buckets.py sets the rules so S3's
    # midnight rounding still lands inside).
    backup_retention_days: int = 35
    abort_incomplete_multipart_upload_days: int = 7
    kms_deletion_window_days: int = 30
    efs: EfsConfig = Field(default_factory=EfsConfig)
    backup_copy: BackupCopyConfig = Field(default_factory=BackupCopyConfig)

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

    @model_validator(mode="after")
    def _check(self) -> StorageConfig:
        problems: list[Problem] = [
            Problem(key, value, span(_LIFECYCLE_DAYS))
            for key, value in (
                ("logExpirationDays", self.log_expiration_days),
                ("noncurrentVersionExpirationDays", self.noncurrent_version_expiration_days),
                (
                    "abortIncompleteMultipartUploadDays",
                    self.abort_incomplete_multipart_upload_days,
                ),
            )
            if value not in _LIFECYCLE_DAYS
        ]
        problems += out_of_range(
            "backupRetentionDays", self.backup_retention_days, BACKUP_RETENTION_DAYS
        )
        problems += out_of_range(
            "kmsDeletionWindowDays", self.kms_deletion_window_days, DELETION_WINDOW_DAYS
        )
        raise_problems(problems)
        return self


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
