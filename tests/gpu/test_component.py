"""The GPU capacity layer's graph: Karpenter complete, GPU pools capped by the quotas."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from pingvas_infra import resource_types as rt
from pingvas_infra.eks_versions import minor_key
from pingvas_infra.environments import ENVIRONMENTS
from pingvas_infra.gpu.component import OVERFLOW_POOL, node_pool_spec
from pingvas_infra.gpu.config import GpuConfig, GpuPoolConfig, pinned_software
from pingvas_infra.labels import ENVIRONMENT_LABEL
from pingvas_infra.plan.kubernetes import helm_document, object_document, write_manifests
from pingvas_infra.plan.mocks import ACCOUNT_ID
from pingvas_infra.plan.model import PlanResult, RecordedResource
from pingvas_infra.tenancy.static import gpu_quotas, static_objects
from tests.support import karpenter_schema
from tests.support.plan_graph import PlanRunner, tags_of

INTERRUPTION_EVENTS = {
    ("aws.health", "AWS Health Event"),
    ("aws.ec2", "EC2 Spot Instance Interruption Warning"),
    ("aws.ec2", "EC2 Instance Rebalance Recommendation"),
    ("aws.ec2", "EC2 Instance State-change Notification"),
    ("aws.ec2", "EC2 Capacity Reservation Instance Interruption Warning"),
}


def name_of(resource: RecordedResource) -> str:
    """The physical name the mock engine gives (explicit name or the resource name)."""
    return str(resource.inputs.get("name", resource.name))


def queue_arn(queue: RecordedResource) -> str:
    return f"arn:aws:sqs:us-east-1:{ACCOUNT_ID}:{name_of(queue)}"


def role_arn(role: RecordedResource) -> str:
    return f"arn:aws:iam::{ACCOUNT_ID}:role/{name_of(role)}"


def release(graph: PlanResult, name: str) -> RecordedResource:
    (found,) = [r for r in graph.of_type(rt.HELM_RELEASE) if r.inputs["name"] == name]
    return found


def pools(graph: PlanResult) -> dict[str, RecordedResource]:
    """The GPU NodePools (one per environment), by name."""
    return {
        p.inputs["metadata"]["name"]: p
        for p in graph.of_type(rt.NODE_POOL)
        if p.inputs["metadata"]["name"] != OVERFLOW_POOL
    }


def gpu_node_class(graph: PlanResult) -> RecordedResource:
    (node_class,) = [
        c for c in graph.of_type(rt.EC2_NODE_CLASS) if c.inputs["metadata"]["name"] == "gpu"
    ]
    return node_class


def cluster_name(graph: PlanResult) -> str:
    return str(graph.one(rt.EKS_CLUSTER_COMPONENT).inputs["name"])


def karpenter_node_role(graph: PlanResult) -> RecordedResource:
    node_class = gpu_node_class(graph)
    (role,) = [
        r for r in graph.of_type(rt.IAM_ROLE) if name_of(r) == node_class.inputs["spec"]["role"]
    ]
    return role


def controller_policy(graph: PlanResult) -> list[dict[str, Any]]:
    (policy,) = [p for p in graph.of_type(rt.IAM_ROLE_POLICY) if "karpenter-controller" in p.name]
    return json.loads(policy.inputs["policy"])["Statement"]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_five_event_rules_all_target_the_queue(graph: PlanResult) -> None:
    (queue,) = graph.of_type(rt.SQS_QUEUE)
    rules = graph.of_type(rt.EVENT_RULE)
    patterns = {
        (pattern["source"][0], pattern["detail-type"][0])
        for pattern in (json.loads(r.inputs["eventPattern"]) for r in rules)
    }
    assert patterns == INTERRUPTION_EVENTS
    targets = graph.of_type(rt.EVENT_TARGET)
    assert sorted(t.inputs["rule"] for t in targets) == sorted(name_of(r) for r in rules)
    assert {t.inputs["arn"] for t in targets} == {queue_arn(queue)}


def test_queue_is_encrypted_short_lived_and_refuses_plain_http(graph: PlanResult) -> None:
    (queue,) = graph.of_type(rt.SQS_QUEUE)
    assert queue.inputs["sqsManagedSseEnabled"] is True
    assert queue.inputs["messageRetentionSeconds"] == 300
    (policy,) = graph.of_type(rt.SQS_QUEUE_POLICY)
    assert policy.inputs["queueUrl"].endswith(f"/{name_of(queue)}")
    statements = json.loads(policy.inputs["policy"])["Statement"]
    (deny,) = [s for s in statements if s["Effect"] == "Deny"]
    assert deny["Principal"] == "*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert as_list(deny["Resource"]) == [queue_arn(queue)]
    assert deny["Action"] in ("*", "sqs:*")
    (allow,) = [s for s in statements if s["Effect"] == "Allow"]
    assert set(allow["Principal"]["Service"]) == {"events.amazonaws.com", "sqs.amazonaws.com"}
    assert allow["Action"] == "sqs:SendMessage"


def test_helm_values_carry_cluster_and_queue_names(graph: PlanResult) -> None:
    (queue,) = graph.of_type(rt.SQS_QUEUE)
    values = release(graph, "karpenter").inputs["values"]
    assert values["settings"]["clusterName"] == cluster_name(graph)
    assert values["settings"]["interruptionQueue"] == name_of(queue)
    assert values["replicas"] == 2
    # Only on the managed system nodes, never on nodes Karpenter launches itself.
    assert values["nodeSelector"]["role"] == "system"
    node_terms = values["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]
    expressions = node_terms["nodeSelectorTerms"][0]["matchExpressions"]
    assert {"key": "karpenter.sh/nodepool", "operator": "DoesNotExist"} in expressions
    requests = values["controller"]["resources"]["requests"]
    assert requests["cpu"].endswith("m")
    assert int(requests["memory"].removesuffix("Mi")) <= 1024


def test_charts_pinned_and_compatible_with_the_kubernetes_version(graph: PlanResult) -> None:
    version = graph.one(rt.EKS_CLUSTER_COMPONENT).inputs["version"]
    crds, karpenter = release(graph, "karpenter-crd"), release(graph, "karpenter")
    for chart in (crds, karpenter, release(graph, "nvidia-device-plugin")):
        assert re.fullmatch(r"\d+\.\d+\.\d+", chart.inputs["version"]), chart.name
    assert crds.inputs["version"] == karpenter.inputs["version"]
    assert karpenter.inputs["chart"] == "oci://public.ecr.aws/karpenter/karpenter"
    assert crds.inputs["chart"] == "oci://public.ecr.aws/karpenter/karpenter-crd"
    # Karpenter's compatibility matrix: Kubernetes 1.35 needs >= 1.9, 1.36 needs >= 1.13.
    minimum = {"1.34": (1, 6), "1.35": (1, 9), "1.36": (1, 13)}[version]
    assert tuple(int(p) for p in karpenter.inputs["version"].split(".")[:2]) >= minimum
    pinned = pinned_software()
    assert minor_key(pinned.karpenter_kubernetes_min) <= minor_key(version)
    assert minor_key(version) <= minor_key(pinned.karpenter_kubernetes_max)


def test_crds_before_the_controller_and_both_before_any_node_pool(graph: PlanResult) -> None:
    crds, karpenter = release(graph, "karpenter-crd"), release(graph, "karpenter")
    assert karpenter.inputs["skipCrds"] is True
    assert crds.urn in karpenter.dependencies
    for resource in (*graph.of_type(rt.NODE_POOL), *graph.of_type(rt.EC2_NODE_CLASS)):
        assert {crds.urn, karpenter.urn} <= set(resource.dependencies), resource.name


def test_node_pool_gpu_limits_equal_the_namespace_quotas(graph: PlanResult) -> None:
    quotas = gpu_quotas(static_objects())  # k8s_manifests/resource-quotas.yaml
    assert quotas == {"dev": 3, "prod": 15}
    found = pools(graph)
    assert set(found) == {f"gpu-{e.name}" for e in ENVIRONMENTS}
    for environment in ENVIRONMENTS:
        limits = found[f"gpu-{environment.name}"].inputs["spec"]["limits"]
        assert int(limits["nvidia.com/gpu"]) == quotas[environment.name]


def test_pool_limit_follows_the_quota_it_is_given() -> None:
    config = GpuConfig()
    spec = node_pool_spec(config, GpuPoolConfig(), "dev", gpu_quota=7)
    assert spec["limits"] == {"nvidia.com/gpu": "7"}


def requirement(pool: RecordedResource, key: str) -> list[str]:
    (found,) = [
        r for r in pool.inputs["spec"]["template"]["spec"]["requirements"] if r["key"] == key
    ]
    assert found["operator"] == "In"
    return list(found["values"])


def test_dev_is_spot_only_and_prod_falls_back_to_on_demand(graph: PlanResult) -> None:
    found = pools(graph)
    assert requirement(found["gpu-dev"], "karpenter.sh/capacity-type") == ["spot"]
    assert requirement(found["gpu-prod"], "karpenter.sh/capacity-type") == ["spot", "on-demand"]
    for pool in found.values():
        assert requirement(pool, "karpenter.k8s.aws/instance-family") == ["g4dn", "g5", "g6"]
        assert requirement(pool, "kubernetes.io/arch") == ["amd64"]


def test_pools_are_tainted_labelled_and_consolidate(graph: PlanResult) -> None:
    for name, pool in pools(graph).items():
        environment = name.removeprefix("gpu-")
        spec = pool.inputs["spec"]
        template = spec["template"]
        assert template["metadata"]["labels"] == {ENVIRONMENT_LABEL: environment}
        taints = {(t["key"], t.get("value"), t["effect"]) for t in template["spec"]["taints"]}
        assert taints == {
            ("nvidia.com/gpu", None, "NoSchedule"),
            (ENVIRONMENT_LABEL, environment, "NoSchedule"),
        }
        assert template["spec"]["nodeClassRef"]["kind"] == "EC2NodeClass"
        assert re.fullmatch(r"\d+h", template["spec"]["expireAfter"])
        assert spec["disruption"]["consolidationPolicy"] == "WhenEmptyOrUnderutilized"
        assert re.fullmatch(r"\d+[smh]", spec["disruption"]["consolidateAfter"])
    prod = pools(graph)["gpu-prod"].inputs["spec"]["disruption"]
    assert prod["budgets"] == [{"nodes": "1"}]


def test_node_class_is_pinned_imdsv2_encrypted_and_found_by_discovery(graph: PlanResult) -> None:
    node_class = gpu_node_class(graph)
    spec = node_class.inputs["spec"]
    (term,) = spec["amiSelectorTerms"]
    assert re.fullmatch(r"al2023@v\d{8}", term["alias"])
    assert "latest" not in json.dumps(spec)
    assert spec["metadataOptions"]["httpTokens"] == "required"
    assert spec["metadataOptions"]["httpPutResponseHopLimit"] == 1
    (root,) = spec["blockDeviceMappings"]
    assert root["rootVolume"] is True
    assert root["ebs"]["volumeType"] == "gp3"
    assert root["ebs"]["encrypted"] is True
    assert int(root["ebs"]["volumeSize"].removesuffix("Gi")) >= 100
    discovery = {"tags": {"karpenter.sh/discovery": cluster_name(graph)}}
    assert spec["subnetSelectorTerms"] == [discovery]
    assert spec["securityGroupSelectorTerms"] == [discovery]
    # The discovery tag is on exactly the private subnets and on the cluster security group.
    tagged = [
        s
        for s in graph.of_type(rt.SUBNET)
        if tags_of(s.inputs).get("karpenter.sh/discovery") == cluster_name(graph)
    ]
    assert {tags_of(s.inputs)["Tier"] for s in tagged} == {"private"}
    (sg_tag,) = graph.of_type(rt.EC2_TAG)
    assert (sg_tag.inputs["key"], sg_tag.inputs["value"]) == (
        "karpenter.sh/discovery",
        cluster_name(graph),
    )


def test_karpenter_objects_match_the_v1_schema(graph: PlanResult) -> None:
    documents = [
        object_document(r)
        for r in (*graph.of_type(rt.NODE_POOL), *graph.of_type(rt.EC2_NODE_CLASS))
    ]
    # Two GPU pools and their class, the system tier's overflow pool and its class.
    assert len(documents) == 5
    for document in documents:
        karpenter_schema.validate(document)


def test_schema_models_refuse_what_karpenter_refuses(graph: PlanResult) -> None:
    node_class = gpu_node_class(graph)
    document = object_document(node_class)
    misspelt = {**document, "spec": {**document["spec"], "amiSelectorTerm": []}}
    with pytest.raises(ValidationError):
        karpenter_schema.validate(misspelt)
    both = {**document, "spec": {**document["spec"], "instanceProfile": "x"}}
    with pytest.raises(ValidationError, match="exactly one of"):
        karpenter_schema.validate(both)
    pool = object_document(next(iter(graph.of_type(rt.NODE_POOL))))
    bad_budget = json.loads(json.dumps(pool))
    bad_budget["spec"]["disruption"]["budgets"] = [{"nodes": "one"}]
    with pytest.raises(ValidationError):
        karpenter_schema.validate(bad_budget)


def test_karpenter_node_role_and_its_ec2_linux_access_entry(graph: PlanResult) -> None:
    role = karpenter_node_role(graph)
    attached = {
        a.inputs["policyArn"].rsplit("/", 1)[-1]
        for a in graph.of_type(rt.IAM_ROLE_POLICY_ATTACHMENT)
        if a.inputs["role"] == name_of(role)
    }
    # No CNI policy: aws-node has its own Pod Identity role (cluster layer).
    assert attached == {
        "AmazonEKSWorkerNodePolicy",
        "AmazonEC2ContainerRegistryPullOnly",
        "AmazonSSMManagedInstanceCore",
    }
    (entry,) = graph.of_type(rt.EKS_ACCESS_ENTRY)
    assert entry.inputs["type"] == "EC2_LINUX"
    assert entry.inputs["principalArn"] == role_arn(role)
    assert entry.inputs["clusterName"] == cluster_name(graph)


def test_controller_runs_under_pod_identity(graph: PlanResult) -> None:
    (association,) = [
        a
        for a in graph.of_type(rt.POD_IDENTITY_ASSOCIATION)
        if a.inputs["serviceAccount"] == "karpenter"
    ]
    assert association.inputs["namespace"] == "kube-system"
    assert release(graph, "karpenter").inputs["namespace"] == "kube-system"
    roles = {role_arn(r): r for r in graph.of_type(rt.IAM_ROLE)}
    (trust,) = json.loads(roles[association.inputs["roleArn"]].inputs["assumeRolePolicy"])[
        "Statement"
    ]
    assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert association.urn in release(graph, "karpenter").dependencies


MUTATING_EC2 = {
    "ec2:RunInstances",
    "ec2:CreateFleet",
    "ec2:CreateLaunchTemplate",
    "ec2:CreateTags",
    "ec2:TerminateInstances",
    "ec2:DeleteLaunchTemplate",
}


def test_controller_policy_is_least_privilege(graph: PlanResult) -> None:
    statements = controller_policy(graph)
    owned = f"kubernetes.io/cluster/{cluster_name(graph)}"
    for statement in statements:
        actions = set(as_list(statement["Action"]))
        assert statement["Effect"] == "Allow"
        assert not any(a == "*" or a.endswith(":*") for a in actions), statement["Sid"]
        resources = as_list(statement["Resource"])
        # Launching or changing instances, volumes, interfaces or launch templates is
        # allowed only on what carries this cluster's ownership tag.
        touches_instances = any(
            re.search(r":(instance|launch-template|volume|network-interface|fleet)/", r)
            for r in resources
        )
        if actions & MUTATING_EC2 and touches_instances:
            conditions = json.dumps(statement.get("Condition", {}))
            assert owned in conditions, statement["Sid"]
            assert "karpenter.sh/nodepool" in conditions, statement["Sid"]
        if any(a.startswith("iam:") and a not in {"iam:ListInstanceProfiles"} for a in actions):
            assert all(":instance-profile/" in r or ":role/" in r for r in resources)
    by_sid = {s["Sid"]: s for s in statements}
    (queue,) = graph.of_type(rt.SQS_QUEUE)
    assert by_sid["AllowInterruptionQueueActions"]["Resource"] == queue_arn(queue)
    assert by_sid["AllowPassingInstanceRole"]["Resource"] == role_arn(karpenter_node_role(graph))
    assert by_sid["AllowRegionalReadActions"]["Condition"] == {
        "StringEquals": {"aws:RequestedRegion": "us-east-1"}
    }
    cluster_arn = f"arn:aws:eks:us-east-1:{ACCOUNT_ID}:cluster/{cluster_name(graph)}"
    assert by_sid["AllowAPIServerEndpointDiscovery"]["Resource"] == cluster_arn


def test_device_plugin_only_on_gpu_nodes_and_tolerates_every_pool_taint(
    graph: PlanResult,
) -> None:
    plugin = release(graph, "nvidia-device-plugin")
    assert plugin.inputs["repositoryOpts"]["repo"] == "https://nvidia.github.io/k8s-device-plugin"
    assert plugin.inputs["chart"] == "nvidia-device-plugin"
    values = plugin.inputs["values"]
    terms = values["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    (term,) = terms["nodeSelectorTerms"]
    assert term["matchExpressions"] == [
        {
            "key": "karpenter.k8s.aws/instance-gpu-manufacturer",
            "operator": "In",
            "values": ["nvidia"],
        }
    ]
    tolerations = values["tolerations"]
    for pool in pools(graph).values():
        for taint in pool.inputs["spec"]["template"]["spec"]["taints"]:
            assert any(
                t["key"] == taint["key"]
                and t.get("effect") in (None, taint["effect"])
                and (t["operator"] == "Exists" or t.get("value") == taint.get("value"))
                for t in tolerations
            ), taint


def test_helm_releases_render_with_their_values(graph: PlanResult) -> None:
    document = helm_document(release(graph, "karpenter"))
    assert document["version"] == pinned_software().karpenter_version
    assert document["values"]["settings"]["interruptionQueue"]


def test_configured_families_and_capacity_reach_the_pools(run_plan: PlanRunner) -> None:
    graph = run_plan(
        {
            "pingvas-infra:gpu": {
                "instanceFamilies": ["g6", "g6e"],
                "pools": {
                    "dev": {"capacityTypes": ["spot", "on-demand"]},
                    "prod": {"capacityTypes": ["on-demand"], "disruptionBudgetNodes": "20%"},
                },
            }
        }
    )
    found = pools(graph)
    assert requirement(found["gpu-dev"], "karpenter.k8s.aws/instance-family") == ["g6", "g6e"]
    assert requirement(found["gpu-dev"], "karpenter.sh/capacity-type") == ["spot", "on-demand"]
    assert requirement(found["gpu-prod"], "karpenter.sh/capacity-type") == ["on-demand"]
    assert found["gpu-prod"].inputs["spec"]["disruption"]["budgets"] == [{"nodes": "20%"}]
    assert "budgets" not in found["gpu-dev"].inputs["spec"]["disruption"]


def test_plan_writes_every_karpenter_object_one_per_file(graph: PlanResult, tmp_path: Path) -> None:
    write_manifests(graph, tmp_path)
    for relative in (
        "cluster/ec2nodeclass-gpu.yaml",
        "cluster/nodepool-gpu-dev.yaml",
        "cluster/nodepool-gpu-prod.yaml",
        "helm/karpenter-crd.yaml",
        "helm/karpenter.yaml",
        "helm/nvidia-device-plugin.yaml",
    ):
        (document,) = list(yaml.safe_load_all((tmp_path / relative).read_text()))
        if "kind" in document:
            karpenter_schema.validate(document)
        else:
            pinned = pinned_software()
            assert document["version"] in {
                pinned.karpenter_version,
                pinned.device_plugin_version,
            }
            assert isinstance(document["values"], dict)
