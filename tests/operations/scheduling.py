"""How the Kubernetes scheduler matches a pod to a node, for the fields the stack sets:
taints and tolerations (k8s.io/api/core/v1 Toleration.ToleratesTaint), node selectors and
required node affinity with In/NotIn/Exists/DoesNotExist."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def tolerates(tolerations: Sequence[Mapping[str, str]], taint: Mapping[str, str]) -> bool:
    for toleration in tolerations:
        if toleration.get("effect") and toleration["effect"] != taint["effect"]:
            continue
        if toleration.get("key") and toleration["key"] != taint["key"]:
            continue
        operator = toleration.get("operator", "Equal")
        if operator == "Exists" or toleration.get("value", "") == taint.get("value", ""):
            return True
    return False


def _expression_holds(expression: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    key, operator = expression["key"], expression["operator"]
    values = expression.get("values") or []
    if operator == "In":
        return labels.get(key) in values
    if operator == "NotIn":
        return labels.get(key) not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    raise NotImplementedError(operator)


def fits(
    pod: Mapping[str, Any], labels: Mapping[str, str], taints: Sequence[Mapping[str, str]]
) -> bool:
    """Whether a pod spec may be scheduled on a node with ``labels`` and ``taints``
    (NoSchedule and NoExecute taints; PreferNoSchedule does not keep a pod away)."""
    for taint in taints:
        if taint["effect"] != "PreferNoSchedule" and not tolerates(
            pod.get("tolerations") or [], taint
        ):
            return False
    selector = pod.get("nodeSelector") or {}
    if any(labels.get(k) != v for k, v in selector.items()):
        return False
    affinity = ((pod.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    )
    if affinity:
        return any(
            all(_expression_holds(e, labels) for e in term.get("matchExpressions", []))
            for term in affinity["nodeSelectorTerms"]
        )
    return True
