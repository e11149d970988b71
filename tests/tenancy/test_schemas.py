"""Every Kubernetes object the stack builds is valid for the cluster's version.

Core objects go through `kubernetes-validate` in strict mode (unknown fields are errors)
against the JSON schema of the cluster's Kubernetes minor; Karpenter's custom resources,
which it does not know, through typed models of their v1 schema.
"""

from __future__ import annotations

import importlib
from typing import Any

import kubernetes_validate
import pytest

from pingvas_infra.plan.kubernetes import kubernetes_objects
from pingvas_infra.plan.model import PlanResult
from tests.conftest import HARNESS_KUBERNETES_VERSION

KARPENTER_GROUPS = ("karpenter.sh", "karpenter.k8s.aws")
KARPENTER_MODELS = "pingvas_infra.gpu.karpenter_schema"


def _group(document: dict[str, Any]) -> str:
    api_version = str(document["apiVersion"])
    group, slash, _ = api_version.partition("/")
    return group if slash else ""


def _core_problems(graph: PlanResult, version: str) -> tuple[list[str], int]:
    problems, checked = [], 0
    for item in kubernetes_objects(graph):
        if _group(item.document) in KARPENTER_GROUPS:
            continue
        try:
            kubernetes_validate.validate(item.document, version, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            # A custom resource of another project: not a core object.
            continue
        except kubernetes_validate.ValidationError as error:
            problems.append(f"{item.relative_path}: {error.message} at {list(error.path)}")
        checked += 1
    return problems, checked


def test_every_tenancy_object_validates_strictly(tenancy_graph: PlanResult) -> None:
    problems, checked = _core_problems(tenancy_graph, HARNESS_KUBERNETES_VERSION)
    assert problems == []
    assert checked == len(kubernetes_objects(tenancy_graph))


def test_an_invalid_object_is_caught() -> None:
    """The check has teeth: strict mode refuses a misspelt field."""
    policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "x", "namespace": "dev"},
        "spec": {"podSelector": {}, "policyType": ["Ingress"]},
    }
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(policy, HARNESS_KUBERNETES_VERSION, strict=True)


def _cluster_version(graph: PlanResult) -> str | None:
    clusters = graph.of_type("eks:index:Cluster")
    return str(clusters[0].inputs["version"]) if clusters else None


def test_every_core_object_of_the_stack_validates(graph: PlanResult) -> None:
    """The whole default stack, every layer's objects, against its cluster's version."""
    if not kubernetes_objects(graph):
        pytest.skip("the default stack applies no Kubernetes objects yet")
    version = _cluster_version(graph)
    assert version, "the stack applies Kubernetes objects but defines no EKS cluster version"
    problems, checked = _core_problems(graph, version)
    assert problems == []
    assert checked


def test_every_karpenter_object_of_the_stack_matches_its_v1_model(graph: PlanResult) -> None:
    documents = [
        o.document for o in kubernetes_objects(graph) if _group(o.document) in KARPENTER_GROUPS
    ]
    if not documents:
        pytest.skip("the default stack defines no Karpenter objects yet")
    models = importlib.import_module(KARPENTER_MODELS)
    for document in documents:
        assert str(document["apiVersion"]).endswith("/v1"), document["apiVersion"]
        getattr(models, str(document["kind"])).model_validate(document)
