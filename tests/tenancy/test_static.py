"""The static manifests in k8s_manifests/ say what the design guide says, corrected where it
errs."""

from __future__ import annotations

from typing import Any

import pytest

from pingvas_infra.environments import ENVIRONMENTS
from pingvas_infra.manifests import ManifestError
from pingvas_infra.tenancy.static import (
    KIND_CLASSES,
    QUOTA_FILE,
    SYSTEM_NAMESPACE,
    StaticObject,
    gpu_quotas,
    resource_class,
    static_objects,
)

# The design guide's ResourceQuotas, figure for figure.
GUIDE_QUOTAS = {
    "dev": {
        "requests.cpu": "20",
        "requests.memory": "50Gi",
        "requests.nvidia.com/gpu": "3",
        "pods": "50",
        "services": "20",
        "persistentvolumeclaims": "10",
    },
    "prod": {
        "requests.cpu": "50",
        "requests.memory": "200Gi",
        "requests.nvidia.com/gpu": "15",
        "pods": "200",
        "services": "50",
        "persistentvolumeclaims": "30",
    },
}
GUIDE_PRIORITIES = {"prod-critical": 2000000, "prod-high": 1000000, "dev-low": 100000}


@pytest.fixture(scope="module")
def objects() -> list[StaticObject]:
    return static_objects()


def of_kind(objects: list[StaticObject], kind: str) -> list[StaticObject]:
    return [o for o in objects if o.kind == kind]


def test_every_object_maps_to_a_typed_class(objects: list[StaticObject]) -> None:
    assert objects
    for item in objects:
        assert (item.document["apiVersion"], item.kind) in KIND_CLASSES
        assert item.resource_class is KIND_CLASSES[(item.document["apiVersion"], item.kind)]


def test_an_unknown_kind_is_refused_naming_the_allowed_ones() -> None:
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}}
    with pytest.raises(ManifestError) as caught:
        resource_class(deployment, "extra.yaml")
    message = str(caught.value)
    assert "extra.yaml: apps/v1/Deployment 'web'" in message
    for api_version, kind in KIND_CLASSES:
        assert f"{api_version}/{kind}" in message


def test_top_level_fields_become_snake_case_arguments(objects: list[StaticObject]) -> None:
    (dev_low,) = [o for o in of_kind(objects, "PriorityClass") if o.name == "dev-low"]
    arguments = dev_low.arguments()
    assert arguments["global_default"] is False
    assert arguments["preemption_policy"] == "Never"
    assert "apiVersion" not in arguments
    assert "kind" not in arguments


def test_namespaces_carry_environment_and_pod_security_labels(
    objects: list[StaticObject],
) -> None:
    namespaces = {o.name: o.document["metadata"]["labels"] for o in of_kind(objects, "Namespace")}
    assert set(namespaces) == {*(env.namespace for env in ENVIRONMENTS), SYSTEM_NAMESPACE}
    for env in ENVIRONMENTS:
        labels = namespaces[env.namespace]
        assert labels["environment"] == env.name
        assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
        assert labels["pod-security.kubernetes.io/warn"] == "restricted"
        assert labels["pod-security.kubernetes.io/audit"] == "restricted"
        assert "istio-injection" not in labels
    assert namespaces[SYSTEM_NAMESPACE]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_every_namespaced_object_lives_in_a_namespace_of_the_layer(
    objects: list[StaticObject],
) -> None:
    created = {o.name for o in of_kind(objects, "Namespace")}
    cluster_scoped = (
        "Namespace",
        "PriorityClass",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
    )
    for item in objects:
        if item.kind not in cluster_scoped:
            assert item.namespace in created, item


def _quotas(objects: list[StaticObject]) -> dict[str, dict[str, Any]]:
    return {
        o.namespace: o.document["spec"]
        for o in of_kind(objects, "ResourceQuota")
        if "scopeSelector" not in o.document["spec"] and o.namespace
    }


def test_quotas_keep_the_guides_figures(objects: list[StaticObject]) -> None:
    """Every figure of the design guide, unchanged; what is added on top (memory and disk
    limits, storage, object counts) is proven in test_quotas.py."""
    quotas = {ns: spec["hard"] for ns, spec in _quotas(objects).items()}
    assert set(quotas) == set(GUIDE_QUOTAS)
    for namespace, figures in GUIDE_QUOTAS.items():
        assert {key: quotas[namespace][key] for key in figures} == figures


def test_gpu_quotas_are_the_environments_quota_figures(objects: list[StaticObject]) -> None:
    """What __main__.py hands the GPU layer as the NodePool caps: the GPU figure of each
    environment's own quota, not of the quota that scopes prod priorities in dev."""
    assert gpu_quotas(objects) == {
        env.name: int(GUIDE_QUOTAS[env.namespace]["requests.nvidia.com/gpu"])
        for env in ENVIRONMENTS
    }


def test_a_quota_without_a_gpu_figure_is_refused_naming_the_file(
    objects: list[StaticObject],
) -> None:
    def without_gpus(item: StaticObject) -> StaticObject:
        if item.kind != "ResourceQuota" or item.file != QUOTA_FILE or item.namespace != "dev":
            return item
        hard = {k: v for k, v in item.document["spec"]["hard"].items() if "gpu" not in k}
        return StaticObject(item.file, {**item.document, "spec": {"hard": hard}})

    changed = [without_gpus(item) for item in objects]
    with pytest.raises(ManifestError, match=f"{QUOTA_FILE}: quota for dev sets no"):
        gpu_quotas(changed)


def test_an_environment_without_a_quota_is_refused(objects: list[StaticObject]) -> None:
    without_prod = [o for o in objects if not (o.kind == "ResourceQuota" and o.namespace == "prod")]
    with pytest.raises(ManifestError, match="no ResourceQuota for prod"):
        gpu_quotas(without_prod)


def test_limit_ranges_default_every_request_a_quota_requires(
    objects: list[StaticObject],
) -> None:
    """A pod naming no requests is admitted under the quota: every requests.<resource> and
    limits.<resource> a quota caps among cpu and memory (the ones Kubernetes insists on)
    gets a default. Limits are defaulted for memory and disk only, never for CPU or GPUs."""
    limit_ranges = {
        o.namespace: o.document["spec"]["limits"] for o in of_kind(objects, "LimitRange")
    }
    for namespace, quota in _quotas(objects).items():
        (container,) = [item for item in limit_ranges[namespace] if item["type"] == "Container"]
        for key in quota["hard"]:
            kind, _, resource = key.partition(".")
            if resource in ("cpu", "memory"):
                defaults = container["defaultRequest" if kind == "requests" else "default"]
                assert resource in defaults, key
        assert set(container["default"]) == {"memory", "ephemeral-storage"}
        assert "nvidia.com/gpu" not in container["defaultRequest"]


def test_priority_classes_are_the_guides_and_none_is_default(objects: list[StaticObject]) -> None:
    classes = {o.name: o.document for o in of_kind(objects, "PriorityClass")}
    assert {name: c["value"] for name, c in classes.items()} == GUIDE_PRIORITIES
    assert all(c["globalDefault"] is False for c in classes.values())
    assert classes["dev-low"]["preemptionPolicy"] == "Never"
    assert {env.priority_class for env in ENVIRONMENTS} <= set(classes)


def test_dev_cannot_run_pods_at_prod_priority(objects: list[StaticObject]) -> None:
    prod_classes = {o.name for o in of_kind(objects, "PriorityClass") if o.name.startswith("prod-")}
    scoped = [
        o.document["spec"]
        for o in of_kind(objects, "ResourceQuota")
        if o.namespace == "dev" and "scopeSelector" in o.document["spec"]
    ]
    blocked: set[str] = set()
    for spec in scoped:
        if spec["hard"] != {"pods": "0"}:
            continue
        for expression in spec["scopeSelector"]["matchExpressions"]:
            if expression["scopeName"] == "PriorityClass" and expression["operator"] == "In":
                blocked |= set(expression["values"])
    assert prod_classes <= blocked


def test_every_namespace_denies_by_default(objects: list[StaticObject]) -> None:
    for namespace in (o.name for o in of_kind(objects, "Namespace")):
        deny = [
            o.document["spec"]
            for o in of_kind(objects, "NetworkPolicy")
            if o.namespace == namespace and o.name == "default-deny"
        ]
        assert deny == [{"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}]
