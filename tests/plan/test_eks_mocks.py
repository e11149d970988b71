"""The offline engine's stand-ins for pulumi-eks's remote components."""

from __future__ import annotations

import json
from typing import Any

from pulumi.runtime import MockResourceArgs

from pingvas_infra import resource_types as rt
from pingvas_infra.plan.mocks import PlanMocks
from pingvas_infra.plan.wire import SECRET_SIG, SIG_KEY, resource_reference


def register(typ: str, name: str, inputs: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
    references: list[Any] = []
    mocks = PlanMocks()

    def record(type_token: str, ref_name: str, state: dict[str, Any]) -> dict[str, Any]:
        references.append((type_token, ref_name, state))
        return resource_reference(f"urn:{ref_name}", "x")

    mocks.register_reference = record
    _, state = mocks.new_resource(
        MockResourceArgs(typ=typ, name=name, inputs=inputs, provider="", custom=False)
    )
    return state, references


def test_eks_cluster_outputs_are_camel_case_with_an_eks_cluster_reference() -> None:
    state, references = register(
        rt.EKS_CLUSTER_COMPONENT,
        "cluster-eks",
        {"name": "demo", "version": "1.35", "privateSubnetIds": ["subnet-1"]},
    )
    assert {
        "eksCluster",
        "kubeconfig",
        "kubeconfigJson",
        "clusterSecurityGroupId",
        "nodeSecurityGroupId",
        "oidcProviderArn",
    } <= set(state)
    assert state["kubeconfigJson"][SIG_KEY] == SECRET_SIG
    kubeconfig = json.loads(state["kubeconfigJson"]["value"])
    assert kubeconfig["users"][0]["user"]["exec"]["args"][-1] == "demo"
    ((type_token, _, cluster),) = references
    assert type_token == rt.EKS_CLUSTER
    assert cluster["name"] == "demo"
    assert cluster["version"] == "1.35"
    assert cluster["vpcConfig"]["clusterSecurityGroupId"] == state["clusterSecurityGroupId"]
    assert cluster["certificateAuthority"]["data"]
    assert cluster["identities"][0]["oidcs"][0]["issuer"].startswith("https://oidc.eks.")


def test_managed_node_group_returns_its_node_group_reference() -> None:
    state, references = register(
        rt.EKS_NODE_GROUP_COMPONENT,
        "system",
        {"capacityType": "SPOT", "instanceTypes": ["t3.medium"]},
    )
    assert set(state) >= {"nodeGroup", "placementGroupName"}
    ((type_token, _, node_group),) = references
    assert type_token == rt.EKS_NODE_GROUP
    assert node_group["capacityType"] == "SPOT"
    assert node_group["status"] == "ACTIVE"


def test_fakes_are_deterministic() -> None:
    first, _ = register(rt.EKS_CLUSTER_COMPONENT, "cluster-eks", {"name": "demo"})
    second, _ = register(rt.EKS_CLUSTER_COMPONENT, "cluster-eks", {"name": "demo"})
    assert first["clusterSecurityGroupId"] == second["clusterSecurityGroupId"]
    assert first["kubeconfigJson"] == second["kubeconfigJson"]
