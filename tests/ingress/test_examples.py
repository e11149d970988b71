"""The documented example service per environment (docs/examples/ingress-<env>.yaml, not
applied by the stack) is valid for Kubernetes 1.35, admitted in its own namespace only, and
reachable through its own environment's entry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from pingvas_infra import resource_types as rt
from pingvas_infra.environments import ENVIRONMENTS
from pingvas_infra.plan.model import PlanResult
from pingvas_infra.plan.stackfile import StackFile
from pingvas_infra.tenancy.network_policies import INGRESS_POD_LABELS
from tests.support.admission import Request, denials, pod_denials
from tests.support.config_cases import config_with
from tests.support.project import PROJECT_DIR

EXAMPLES = PROJECT_DIR / "docs" / "examples"
ENVS = [e.name for e in ENVIRONMENTS]
GROUPS = {"Deployment": ("apps", "deployments"), "Service": ("", "services")}


def example(environment: str) -> dict[str, dict[str, Any]]:
    documents = yaml.safe_load_all((EXAMPLES / f"ingress-{environment}.yaml").read_text())
    return {d["kind"]: d for d in documents}


def moved(document: dict[str, Any], namespace: str) -> dict[str, Any]:
    return {**document, "metadata": {**document["metadata"], "namespace": namespace}}


def ingress_request(document: dict[str, Any], namespace: str) -> Request:
    return Request(
        operation="CREATE",
        resource="ingresses",
        group="networking.k8s.io",
        namespace=namespace,
        object=moved(document, namespace),
    )


@pytest.fixture(scope="module")
def version(stack_file: StackFile) -> str:
    return config_with(stack_file, {}).cluster.kubernetes_version


def test_there_is_one_example_per_environment() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("ingress-*.yaml")) == [
        f"ingress-{env}.yaml" for env in ENVS
    ]


@pytest.mark.parametrize("environment", ENVS)
def test_each_object_validates_against_the_clusters_schemas(environment: str, version: str) -> None:
    objects = example(environment)
    assert set(objects) == {"Deployment", "Service", "Ingress"}
    for document in objects.values():
        assert document["metadata"]["namespace"] == environment
        kubernetes_validate.validate(document, version, strict=True)


@pytest.mark.parametrize("environment", ENVS)
def test_it_is_admitted_in_its_own_namespace_and_refused_in_the_other(environment: str) -> None:
    objects = example(environment)
    other = "prod" if environment == "dev" else "dev"
    assert denials(ingress_request(objects["Ingress"], environment)) == []
    assert denials(ingress_request(objects["Ingress"], other))
    service = Request(
        operation="CREATE", resource="services", namespace=environment, object=objects["Service"]
    )
    assert denials(service) == []
    assert pod_denials(objects["Deployment"]["spec"]["template"]["spec"], environment) == []


@pytest.mark.parametrize("environment", ENVS)
def test_it_reaches_its_pods_through_the_entry_the_stack_builds(
    environment: str, graph: PlanResult, stack_file: StackFile
) -> None:
    """The class exists and serves this environment; the Service sends to the pods'
    port, which the NetworkPolicy opens from the environment's load-balancer subnets to
    pods with the label the Deployment sets."""
    objects = example(environment)
    classes = {
        c.inputs["metadata"]["name"]: c.inputs["metadata"]["labels"]["environment"]
        for c in graph.of_type(rt.INGRESS_CLASS)
    }
    assert classes[objects["Ingress"]["spec"]["ingressClassName"]] == environment
    template = objects["Deployment"]["spec"]["template"]
    assert INGRESS_POD_LABELS.items() <= template["metadata"]["labels"].items()
    (container,) = template["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    (service_port,) = objects["Service"]["spec"]["ports"]
    assert objects["Service"]["spec"]["selector"].items() <= template["metadata"]["labels"].items()
    target = ports[service_port["targetPort"]]
    assert target in config_with(stack_file, {}).tenancy.load_balancer_ports
    (policy,) = [
        p.inputs
        for p in graph.of_type(rt.NETWORK_POLICY)
        if p.inputs["metadata"] == {"name": "allow-load-balancer", "namespace": environment}
    ]
    assert policy["spec"]["podSelector"] == {"matchLabels": INGRESS_POD_LABELS}
    assert {"protocol": "TCP", "port": target} in policy["spec"]["ingress"][0]["ports"]


def test_the_examples_are_documented(stack_file: StackFile) -> None:
    readme = (Path(PROJECT_DIR) / "README.md").read_text(encoding="utf-8")
    for env in ENVS:
        assert f"docs/examples/ingress-{env}.yaml" in readme
