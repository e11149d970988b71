"""The stack against the upstream files of the controller version it pins: the stored IAM
policy, chart values and CRDs are the published ones (sha256), every value the stack sets
is a key of the chart, and every IngressClassParams it renders is valid for the CRD."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from pingvas_infra import resource_types as rt
from pingvas_infra.ingress.config import controller_pin
from pingvas_infra.manifests import load_documents
from pingvas_infra.plan.model import PlanResult
from pingvas_infra.tables import load_table
from tests.support.plan_graph import PlanRunner

FIXTURES = Path(__file__).parent / "fixtures"
SOURCES = yaml.safe_load((FIXTURES / "SOURCES.yaml").read_text(encoding="utf-8"))["files"]
CHART_VALUES = FIXTURES / "aws-load-balancer-controller-3.5.0-values.yaml"
PARAMS_CRD = FIXTURES / "elbv2.k8s.aws_ingressclassparams.yaml"
BINDINGS_CRD = FIXTURES / "elbv2.k8s.aws_targetgroupbindings.yaml"
# Values whose content is the stack's own (maps of labels, affinity terms, resources): only
# the key itself must exist in the chart.
FREE_FORM = {
    "affinity",
    "nodeSelector",
    "resources",
    "defaultTags",
    "podDisruptionBudget",
    "serviceAccount.name",
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_the_stored_iam_policy_is_the_published_file_of_the_pinned_version() -> None:
    entry = load_table("ingress")["controller"]["iamPolicy"]
    stored = resources.files("pingvas_infra.tables").joinpath(entry["file"]).read_bytes()
    assert sha256(stored) == entry["sha256"]
    assert "/11eb202c97e4ae2ee45e0658c4cde9a4b59f33d4/" in entry["source"]  # tag v3.5.0
    assert controller_pin().app_version == "v3.5.0"


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_the_stored_upstream_files_are_verbatim(name: str) -> None:
    assert sha256((FIXTURES / name).read_bytes()) == SOURCES[name]["sha256"]


def _paths(values: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and path not in FREE_FORM and value:
            yield from _paths(value, f"{path}.")
        else:
            yield path


def _has(defaults: Mapping[str, Any], path: str) -> bool:
    node: Any = defaults
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


def test_every_value_the_stack_sets_is_a_key_of_the_pinned_chart(graph: PlanResult) -> None:
    """A misspelt key (vpcID, disableIngressGroupAnnotation) would be ignored by Helm and
    silently leave the controller on its defaults."""
    defaults = yaml.safe_load(CHART_VALUES.read_text(encoding="utf-8"))
    (release,) = [
        r
        for r in graph.of_type(rt.HELM_RELEASE)
        if r.inputs["chart"] == "aws-load-balancer-controller"
    ]
    assert release.inputs["version"] == controller_pin().version
    unknown = [p for p in _paths(release.inputs["values"]) if not _has(defaults, p)]
    assert unknown == []
    # The check would catch the misspellings.
    assert not _has(defaults, "vpcID")
    assert not _has(defaults, "disableIngressGroupAnnotation")


def test_the_chart_defaults_the_stack_overrides_are_the_risky_ones() -> None:
    """What the chart would do left alone: a catch-all `alb` class, the Service webhook in
    every namespace (failurePolicy Fail), no PDB, no resources, WAF and Shield actions on."""
    defaults = yaml.safe_load(CHART_VALUES.read_text(encoding="utf-8"))
    assert defaults["createIngressClassResource"] is True
    assert defaults["ingressClassParams"]["create"] is True
    assert defaults["enableServiceMutatorWebhook"] is True
    assert defaults["serviceMutatorWebhookConfig"]["failurePolicy"] == "Fail"
    assert defaults["podDisruptionBudget"] == {}
    assert defaults["resources"] == {}
    assert defaults["disableIngressGroupNameAnnotation"] is None


def strict(schema: Any) -> Any:
    """The CRD's structural schema with unknown fields refused, as a strict client does
    (the API server would prune them silently)."""
    if isinstance(schema, dict):
        result = {k: strict(v) for k, v in schema.items()}
        if result.get("type") == "object" and "properties" in result:
            result.setdefault("additionalProperties", False)
        return result
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    return schema


def params_schema() -> Any:
    crd = yaml.safe_load(PARAMS_CRD.read_text(encoding="utf-8"))
    (version,) = crd["spec"]["versions"]
    assert version["name"] == "v1beta1" and version["served"] and version["storage"]
    return strict(version["schema"]["openAPIV3Schema"])


def test_every_ingress_class_params_matches_the_crd(
    graph: PlanResult, run_plan: PlanRunner
) -> None:
    with_tls = run_plan(
        {
            "pingvas-infra:ingress": {
                "environments": {
                    env: {
                        "certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/"
                        "0e2bd4d0-4a3e-4f6e-9b5e-1c2d3e4f5a6b",
                        "wafAclArn": "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/"
                        "pingvas/0e2bd4d0-4a3e-4f6e-9b5e-1c2d3e4f5a6b",
                    }
                    for env in ("dev", "prod")
                }
            }
        }
    )
    schema = params_schema()
    documents = [
        p.inputs
        for p in (
            *graph.of_type(rt.INGRESS_CLASS_PARAMS),
            *with_tls.of_type(rt.INGRESS_CLASS_PARAMS),
        )
    ]
    assert len(documents) == 4
    for document in documents:
        jsonschema.validate(document, schema)


def test_the_crd_check_has_teeth() -> None:
    schema = params_schema()
    good = {
        "apiVersion": "elbv2.k8s.aws/v1beta1",
        "kind": "IngressClassParams",
        "metadata": {"name": "x"},
        "spec": {"scheme": "internet-facing"},
    }
    jsonschema.validate(good, schema)
    for bad in (
        {"scheme": "public"},
        {"securityGroups": ["sg-1"]},  # no such field: the class cannot fix security groups
        {"sslRedirectPort": 443},  # a string in the CRD
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**good, "spec": bad}, schema)


def test_the_admission_policy_names_the_controllers_objects_and_identity() -> None:
    """The resource it guards is the CRD's plural, and the one identity it lets create
    TargetGroupBindings is the controller's ServiceAccount."""
    crd = yaml.safe_load(BINDINGS_CRD.read_text(encoding="utf-8"))
    (policy,) = [
        d
        for d in load_documents("admission-policies.yaml")
        if d["kind"] == "ValidatingAdmissionPolicy"
        and d["metadata"]["name"] == "pingvas-internet-entry"
    ]
    rules = policy["spec"]["matchConstraints"]["resourceRules"]
    assert {
        "apiGroups": [crd["spec"]["group"]],
        "resources": [crd["spec"]["names"]["plural"]],
    }.items() <= {
        k: v
        for rule in rules
        for k, v in rule.items()
        if rule["apiGroups"] == [crd["spec"]["group"]]
    }.items()
    pin = controller_pin()
    identity = f"system:serviceaccount:{pin.namespace}:{pin.service_account}"
    assert any(identity in v["expression"] for v in policy["spec"]["validations"])
