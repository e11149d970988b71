"""The prod schema backup: its IAM policy and CronJob, as data.

The CronJob's pod dumps in an init container (postgres image, `backup-dump.sh`) and
uploads in the main container (aws-cli image, `backup-upload.sh`); both scripts are the
files next to this module, mounted from a ConfigMap. A failing dump fails the init
container, so the upload never starts and the Job fails after its retries.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import pulumi

from pingvas_infra import iam
from pingvas_infra.environments import PROD
from pingvas_infra.kube import (
    ALWAYS_PULL,
    env_vars,
    restricted_container_security,
    restricted_pod_security,
)
from pingvas_infra.labels import APP_NAME_LABEL, app_labels
from pingvas_infra.operations import sizing
from pingvas_infra.operations.config import BackupConfig
from pingvas_infra.tables import load_table

NAME = f"{PROD.name}-db-backup"
SCRIPTS = ("backup-dump.sh", "backup-upload.sh")
LABELS = app_labels(NAME, "backup")
# The key the tenancy layer's db-credentials Secret holds the libpq URL under (the design
# guide's name).
DATABASE_URL_KEY = "DATABASE_URL"
# Objects land under "<env>/" in the backups bucket; the lifecycle rule there expires them.
PREFIX = PROD.name
# An unprivileged user shared by both containers, so the upload can read the dump.
RUN_AS = 10001
# EKS Pod Identity: the node agent serves credentials on this link-local address; pod
# egress to it is subject to NetworkPolicies like any other traffic.
POD_IDENTITY_AGENT_CIDR = "169.254.170.23/32"
POD_IDENTITY_AGENT_PORT = 80
_SCRIPTS_MOUNT = "/scripts"
_BACKUP_DIR = "/backup"
# The Secret's DATABASE_URL key as a file (read by backup-dump.sh), not an environment
# variable: the password then sits in no container's environment.
_CREDENTIALS_DIR = "/run/db-credentials"
_DATABASE_URL_FILE = "database-url"
_DUMP = sizing.Resources("100m", "256Mi", "1", "1Gi")
_UPLOAD = sizing.Resources("100m", "256Mi", "1", "512Mi")


def _dump_resources(config: BackupConfig) -> dict[str, Any]:
    """The dump container's requests and limits, disk included: the kubelet evicts a pod
    whose disk use (its emptyDir volumes included) passes the sum of its containers'
    ephemeral-storage limits, and the namespace's defaults (k8s_manifests/limit-ranges.yaml)
    are a few GiB."""
    values = _DUMP.values()
    values["requests"]["ephemeral-storage"] = f"{config.scratch_size_gi}Gi"
    values["limits"]["ephemeral-storage"] = f"{config.disk_limit_gi}Gi"
    return values


@cache
def script(name: str) -> str:
    return resources.files(__package__).joinpath(f"scripts/{name}").read_text(encoding="utf-8")


def object_name(database_name: str) -> str:
    """The stem of every dump's key: "<database>-<schema>"."""
    return f"{database_name}-{PROD.schema}"


def role_policy(
    bucket_arn: pulumi.Input[str], kms_key_arn: pulumi.Input[str], region: str
) -> pulumi.Output[str]:
    """Write dumps under the prod prefix and nothing else: no read, list or delete."""
    return iam.document(
        [
            {
                # PutObject also authorizes the multipart calls aws s3 cp makes for large
                # files (Create/UploadPart/Complete); Abort lets a failed upload clean up.
                "Sid": "WriteProdDumps",
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:AbortMultipartUpload"],
                "Resource": pulumi.Output.from_input(bucket_arn).apply(
                    lambda arn: f"{arn}/{PREFIX}/*"
                ),
            },
            {
                # SSE-KMS uploads need a data key; multipart ones also decrypt it.
                "Sid": "EncryptWithProdKeyThroughS3",
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                "Resource": kms_key_arn,
                "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
            },
        ]
    )


def cron_job_spec(
    config: BackupConfig,
    *,
    secret_name: str,
    scripts_config_map: str,
    bucket: pulumi.Input[str],
    kms_key_arn: pulumi.Input[str],
    database_name: str,
    region: str,
) -> dict[str, Any]:
    images = load_table("operations")["images"]
    mounts = [
        {"name": "scripts", "mountPath": _SCRIPTS_MOUNT, "readOnly": True},
        {"name": "backup", "mountPath": _BACKUP_DIR},
        {"name": "tmp", "mountPath": "/tmp"},
    ]
    scratch = f"{config.scratch_size_gi}Gi"
    dump = {
        "name": "dump",
        "image": images["postgres"],
        "imagePullPolicy": ALWAYS_PULL,
        "command": ["/bin/bash", f"{_SCRIPTS_MOUNT}/{SCRIPTS[0]}"],
        "env": env_vars(
            {
                "DATABASE_URL_FILE": f"{_CREDENTIALS_DIR}/{_DATABASE_URL_FILE}",
                "DB_SCHEMA": PROD.schema,
                "BACKUP_DIR": _BACKUP_DIR,
                # A floor: Aurora forces TLS; a sslmode in the URL still wins.
                "PGSSLMODE": "require",
                "PGCONNECT_TIMEOUT": "30",
            }
        ),
        "resources": _dump_resources(config),
        "securityContext": restricted_container_security(),
        "volumeMounts": [
            *mounts,
            {"name": "db-credentials", "mountPath": _CREDENTIALS_DIR, "readOnly": True},
        ],
    }
    upload = {
        "name": "upload",
        "image": images["awsCli"],
        "imagePullPolicy": ALWAYS_PULL,
        "command": ["/bin/bash", f"{_SCRIPTS_MOUNT}/{SCRIPTS[1]}"],
        "env": env_vars(
            {
                "DB_SCHEMA": PROD.schema,
                "BACKUP_DIR": _BACKUP_DIR,
                "BACKUP_BUCKET": bucket,
                "BACKUP_PREFIX": PREFIX,
                "BACKUP_NAME": object_name(database_name),
                "KMS_KEY_ARN": kms_key_arn,
                "AWS_REGION": region,
                # The CLI's cache and config; the root filesystem is read-only.
                "HOME": "/tmp",
            }
        ),
        "resources": _UPLOAD.values(),
        "securityContext": restricted_container_security(),
        "volumeMounts": mounts,
    }
    pod = {
        "serviceAccountName": NAME,
        # Pod Identity mounts its own token; the pod never talks to the Kubernetes API.
        "automountServiceAccountToken": False,
        "restartPolicy": "Never",
        "priorityClassName": PROD.priority_class,
        "nodeSelector": dict(sizing.SYSTEM_NODE_SELECTOR),
        "securityContext": restricted_pod_security(RUN_AS),
        "volumes": [
            {"name": "scripts", "configMap": {"name": scripts_config_map, "defaultMode": 0o444}},
            {
                # Only the URL key, readable by the pod's group (fsGroup) and nobody else.
                "name": "db-credentials",
                "secret": {
                    "secretName": secret_name,
                    "items": [{"key": DATABASE_URL_KEY, "path": _DATABASE_URL_FILE}],
                    "defaultMode": 0o440,
                },
            },
            {"name": "backup", "emptyDir": {"sizeLimit": scratch}},
            {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
        ],
        "initContainers": [dump],
        "containers": [upload],
    }
    return {
        "schedule": config.schedule,
        "timeZone": config.time_zone,
        # Never two dumps at once; a run that could not start within an hour is skipped
        # (and the stale-backup alert notices).
        "concurrencyPolicy": "Forbid",
        "startingDeadlineSeconds": 3600,
        # Failed Jobs stay listed (with their pods' logs) until three newer ones exist.
        "successfulJobsHistoryLimit": 3,
        "failedJobsHistoryLimit": 3,
        "jobTemplate": {
            "metadata": {"labels": LABELS},
            "spec": {
                "backoffLimit": config.backoff_limit,
                "activeDeadlineSeconds": config.active_deadline_minutes * 60,
                "template": {"metadata": {"labels": LABELS}, "spec": pod},
            },
        },
    }


def pod_identity_egress_policy() -> dict[str, Any]:
    """NetworkPolicy spec letting the backup pod reach the Pod Identity agent.

    Policies add up: the tenancy layer's baseline already allows DNS, PostgreSQL in the
    data subnets and HTTPS to S3; this adds only the credentials endpoint.
    """
    return {
        "podSelector": {"matchLabels": {APP_NAME_LABEL: NAME}},
        "policyTypes": ["Egress"],
        "egress": [
            {
                "to": [{"ipBlock": {"cidr": POD_IDENTITY_AGENT_CIDR}}],
                "ports": [{"protocol": "TCP", "port": POD_IDENTITY_AGENT_PORT}],
            }
        ],
    }
