"""The model sync: a CronJob that mirrors the models bucket into the EFS model store.

It runs in the platform namespace as the storage layer's `model-sync` ServiceAccount (its
Pod Identity role reads the models bucket and nothing else) with the store's one writable
volume (`models-writer`, through the writer access point). The tenancy layer gives pods
with its labels exactly the egress they need: DNS, HTTPS out (S3) and the Pod Identity
Agent. The script is the file next to this module, mounted from a ConfigMap, and is what
the tests run against moto's S3 and a local directory.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

import pulumi

from pingvas_infra.kube import (
    ALWAYS_PULL,
    env_vars,
    restricted_container_security,
    restricted_pod_security,
)
from pingvas_infra.operations import sizing
from pingvas_infra.operations.config import ModelSyncConfig
from pingvas_infra.tables import load_table

NAME = "model-sync"
SCRIPT = "model-sync.sh"
_SCRIPTS_MOUNT = "/scripts"
MODELS_DIR = "/models"
_SYNC = sizing.Resources("100m", "256Mi", "1", "512Mi")


@cache
def script() -> str:
    return resources.files(__package__).joinpath(f"scripts/{SCRIPT}").read_text(encoding="utf-8")


def cron_job_spec(
    config: ModelSyncConfig,
    *,
    pod_labels: Mapping[str, str],
    service_account: pulumi.Input[str],
    claim: str,
    scripts_config_map: str,
    bucket: pulumi.Input[str],
    region: str,
    run_as: int,
) -> dict[str, Any]:
    """The CronJob; ``run_as`` is the store's POSIX owner (the access point enforces it
    for every NFS call anyway), so the files it writes are owned as readers expect."""
    container = {
        "name": "sync",
        "image": load_table("operations")["images"]["awsCli"],
        "imagePullPolicy": ALWAYS_PULL,
        "command": ["/bin/bash", f"{_SCRIPTS_MOUNT}/{SCRIPT}"],
        "env": env_vars(
            {
                "MODELS_BUCKET": bucket,
                "MODELS_PREFIX": config.prefix,
                "MODELS_DIR": MODELS_DIR,
                "AWS_REGION": region,
                # The CLI's cache and config; the root filesystem is read-only.
                "HOME": "/tmp",
            }
        ),
        "resources": _SYNC.values(),
        "securityContext": restricted_container_security(),
        "volumeMounts": [
            {"name": "scripts", "mountPath": _SCRIPTS_MOUNT, "readOnly": True},
            {"name": "models", "mountPath": MODELS_DIR},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }
    pod = {
        "serviceAccountName": service_account,
        # Pod Identity mounts its own token; the pod never talks to the Kubernetes API.
        "automountServiceAccountToken": False,
        "restartPolicy": "Never",
        "nodeSelector": dict(sizing.SYSTEM_NODE_SELECTOR),
        "securityContext": restricted_pod_security(run_as),
        "volumes": [
            {"name": "scripts", "configMap": {"name": scripts_config_map, "defaultMode": 0o444}},
            {"name": "models", "persistentVolumeClaim": {"claimName": claim}},
            {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
        ],
        "containers": [container],
    }
    return {
        "schedule": config.schedule,
        "timeZone": config.time_zone,
        "concurrencyPolicy": "Forbid",
        "startingDeadlineSeconds": 600,
        "successfulJobsHistoryLimit": 3,
        "failedJobsHistoryLimit": 3,
        "jobTemplate": {
            "metadata": {"labels": dict(pod_labels)},
            "spec": {
                "backoffLimit": config.backoff_limit,
                "activeDeadlineSeconds": config.active_deadline_minutes * 60,
                "template": {"metadata": {"labels": dict(pod_labels)}, "spec": pod},
            },
        },
    }
