"""What the storage layer (S3, EFS, workload IAM) hands to the others."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi


@dataclass(frozen=True)
class StorageOutputs:
    # Purpose ("dev-images", "prod-images", "models", "logs", "backups") -> bucket.
    bucket_names: Mapping[str, pulumi.Output[str]]
    bucket_arns: Mapping[str, pulumi.Output[str]]
    # The logs bucket (SSE-S3): S3 server access logs and the load balancers' access logs,
    # each environment's under its prefix (its bucket policy lets the region's load
    # balancer log delivery write there and nowhere else).
    logs_bucket: pulumi.Output[str]
    load_balancer_log_prefixes: Mapping[str, str]
    # The customer-managed key of the prod images and backups buckets.
    prod_kms_key_arn: pulumi.Output[str]
    models_kms_key_arn: pulumi.Output[str]
    efs_file_system_id: pulumi.Output[str]
    # The access point dev and prod read the models through (read-only volumes).
    models_access_point_id: pulumi.Output[str]
    # Environment name -> the Pod Identity role of its application pods.
    app_role_arns: Mapping[str, pulumi.Output[str]]
    # The default StorageClass for block volumes (encrypted gp3), e.g. Prometheus' disk.
    block_storage_class: pulumi.Output[str]
    # The model store's one writer: the ServiceAccount whose Pod Identity role reads the
    # models bucket, the claim of the writable volume (both in the platform namespace), and
    # the POSIX user every NFS call through the access points runs as.
    model_sync_service_account: pulumi.Output[str]
    models_writer_claim: str
    models_owner_uid: int
    # The name the prod backup job's role must have: the prod key's policy lets exactly
    # that role (and the prod app's) use it, through S3.
    backup_role_name: str
    # The roles people assume (storage/assumed_roles.py): the only writer of the models
    # bucket, and the only reader of the prod dumps beside their writers.
    models_publisher_role_arn: pulumi.Output[str]
    backup_restore_role_arn: pulumi.Output[str]
