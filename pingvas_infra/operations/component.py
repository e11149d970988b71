"""The operations layer as one ComponentResource: prod backups, monitoring, optional Argo CD."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pulumi_random as random

from pingvas_infra.aws_parts import pod_identity_role
from pingvas_infra.cluster.outputs import ClusterOutputs
from pingvas_infra.configbase import CONFIG_NAMESPACE
from pingvas_infra.data.outputs import DataOutputs
from pingvas_infra.environments import ENVIRONMENTS, PROD
from pingvas_infra.operations import argocd, backup, monitoring
from pingvas_infra.operations.config import OperationsConfig
from pingvas_infra.operations.outputs import OperationsOutputs
from pingvas_infra.stack_secrets import StackSecrets
from pingvas_infra.storage.outputs import StorageOutputs
from pingvas_infra.tables import load_table
from pingvas_infra.tenancy.outputs import TenancyOutputs

BACKUPS_BUCKET = "backups"


class Operations(pulumi.ComponentResource):
    """Everything operations runs in the cluster, plus the backup job's IAM role."""

    outputs: OperationsOutputs

    def __init__(
        self,
        name: str,
        config: OperationsConfig,
        *,
        project: str,
        region: str,
        cluster: ClusterOutputs,
        data: DataOutputs,
        tenancy: TenancyOutputs,
        storage: StorageOutputs,
        secrets: StackSecrets,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("pingvas:operations:Operations", name, None, opts)
        self._name = name
        self._child = pulumi.ResourceOptions(parent=self)

        role, cron_job = self._backup(
            config,
            project=project,
            region=region,
            cluster=cluster,
            data=data,
            tenancy=tenancy,
            storage=storage,
        )
        monitoring_namespace = None
        if config.monitoring.enabled:
            monitoring_namespace = self._monitoring(
                config, secrets, storage_class=storage.block_storage_class
            )
        argocd_namespace = None
        if config.argocd.enabled:
            argocd_namespace = self._argocd(config)

        bucket = storage.bucket_names[BACKUPS_BUCKET]
        self.outputs = OperationsOutputs(
            backup_role_arn=role.arn,
            backup_cron_job=pulumi.Output.concat(
                cron_job.metadata.namespace, "/", cron_job.metadata.name
            ),
            backup_location=pulumi.Output.concat("s3://", bucket, f"/{backup.PREFIX}/"),
            monitoring_namespace=monitoring_namespace,
            argocd_namespace=argocd_namespace,
        )
        self.register_outputs(
            {
                "backupRoleArn": self.outputs.backup_role_arn,
                "backupCronJob": self.outputs.backup_cron_job,
                "backupLocation": self.outputs.backup_location,
            }
        )

    def _backup(
        self,
        config: OperationsConfig,
        *,
        project: str,
        region: str,
        cluster: ClusterOutputs,
        data: DataOutputs,
        tenancy: TenancyOutputs,
        storage: StorageOutputs,
    ) -> tuple[aws.iam.Role, k8s.batch.v1.CronJob]:
        name, child = self._name, self._child
        namespace = tenancy.namespaces[PROD.name]
        service_account = k8s.core.v1.ServiceAccount(
            f"{name}-{backup.NAME}",
            metadata={"name": backup.NAME, "namespace": namespace, "labels": backup.LABELS},
            opts=child,
        )
        role = pod_identity_role(
            f"{name}-{backup.NAME}",
            role_name=f"{project}-{backup.NAME}",
            description="Pod Identity role of the prod schema backup: writes prod/ dumps only",
            policy=backup.role_policy(
                storage.bucket_arns[BACKUPS_BUCKET], storage.prod_kms_key_arn, region
            ),
            cluster=cluster,
            namespace=namespace,
            service_account=service_account.metadata.name,
            parent=self,
        ).role
        scripts_name = f"{backup.NAME}-scripts"
        scripts = k8s.core.v1.ConfigMap(
            f"{name}-{scripts_name}",
            metadata={
                "name": scripts_name,
                "namespace": namespace,
                "labels": backup.LABELS,
            },
            data={script: backup.script(script) for script in backup.SCRIPTS},
            opts=child,
        )
        k8s.networking.v1.NetworkPolicy(
            f"{name}-{backup.NAME}-pod-identity",
            metadata={
                "name": f"{backup.NAME}-pod-identity",
                "namespace": namespace,
                "labels": backup.LABELS,
            },
            spec=backup.pod_identity_egress_policy(),
            opts=child,
        )
        cron_job = k8s.batch.v1.CronJob(
            f"{name}-{backup.NAME}",
            metadata={"name": backup.NAME, "namespace": namespace, "labels": backup.LABELS},
            spec=backup.cron_job_spec(
                config.backup,
                secret_name=tenancy.db_credentials_secret,
                scripts_config_map=scripts_name,
                bucket=storage.bucket_names[BACKUPS_BUCKET],
                kms_key_arn=storage.prod_kms_key_arn,
                database_name=PROD.database,
                region=region,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[scripts, service_account]),
        )
        return role, cron_job

    def _monitoring(
        self,
        config: OperationsConfig,
        secrets: StackSecrets,
        *,
        storage_class: pulumi.Output[str],
    ) -> str:
        name, child = self._name, self._child
        # node-exporter reads the host's /proc and /sys on the host network: the privileged
        # Pod Security level is the only one that admits it.
        namespace = self._namespace(monitoring.NAMESPACE, pod_security="privileged")
        in_namespace = namespace.metadata.name

        credentials = {}
        for notifier in monitoring.NOTIFIERS:
            value = secrets.get(notifier.secret_config_key)
            if value is None:
                pulumi.log.warn(
                    f"{CONFIG_NAMESPACE}:{notifier.secret_config_key} is not set: "
                    f"{notifier.environment.name} alerts are routed to the "
                    f"'{monitoring.NULL_RECEIVER}' receiver and notify no one. Set it with "
                    f"`pulumi config set --secret {notifier.secret_config_key} ...`",
                    resource=self,
                )
                continue
            credentials[notifier.secret_file] = value
        receivers = k8s.core.v1.Secret(
            f"{name}-alertmanager-receivers",
            metadata={"name": monitoring.RECEIVERS_SECRET, "namespace": in_namespace},
            type="Opaque",
            string_data=credentials,
            opts=child,
        )
        admin_password = random.RandomPassword(
            f"{name}-grafana-admin", length=32, special=False, opts=child
        )
        grafana_admin = k8s.core.v1.Secret(
            f"{name}-grafana-admin",
            metadata={"name": monitoring.GRAFANA_ADMIN_SECRET, "namespace": in_namespace},
            type="Opaque",
            string_data={"admin-user": "admin", "admin-password": admin_password.result},
            opts=child,
        )
        configured = {
            n.secret_config_key: n.secret_file in credentials for n in monitoring.NOTIFIERS
        }
        release = self._release(
            "kubePrometheusStack",
            monitoring.RELEASE_NAME,
            namespace=in_namespace,
            values=monitoring.helm_values(
                config.monitoring,
                monitoring.alertmanager_config(configured),
                storage_class=storage_class,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[receivers, grafana_admin]),
        )
        after_crds = pulumi.ResourceOptions(parent=self, depends_on=[release])
        k8s.apiextensions.CustomResource(
            f"{name}-pingvas-alerts",
            api_version="monitoring.coreos.com/v1",
            kind="PrometheusRule",
            metadata={
                "name": "pingvas-alerts",
                "namespace": in_namespace,
                "labels": {monitoring.RULE_SELECTOR_LABEL: monitoring.RELEASE_NAME},
            },
            spec={
                "groups": monitoring.rule_groups(
                    config.monitoring,
                    monitoring.BackupWatch(
                        namespace=PROD.namespace,
                        cron_job=backup.NAME,
                        deadline=config.backup.deadline,
                        longest_interval=config.backup.longest_interval,
                    ),
                )
            },
            opts=after_crds,
        )
        for environment in ENVIRONMENTS:
            document = monitoring.dashboard(environment, config.monitoring.quota_alert_ratio)
            k8s.core.v1.ConfigMap(
                f"{name}-dashboard-{environment.name}",
                metadata={
                    "name": f"grafana-dashboard-pingvas-{environment.name}",
                    "namespace": in_namespace,
                    "labels": {monitoring.DASHBOARD_LABEL[0]: monitoring.DASHBOARD_LABEL[1]},
                },
                data={f"pingvas-{environment.name}.json": monitoring.dashboard_json(document)},
                opts=child,
            )
        return monitoring.NAMESPACE

    def _argocd(self, config: OperationsConfig) -> str:
        name = self._name
        namespace = self._namespace(argocd.NAMESPACE, pod_security="baseline")
        release = self._release(
            "argoCd",
            argocd.RELEASE_NAME,
            namespace=namespace.metadata.name,
            values=argocd.helm_values(),
            opts=self._child,
        )
        after_crds = pulumi.ResourceOptions(parent=self, depends_on=[release])
        projects = [
            k8s.apiextensions.CustomResource(
                f"{name}-argocd-project-{env.name}",
                api_version="argoproj.io/v1alpha1",
                kind="AppProject",
                metadata={
                    "name": argocd.project_name(env.name),
                    "namespace": namespace.metadata.name,
                },
                spec=argocd.app_project_spec(config.argocd, env.namespace),
                opts=after_crds,
            )
            for env in ENVIRONMENTS
        ]
        k8s.apiextensions.CustomResource(
            f"{name}-argocd-applicationset",
            api_version="argoproj.io/v1alpha1",
            kind="ApplicationSet",
            metadata={"name": argocd.APPLICATION_SET, "namespace": namespace.metadata.name},
            spec=argocd.application_set_spec(config.argocd),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[release, *projects]),
        )
        return argocd.NAMESPACE

    def _namespace(self, namespace: str, *, pod_security: str) -> k8s.core.v1.Namespace:
        """A tool's namespace, admitting pods of the given Pod Security level."""
        return k8s.core.v1.Namespace(
            f"{self._name}-{namespace}",
            metadata={
                "name": namespace,
                "labels": {"pod-security.kubernetes.io/enforce": pod_security},
            },
            opts=self._child,
        )

    def _release(
        self,
        chart_key: str,
        release_name: str,
        *,
        namespace: pulumi.Input[str],
        values: pulumi.Input[dict[str, Any]],
        opts: pulumi.ResourceOptions,
    ) -> k8s.helm.v3.Release:
        """A Helm release of a chart pinned in tables/operations.yaml (`charts.<chart_key>`)."""
        chart = load_table("operations")["charts"][chart_key]
        return k8s.helm.v3.Release(
            f"{self._name}-{release_name}",
            name=release_name,
            namespace=namespace,
            chart=chart["chart"],
            version=chart["version"],
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=chart["repository"]),
            values=values,
            max_history=5,
            opts=opts,
        )
