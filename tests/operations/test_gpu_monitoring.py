"""GPU and capacity observability, proven with Prometheus' own promtool and Alertmanager's
amtool on what the stack renders: the DCGM exporter lands on every GPU node of both pools,
Karpenter's metrics are scraped, each GPU alert fires on the series that mean trouble and
stays quiet on the ones that do not, and the dashboards price the running nodes from the
price table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from pingvas_infra import resource_types as rt
from pingvas_infra.environments import DEV, ENVIRONMENTS, PROD
from pingvas_infra.gpu.component import GPU_MANUFACTURER_LABEL, KARPENTER_RELEASE
from pingvas_infra.gpu.config import GpuConfig
from pingvas_infra.instances import instance_shapes
from pingvas_infra.operations import gpu_monitoring, monitoring, sizing
from pingvas_infra.plan.model import PlanResult, RecordedResource
from pingvas_infra.tables import load_table, read_table
from tests.operations.monitoring_graph import (
    BOTH_KEYS,
    KARPENTER_LOGS,
    alertmanager_file,
    amtool,
    operations,
    promtool,
    release,
    rule_file,
    rule_groups,
    run_rule_tests,
    runbook_link,
)
from tests.operations.scheduling import tolerates
from tests.support.charts import chart_values
from tests.support.plan_graph import PlanRunner

PRICES = read_table("prices/us-east-1.yaml")
SPOT = 1 - PRICES["spotDiscount"]["fraction"]
ON_DEMAND = PRICES["ec2OnDemand"]["hourly"]
KARPENTER = 'job="karpenter", namespace="kube-system", instance="10.0.40.9:8080"'
DCGM = 'job="dcgm-exporter", namespace="monitoring", instance="10.0.70.4:9400"'
KSM = 'job="kube-state-metrics", instance="10.0.40.7:8080"'
DCGM_CHART = "dcgm-exporter-4.8.2"
TOOLKIT = yaml.safe_load(
    (Path(__file__).parents[1] / "gpu" / "fixtures" / "nvidia-container-toolkit.yaml").read_text(
        encoding="utf-8"
    )
)


@pytest.fixture(scope="module")
def ops(run_plan: PlanRunner) -> PlanResult:
    return operations(run_plan, {}, BOTH_KEYS)


def dcgm(ops: PlanResult) -> RecordedResource:
    return release(ops, gpu_monitoring.DCGM_RELEASE)


def gpu_pools(graph: PlanResult) -> dict[str, RecordedResource]:
    return {
        p.inputs["metadata"]["labels"]["pingvas.io/environment"]: p
        for p in graph.of_type(rt.NODE_POOL)
        if p.inputs["metadata"]["name"].startswith("gpu-")
    }


# --- the DCGM exporter ---------------------------------------------------------------------


def test_dcgm_exporter_tolerates_both_pools_taints_and_lands_on_gpu_nodes_only(
    graph: PlanResult, ops: PlanResult
) -> None:
    values = dcgm(ops).inputs["values"]
    pools = gpu_pools(graph)
    assert set(pools) == {e.name for e in ENVIRONMENTS}
    for pool in pools.values():
        for taint in pool.inputs["spec"]["template"]["spec"]["taints"]:
            assert tolerates(values["tolerations"], taint), (pool.name, taint)
    # Exactly those taints: nothing wider that would let it past a taint nobody meant.
    assert all(
        t["operator"] == "Equal" or t["key"] == "nvidia.com/gpu" for t in values["tolerations"]
    )
    (term,) = values["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ]
    assert term["matchExpressions"] == [
        {"key": GPU_MANUFACTURER_LABEL, "operator": "In", "values": ["nvidia"]}
    ]


def test_dcgm_exporter_sees_every_gpu_through_the_volume_mount_device_list(
    ops: PlanResult,
) -> None:
    """The exporter, which requests no GPU, asks for all of them the way the toolkit
    accepts from any container: a /dev/null mount at /var/run/nvidia-container-devices/all.
    It keeps the chart's metrics list mounted and the chart's security context."""
    values = dcgm(ops).inputs["values"]
    (volume,) = [v for v in values["extraHostVolumes"] if v["hostPath"] == "/dev/null"]
    mounts = {m["name"]: m for m in values["extraVolumeMounts"]}
    assert mounts[volume["name"]]["mountPath"] == "/var/run/nvidia-container-devices/all"
    assert mounts[volume["name"]]["readOnly"] is True
    assert "exporter-metrics-volume" in mounts
    assert "securityContext" not in values  # the chart's: no privilege escalation
    assert "privileged" not in str(values)


def test_the_exporter_is_privileged_in_the_toolkits_sense(ops: PlanResult) -> None:
    """The chart's container security context adds SYS_ADMIN (for DCGM's profiling
    metrics); the runtime puts it in the bounding set, where the NVIDIA toolkit looks to
    call a container privileged: the GPU nodes' refusal of NVIDIA_VISIBLE_DEVICES from
    unprivileged containers does not cover the exporter."""
    values = dcgm(ops).inputs["values"]
    context = values.get("securityContext", chart_values(DCGM_CHART)["securityContext"])
    capabilities = context["capabilities"]
    assert capabilities["drop"] == ["ALL"]
    bounding = {f"CAP_{name}" for name in capabilities["add"]}
    assert TOOLKIT["privilegedWhenBoundingHolds"] in bounding
    assert context["allowPrivilegeEscalation"] is False
    assert "privileged" not in context


def test_dcgm_exporter_is_pinned_scraped_and_above_prod(ops: PlanResult) -> None:
    chart = load_table("operations")["charts"]["dcgmExporter"]
    exporter = dcgm(ops)
    assert (exporter.inputs["chart"], exporter.inputs["version"]) == (
        chart["chart"],
        chart["version"],
    )
    values = exporter.inputs["values"]
    assert values["serviceMonitor"] == {
        "enabled": True,
        "additionalLabels": {monitoring.RULE_SELECTOR_LABEL: monitoring.RELEASE_NAME},
    }
    assert values["priorityClassName"] == "pingvas-platform"
    # Installed after kube-prometheus-stack, which brings the ServiceMonitor kind.
    assert release(ops, monitoring.RELEASE_NAME).urn in exporter.dependencies


def quantity(value: str) -> int:
    return sizing.millicores(value) if not value.endswith("i") else sizing.mebibytes(value)


def test_gpu_node_daemons_leave_room_for_a_worker() -> None:
    budget = load_table("operations")["gpuNodes"]
    cpu = (
        sizing.millicores(budget["clusterDaemonRequestsCpu"])
        + sizing.millicores(sizing.NODE_EXPORTER.cpu)
        + sizing.millicores(sizing.DCGM_EXPORTER.cpu)
        + sizing.millicores(budget["workerCpu"])
    )
    memory = (
        sizing.mebibytes(budget["clusterDaemonRequestsMemory"])
        + sizing.mebibytes(sizing.NODE_EXPORTER.memory)
        + sizing.mebibytes(sizing.DCGM_EXPORTER.memory)
        + sizing.mebibytes(budget["workerMemory"])
    )
    assert cpu <= sizing.millicores(budget["allocatableCpu"])
    assert memory <= sizing.mebibytes(budget["allocatableMemory"])
    # The type budgeted is the smallest the default pools may launch.
    families = GpuConfig().instance_families
    shapes = [s for s in instance_shapes().values() if s.family in families]
    smallest = min((s.vcpu, s.memory_gib) for s in shapes)
    chosen = instance_shapes()[budget["smallestType"]]
    assert (chosen.vcpu, chosen.memory_gib) == smallest


# --- Karpenter's metrics ---------------------------------------------------------------------


def test_karpenter_is_scraped_through_its_charts_service(
    graph: PlanResult, ops: PlanResult
) -> None:
    (monitor,) = [
        m for m in ops.of_type(rt.SERVICE_MONITOR) if m.inputs["metadata"]["name"] == "karpenter"
    ]
    spec = monitor.inputs["spec"]
    karpenter = [r for r in graph.of_type(rt.HELM_RELEASE) if r.inputs["name"] == KARPENTER_RELEASE]
    (chart,) = karpenter
    # The chart labels its Service app.kubernetes.io/name=<chart name> and
    # app.kubernetes.io/instance=<release name> (templates/_helpers.tpl selectorLabels)
    # and names its metrics port http-metrics (templates/service.yaml), in the release's
    # namespace.
    assert spec["namespaceSelector"] == {"matchNames": [chart.inputs["namespace"]]}
    assert spec["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": "karpenter",
        "app.kubernetes.io/instance": chart.inputs["name"],
    }
    assert spec["endpoints"] == [{"port": "http-metrics", "path": "/metrics"}]
    assert monitor.inputs["metadata"]["labels"] == {
        monitoring.RULE_SELECTOR_LABEL: monitoring.RELEASE_NAME
    }
    assert release(ops, monitoring.RELEASE_NAME).urn in monitor.dependencies


# --- alerts ------------------------------------------------------------------------------------


def series(expression: str, values: str) -> dict[str, str]:
    """One input series of a promtool rule test: its labels and its values over time."""
    return {"series": expression, "values": values}


def lifetime(pool: str, name: str) -> dict[str, str]:
    """A node Karpenter launched at the start of the test (its age, second by second)."""
    return series(
        f'karpenter_nodes_current_lifetime_seconds{{{KARPENTER}, nodepool="{pool}", '
        f'node_name="{name}"}}',
        "0+60x120",
    )


def node(pool: str, name: str, instance_type: str, capacity: str) -> dict[str, str]:
    return series(
        f'karpenter_nodes_allocatable{{{KARPENTER}, resource_type="nvidia.com/gpu", '
        f'nodepool="{pool}", node_name="{name}", instance_type="{instance_type}", '
        f'capacity_type="{capacity}", zone="us-east-1a"}}',
        "1x120",
    )


def utilisation(host: str, values: str) -> dict[str, str]:
    return series(
        f'DCGM_FI_DEV_GPU_UTIL{{{DCGM}, Hostname="{host}", gpu="0", modelName="Tesla T4"}}',
        values,
    )


def idle_alert(env: str, host: str) -> dict[str, Any]:
    return {
        "exp_labels": {
            "alertname": gpu_monitoring.pool_alert_name(
                "GpuNodeIdle", DEV if env == "dev" else PROD
            ),
            "Hostname": host,
            "namespace": env,
            "nodepool": f"gpu-{env}",
            "severity": "warning",
        },
        "exp_annotations": {
            "summary": (
                f"GPU node {host} of gpu-{env} has used less than 5% of its GPU for 30 minutes: "
                "it is billed while it idles"
            ),
            "description": (
                "See which pods hold it: kubectl get pods -A -o wide "
                f"--field-selector spec.nodeName={host}"
            ),
            **runbook_link(f"{env.capitalize()}GpuNodeIdle"),
        },
    }


def test_idle_gpu_nodes_fire_per_pool_and_busy_ones_stay_quiet(
    ops: PlanResult, tmp_path: Path
) -> None:
    run_rule_tests(
        rule_file(ops, tmp_path),
        [
            {
                "interval": "1m",
                "input_series": [
                    node("gpu-prod", "ip-10-0-70-4", "g4dn.xlarge", "spot"),
                    node("gpu-prod", "ip-10-0-70-5", "g4dn.xlarge", "on-demand"),
                    node("gpu-dev", "ip-10-0-71-9", "g4dn.xlarge", "spot"),
                    lifetime("gpu-prod", "ip-10-0-70-4"),
                    lifetime("gpu-prod", "ip-10-0-70-5"),
                    lifetime("gpu-dev", "ip-10-0-71-9"),
                    utilisation("ip-10-0-70-4", "0x120"),  # prod, idle
                    utilisation("ip-10-0-70-5", "85x120"),  # prod, busy
                    utilisation("ip-10-0-71-9", "2x120"),  # dev, idle
                ],
                "alert_rule_test": [
                    # Not before the node is 30 minutes old (a fresh node is still pulling
                    # its images) plus 15 minutes.
                    {"eval_time": "40m", "alertname": "ProdGpuNodeIdle", "exp_alerts": []},
                    {
                        "eval_time": "50m",
                        "alertname": "ProdGpuNodeIdle",
                        "exp_alerts": [idle_alert("prod", "ip-10-0-70-4")],
                    },
                    {
                        "eval_time": "50m",
                        "alertname": "DevGpuNodeIdle",
                        "exp_alerts": [idle_alert("dev", "ip-10-0-71-9")],
                    },
                ],
            },
            {
                # A GPU node that is not Karpenter's (or not in a pool): not the pools' alert.
                "interval": "1m",
                "input_series": [utilisation("ip-10-0-99-1", "0x120")],
                "alert_rule_test": [
                    {"eval_time": "60m", "alertname": "ProdGpuNodeIdle", "exp_alerts": []},
                    {"eval_time": "60m", "alertname": "DevGpuNodeIdle", "exp_alerts": []},
                ],
            },
        ],
        tmp_path,
    )


def gpu_request(namespace: str, pod: str) -> dict[str, str]:
    return series(
        f'kube_pod_container_resource_requests{{{KSM}, namespace="{namespace}", pod="{pod}", '
        f'container="worker", node="", resource="nvidia_com_gpu", unit="integer"}}',
        "1x60",
    )


def phase(namespace: str, pod: str, name: str, values: str) -> dict[str, str]:
    return series(
        f'kube_pod_status_phase{{{KSM}, namespace="{namespace}", pod="{pod}", phase="{name}"}}',
        values,
    )


def test_gpu_pods_pending_too_long_fire_in_their_environment(
    ops: PlanResult, tmp_path: Path
) -> None:
    run_rule_tests(
        rule_file(ops, tmp_path),
        [
            {
                "interval": "1m",
                "input_series": [
                    gpu_request("prod", "sd-worker-0"),
                    phase("prod", "sd-worker-0", "Pending", "1x60"),
                    phase("prod", "sd-worker-0", "Running", "0x60"),
                    # Started after 5 minutes: never fires.
                    gpu_request("prod", "sd-worker-1"),
                    phase("prod", "sd-worker-1", "Pending", "1x5 0x55"),
                    phase("prod", "sd-worker-1", "Running", "0x5 1x55"),
                    # Pending, but asks for no GPU: not this alert's business.
                    phase("prod", "web-0", "Pending", "1x60"),
                    gpu_request("dev", "sd-worker-0"),
                    phase("dev", "sd-worker-0", "Pending", "1x60"),
                ],
                "alert_rule_test": [
                    {"eval_time": "10m", "alertname": "ProdGpuPodsPending", "exp_alerts": []},
                    {
                        "eval_time": "20m",
                        "alertname": "ProdGpuPodsPending",
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    "alertname": "ProdGpuPodsPending",
                                    "namespace": "prod",
                                    "pod": "sd-worker-0",
                                    "nodepool": "gpu-prod",
                                    "severity": "critical",
                                },
                                "exp_annotations": {
                                    "summary": (
                                        "GPU pod sd-worker-0 has waited 15 minutes for a node: "
                                        "GPU quota or vCPU quota at 0, spot capacity gone, or "
                                        "gpu-prod at its GPU limit"
                                    ),
                                    "description": (
                                        "Read why it waits: kubectl -n prod describe pod "
                                        "sd-worker-0 (Events), then Karpenter's view: "
                                        f"{KARPENTER_LOGS} | grep sd-worker-0"
                                    ),
                                    **runbook_link("ProdGpuPodsPending"),
                                },
                            }
                        ],
                    },
                    {
                        "eval_time": "20m",
                        "alertname": "DevGpuPodsPending",
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    "alertname": "DevGpuPodsPending",
                                    "namespace": "dev",
                                    "pod": "sd-worker-0",
                                    "nodepool": "gpu-dev",
                                    "severity": "warning",
                                },
                                "exp_annotations": {
                                    "summary": (
                                        "GPU pod sd-worker-0 has waited 15 minutes for a node: "
                                        "GPU quota or vCPU quota at 0, spot capacity gone, or "
                                        "gpu-dev at its GPU limit"
                                    ),
                                    "description": (
                                        "Read why it waits: kubectl -n dev describe pod "
                                        "sd-worker-0 (Events), then Karpenter's view: "
                                        f"{KARPENTER_LOGS} | grep sd-worker-0"
                                    ),
                                    **runbook_link("DevGpuPodsPending"),
                                },
                            }
                        ],
                    },
                ],
            }
        ],
        tmp_path,
    )


def disrupted(pool: str, reason: str, values: str) -> dict[str, str]:
    return series(
        f'karpenter_nodeclaims_disrupted_total{{{KARPENTER}, nodepool="{pool}", '
        f'reason="{reason}", capacity_type="spot"}}',
        values,
    )


def test_nodeclaim_launch_failures_fire_and_consolidation_does_not(
    ops: PlanResult, tmp_path: Path
) -> None:
    run_rule_tests(
        rule_file(ops, tmp_path),
        [
            {
                "interval": "1m",
                "input_series": [
                    # Spot capacity gone in prod: a failed launch every 3 minutes.
                    disrupted("gpu-prod", "insufficient_capacity", "0+0x4 1+1x3 4+0x30"),
                    # Karpenter's own consolidation in dev, many times: routine.
                    disrupted("gpu-dev", "underutilized", "0+1x40"),
                    # One capacity error that Karpenter retried elsewhere.
                    disrupted("gpu-dev", "insufficient_capacity", "0x5 1x35"),
                ],
                "alert_rule_test": [
                    {
                        "eval_time": "10m",
                        "alertname": "ProdGpuNodeLaunchFailures",
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    "alertname": "ProdGpuNodeLaunchFailures",
                                    "namespace": "prod",
                                    "nodepool": "gpu-prod",
                                    "reason": "insufficient_capacity",
                                    "severity": "critical",
                                },
                                "exp_annotations": {
                                    "summary": (
                                        "Karpenter failed to launch 4 gpu-prod nodes in 15m "
                                        "(insufficient_capacity)"
                                    ),
                                    "description": (
                                        f"Read the launch errors: {KARPENTER_LOGS} | grep -i "
                                        "nodeclaim; kubectl get nodeclaims -l "
                                        "karpenter.sh/nodepool=gpu-prod"
                                    ),
                                    **runbook_link("ProdGpuNodeLaunchFailures"),
                                },
                            }
                        ],
                    },
                    {"eval_time": "10m", "alertname": "DevGpuNodeLaunchFailures", "exp_alerts": []},
                    {
                        "eval_time": "35m",
                        "alertname": "ProdGpuNodeLaunchFailures",
                        "exp_alerts": [],
                    },
                ],
            }
        ],
        tmp_path,
    )


def interruptions(message_type: str, values: str) -> dict[str, str]:
    return series(
        f"karpenter_interruption_received_messages_total{{{KARPENTER}, "
        f'message_type="{message_type}"}}',
        values,
    )


def test_a_high_spot_interruption_rate_fires_and_rebalance_notices_do_not(
    ops: PlanResult, tmp_path: Path
) -> None:
    run_rule_tests(
        rule_file(ops, tmp_path),
        [
            {
                "interval": "5m",
                "input_series": [
                    interruptions("spot_interrupted", "0 1 2 3 4 5 5 5 5 5 5 5 5 5 5 5 5 5 5 5"),
                    interruptions("rebalance_recommendation", "0+10x20"),
                ],
                "alert_rule_test": [
                    {
                        "eval_time": "30m",
                        "alertname": "SpotInterruptionsHigh",
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    "alertname": "SpotInterruptionsHigh",
                                    "severity": "warning",
                                },
                                "exp_annotations": {
                                    "summary": (
                                        "5 spot interruption notices in the last hour (more "
                                        "than 3): spot capacity of the pools' types is scarce; "
                                        "consider more instance families or on-demand"
                                    ),
                                    "description": (
                                        "See which spot nodes go: kubectl get nodes -l "
                                        "karpenter.sh/capacity-type=spot -L "
                                        "karpenter.sh/nodepool,node.kubernetes.io/instance-type"
                                    ),
                                    **runbook_link("SpotInterruptionsHigh"),
                                },
                            }
                        ],
                    },
                    # An hour after the last notice: quiet again.
                    {"eval_time": "95m", "alertname": "SpotInterruptionsHigh", "exp_alerts": []},
                ],
            },
            {
                "interval": "5m",
                "input_series": [interruptions("spot_interrupted", "0 1 2 3 3 3 3 3 3 3 3 3 3 3")],
                "alert_rule_test": [
                    {"eval_time": "60m", "alertname": "SpotInterruptionsHigh", "exp_alerts": []}
                ],
            },
        ],
        tmp_path,
    )


def test_gpu_alerts_reach_their_environments_receiver(ops: PlanResult, tmp_path: Path) -> None:
    """The labels the rules put on each alert, asked of amtool: dev's pool posts to Slack,
    prod's pages, spot interruptions (the platform's) page."""
    config = alertmanager_file(ops, tmp_path)
    alerts = {
        r["alert"]: r["labels"]
        for g in yaml.safe_load(rule_file(ops, tmp_path).read_text())["groups"]
        for r in g["rules"]
        if "alert" in r
        and r["alert"]
        in {
            "DevGpuNodeIdle",
            "ProdGpuNodeIdle",
            "DevGpuNodeLaunchFailures",
            "ProdGpuNodeLaunchFailures",
            "SpotInterruptionsHigh",
        }
    }
    expected = {
        "DevGpuNodeIdle": "slack-dev",
        "DevGpuNodeLaunchFailures": "slack-dev",
        "ProdGpuNodeIdle": "pagerduty-prod",
        "ProdGpuNodeLaunchFailures": "pagerduty-prod",
        "SpotInterruptionsHigh": "pagerduty-prod",
    }
    for alertname, receiver in expected.items():
        labels = [f"alertname={alertname}", *(f"{k}={v}" for k, v in alerts[alertname].items())]
        done = amtool("config", "routes", "test", f"--config.file={config}", *labels)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == receiver, alertname


# --- prices and dashboards -------------------------------------------------------------------


def gpu_dashboards(ops: PlanResult) -> dict[str, dict[str, Any]]:
    label, value = monitoring.DASHBOARD_LABEL
    found = {}
    for config_map in ops.of_type(rt.CONFIG_MAP):
        metadata = config_map.inputs["metadata"]
        if metadata.get("labels", {}).get(label) == value and "-gpu-" in metadata["name"]:
            ((_, text),) = config_map.inputs["data"].items()
            found[metadata["name"]] = json.loads(text)
    return found


def cost_query(ops: PlanResult, pool: str) -> str:
    """The prod or dev dashboard's cost-per-hour query, its pool filled in."""
    (document,) = [
        d
        for d in gpu_dashboards(ops).values()
        if {v["name"]: v["query"] for v in d["templating"]["list"]}["nodepool"] == pool
    ]
    (panel,) = [p for p in document["panels"] if p["title"].startswith("Cost per hour")]
    return str(panel["targets"][0]["expr"]).replace("$nodepool", pool)


def test_price_rules_are_the_price_tables_figures(ops: PlanResult) -> None:
    rules = {
        (r["labels"]["instance_type"], r["labels"]["capacity_type"]): r["expr"]
        for g in rule_groups(ops)
        for r in g["rules"]
        if r.get("record") == gpu_monitoring.PRICE_RECORD
    }
    assert rules[("g4dn.xlarge", "on-demand")] == f"vector({ON_DEMAND['g4dn.xlarge']:.6g})"
    assert rules[("g4dn.xlarge", "spot")] == f"vector({ON_DEMAND['g4dn.xlarge'] * SPOT:.6g})"
    families = {"g4dn", "g5", "g6"}
    priced = {t for t, _ in rules}
    assert priced == {t for t in ON_DEMAND if t.split(".")[0] in families}


def test_the_dashboard_prices_the_running_nodes_per_hour(ops: PlanResult, tmp_path: Path) -> None:
    """Two prod nodes (a spot g4dn.xlarge, an on-demand g5.xlarge) and a dev node: the prod
    dashboard's cost per hour is the two prod nodes at the price table's rates."""
    expected = ON_DEMAND["g4dn.xlarge"] * SPOT + ON_DEMAND["g5.xlarge"]
    run_rule_tests(
        rule_file(ops, tmp_path),
        [
            {
                "interval": "1m",
                "input_series": [
                    node("gpu-prod", "ip-10-0-70-4", "g4dn.xlarge", "spot"),
                    node("gpu-prod", "ip-10-0-70-5", "g5.xlarge", "on-demand"),
                    node("gpu-dev", "ip-10-0-71-9", "g4dn.xlarge", "spot"),
                ],
                "promql_expr_test": [
                    {
                        "expr": cost_query(ops, "gpu-prod"),
                        "eval_time": "5m",
                        "exp_samples": [{"labels": "{}", "value": round(expected, 6)}],
                    },
                    {
                        "expr": cost_query(ops, "gpu-dev"),
                        "eval_time": "5m",
                        "exp_samples": [
                            {"labels": "{}", "value": round(ON_DEMAND["g4dn.xlarge"] * SPOT, 6)}
                        ],
                    },
                ],
            }
        ],
        tmp_path,
    )


def test_one_gpu_dashboard_per_environment_on_its_own_pool(
    graph: PlanResult, ops: PlanResult, tmp_path: Path
) -> None:
    found = gpu_dashboards(ops)
    assert len(found) == len(ENVIRONMENTS)
    pools = {p.inputs["metadata"]["name"] for p in gpu_pools(graph).values()}
    records = []
    for i, document in enumerate(found.values()):
        constants = {f"${v['name']}": v["query"] for v in document["templating"]["list"]}
        assert constants["$nodepool"] in pools
        titles = " ".join(p["title"] for p in document["panels"]).lower()
        for topic in ("utilisation", "memory", "nodes", "spot share", "cost per hour", "pending"):
            assert topic in titles, topic
        for panel in document["panels"]:
            for target in panel["targets"]:
                query = target["expr"]
                for name, value in constants.items():
                    query = query.replace(name, value)
                records.append({"record": f"dashboard:gpu{i}", "expr": query})
    path = tmp_path / "queries.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "q", "rules": records}]}))
    done = promtool("check", "rules", str(path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert len({d["uid"] for d in found.values()}) == len(found)
