"""Which API resources a Kubernetes version serves, and the resource name of a kind.

No API server runs here, so there is no discovery: what a version serves is read from the
OpenAPI definitions `kubernetes-validate` ships for it (`_definitions.json`, each object
type tagged `x-kubernetes-group-version-kind`). An API group whose kinds were all removed
(`extensions`, gone in 1.22) keeps only its DeleteOptions and WatchEvent there, so none of
its resources is served.

A kind's resource name follows the API machinery's own guess
(k8s.io/apimachinery pkg/api/meta/restmapper.go, UnsafeGuessKindToResource): lower case,
then `s` -> `ses`, `y` -> `ies`, else `s`, and `endpoints` stays as it is. It is right for
every built-in kind; a custom resource declares its plural in its CRD instead.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

# Types every group carries that are not objects anyone stores.
_NOT_STORED = {
    "APIGroup",
    "APIGroupList",
    "APIResourceList",
    "APIVersions",
    "DeleteOptions",
    "Status",
    "WatchEvent",
}
_UNPLURALIZED_SUFFIXES = ("endpoints",)


def resource_of(kind: str) -> str:
    singular = kind.lower()
    if singular.endswith(_UNPLURALIZED_SUFFIXES):
        return singular
    if singular.endswith("s"):
        return singular + "es"
    if singular.endswith("y"):
        return singular.removesuffix("y") + "ies"
    return singular + "s"


def qualified(group: str, resource: str) -> str:
    """`secrets`, `deployments.apps`: how quotas (`count/...`) and RBAC name a resource."""
    return f"{resource}.{group}" if group else resource


@cache
def served_resources(kubernetes_version: str) -> frozenset[str]:
    """Every resource `kubernetes_version` (a minor, `1.35`) serves, qualified."""
    schemas = resources.files("kubernetes_validate") / "kubernetes-json-schema"
    definitions = json.loads(
        (schemas / f"v{kubernetes_version}.0-local-strict" / "_definitions.json").read_text(
            encoding="utf-8"
        )
    )["$defs"]
    found = set()
    for definition in definitions.values():
        for gvk in definition.get("x-kubernetes-group-version-kind", []):
            kind = gvk["kind"]
            if kind in _NOT_STORED or kind.endswith("List"):
                continue
            found.add(qualified(gvk["group"], resource_of(kind)))
    return frozenset(found)
