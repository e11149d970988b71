"""Kubernetes RBAC rule evaluation for the EKS access policies' documented permissions.

No Kubernetes authorizer runs here (no API server), so this follows the API server's own
rule matching (k8s.io/kubernetes pkg/apis/rbac/v1/evaluation_helpers.go, RuleAllows):
a rule allows a request when its verbs, API groups, resources and resource names each
match; "*" matches anything; a resource rule matches "<resource>/<subresource>" exactly,
or "*/<subresource>"; an empty resourceNames list names every object.

EKS access policies are rule lists of the same shape, bound at one of two scopes: the
cluster (every namespace and the cluster-scoped objects) or a list of namespaces (requests
in those namespaces only; a cluster-scoped request has no namespace and is not covered).
What EKS's authorizer adds that this leaves out: the policies' rules as EKS holds them
(this reads them from AWS's documentation), RBAC objects bound to the entry's Kubernetes
groups (this stack binds none), and the order in which EKS and RBAC authorizers are asked
(either allowing suffices).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ACCESS_POLICIES = Path(__file__).parent.parent / "cluster" / "fixtures" / "eks-access-policies.yaml"
Rule = Mapping[str, Any]


@cache
def access_policy_rules(policy: str) -> tuple[Rule, ...]:
    document = yaml.safe_load(ACCESS_POLICIES.read_text(encoding="utf-8"))
    return tuple(document["policies"][policy])


@dataclass(frozen=True)
class ResourceRequest:
    verb: str
    resource: str
    namespace: str | None
    group: str = ""
    subresource: str = ""
    name: str = ""


def rule_allows(rule: Rule, request: ResourceRequest) -> bool:
    if "resources" not in rule:
        return False  # a nonResourceURLs rule
    verbs, groups = rule["verbs"], rule.get("apiGroups", [""])
    if "*" not in verbs and request.verb not in verbs:
        return False
    if "*" not in groups and request.group not in groups:
        return False
    combined = (
        f"{request.resource}/{request.subresource}" if request.subresource else request.resource
    )
    resource_ok = False
    for resource in rule["resources"]:
        if resource in ("*", combined) or (
            request.subresource and resource == f"*/{request.subresource}"
        ):
            resource_ok = True
    if not resource_ok:
        return False
    names = rule.get("resourceNames") or []
    return not names or request.name in names


@dataclass(frozen=True)
class Association:
    """An access policy associated with an access entry, at its scope."""

    policy: str
    namespaces: Sequence[str] | None  # None: the whole cluster

    def allows(self, request: ResourceRequest) -> bool:
        if self.namespaces is not None:
            # The namespace object itself is asked for with its own name as namespace.
            namespace = request.name if request.resource == "namespaces" else request.namespace
            if namespace not in self.namespaces:
                return False
        return any(rule_allows(rule, request) for rule in access_policy_rules(self.policy))


def allowed(associations: Sequence[Association], request: ResourceRequest) -> bool:
    return any(a.allows(request) for a in associations)
