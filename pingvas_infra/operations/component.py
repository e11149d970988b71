"""The operations layer as one ComponentResource: prod backups, monitoring, optional Argo CD."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pulumi_random as random

from pingvas_infra.aws_parts import pod_identity_role
from pingvas_infra.cluster.outputs import ClusterOutputs
from pingvas_infra.data.outputs import DataOutputs
from pingvas_infra.environments import ENVIRONMENTS, PROD
from pingvas_infra.gpu.outputs import GpuCapacityOutputs
from pingvas_infra.operations import (
    argocd,
    backup,
    gpu_monitoring,
    model_sync,
    monitoring,
    routing,
    runbooks,
    sizing,
)
from pingvas_infra.operations.config import OperationsConfig
from pingvas_infra.operations.outputs import OperationsOutputs
from pingvas_infra.stack_secrets import StackSecrets
from pingvas_infra.storage.outputs import StorageOutputs
from pingvas_infra.tables import load_table
from pingvas_infra.tenancy.outputs import TenancyOutputs

BACKUPS_BUCKET = "backups"
MODELS_BUCKET = "models"


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
        gpu: GpuCapacityOutputs,
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
        model_sync = self._model_sync(config, region=region, tenancy=tenancy, storage=storage)
        monitoring_namespace = None
        if config.monitoring.enabled:
            monitoring_namespace = self._monitoring(
                config,
                secrets,
                region=region,
                gpu=gpu,
                storage_class=storage.block_storage_class,
                priority_class=tenancy.platform_priority_class,
            )
        argocd_namespace = None
        if config.argocd.enabled:
            argocd_namespace = self._argocd(config, priority_class=tenancy.platform_priority_class)

        bucket = storage.bucket_names[BACKUPS_BUCKET]
        self.outputs = OperationsOutputs(
            backup_role_arn=role.arn,
            backup_cron_job=pulumi.Output.concat(
                cron_job.metadata.namespace, "/", cron_job.metadata.name
            ),
            backup_location=pulumi.Output.concat("s3://", bucket, f"/{backup.PREFIX}/"),
            model_sync_cron_job=pulumi.Output.concat(
                model_sync.metadata.namespace, "/", model_sync.metadata.name
            ),
            monitoring_namespace=monitoring_namespace,
            argocd_namespace=argocd_namespace,
        )
        self.register_outputs(
            {
                "backupRoleArn": self.outputs.backup_role_arn,
                "backupCronJob": self.outputs.backup_cron_job,
                "backupLocation": self.outputs.backup_location,
                "modelSyncCronJob": self.outputs.model_sync_cron_job,
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
            # The name the prod key's policy (storage layer) admits.
            role_name=storage.backup_role_name,
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

    def _model_sync(
        self,
        config: OperationsConfig,
        *,
        region: str,
        tenancy: TenancyOutputs,
        storage: StorageOutputs,
    ) -> k8s.batch.v1.CronJob:
        """The model store's only writer, in the platform namespace (see model_sync.py)."""
        name, child = self._name, self._child
        namespace = tenancy.system_namespace
        scripts_name = f"{model_sync.NAME}-scripts"
        scripts = k8s.core.v1.ConfigMap(
            f"{name}-{scripts_name}",
            metadata={
                "name": scripts_name,
                "namespace": namespace,
                "labels": dict(tenancy.model_sync_pod_labels),
            },
            data={model_sync.SCRIPT: model_sync.script()},
            opts=child,
        )
        return k8s.batch.v1.CronJob(
            f"{name}-{model_sync.NAME}",
            metadata={
                "name": model_sync.NAME,
                "namespace": namespace,
                "labels": dict(tenancy.model_sync_pod_labels),
            },
            spec=model_sync.cron_job_spec(
                config.model_sync,
                pod_labels=tenancy.model_sync_pod_labels,
                service_account=storage.model_sync_service_account,
                claim=storage.models_writer_claim,
                scripts_config_map=scripts_name,
                bucket=storage.bucket_names[MODELS_BUCKET],
                region=region,
                run_as=storage.models_owner_uid,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[scripts]),
        )

    def _monitoring(
        self,
        config: OperationsConfig,
        secrets: StackSecrets,
        *,
        region: str,
        gpu: GpuCapacityOutputs,
        storage_class: pulumi.Output[str],
        priority_class: pulumi.Output[str],
    ) -> str:
        name, child = self._name, self._child
        # node-exporter reads the host's /proc and /sys on the host network: the privileged
        # Pod Security level is the only one that admits it.
        namespace = self._namespace(monitoring.NAMESPACE, pod_security="privileged")
        in_namespace = namespace.metadata.name

        credentials = {}
        for key, secret_file in routing.CREDENTIAL_FILES.items():
            value = secrets.get(key)
            if value is not None:
                credentials[secret_file] = value
        configured = {
            key: secret_file in credentials for key, secret_file in routing.CREDENTIAL_FILES.items()
        }
        for gap in routing.unrouted(configured):
            pulumi.log.warn(gap, resource=self)
        receivers = k8s.core.v1.Secret(
            f"{name}-alertmanager-receivers",
            metadata={"name": routing.RECEIVERS_SECRET, "namespace": in_namespace},
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
        release = self._release(
            "kubePrometheusStack",
            monitoring.RELEASE_NAME,
            namespace=in_namespace,
            values=monitoring.helm_values(
                config.monitoring,
                routing.alertmanager_config(configured),
                storage_class=storage_class,
                priority_class=priority_class,
                prometheus_tolerations=(
                    [gpu.overflow_toleration] if gpu.overflow_toleration else []
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[receivers, grafana_admin]),
        )
        self._prometheus_rule(
            "pingvas-alerts",
            in_namespace,
            monitoring.rule_groups(
                config.monitoring,
                monitoring.BackupWatch(
                    namespace=PROD.namespace,
                    cron_job=backup.NAME,
                    deadline=config.backup.deadline,
                    longest_interval=config.backup.longest_interval,
                ),
            ),
            runbook_base_url=config.monitoring.runbook_base_url,
            after=release,
        )
        for environment in ENVIRONMENTS:
            self._dashboard(
                f"{name}-dashboard-{environment.name}",
                environment.name,
                in_namespace,
                monitoring.dashboard(environment, config.monitoring.quota_alert_ratio),
            )
        self._gpu_monitoring(
            config,
            region=region,
            gpu=gpu,
            namespace=in_namespace,
            priority_class=priority_class,
            after=release,
        )
        return monitoring.NAMESPACE

    def _gpu_monitoring(
        self,
        config: OperationsConfig,
        *,
        region: str,
        gpu: GpuCapacityOutputs,
        namespace: pulumi.Input[str],
        priority_class: pulumi.Output[str],
        after: k8s.helm.v3.Release,
    ) -> None:
        """The DCGM exporter on every GPU node, Karpenter's metrics, the GPU alerts and
        price rules, one GPU dashboard per environment (see gpu_monitoring.py). All after
        kube-prometheus-stack, which brings the ServiceMonitor and PrometheusRule kinds."""
        name = self._name
        after_crds = pulumi.ResourceOptions(parent=self, depends_on=[after])
        selected = {monitoring.RULE_SELECTOR_LABEL: monitoring.RELEASE_NAME}
        self._release(
            "dcgmExporter",
            gpu_monitoring.DCGM_RELEASE,
            namespace=namespace,
            values=gpu_monitoring.dcgm_values(
                tolerations=gpu_monitoring.tolerations_for(gpu.node_pool_taints),
                gpu_manufacturer_label=gpu.gpu_manufacturer_label,
                priority_class=priority_class,
                service_monitor_labels=selected,
                resources_=sizing.DCGM_EXPORTER.values(),
            ),
            opts=after_crds,
        )
        # Karpenter's chart renders its own ServiceMonitor only when the kind already
        # exists at install time, and Karpenter is installed before monitoring: so the
        # monitor is this layer's.
        metrics = gpu.karpenter_metrics
        k8s.apiextensions.CustomResource(
            f"{name}-karpenter-service-monitor",
            api_version="monitoring.coreos.com/v1",
            kind="ServiceMonitor",
            metadata={"name": "karpenter", "namespace": namespace, "labels": selected},
            spec=gpu_monitoring.service_monitor_spec(
                metrics.namespace, metrics.selector, metrics.port
            ),
            opts=after_crds,
        )
        unpriced = gpu_monitoring.unpriced_types(region, gpu.instance_families)
        if unpriced:
            pulumi.log.warn(
                f"the GPU dashboards' cost per hour leaves out nodes of {len(unpriced)} "
                f"instance types the GPU pools may launch: {', '.join(unpriced)} "
                f"(pingvas_infra/tables/prices/{region}.yaml has no price for them)",
                resource=self,
            )
        self._prometheus_rule(
            "pingvas-gpu",
            namespace,
            gpu_monitoring.rule_groups(
                config.monitoring.gpu,
                gpu.node_pools,
                ENVIRONMENTS,
                region=region,
                instance_families=gpu.instance_families,
                karpenter_logs=gpu_monitoring.karpenter_logs(metrics.namespace, metrics.selector),
            ),
            runbook_base_url=config.monitoring.runbook_base_url,
            after=after,
            resource_name=f"{name}-pingvas-gpu-alerts",
        )
        for environment in ENVIRONMENTS:
            self._dashboard(
                f"{name}-gpu-dashboard-{environment.name}",
                f"gpu-{environment.name}",
                namespace,
                gpu_monitoring.gpu_dashboard(environment, gpu.node_pools[environment.name]),
            )

    def _prometheus_rule(
        self,
        rule_name: str,
        namespace: pulumi.Input[str],
        groups: list[dict[str, Any]],
        *,
        runbook_base_url: str | None,
        after: k8s.helm.v3.Release,
        resource_name: str | None = None,
    ) -> None:
        """A PrometheusRule kube-prometheus-stack's Prometheus loads, every alert of it
        linked to its runbook (runbooks.py); after the release, which brings the kind."""
        k8s.apiextensions.CustomResource(
            resource_name or f"{self._name}-{rule_name}",
            api_version="monitoring.coreos.com/v1",
            kind="PrometheusRule",
            metadata={
                "name": rule_name,
                "namespace": namespace,
                "labels": {monitoring.RULE_SELECTOR_LABEL: monitoring.RELEASE_NAME},
            },
            spec={"groups": runbooks.linked(groups, runbook_base_url)},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[after]),
        )

    def _dashboard(
        self,
        resource_name: str,
        dashboard_id: str,
        namespace: pulumi.Input[str],
        document: dict[str, Any],
    ) -> None:
        """One Grafana dashboard, as the ConfigMap Grafana's sidecar loads."""
        k8s.core.v1.ConfigMap(
            resource_name,
            metadata=monitoring.dashboard_config_map(dashboard_id, namespace),
            data={f"pingvas-{dashboard_id}.json": monitoring.dashboard_json(document)},
            opts=self._child,
        )

    def _argocd(self, config: OperationsConfig, *, priority_class: pulumi.Output[str]) -> str:
        name = self._name
        namespace = self._namespace(argocd.NAMESPACE, pod_security="baseline")
        release = self._release(
            "argoCd",
            argocd.RELEASE_NAME,
            namespace=namespace.metadata.name,
            values=argocd.helm_values(priority_class),
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
