"""Pod slots: the VPC CNI hands out /28 prefixes, every node class's maxPods is one its
instance types can address and its kube-reserved memory follows, and the platform's pods fit
on the system nodes with room for the services, counted from the rendered plan graph.

The per-type limits are compared with the VPC CNI's own eni-max-pods.txt
(tests/fixtures/pod_slots/); the add-ons' and charts' pods the graph does not spell out come
from tests/fixtures/pod_slots/platform-pods.yaml, each with its source. What is not checked
here: a live node's kubelet (no EC2 instance), and the NodeConfig EKS adds for a managed
group beside the stack's.
"""

from __future__ import annotations

import base64
import email
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
import yaml

from pingvas_infra import pod_slots
from pingvas_infra import resource_types as rt
from pingvas_infra.cluster.config import SystemNodeGroupConfig
from pingvas_infra.gpu.component import OVERFLOW_NODE_CLASS
from pingvas_infra.instances import instance_shapes
from pingvas_infra.manifests import load_documents
from pingvas_infra.node_user_data import NODE_CONFIG_CONTENT_TYPE
from pingvas_infra.operations import sizing
from pingvas_infra.plan.model import PlanResult
from pingvas_infra.tables import load_table
from tests.support.plan_graph import PlanRunner

FIXTURES = Path(__file__).parent / "fixtures" / "pod_slots"
ARGO_CD_ON = {
    "pingvas-infra:operations": {"argocd": {"enabled": True, "repoUrl": "https://x.invalid/a/b"}}
}
_HYPERVISORS = {"nitro": "nitro", "xen": "xen", "unknown": "bare-metal"}


def upstream_eni_max_pods() -> dict[str, tuple[int, str]]:
    rows = [
        line.split()
        for line in (FIXTURES / "eni-max-pods.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    return {name: (int(pods), _HYPERVISORS[hypervisor]) for name, pods, hypervisor in rows}


# --- the table against the VPC CNI's own figures ----------------------------------------------


def test_every_instance_type_has_the_cni_s_own_limits() -> None:
    upstream = upstream_eni_max_pods()
    limits = pod_slots.network_limits()
    assert set(limits) == set(instance_shapes()) == set(upstream)
    for name, row in limits.items():
        assert (row.eni_limited_pods, row.hypervisor) == upstream[name], name


def test_the_calculator_s_figures_with_prefixes() -> None:
    """3 x ((6 - 1) x 16) + 2 = 242 addresses, capped at 110 for 2 vCPUs; 250 above 30 vCPUs;
    a Xen instance keeps its 17."""
    limits = pod_slots.network_limits()
    assert limits["t3.medium"].eni_limited_pods == 17
    assert limits["t3.medium"].prefix_pods == 110
    assert limits["g6e.48xlarge"].prefix_pods == 250
    assert limits["t2.medium"].prefix_pods == 17


# --- what the plan renders ----------------------------------------------------------------


def test_the_vpc_cni_delegates_prefixes_and_keeps_enforcing_network_policies(
    graph: PlanResult,
) -> None:
    (cluster,) = graph.of_type(rt.EKS_CLUSTER_COMPONENT)
    options = cluster.inputs["vpcCniOptions"]
    assert options["enablePrefixDelegation"] is True
    assert options["warmPrefixTarget"] == 1
    assert options["enableNetworkPolicy"] is True


def system_node_kubelet(graph: PlanResult) -> dict[str, Any]:
    (template,) = graph.of_type(rt.LAUNCH_TEMPLATE)
    message = email.message_from_string(base64.b64decode(template.inputs["userData"]).decode())
    (config,) = [
        yaml.safe_load(str(part.get_payload()))
        for part in message.get_payload()
        if isinstance(part, Message) and part.get_content_type() == NODE_CONFIG_CONTENT_TYPE
    ]
    return dict(config["spec"]["kubelet"]["config"])


def node_classes(graph: PlanResult) -> dict[str, dict[str, Any]]:
    return {
        c.inputs["metadata"]["name"]: c.inputs["spec"] for c in graph.of_type(rt.EC2_NODE_CLASS)
    }


def test_system_nodes_get_their_pod_slots_and_the_memory_they_cost(graph: PlanResult) -> None:
    """The managed group (its NodeConfig) and Karpenter's overflow nodes (the EC2NodeClass's
    kubelet block, which Karpenter both schedules by and writes to the node) get the same
    maxPods, and kube-reserved memory at the AMI's 11 MiB a pod for that many."""
    max_pods = pod_slots.system_max_pods()
    expected = {"maxPods": max_pods, "kubeReserved": {"memory": f"{11 * max_pods + 255}Mi"}}
    kubelet = system_node_kubelet(graph)
    assert {key: kubelet[key] for key in expected} == expected
    assert node_classes(graph)[OVERFLOW_NODE_CLASS]["kubelet"] == expected


def test_gpu_nodes_keep_karpenter_s_eni_limited_count(graph: PlanResult) -> None:
    (gpu,) = [spec for name, spec in node_classes(graph).items() if name != OVERFLOW_NODE_CLASS]
    assert "kubelet" not in gpu
    assert pod_slots.class_max_pods(pod_slots.GPU_CLASS) is None


@pytest.mark.parametrize("instance_type", SystemNodeGroupConfig().instance_types)
def test_every_system_type_addresses_the_pods_it_is_given(instance_type: str) -> None:
    limits = pod_slots.network_limits()[instance_type]
    assert limits.takes_prefixes
    assert pod_slots.system_max_pods() <= limits.prefix_pods
    assert pod_slots.node_max_pods(instance_type, pod_slots.SYSTEM_CLASS) == (
        pod_slots.system_max_pods()
    )


# --- the platform's pods, counted from the graph ------------------------------------------------


@dataclass(frozen=True)
class PlatformPods:
    """Pods on every system node (DaemonSets), and those placed once (replicas, jobs)."""

    per_node: int
    placed: int

    def on(self, nodes: int) -> int:
        return self.per_node * nodes + self.placed


def platform_pods(graph: PlanResult) -> PlatformPods:
    fixture = yaml.safe_load((FIXTURES / "platform-pods.yaml").read_text())
    addons = fixture["eksAddons"]
    defaults = fixture["chartDefaults"]
    (cluster,) = graph.of_type(rt.EKS_CLUSTER_COMPONENT)
    installed = ["vpc-cni"] + [a.inputs["addonName"] for a in graph.of_type(rt.EKS_ADDON)]
    if cluster.inputs["kubeProxyAddonOptions"]["enabled"]:
        installed.append("kube-proxy")
    per_node = sum(addons[name]["perNode"] for name in installed)
    placed = sum(addons[name]["replicas"] for name in installed)
    for release in graph.of_type(rt.HELM_RELEASE):
        name, values = release.inputs["name"], release.inputs.get("values", {})
        if name == "karpenter":
            placed += values["replicas"]
        elif name == "aws-load-balancer-controller":
            placed += values["replicaCount"]
        elif name == "kube-prometheus-stack":
            placed += values["prometheus"]["prometheusSpec"]["replicas"]
            placed += values["alertmanager"]["alertmanagerSpec"]["replicas"]
            placed += sum(defaults[name].values())
            per_node += values["prometheus-node-exporter"].get("enabled", True)
        elif name == "argo-cd":
            placed += sum(
                values.get(part, {}).get("replicas", count)
                for part, count in defaults[name].items()
            )
            assert not values["dex"]["enabled"] and not values["notifications"]["enabled"]
        elif name in ("karpenter-crd", "nvidia-device-plugin", "dcgm-exporter"):
            continue  # CRDs only; DaemonSets on GPU nodes only
        else:
            raise AssertionError(f"count the pods of Helm release {name}")
    # A CronJob's or Job's pod holds a slot while it runs.
    placed += len(graph.of_type(rt.CRON_JOB)) + len(graph.of_type(rt.JOB))
    return PlatformPods(per_node=per_node, placed=placed)


def service_room(argo_cd: bool) -> int:
    """dev pods at the namespace's default memory request that the system nodes' memory
    holds beside the add-ons and the operations workloads: the slots they need."""
    (dev_defaults,) = [
        d for d in load_documents("limit-ranges.yaml") if d["metadata"]["namespace"] == "dev"
    ]
    request = sizing.mebibytes(dev_defaults["spec"]["limits"][0]["defaultRequest"]["memory"])
    workloads = sizing.monitoring_workloads(sizing.Resources("250m", "1Gi", "1", "1536Mi"))
    if argo_cd:
        workloads += sizing.argocd_workloads()
    _, used = sizing.total_requests(workloads)
    return (sizing.Budget.from_table().memory_mebibytes - used) // request


def system_slots(nodes: int) -> int:
    """Slots of ``nodes`` system nodes: the smallest count any of the group's types gives."""
    return nodes * min(
        pod_slots.node_max_pods(t, pod_slots.SYSTEM_CLASS)
        for t in SystemNodeGroupConfig().instance_types
    )


@pytest.mark.parametrize("argo_cd", [False, True], ids=["default", "argo-cd"])
def test_the_platform_fits_the_system_nodes_with_room_for_the_services(
    run_plan: PlanRunner, argo_cd: bool
) -> None:
    """On the group's default two nodes, the platform's pods leave at least as many slots as
    the memory left holds dev pods: memory, not pod slots, limits the services. With 17
    slots a t3.medium (34 on two), the platform alone needs 31 (36 with Argo CD)."""
    graph = run_plan(ARGO_CD_ON if argo_cd else {})
    nodes = SystemNodeGroupConfig().desired_size
    pods = platform_pods(graph)
    room = service_room(argo_cd)
    assert room > 0
    assert system_slots(nodes) - pods.on(nodes) >= room, (pods, room)


def test_one_system_node_holds_the_platform_while_its_peer_is_replaced(
    run_plan: PlanRunner,
) -> None:
    pods = platform_pods(run_plan(ARGO_CD_ON))
    assert pods.on(1) <= system_slots(1)


def test_the_count_knows_every_release(graph: PlanResult) -> None:
    """A new Helm release is counted or the count fails: it cannot slip in uncounted."""
    pods = platform_pods(graph)
    assert pods.per_node == 6  # aws-node, kube-proxy, Pod Identity agent, EBS, EFS, node-exporter
    assert pods.placed >= 19


# --- the memory the slots cost --------------------------------------------------------------


def test_the_system_class_s_maxpods_leaves_the_operations_budget_whole() -> None:
    """110 pods (the calculator's figure) would reserve 1465Mi of a t3.medium: the
    monitoring stack and Argo CD would no longer fit beside the add-ons."""
    nodes = load_table("operations")["systemNodes"]
    (system_type, *_) = SystemNodeGroupConfig().instance_types
    calculator_max_pods = pod_slots.network_limits()[system_type].prefix_pods
    assert calculator_max_pods > pod_slots.system_max_pods()
    # What the calculator's figure would reserve beyond the stack's, on every system node.
    more_reserved = pod_slots.kube_reserved_memory_mib(
        calculator_max_pods
    ) - pod_slots.kube_reserved_memory_mib(pod_slots.system_max_pods())
    allocatable = sizing.system_node_allocatable_memory_mib()
    assert 0 < allocatable < sizing.mebibytes(nodes["memoryCapacity"])
    _, used = sizing.total_requests(
        sizing.monitoring_workloads(sizing.Resources("250m", "1Gi", "1", "1536Mi"))
        + sizing.argocd_workloads()
    )
    budget = sizing.Budget.from_table().memory_mebibytes
    assert used <= budget
    assert used > budget - int(nodes["count"]) * more_reserved
