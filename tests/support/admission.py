"""The API server's ValidatingAdmissionPolicy evaluation, over k8s_manifests/, with a real
CEL interpreter (cel-python).

For a request (operation, resource, the object, who asks) in a namespace, every binding
whose namespaceSelector selects the namespace brings in its policy (a binding without one
selects every namespace; a cluster-scoped request, namespace "", is never skipped by a
namespaceSelector, and its namespaceObject is null); a policy applies when
one of its resourceRules matches the request's group, resource (with subresource, as
`pods/ephemeralcontainers`) and operation. Its variables are evaluated in order (each may
use the ones before, as `variables.<name>`), then its validations; a validation that is
false denies the request with its message (or messageExpression, which must evaluate to a
string, or the API server would answer with a generic message).

What the real API server does beyond this: matchConditions, paramKind/paramRef and
objectSelector (none of which these policies use), auditAnnotations, type checking of the
expressions against the OpenAPI schema at policy creation (kubernetes-validate checks the
policy objects themselves), and CEL cost limits.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import celpy
from celpy import celtypes

from pingvas_infra.manifests import load_documents

POLICY_FILE = "admission-policies.yaml"
PEOPLE_GROUP_PREFIX = "pingvas:people:"


@cache
def policies() -> dict[str, dict[str, Any]]:
    return {
        d["metadata"]["name"]: d
        for d in load_documents(POLICY_FILE)
        if d["kind"] == "ValidatingAdmissionPolicy"
    }


@cache
def bindings() -> list[dict[str, Any]]:
    return [
        d for d in load_documents(POLICY_FILE) if d["kind"] == "ValidatingAdmissionPolicyBinding"
    ]


@cache
def namespaces() -> dict[str, dict[str, Any]]:
    """The namespaces as the API server holds them (kubernetes.io/metadata.name set)."""
    found: dict[str, dict[str, Any]] = {}
    for document in load_documents("namespaces.yaml"):
        name = document["metadata"]["name"]
        labels = {**document["metadata"].get("labels", {}), "kubernetes.io/metadata.name": name}
        found[name] = {**document, "metadata": {**document["metadata"], "labels": labels}}
    for name in ("kube-system", "monitoring", "argocd"):
        found.setdefault(
            name,
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
            },
        )
    return found


def selects(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """A Kubernetes label selector (matchLabels, matchExpressions)."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression["key"], expression["operator"]
        values = expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


@dataclass(frozen=True)
class Request:
    """One API request, as admission sees it."""

    operation: str
    resource: str
    namespace: str
    object: Mapping[str, Any] | None = None
    old_object: Mapping[str, Any] | None = None
    group: str = ""
    subresource: str = ""
    username: str = "kubernetes-admin"
    groups: Sequence[str] = field(default_factory=lambda: ("system:authenticated",))

    def cel(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "namespace": self.namespace,
            "resource": {"group": self.group, "version": "v1", "resource": self.resource},
            "subResource": self.subresource,
            "userInfo": {"username": self.username, "groups": list(self.groups)},
        }


def _matches(rule: Mapping[str, Any], request: Request) -> bool:
    resource = (
        f"{request.resource}/{request.subresource}" if request.subresource else (request.resource)
    )
    return (
        (request.group in rule["apiGroups"] or "*" in rule["apiGroups"])
        and (resource in rule["resources"] or "*" in rule["resources"])
        and (request.operation in rule["operations"] or "*" in rule["operations"])
    )


_ENVIRONMENT = celpy.Environment()


@cache
def _program(expression: str) -> Any:
    return _ENVIRONMENT.program(_ENVIRONMENT.compile(expression))


def _value(document: Any) -> Any:
    return celpy.json_to_cel(document) if document is not None else None


def evaluate_policy(policy: Mapping[str, Any], request: Request) -> list[str]:
    """The messages of ``policy``'s failed validations for ``request`` (empty: allowed)."""
    activation: dict[str, Any] = {
        "object": _value(request.object),
        "oldObject": _value(request.old_object),
        "namespaceObject": _value(namespaces()[request.namespace]) if request.namespace else None,
        "request": _value(request.cel()),
    }
    variables: dict[Any, Any] = {}
    for variable in policy["spec"].get("variables", []):
        activation["variables"] = celtypes.MapType(variables)
        variables[celtypes.StringType(variable["name"])] = _program(
            variable["expression"]
        ).evaluate(activation)
    activation["variables"] = celtypes.MapType(variables)
    failed = []
    for validation in policy["spec"]["validations"]:
        outcome = _program(validation["expression"]).evaluate(activation)
        if isinstance(outcome, Exception):
            raise AssertionError(f"{validation['expression']!r} failed: {outcome}")
        if bool(outcome):
            continue
        if "messageExpression" in validation:
            message = _program(validation["messageExpression"]).evaluate(activation)
            assert isinstance(message, str), f"messageExpression gave {message!r}"
            failed.append(str(message))
        else:
            failed.append(str(validation["message"]))
    return failed


def denials(request: Request) -> list[str]:
    """Why the API server refuses ``request`` (empty: admitted)."""
    labels = namespaces()[request.namespace]["metadata"]["labels"] if request.namespace else None
    messages: list[str] = []
    for binding in bindings():
        spec = binding["spec"]
        selector = spec.get("matchResources", {}).get("namespaceSelector", {})
        if labels is not None and not selects(selector, labels):
            continue
        assert spec["validationActions"] == ["Deny"]
        policy = policies()[spec["policyName"]]
        if any(_matches(r, request) for r in policy["spec"]["matchConstraints"]["resourceRules"]):
            messages += evaluate_policy(policy, request)
    return messages


_READS_THE_OBJECT = re.compile(r"\b(object|oldObject)\b")


def refused_whatever_the_object(request: Request) -> bool:
    """Whether a policy refuses ``request`` on who asks and where alone: one of its
    validations fails, and none of its variables or validations reads the object, so no
    object of that kind is ever admitted for this identity."""
    labels = namespaces()[request.namespace]["metadata"]["labels"] if request.namespace else None
    for binding in bindings():
        selector = binding["spec"].get("matchResources", {}).get("namespaceSelector", {})
        if labels is not None and not selects(selector, labels):
            continue
        policy = policies()[binding["spec"]["policyName"]]
        rules = policy["spec"]["matchConstraints"]["resourceRules"]
        if not any(_matches(r, request) for r in rules):
            continue
        expressions = [v["expression"] for v in policy["spec"].get("variables", [])]
        expressions += [v["expression"] for v in policy["spec"]["validations"]]
        if any(_READS_THE_OBJECT.search(e) for e in expressions):
            continue
        if evaluate_policy(policy, request):
            return True
    return False


def pod(spec: Mapping[str, Any], name: str = "app") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": dict(spec)}


def container(**fields: Any) -> dict[str, Any]:
    return {"name": "app", "image": "app:1", **fields}


def pod_denials(
    spec: Mapping[str, Any], namespace: str, operation: str = "CREATE", **request: Any
) -> list[str]:
    """Why a pod with ``spec`` is refused in ``namespace`` (empty: admitted)."""
    return denials(
        Request(
            operation=operation, resource="pods", namespace=namespace, object=pod(spec), **request
        )
    )


def environment_pod(namespace: str, **fields: Any) -> dict[str, Any]:
    """A pod spec that passes every rule in ``namespace``, with ``fields`` on top."""
    spec: dict[str, Any] = {"containers": [container()]}
    if namespace == "prod":
        spec["priorityClassName"] = "prod-high"
    spec.update(fields)
    return spec
