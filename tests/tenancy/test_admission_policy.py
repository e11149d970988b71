"""The placement rule that keeps dev pods off prod GPU nodes, evaluated with a real CEL
interpreter (cel-python) on the policy exactly as k8s_manifests/ declares it.

The API server evaluates ValidatingAdmissionPolicy expressions in CEL with `object` (the
pod) and `namespaceObject` (its namespace) bound; so does this test.
"""

from __future__ import annotations

from typing import Any

import celpy
import pytest

from pingvas_infra import resource_types as rt
from pingvas_infra.manifests import load_documents
from pingvas_infra.plan.model import PlanResult

POLICY_FILE = "admission-policies.yaml"


def documents() -> dict[str, dict[str, Any]]:
    return {d["kind"]: d for d in load_documents(POLICY_FILE)}


def namespaces() -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in load_documents("namespaces.yaml")}


def admitted(pod_spec: dict[str, Any], namespace: str) -> bool:
    """True when every validation of the policy holds for a pod in ``namespace``."""
    environment = celpy.Environment()
    bindings = {
        "object": celpy.json_to_cel({"spec": pod_spec}),
        "namespaceObject": celpy.json_to_cel(namespaces()[namespace]),
    }
    results = []
    for validation in documents()["ValidatingAdmissionPolicy"]["spec"]["validations"]:
        program = environment.program(environment.compile(validation["expression"]))
        results.append(bool(program.evaluate(bindings)))
        # The message must evaluate too, or the API server answers with a generic one.
        message = environment.program(environment.compile(validation["messageExpression"]))
        assert namespace in str(message.evaluate(bindings))
    return all(results)


def toleration(key: str | None = None, **fields: str) -> dict[str, Any]:
    return {**({"key": key} if key is not None else {}), **fields}


ENV = "pingvas.io/environment"
GPU = "nvidia.com/gpu"


@pytest.mark.parametrize(
    ("namespace", "tolerations", "allowed"),
    [
        ("dev", None, True),
        ("dev", [toleration(GPU, operator="Exists", effect="NoSchedule")], True),
        ("dev", [toleration(ENV, operator="Equal", value="dev", effect="NoSchedule")], True),
        ("prod", [toleration(ENV, value="prod", effect="NoSchedule")], True),
        ("dev", [toleration(ENV, operator="Equal", value="prod", effect="NoSchedule")], False),
        ("prod", [toleration(ENV, value="dev")], False),
        ("dev", [toleration(ENV, operator="Exists")], False),
        ("dev", [toleration(operator="Exists")], False),
        ("dev", [toleration("", operator="Exists")], False),
        ("dev", [toleration("node.kubernetes.io/not-ready", operator="Exists")], True),
        (
            "dev",
            [toleration(GPU, operator="Exists"), toleration(ENV, value="prod")],
            False,
        ),
    ],
)
def test_pods_may_tolerate_only_their_own_environment(
    namespace: str, tolerations: list[dict[str, Any]] | None, allowed: bool
) -> None:
    spec: dict[str, Any] = {"containers": [{"name": "app", "image": "app:1"}]}
    if tolerations is not None:
        spec["tolerations"] = tolerations
    assert admitted(spec, namespace) is allowed


def test_a_pod_tolerating_a_pool_is_admitted_only_in_that_pools_environment(
    graph: PlanResult,
) -> None:
    """Tied to the real NodePools: their taints are what the policy guards."""
    pools = graph.of_type(rt.NODE_POOL)
    assert len(pools) == 2
    for pool in pools:
        template = pool.inputs["spec"]["template"]
        environment = template["metadata"]["labels"][ENV]
        taints = template["spec"]["taints"]
        assert {t["key"] for t in taints} >= {ENV, GPU}
        spec = {
            "containers": [{"name": "worker", "image": "sd:1"}],
            "tolerations": [
                {"key": t["key"], "operator": "Equal", "value": t.get("value", ""), **t}
                for t in taints
            ],
        }
        other = "prod" if environment == "dev" else "dev"
        assert admitted(spec, environment)
        assert not admitted(spec, other)


def test_the_binding_covers_the_environment_namespaces_only() -> None:
    binding = documents()["ValidatingAdmissionPolicyBinding"]["spec"]
    assert binding["policyName"] == "pingvas-environment-placement"
    assert binding["validationActions"] == ["Deny"]
    (selector,) = binding["matchResources"]["namespaceSelector"]["matchExpressions"]
    selected = {
        name
        for name, namespace in namespaces().items()
        if namespace["metadata"].get("labels", {}).get(selector["key"]) in selector["values"]
    }
    assert selected == {"dev", "prod"}


def test_the_policy_is_applied_by_the_tenancy_layer(graph: PlanResult) -> None:
    kinds = {r.inputs["kind"] for r in graph.resources if r.type.startswith(rt.ADMISSION_PREFIX)}
    assert kinds == {"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"}
