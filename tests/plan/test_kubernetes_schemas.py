"""Every Kubernetes object the stack applies is valid for the cluster's version.

Core objects go through `kubernetes-validate` in strict mode (unknown fields are errors)
against the JSON schema of the Kubernetes minor the cluster config sets; Karpenter's
custom resources, which it does not know, through typed models of their v1 schema
(tests/support/karpenter_schema.py). The objects are the ones the plan renders to
build/plan/manifests/, taken from the real program's graph.
"""

from __future__ import annotations

import json
from typing import Any

import kubernetes_validate
import pytest

from pingvas_infra import resource_types as rt
from pingvas_infra.plan.kubernetes import RenderedObject, kubernetes_objects
from pingvas_infra.plan.model import PlanResult
from pingvas_infra.plan.stackfile import StackFile
from tests.support import karpenter_schema
from tests.support.config_cases import config_with
from tests.support.plan_graph import PlanRunner

KARPENTER_GROUPS = ("karpenter.sh", "karpenter.k8s.aws")
# Settings that add objects the default stack does not apply.
VARIANTS = {
    "argocd": {
        "pingvas-infra:operations": {
            "argocd": {"enabled": True, "repoUrl": "https://github.com/pingvas/services"}
        }
    },
    "mesh": {"pingvas-infra:tenancy": {"serviceMesh": "istio"}},
}


@pytest.fixture(scope="module")
def version(stack_file: StackFile, graph: PlanResult) -> str:
    """The cluster config's Kubernetes minor, the one the EKS cluster is created with."""
    configured = config_with(stack_file, {}).cluster.kubernetes_version
    assert graph.one(rt.EKS_CLUSTER_COMPONENT).inputs["version"] == configured
    return configured


def _group(document: dict[str, Any]) -> str:
    group, slash, _ = str(document["apiVersion"]).partition("/")
    return group if slash else ""


def core_problems(objects: list[RenderedObject], version: str) -> tuple[list[str], set[str]]:
    """Strict-schema problems of every core object, and the kinds checked."""
    problems: list[str] = []
    kinds: set[str] = set()
    for item in objects:
        if _group(item.document) in KARPENTER_GROUPS:
            continue
        try:
            kubernetes_validate.validate(item.document, version, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            # A custom resource of another project (Prometheus Operator, Argo CD).
            continue
        except kubernetes_validate.ValidationError as error:
            problems.append(f"{item.relative_path}: {error.message} at {list(error.path)}")
        kinds.add(str(item.document["kind"]))
    return problems, kinds


def test_every_core_object_of_the_default_stack_validates(graph: PlanResult, version: str) -> None:
    problems, kinds = core_problems(kubernetes_objects(graph, reveal=True), version)
    assert problems == []
    # Every layer's kinds were checked, not skipped as unknown.
    assert {
        "Namespace",
        "NetworkPolicy",
        "ResourceQuota",
        "LimitRange",
        "PriorityClass",
        "Secret",
        "ServiceAccount",
        "Job",
        "CronJob",
        "ConfigMap",
        "PersistentVolume",
        "PersistentVolumeClaim",
        "StorageClass",
    } <= kinds


@pytest.mark.parametrize("variant", VARIANTS)
def test_what_each_variant_changes_validates(
    graph: PlanResult, run_plan: PlanRunner, version: str, variant: str
) -> None:
    default = {
        (o.relative_path, json.dumps(o.document, sort_keys=True))
        for o in kubernetes_objects(graph, reveal=True)
    }
    changed = [
        o
        for o in kubernetes_objects(run_plan(VARIANTS[variant]), reveal=True)
        if (o.relative_path, json.dumps(o.document, sort_keys=True)) not in default
    ]
    problems, kinds = core_problems(changed, version)
    assert problems == []
    assert kinds


def test_every_karpenter_object_matches_its_v1_model(graph: PlanResult) -> None:
    documents = [
        o.document for o in kubernetes_objects(graph) if _group(o.document) in KARPENTER_GROUPS
    ]
    assert {d["kind"] for d in documents} == {"NodePool", "EC2NodeClass"}
    for document in documents:
        assert str(document["apiVersion"]).endswith("/v1"), document["apiVersion"]
        karpenter_schema.validate(document)


def test_an_invalid_object_is_caught(version: str) -> None:
    """The check has teeth: strict mode refuses a misspelt field."""
    policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "x", "namespace": "dev"},
        "spec": {"podSelector": {}, "policyType": ["Ingress"]},
    }
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(policy, version, strict=True)
