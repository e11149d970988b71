"""What the operations layer hands on (stack outputs; no layer depends on it)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi


@dataclass(frozen=True)
class OperationsOutputs:
    # The Pod Identity role the prod backup job uploads with (PutObject on prod/ only).
    backup_role_arn: pulumi.Output[str]
    # "<namespace>/<name>" of the CronJob, and where its dumps land.
    backup_cron_job: pulumi.Output[str]
    backup_location: pulumi.Output[str]
    # "<namespace>/<name>" of the model sync CronJob (run it now with
    # `kubectl create job --from=cronjob/<name>`).
    model_sync_cron_job: pulumi.Output[str]
    # None when the toggle is off.
    monitoring_namespace: str | None
    argocd_namespace: str | None
