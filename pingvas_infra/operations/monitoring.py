"""Monitoring as data: kube-prometheus-stack values, alert rules, routing, dashboards.

Everything here is a plain function of the config so the tests can feed the very same
rules to promtool, the routing to amtool and the dashboards' queries to the PromQL parser;
`component.py` only turns the results into Kubernetes objects.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache, partial
from importlib import resources
from typing import Any

import pulumi

from pingvas_infra.environments import ENVIRONMENTS, PROD, Environment
from pingvas_infra.labels import APP_NAME_LABEL, NAMESPACE_NAME_LABEL
from pingvas_infra.operations import routing, sizing
from pingvas_infra.operations.config import MonitoringConfig

NAMESPACE = "monitoring"
# The Helm release name: the chart's Prometheus selects PrometheusRules labelled
# `release: <release name>` (ruleSelectorNilUsesHelmValues).
RELEASE_NAME = "kube-prometheus-stack"
RULE_SELECTOR_LABEL = "release"
# The custom resources Prometheus reads its rules and scrape targets from. Each is looked
# for in the monitoring namespace only: a PrometheusRule in dev could otherwise raise an
# alert labelled namespace=prod (paging prod's on-call) or inhibit prod's real alerts.
WATCHED_KINDS_SELECTORS = (
    "ruleNamespaceSelector",
    "serviceMonitorNamespaceSelector",
    "podMonitorNamespaceSelector",
    "probeNamespaceSelector",
    "scrapeConfigNamespaceSelector",
)
# The Grafana sidecar loads ConfigMaps carrying this label as dashboards.
DASHBOARD_LABEL = ("grafana_dashboard", "1")
GRAFANA_ADMIN_SECRET = "grafana-admin"
QUOTA_ALERT_FOR = "5m"
_DST_HOUR = timedelta(hours=1)


def quota_alert_name(environment: Environment) -> str:
    return f"{environment.name.capitalize()}ResourceQuotaExceeded"


def quota_ratio_expression(namespace: str) -> str:
    """Used / hard per quota resource.

    The two series differ only in their `type` label, so the division must ignore it:
    the design guide's `used / hard` matches on every label, `type` included, and never returns
    a sample.
    """
    return (
        f'kube_resourcequota{{namespace="{namespace}", type="used"}}\n'
        f"  / ignoring(type)\n"
        f'kube_resourcequota{{namespace="{namespace}", type="hard"}}'
    )


def quota_alert_rule(environment: Environment, ratio: float) -> dict[str, Any]:
    return {
        "alert": quota_alert_name(environment),
        "expr": f"{quota_ratio_expression(environment.namespace)}\n  > {ratio:g}",
        "for": QUOTA_ALERT_FOR,
        "labels": {"severity": "critical" if environment == PROD else "warning"},
        "annotations": {
            "summary": (
                f"{environment.name} namespace is using more than {ratio:.0%} of its "
                "{{ $labels.resource }} quota ({{ $value | humanizePercentage }})"
            ),
            "description": (
                "Compare used with hard: kubectl -n {{ $labels.namespace }} describe "
                "resourcequota {{ $labels.resourcequota }}; then find the workload that grew."
            ),
        },
    }


@dataclass(frozen=True)
class BackupWatch:
    """What the backup alerts need to know about the backup CronJob."""

    namespace: str
    cron_job: str
    deadline: timedelta
    longest_interval: timedelta


def backup_alert_rules(watch: BackupWatch) -> list[dict[str, Any]]:
    selector = f'namespace="{watch.namespace}", cronjob="{watch.cron_job}"'
    scheduled = f"kube_cronjob_status_last_schedule_time{{{selector}}}"
    succeeded = f"kube_cronjob_status_last_successful_time{{{selector}}}"
    # The longest gap the schedule has, the run's own deadline, and a daylight-saving hour.
    stale_after = int((watch.longest_interval + watch.deadline + _DST_HOUR).total_seconds())
    in_namespace = f"kubectl -n {watch.namespace}"
    return [
        {
            # The latest scheduled run has not succeeded within the Job's deadline: it
            # failed (retries exhausted) or is stuck. Also fires before any first success.
            "alert": "ProdBackupFailed",
            "expr": (f"({scheduled} > {succeeded}) or ({scheduled} unless {succeeded})"),
            "for": f"{int(watch.deadline.total_seconds() // 60)}m",
            "labels": {"severity": "critical"},
            "annotations": {
                "summary": "The last prod schema backup ({{ $labels.cronjob }}) did not succeed",
                "description": (
                    f"Read the newest run's logs: {in_namespace} get jobs "
                    f"-l {APP_NAME_LABEL}={watch.cron_job}, then {in_namespace} logs "
                    "job/<newest> -c dump (and -c upload)."
                ),
            },
        },
        {
            # No success for longer than the schedule allows: the CronJob was suspended,
            # deleted from its schedule, or never started.
            "alert": "ProdBackupStale",
            "expr": f"time() - {succeeded} > {stale_after}",
            "for": "10m",
            "labels": {"severity": "critical"},
            "annotations": {
                "summary": (
                    "No prod schema backup has succeeded for {{ $value | humanizeDuration }}"
                ),
                "description": (
                    f"Check the schedule: {in_namespace} get cronjob {watch.cron_job} "
                    "(SUSPEND, LAST SCHEDULE); take a backup now: "
                    f"{in_namespace} create job --from=cronjob/{watch.cron_job} "
                    f"{watch.cron_job}-manual-$(date +%s)."
                ),
            },
        },
    ]


def rule_groups(config: MonitoringConfig, backup: BackupWatch) -> list[dict[str, Any]]:
    return [
        {
            "name": "pingvas-resource-quotas",
            "rules": [quota_alert_rule(env, config.quota_alert_ratio) for env in ENVIRONMENTS],
        },
        {"name": "pingvas-backups", "rules": backup_alert_rules(backup)},
    ]


def _on_system_nodes(
    resources_: sizing.Resources, priority_class: pulumi.Input[str]
) -> dict[str, Any]:
    return {
        "resources": resources_.values(),
        "nodeSelector": dict(sizing.SYSTEM_NODE_SELECTOR),
        "priorityClassName": priority_class,
    }


def helm_values(
    config: MonitoringConfig,
    alertmanager: dict[str, Any],
    *,
    storage_class: pulumi.Input[str],
    priority_class: pulumi.Input[str],
    prometheus_tolerations: Sequence[Mapping[str, str]],
) -> dict[str, Any]:
    """kube-prometheus-stack values: sizes from `sizing`, everything on the system nodes
    at the platform's priority (above prod: a busy prod cannot preempt what watches it).

    Prometheus keeps its data on an EBS volume, which lives in one zone: it tolerates the
    system tier's overflow nodes, which Karpenter launches in the volume's zone when no
    system node is left there. Alertmanager keeps no volume: two replicas on different
    nodes share silences and notifications by gossip, and a PodDisruptionBudget keeps one
    up through every drain. Prometheus has one replica (two would not fit beside the
    add-ons) and no budget: one on a single replica would block every node rotation.
    """
    on_system = partial(_on_system_nodes, priority_class=priority_class)
    return {
        # EKS runs the control plane: its components cannot be scraped, and kube-proxy
        # binds its metrics to 127.0.0.1. Scraping them would only raise TargetDown.
        "kubeControllerManager": {"enabled": False},
        "kubeScheduler": {"enabled": False},
        "kubeEtcd": {"enabled": False},
        "kubeProxy": {"enabled": False},
        "prometheusOperator": {
            **on_system(sizing.PROMETHEUS_OPERATOR),
            "prometheusConfigReloader": {"resources": sizing.CONFIG_RELOADER.values()},
            "admissionWebhooks": {
                "patch": {
                    "nodeSelector": dict(sizing.SYSTEM_NODE_SELECTOR),
                    "priorityClassName": priority_class,
                }
            },
        },
        "prometheus": {
            "prometheusSpec": {
                **on_system(config.prometheus_resources),
                "tolerations": [dict(t) for t in prometheus_tolerations],
                "replicas": 1,
                "retention": config.retention,
                "retentionSize": config.retention_size,
                "ruleSelectorNilUsesHelmValues": True,
                **{
                    selector: {"matchLabels": {NAMESPACE_NAME_LABEL: NAMESPACE}}
                    for selector in WATCHED_KINDS_SELECTORS
                },
                "storageSpec": {
                    "volumeClaimTemplate": {
                        "spec": {
                            "storageClassName": storage_class,
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": f"{config.volume_size_gi}Gi"}},
                        }
                    }
                },
            }
        },
        "alertmanager": {
            "config": alertmanager,
            "alertmanagerSpec": {
                **on_system(sizing.ALERTMANAGER),
                "replicas": sizing.ALERTMANAGER_REPLICAS,
                # Never both replicas on one node: a node lost takes one.
                "podAntiAffinity": "hard",
                "podAntiAffinityTopologyKey": "kubernetes.io/hostname",
                "secrets": [routing.RECEIVERS_SECRET],
            },
            "podDisruptionBudget": {"enabled": True, "minAvailable": 1},
        },
        "grafana": {
            **on_system(sizing.GRAFANA),
            "admin": {
                "existingSecret": GRAFANA_ADMIN_SECRET,
                "userKey": "admin-user",
                "passwordKey": "admin-password",
            },
            "persistence": {"enabled": False},
            "sidecar": {
                "resources": sizing.GRAFANA_SIDECAR.values(),
                # Dashboards come only from this namespace, not from dev or prod.
                "dashboards": {
                    "label": DASHBOARD_LABEL[0],
                    "labelValue": DASHBOARD_LABEL[1],
                    "searchNamespace": NAMESPACE,
                },
            },
        },
        "kube-state-metrics": on_system(sizing.KUBE_STATE_METRICS),
        "prometheus-node-exporter": {
            "resources": sizing.NODE_EXPORTER.values(),
            "priorityClassName": priority_class,
            # On every node, GPU nodes included: they carry NoSchedule taints
            # (nvidia.com/gpu) that only a toleration lets a DaemonSet past.
            "tolerations": [{"operator": "Exists", "effect": "NoSchedule"}],
        },
    }


@cache
def _parsed_dashboard(file_name: str) -> dict[str, Any]:
    text = resources.files(__package__).joinpath("dashboards", file_name).read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def dashboard_template(file_name: str) -> dict[str, Any]:
    """A fresh copy of a dashboard of dashboards/, for one environment to fill in."""
    return copy.deepcopy(_parsed_dashboard(file_name))


def dashboard(environment: Environment, quota_alert_ratio: float) -> dict[str, Any]:
    """The namespace overview for one environment: its namespace and the alert ratio set."""
    document = dashboard_template("namespace-overview.json")
    document["title"] = f"pingvas {environment.name}: namespace overview"
    document["uid"] = f"pingvas-{environment.name}"
    for variable in document["templating"]["list"]:
        if variable["name"] == "namespace":
            variable["query"] = environment.namespace
            variable["current"] = {"text": environment.namespace, "value": environment.namespace}
    for panel in document["panels"]:
        thresholds = panel["fieldConfig"]["defaults"].get("thresholds")
        if thresholds:
            thresholds["steps"][-1]["value"] = quota_alert_ratio
    return document


def dashboard_json(document: Mapping[str, Any]) -> str:
    return json.dumps(document, indent=2) + "\n"


def dashboard_config_map(dashboard_id: str, namespace: pulumi.Input[str]) -> dict[str, Any]:
    """`metadata` of the ConfigMap holding dashboard ``dashboard_id``: Grafana's sidecar
    loads every ConfigMap with DASHBOARD_LABEL."""
    return {
        "name": f"grafana-dashboard-pingvas-{dashboard_id}",
        "namespace": namespace,
        "labels": {DASHBOARD_LABEL[0]: DASHBOARD_LABEL[1]},
    }
