"""The system tier survives spot: priorities, disruption budgets and the overflow pool.

Checked on the rendered graph with the scheduler's own matching rules
(tests/operations/scheduling.py), and every Helm value the stack sets against the pinned
charts' own values files (tests/support/charts.py), so a misspelt key cannot pass as a
setting.
"""

from __future__ import annotations

from typing import Any

import pytest

from pingvas_infra import resource_types as rt
from pingvas_infra.cluster.component import SYSTEM_NODE_LABELS
from pingvas_infra.cluster.config import SystemNodeGroupConfig
from pingvas_infra.gpu.component import OVERFLOW_POOL
from pingvas_infra.instances import instance_shapes
from pingvas_infra.manifests import load_documents
from pingvas_infra.node_user_data import node_user_data
from pingvas_infra.operations import gpu_monitoring, monitoring, sizing
from pingvas_infra.plan.model import PlanResult, RecordedResource
from tests.operations.scheduling import fits
from tests.support.charts import unknown_keys
from tests.support.plan_graph import PlanRunner

PLATFORM_CLASS = "pingvas-platform"
KPS = "kube-prometheus-stack-88.5.3"
KPS_SUBCHARTS = {
    "grafana": "grafana-12.11.1",
    "kube-state-metrics": "kube-state-metrics-8.4.0",
    "prometheus-node-exporter": "prometheus-node-exporter-4.56.1",
}


def release(graph: PlanResult, name: str) -> RecordedResource:
    (found,) = [r for r in graph.of_type(rt.HELM_RELEASE) if r.inputs["name"] == name]
    return found


def pool(graph: PlanResult, name: str) -> RecordedResource:
    (found,) = [p for p in graph.of_type(rt.NODE_POOL) if p.inputs["metadata"]["name"] == name]
    return found


def node_of(pool_resource: RecordedResource) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The labels and taints of a node the NodePool launches."""
    template = pool_resource.inputs["spec"]["template"]
    return dict(template["metadata"]["labels"]), list(template["spec"].get("taints", []))


def prometheus_pod(graph: PlanResult) -> dict[str, Any]:
    spec = release(graph, monitoring.RELEASE_NAME).inputs["values"]["prometheus"]["prometheusSpec"]
    return {"nodeSelector": spec["nodeSelector"], "tolerations": spec.get("tolerations", [])}


# --- where Prometheus may run --------------------------------------------------------------------


def test_prometheus_fits_a_system_node_and_the_overflow_node_but_no_gpu_node(
    graph: PlanResult,
) -> None:
    pod = prometheus_pod(graph)
    assert fits(pod, SYSTEM_NODE_LABELS, [])
    assert fits(pod, *node_of(pool(graph, OVERFLOW_POOL)))
    for name in ("gpu-dev", "gpu-prod"):
        assert not fits(pod, *node_of(pool(graph, name)))


def test_only_platform_pods_that_tolerate_it_land_on_the_overflow_node(graph: PlanResult) -> None:
    """Grafana and the other platform pods stay on the group's nodes; an application pod
    without the platform's toleration is kept off too (admission refuses dev and prod
    pods that ask for it: tests/tenancy/test_admission_policy.py)."""
    labels, taints = node_of(pool(graph, OVERFLOW_POOL))
    values = release(graph, monitoring.RELEASE_NAME).inputs["values"]
    grafana = {"nodeSelector": values["grafana"]["nodeSelector"]}
    assert not fits(grafana, labels, taints)
    assert not fits({"nodeSelector": {}}, labels, taints)


def test_the_overflow_pool_is_the_system_group_on_karpenters_terms(graph: PlanResult) -> None:
    group = SystemNodeGroupConfig()
    spec = pool(graph, OVERFLOW_POOL).inputs["spec"]
    requirements = {r["key"]: r["values"] for r in spec["template"]["spec"]["requirements"]}
    assert requirements["node.kubernetes.io/instance-type"] == list(group.instance_types)
    assert requirements["karpenter.sh/capacity-type"] == ["spot", "on-demand"]
    vcpus = instance_shapes()[group.instance_types[0]].vcpu
    assert spec["limits"] == {"cpu": str(vcpus * group.overflow_nodes)}
    assert spec["disruption"]["consolidationPolicy"] == "WhenEmptyOrUnderutilized"
    (node_class,) = [
        c
        for c in graph.of_type(rt.EC2_NODE_CLASS)
        if c.inputs["metadata"]["name"] == spec["template"]["spec"]["nodeClassRef"]["name"]
    ]
    (root,) = node_class.inputs["spec"]["blockDeviceMappings"]
    assert root["ebs"]["volumeSize"] == f"{group.disk_size_gib}Gi"
    # Only the kubelet NodeConfig every node gets (tests/test_node_user_data.py): no GPU script.
    assert node_class.inputs["spec"]["userData"] == node_user_data()
    # Karpenter itself never runs on capacity it manages.
    karpenter = release(graph, "karpenter").inputs["values"]
    term = karpenter["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term["nodeSelectorTerms"][0]["matchExpressions"] == [
        {"key": "karpenter.sh/nodepool", "operator": "DoesNotExist"}
    ]


def test_without_overflow_nodes_there_is_no_pool_and_no_toleration(run_plan: PlanRunner) -> None:
    graph = run_plan({"pingvas-infra:cluster": {"systemNodes": {"overflowNodes": 0}}})
    assert OVERFLOW_POOL not in {p.inputs["metadata"]["name"] for p in graph.of_type(rt.NODE_POOL)}
    assert len(graph.of_type(rt.EC2_NODE_CLASS)) == 1
    assert prometheus_pod(graph)["tolerations"] == []


# --- priorities ------------------------------------------------------------------------------


def priority_classes(values: Any, path: tuple[str, ...] = ()) -> dict[str, Any]:
    found = {}
    if isinstance(values, dict):
        for key, value in values.items():
            if key == "priorityClassName":
                found[".".join(path)] = value
            else:
                found.update(priority_classes(value, (*path, key)))
    return found


def test_every_monitoring_component_runs_at_the_platform_priority(graph: PlanResult) -> None:
    values = release(graph, monitoring.RELEASE_NAME).inputs["values"]
    classes = priority_classes(values)
    assert set(classes) == {
        "prometheusOperator",
        "prometheusOperator.admissionWebhooks.patch",
        "prometheus.prometheusSpec",
        "alertmanager.alertmanagerSpec",
        "grafana",
        "kube-state-metrics",
        "prometheus-node-exporter",
    }
    assert set(classes.values()) == {PLATFORM_CLASS}
    dcgm = release(graph, gpu_monitoring.DCGM_RELEASE).inputs["values"]
    assert dcgm["priorityClassName"] == PLATFORM_CLASS


def test_argo_cd_runs_at_the_platform_priority(run_plan: PlanRunner) -> None:
    graph = run_plan(
        {
            "pingvas-infra:operations": {
                "argocd": {"enabled": True, "repoUrl": "https://x.invalid/a/b"}
            }
        }
    )
    assert (
        release(graph, "argo-cd").inputs["values"]["global"]["priorityClassName"] == PLATFORM_CLASS
    )


def test_kubernetes_own_classes_stay_where_kubernetes_means_them(graph: PlanResult) -> None:
    """Karpenter (the cluster cannot grow without it) keeps system-cluster-critical, the
    device plugin (a GPU node is useless without it) system-node-critical; CoreDNS keeps the
    EKS add-on's own settings (nothing overrides them)."""
    assert release(graph, "karpenter").inputs["values"]["priorityClassName"] == (
        "system-cluster-critical"
    )
    assert release(graph, "nvidia-device-plugin").inputs["values"]["priorityClassName"] == (
        "system-node-critical"
    )
    (coredns,) = [a for a in graph.of_type(rt.EKS_ADDON) if a.inputs["addonName"] == "coredns"]
    assert "configurationValues" not in coredns.inputs


def test_the_platform_class_exists_before_anything_names_it(graph: PlanResult) -> None:
    (platform,) = [
        c
        for c in graph.of_type(rt.PRIORITY_CLASS)
        if c.inputs["metadata"]["name"] == PLATFORM_CLASS
    ]
    documents = {d["metadata"]["name"]: d for d in load_documents("priority-classes.yaml")}
    assert platform.inputs["value"] == documents[PLATFORM_CLASS]["value"]
    for name in (monitoring.RELEASE_NAME, gpu_monitoring.DCGM_RELEASE):
        assert platform.urn in release(graph, name).dependencies, name


# --- disruption budgets ------------------------------------------------------------------------


def test_alertmanager_keeps_one_replica_through_every_drain(graph: PlanResult) -> None:
    alertmanager = release(graph, monitoring.RELEASE_NAME).inputs["values"]["alertmanager"]
    spec = alertmanager["alertmanagerSpec"]
    assert spec["replicas"] == 2
    assert spec["podAntiAffinity"] == "hard"
    assert spec["podAntiAffinityTopologyKey"] == "kubernetes.io/hostname"
    assert alertmanager["podDisruptionBudget"] == {"enabled": True, "minAvailable": 1}
    assert "storageSpec" not in spec, "no volume: nothing ties it to a zone"


def test_prometheus_has_one_replica_and_no_budget_that_would_block_drains(
    graph: PlanResult,
) -> None:
    values = release(graph, monitoring.RELEASE_NAME).inputs["values"]
    assert values["prometheus"]["prometheusSpec"]["replicas"] == 1
    assert "podDisruptionBudget" not in values["prometheus"]


def test_karpenter_runs_two_replicas_one_drained_at_a_time(graph: PlanResult) -> None:
    values = release(graph, "karpenter").inputs["values"]
    assert values["replicas"] == 2
    assert values["podDisruptionBudget"] == {"name": "karpenter", "maxUnavailable": 1}


def test_the_operations_footprint_still_fits_beside_the_add_ons() -> None:
    cpu, memory = sizing.total_requests(
        sizing.monitoring_workloads(sizing.Resources("250m", "1Gi", "1", "1536Mi"))
    )
    budget = sizing.Budget.from_table()
    assert cpu <= budget.cpu_millicores
    assert memory <= budget.memory_mebibytes


# --- every value is one the chart knows ------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "chart", "subcharts", "free_form"),
    [
        (monitoring.RELEASE_NAME, KPS, KPS_SUBCHARTS, frozenset({"alertmanager.config"})),
        (gpu_monitoring.DCGM_RELEASE, "dcgm-exporter-4.8.2", None, frozenset()),
        ("karpenter", "karpenter-1.14.1", None, frozenset()),
        ("nvidia-device-plugin", "nvidia-device-plugin-0.20.0", None, frozenset()),
    ],
)
def test_every_helm_value_is_one_the_pinned_chart_knows(
    graph: PlanResult,
    name: str,
    chart: str,
    subcharts: dict[str, str] | None,
    free_form: frozenset[str],
) -> None:
    values = release(graph, name).inputs["values"]
    assert unknown_keys(values, chart, subcharts=subcharts, free_form=free_form) == []


def test_a_misspelt_value_is_caught(graph: PlanResult) -> None:
    values = release(graph, monitoring.RELEASE_NAME).inputs["values"]
    wrong = {**values, "alertmanager": {**values["alertmanager"], "podDisruptionBudgets": {}}}
    assert unknown_keys(wrong, KPS, subcharts=KPS_SUBCHARTS) == [
        f"{KPS}: alertmanager.podDisruptionBudgets"
    ]
    wrong = {**values, "grafana": {**values["grafana"], "priorityClass": "x"}}
    assert unknown_keys(wrong, KPS, subcharts=KPS_SUBCHARTS) == ["grafana-12.11.1: priorityClass"]
