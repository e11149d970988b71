"""GPU and capacity observability as data: the DCGM exporter, Karpenter's metrics, the
GPU alerts, the price rules and one GPU dashboard per environment.

Where each number comes from:

- GPU utilisation and memory: NVIDIA's DCGM exporter, a DaemonSet on every GPU node. It
  labels each GPU with `Hostname` (the node name, from NODE_NAME; dcgm-exporter
  internal/pkg/hostname). Scraped through a ServiceMonitor without honorLabels, the
  exporter's own `namespace`/`pod` of the GPU's user become `exported_namespace` /
  `exported_pod`.
- Nodes per pool, spot share, launch failures, interruptions: Karpenter's own metrics
  (karpenter_nodes_allocatable with `nodepool`, `capacity_type`, `instance_type` and
  `node_name`; karpenter_nodeclaims_disrupted_total with `reason`;
  karpenter_interruption_received_messages_total with `message_type`), read from
  Karpenter 1.14.1's code.
- Pending GPU pods: kube-state-metrics (`resource="nvidia_com_gpu"`, its spelling of
  nvidia.com/gpu).
- Cost per hour: recording rules holding the region's price table (on-demand, and spot at
  the table's discount), joined to the running nodes by instance type and capacity type.

Every alert of an environment's pool carries `namespace: <env>`, so Alertmanager routes it
like that environment's own alerts (dev to Slack, prod to PagerDuty); spot interruptions
are the platform's.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from typing import Any

from pulumi import Output

from pingvas_infra.environments import PROD, Environment
from pingvas_infra.instances import instance_shapes
from pingvas_infra.labels import (
    CAPACITY_TYPE_LABEL,
    GPU_RESOURCE,
    INSTANCE_TYPE_LABEL,
    NODE_POOL_LABEL,
    ON_DEMAND,
    SPOT,
)
from pingvas_infra.operations.config import GpuAlertsConfig
from pingvas_infra.operations.monitoring import dashboard_template
from pingvas_infra.tables import has_table, read_table

DCGM_RELEASE = "dcgm-exporter"
# The NVIDIA container toolkit hands a container the GPUs named by /dev/null mounts under
# this folder when accept-nvidia-visible-devices-as-volume-mounts is on (gpu layer user
# data), "all" meaning every GPU (nvidia-container-toolkit v1.19.1,
# internal/config/image/cuda_image.go requestsFromMounts). The exporter, which requests no
# GPU, asks for every GPU of its node this way. It is not unprivileged in the toolkit's
# sense: it keeps the chart's SYS_ADMIN capability (DCGM's profiling metrics need it), the
# container runtime puts an added capability into the bounding set, and the toolkit counts
# a container with CAP_SYS_ADMIN there as privileged (internal/config/image/privileged.go),
# so its NVIDIA_VISIBLE_DEVICES would be honoured too. The mount keeps the request explicit.
DEVICE_LIST_ROOT = "/var/run/nvidia-container-devices"
ALL_DEVICES = f"{DEVICE_LIST_ROOT}/all"
# The chart's default extra volume: its metrics ConfigMap, mounted over the default list.
_CHART_METRICS_VOLUME = {
    "name": "exporter-metrics-volume",
    "configMap": {
        "name": "exporter-metrics-config-map",
        "items": [{"key": "metrics", "path": "default-counters.csv"}],
    },
}
_CHART_METRICS_MOUNT = {
    "name": "exporter-metrics-volume",
    "mountPath": "/etc/dcgm-exporter/default-counters.csv",
    "subPath": "default-counters.csv",
}

# Recording rules the alerts and dashboards share.
GPU_NODE_RECORD = "pingvas:karpenter_gpu_node"
PRICE_RECORD = "pingvas:node_hourly_price_usd"
# Karpenter's resource_type label keeps the resource name (lower-cased, '-' -> '_').
KARPENTER_GPU_RESOURCE = GPU_RESOURCE
# kube-state-metrics' resource label turns every non-alphanumeric into '_'.
KSM_GPU_RESOURCE = re.sub(r"[^a-zA-Z0-9]", "_", GPU_RESOURCE)
# NodeClaims deleted because the launch failed (karpenter_nodeclaims_disrupted_total
# reasons set by nodeclaim/lifecycle/launch.go and liveness.go in Karpenter 1.14.1).
LAUNCH_FAILURE_REASONS = (
    "insufficient_capacity",
    "nodeclass_not_ready",
    "launch_timeout",
    "registration_timeout",
)
# One capacity error that Karpenter retries on another offering is routine; two in the
# window mean the pool cannot get capacity.
LAUNCH_FAILURES_WINDOW = "15m"
LAUNCH_FAILURES_AT_LEAST = 2
SPOT_INTERRUPTED = "spot_interrupted"


def pool_alert_name(kind: str, environment: Environment) -> str:
    return f"{environment.name.capitalize()}{kind}"


def dcgm_values(
    *,
    tolerations: Sequence[Mapping[str, str]],
    gpu_manufacturer_label: str,
    priority_class: str | Output[str],
    service_monitor_labels: Mapping[str, str],
    resources_: Mapping[str, Any],
) -> dict[str, Any]:
    """dcgm-exporter chart values: on NVIDIA GPU nodes only, past every pool's taints."""
    return {
        "priorityClassName": priority_class,
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {
                                    "key": gpu_manufacturer_label,
                                    "operator": "In",
                                    "values": ["nvidia"],
                                }
                            ]
                        }
                    ]
                }
            }
        },
        "tolerations": [dict(t) for t in tolerations],
        "resources": dict(resources_),
        "serviceMonitor": {"enabled": True, "additionalLabels": dict(service_monitor_labels)},
        # Every GPU of the node, through the toolkit's volume-mount device list.
        "extraHostVolumes": [{"name": "all-gpus", "hostPath": "/dev/null"}],
        "extraConfigMapVolumes": [copy.deepcopy(_CHART_METRICS_VOLUME)],
        "extraVolumeMounts": [
            copy.deepcopy(_CHART_METRICS_MOUNT),
            {"name": "all-gpus", "mountPath": ALL_DEVICES, "readOnly": True},
        ],
    }


def tolerations_for(taints: Mapping[str, Sequence[Mapping[str, str]]]) -> list[dict[str, str]]:
    """Exactly the taints of every pool, each tolerated by key, value and effect."""
    seen: list[dict[str, str]] = []
    for pool_taints in taints.values():
        for taint in pool_taints:
            toleration = {"key": taint["key"], "effect": taint["effect"]}
            if taint.get("value"):
                toleration |= {"operator": "Equal", "value": taint["value"]}
            else:
                toleration["operator"] = "Exists"
            if toleration not in seen:
                seen.append(toleration)
    return seen


def service_monitor_spec(namespace: str, selector: Mapping[str, str], port: str) -> dict[str, Any]:
    """A ServiceMonitor of one Service's metrics port."""
    return {
        "namespaceSelector": {"matchNames": [namespace]},
        "selector": {"matchLabels": dict(selector)},
        "endpoints": [{"port": port, "path": "/metrics"}],
    }


# --- prices ------------------------------------------------------------------------------


def price_rules(region: str, instance_families: Sequence[str]) -> list[dict[str, Any]]:
    """One constant series per instance type of the pools' families and capacity type:
    the hourly list price from `tables/prices/<region>.yaml` (spot at its discount)."""
    relative = f"prices/{region}.yaml"
    if not has_table(relative):
        return []
    table = read_table(relative)
    hourly: Mapping[str, float] = table["ec2OnDemand"]["hourly"]
    spot_factor = 1 - float(table["spotDiscount"]["fraction"])
    rules = []
    for name in sorted(instance_shapes()):
        if name.split(".", 1)[0] not in instance_families or name not in hourly:
            continue
        on_demand = float(hourly[name])
        for capacity_type, price in ((ON_DEMAND, on_demand), (SPOT, on_demand * spot_factor)):
            rules.append(
                {
                    "record": PRICE_RECORD,
                    "expr": f"vector({price:.6g})",
                    "labels": {"instance_type": name, "capacity_type": capacity_type},
                }
            )
    return rules


def unpriced_types(region: str, instance_families: Sequence[str]) -> list[str]:
    """GPU instance types the pools may launch that the region's price table lacks."""
    relative = f"prices/{region}.yaml"
    hourly = read_table(relative)["ec2OnDemand"]["hourly"] if has_table(relative) else {}
    return [
        name
        for name in sorted(instance_shapes())
        if name.split(".", 1)[0] in instance_families and name not in hourly
    ]


# --- rules -------------------------------------------------------------------------------


def gpu_node_rule() -> dict[str, Any]:
    """Each GPU node Karpenter runs, with its pool, type and capacity type, keyed by the
    node name as DCGM labels its GPUs (`Hostname`)."""
    return {
        "record": GPU_NODE_RECORD,
        "expr": (
            "label_replace(max by (node_name, nodepool, instance_type, capacity_type) "
            f'(karpenter_nodes_allocatable{{resource_type="{KARPENTER_GPU_RESOURCE}"}}), '
            '"Hostname", "$1", "node_name", "(.*)")'
        ),
    }


def _pool_nodes(pool: str) -> str:
    return f'{GPU_NODE_RECORD}{{nodepool="{pool}"}}'


def idle_expression(pool: str, config: GpuAlertsConfig) -> str:
    """GPUs of the pool's nodes averaging below the threshold over the window, on nodes at
    least that old (a fresh node is still pulling its images; its window is not full)."""
    seconds = config.idle_minutes * 60
    return (
        f"max by (Hostname) (avg_over_time(DCGM_FI_DEV_GPU_UTIL[{config.idle_minutes}m]))"
        f" < {config.idle_utilisation_percent:g}\n"
        f"  and on (Hostname) {_pool_nodes(pool)}\n"
        f"  and on (Hostname) label_replace(karpenter_nodes_current_lifetime_seconds"
        f'{{nodepool="{pool}"}} > {seconds}, "Hostname", "$1", "node_name", "(.*)")'
    )


def pending_expression(namespace: str) -> str:
    return (
        f"sum by (namespace, pod) (kube_pod_container_resource_requests"
        f'{{namespace="{namespace}", resource="{KSM_GPU_RESOURCE}"}}) > 0\n'
        f"  and on (namespace, pod)\n"
        f'  kube_pod_status_phase{{namespace="{namespace}", phase="Pending"}} == 1'
    )


def launch_failure_expression(pool: str) -> str:
    reasons = "|".join(LAUNCH_FAILURE_REASONS)
    return (
        f"sum by (nodepool, reason) (increase(karpenter_nodeclaims_disrupted_total"
        f'{{nodepool="{pool}", reason=~"{reasons}"}}[{LAUNCH_FAILURES_WINDOW}]))'
        f" >= {LAUNCH_FAILURES_AT_LEAST}"
    )


def spot_interruption_expression(config: GpuAlertsConfig) -> str:
    return (
        "sum(increase(karpenter_interruption_received_messages_total"
        f'{{message_type="{SPOT_INTERRUPTED}"}}[1h])) > {config.spot_interruptions_per_hour}'
    )


def karpenter_logs(namespace: str, selector: Mapping[str, str]) -> str:
    """The command that prints the last half hour of Karpenter's logs, every replica's
    (the leader, whichever it is, does the launching; a selector alone keeps 10 lines)."""
    labels = ",".join(f"{key}={value}" for key, value in selector.items())
    return f"kubectl -n {namespace} logs -l {labels} --since=30m --tail=-1"


def gpu_alert_rules(
    config: GpuAlertsConfig,
    pools: Mapping[str, str],
    environments: Sequence[Environment],
    *,
    karpenter_logs: str,
) -> list[dict[str, Any]]:
    """Per environment's pool: idle GPU nodes, GPU pods pending, NodeClaim launch
    failures; for the platform: the spot interruption rate. Each says its first step
    (``karpenter_logs`` is the command that reads Karpenter's logs)."""
    rules: list[dict[str, Any]] = []
    for env in environments:
        pool = pools[env.name]
        severity = "critical" if env == PROD else "warning"
        own = {"namespace": env.namespace, "nodepool": pool}
        rules += [
            {
                "alert": pool_alert_name("GpuNodeIdle", env),
                "expr": idle_expression(pool, config),
                "for": "15m",
                # Money, not an outage: a warning even in prod.
                "labels": {**own, "severity": "warning"},
                "annotations": {
                    "summary": (
                        f"GPU node {{{{ $labels.Hostname }}}} of {pool} has used less than "
                        f"{config.idle_utilisation_percent:g}% of its GPU for "
                        f"{config.idle_minutes} minutes: it is billed while it idles"
                    ),
                    "description": (
                        "See which pods hold it: kubectl get pods -A -o wide "
                        "--field-selector spec.nodeName={{ $labels.Hostname }}"
                    ),
                },
            },
            {
                "alert": pool_alert_name("GpuPodsPending", env),
                "expr": pending_expression(env.namespace),
                "for": f"{config.pending_minutes}m",
                "labels": {"nodepool": pool, "severity": severity},
                "annotations": {
                    "summary": (
                        f"GPU pod {{{{ $labels.pod }}}} has waited {config.pending_minutes} "
                        f"minutes for a node: GPU quota or vCPU quota at 0, spot capacity "
                        f"gone, or {pool} at its GPU limit"
                    ),
                    "description": (
                        "Read why it waits: kubectl -n {{ $labels.namespace }} describe pod "
                        "{{ $labels.pod }} (Events), then Karpenter's view: "
                        f"{karpenter_logs} | grep {{{{ $labels.pod }}}}"
                    ),
                },
            },
            {
                "alert": pool_alert_name("GpuNodeLaunchFailures", env),
                "expr": launch_failure_expression(pool),
                "labels": {**own, "severity": severity},
                "annotations": {
                    "summary": (
                        f"Karpenter failed to launch {{{{ $value }}}} {pool} nodes in "
                        f"{LAUNCH_FAILURES_WINDOW} ({{{{ $labels.reason }}}})"
                    ),
                    "description": (
                        f"Read the launch errors: {karpenter_logs} | grep -i nodeclaim; "
                        f"kubectl get nodeclaims -l {NODE_POOL_LABEL}={pool}"
                    ),
                },
            },
        ]
    rules.append(
        {
            "alert": "SpotInterruptionsHigh",
            "expr": spot_interruption_expression(config),
            "labels": {"severity": "warning"},
            "annotations": {
                "summary": (
                    "{{ $value }} spot interruption notices in the last hour (more than "
                    f"{config.spot_interruptions_per_hour}): spot capacity of the pools' "
                    "types is scarce; consider more instance families or on-demand"
                ),
                "description": (
                    f"See which spot nodes go: kubectl get nodes -l {CAPACITY_TYPE_LABEL}={SPOT} "
                    f"-L {NODE_POOL_LABEL},{INSTANCE_TYPE_LABEL}"
                ),
            },
        }
    )
    return rules


def rule_groups(
    config: GpuAlertsConfig,
    pools: Mapping[str, str],
    environments: Sequence[Environment],
    *,
    region: str,
    instance_families: Sequence[str],
    karpenter_logs: str,
) -> list[dict[str, Any]]:
    return [
        {"name": "pingvas-gpu-nodes", "rules": [gpu_node_rule()]},
        {"name": "pingvas-gpu-prices", "rules": price_rules(region, instance_families)},
        {
            "name": "pingvas-gpu-capacity",
            "rules": gpu_alert_rules(config, pools, environments, karpenter_logs=karpenter_logs),
        },
    ]


# --- dashboard ---------------------------------------------------------------------------


def gpu_dashboard(environment: Environment, pool: str) -> dict[str, Any]:
    """The GPU overview of one environment's pool: the template with its pool filled in."""
    document = dashboard_template("gpu-overview.json")
    document["title"] = f"pingvas {environment.name}: GPUs ({pool})"
    document["uid"] = f"pingvas-gpu-{environment.name}"
    values = {"nodepool": pool, "namespace": environment.namespace}
    for variable in document["templating"]["list"]:
        value = values[variable["name"]]
        variable["query"] = value
        variable["current"] = {"text": value, "value": value}
    return document
