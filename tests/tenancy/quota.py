"""The LimitRanger and ResourceQuota admission plugins, over k8s_manifests/
(limit-ranges.yaml, resource-quotas.yaml), for pods, claims and counted objects in a
namespace that fills up as objects are created.

Followed from Kubernetes' own code (k8s.io/kubernetes v1.35):

- the pod API's defaulting (pkg/apis/core/v1/defaults.go): a container that sets a limit
  but no request for a resource gets the limit as its request;
- LimitRanger (plugin/pkg/admission/limitranger/admission.go): a container missing a
  limit gets the Container item's `default`, one missing a request its `defaultRequest`;
  then per container: a `max` needs a limit and bounds request and limit, a `min` bounds
  both from below; a claim's requests.storage is bounded by the PersistentVolumeClaim
  item's min and max;
- LimitRanger's `Pod` items (same file, podRequests/podLimits): a pod's request or limit
  of a resource is the sum over its containers and sidecars (init containers with
  restartPolicy Always), or its largest other init container plus the sidecars before it
  if larger; a `max` needs that limit and bounds it and the request;
- pod validation: a request above its limit is invalid;
- the quota evaluators (pkg/quota/v1/evaluator/core/pods.go, persistent_volume_claims.go,
  generic object counts): a pod's usage is, per resource, the Pod-item sum above; under a
  quota that tracks cpu or memory (requests or limits) every container must set it
  (ephemeral-storage and extended resources are not required: pods.go's validationSet);
  a claim counts
  `persistentvolumeclaims`, `requests.storage` and the same two per StorageClass
  (`<class>.storageclass.storage.k8s.io/...`); any other object counts `count/<resource>`;
  a request whose usage would pass any quota's hard figure is refused.

Left out: quota scopes (the PriorityClass-scoped zero-pod quotas are tested on their own in
test_admission_policy.py), the `min` of `Pod` items and maxLimitRequestRatio (unused here),
pod overhead, and the quota controller's recount of usage (usage here is what this object
created).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from typing import Any

from pingvas_infra.manifests import load_documents
from pingvas_infra.quantities import parse_quantity

# Quota keys that make every container declare the resource (pods.go, validationSet).
MUST_DECLARE = {
    "cpu": ("requests", "cpu"),
    "memory": ("requests", "memory"),
    "requests.cpu": ("requests", "cpu"),
    "requests.memory": ("requests", "memory"),
    "limits.cpu": ("limits", "cpu"),
    "limits.memory": ("limits", "memory"),
}


class Refused(Exception):
    """The API server's answer to an object it does not admit."""


@cache
def limit_range_items(namespace: str) -> tuple[Mapping[str, Any], ...]:
    return tuple(
        item
        for document in load_documents("limit-ranges.yaml")
        if document["metadata"]["namespace"] == namespace
        for item in document["spec"]["limits"]
    )


@cache
def hard_limits(namespace: str) -> tuple[Mapping[str, str], ...]:
    """The unscoped quotas of ``namespace`` (every file of the cluster policy)."""
    found = []
    for file in ("resource-quotas.yaml", "priority-classes.yaml"):
        for document in load_documents(file):
            if document["kind"] != "ResourceQuota":
                continue
            if document["metadata"]["namespace"] != namespace:
                continue
            if "scopeSelector" in document["spec"] or "scopes" in document["spec"]:
                continue
            found.append(document["spec"]["hard"])
    return tuple(found)


def _must_declare(hard: Mapping[str, str]) -> set[tuple[str, str]]:
    return {MUST_DECLARE[key] for key in hard if key in MUST_DECLARE}


def _item(namespace: str, kind: str) -> Mapping[str, Any]:
    items = [i for i in limit_range_items(namespace) if i["type"] == kind]
    return items[0] if items else {}


def quantity(value: str | int) -> Decimal:
    return parse_quantity(str(value))


def pod_total(
    containers: list[dict[str, Any]], inits: list[dict[str, Any]], kind: str
) -> dict[str, Decimal]:
    """A pod's ``kind`` ("requests" or "limits") per resource, as Kubernetes sums it: the
    containers and the sidecars (init containers with restartPolicy Always) add up; each
    other init container runs alone beside the sidecars started before it."""

    def of(container: Mapping[str, Any]) -> dict[str, Decimal]:
        return {r: quantity(v) for r, v in container["resources"][kind].items()}

    def add(total: dict[str, Decimal], more: Mapping[str, Decimal]) -> None:
        for resource, value in more.items():
            total[resource] = total.get(resource, Decimal(0)) + value

    total: dict[str, Decimal] = {}
    for container in containers:
        add(total, of(container))
    sidecars: dict[str, Decimal] = {}
    largest_init: dict[str, Decimal] = {}
    for container in inits:
        if container.get("restartPolicy") == "Always":
            add(total, of(container))
            add(sidecars, of(container))
            running = dict(sidecars)
        else:
            running = dict(sidecars)
            add(running, of(container))
        for resource, value in running.items():
            largest_init[resource] = max(largest_init.get(resource, Decimal(0)), value)
    for resource, value in largest_init.items():
        total[resource] = max(total.get(resource, Decimal(0)), value)
    return total


class Namespace:
    """One namespace's admission, with the quota usage of what it admitted so far."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.used: dict[str, Decimal] = {}

    # --- pods ---------------------------------------------------------------------------

    def _container(self, container: dict[str, Any]) -> dict[str, Any]:
        item = _item(self.name, "Container")
        resources = container.setdefault("resources", {})
        requests = resources.setdefault("requests", {})
        limits = resources.setdefault("limits", {})
        for resource, limit in limits.items():
            requests.setdefault(resource, limit)
        for resource, value in (item.get("default") or {}).items():
            limits.setdefault(resource, value)
        for resource, value in (item.get("defaultRequest") or {}).items():
            requests.setdefault(resource, value)
        problems = []
        name = container.get("name", "")
        for resource, maximum in (item.get("max") or {}).items():
            if resource not in limits:
                problems.append(f"{name}: maximum {resource} is {maximum}, but no limit is set")
            elif quantity(limits[resource]) > quantity(maximum):
                problems.append(
                    f"{name}: maximum {resource} is {maximum}, limit {limits[resource]}"
                )
            if resource in requests and quantity(requests[resource]) > quantity(maximum):
                problems.append(
                    f"{name}: maximum {resource} is {maximum}, request {requests[resource]}"
                )
        for resource, minimum in (item.get("min") or {}).items():
            for kind, values in (("request", requests), ("limit", limits)):
                if resource not in values or quantity(values[resource]) < quantity(minimum):
                    problems.append(f"{name}: minimum {resource} is {minimum} ({kind})")
        for resource, request in requests.items():
            if resource in limits and quantity(request) > quantity(limits[resource]):
                problems.append(
                    f"{name}: {resource} request {request} must be less than or equal to "
                    f"its limit {limits[resource]}"
                )
        if problems:
            raise Refused("; ".join(problems))
        return container

    def _pod_item(self, totals: Mapping[str, Mapping[str, Decimal]]) -> None:
        """The Pod item's maximums, over the pod's totals (podRequests/podLimits)."""
        problems = []
        for resource, maximum in (_item(self.name, "Pod").get("max") or {}).items():
            limit = totals["limits"].get(resource)
            request = totals["requests"].get(resource)
            if limit is None:
                problems.append(f"maximum {resource} usage per Pod is {maximum}, no limit")
            elif limit > quantity(maximum):
                problems.append(f"maximum {resource} usage per Pod is {maximum}, limit {limit}")
            if request is not None and request > quantity(maximum):
                problems.append(f"maximum {resource} usage per Pod is {maximum}, request {request}")
        if problems:
            raise Refused("; ".join(problems))

    def pod(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        """Admit a pod with ``spec``: its spec after the defaults, or Refused."""
        admitted = copy.deepcopy(dict(spec))
        containers = [self._container(c) for c in admitted.get("containers", [])]
        inits = [self._container(c) for c in admitted.get("initContainers", [])]
        totals = {kind: pod_total(containers, inits, kind) for kind in ("requests", "limits")}
        self._pod_item(totals)
        usage: dict[str, Decimal] = {"pods": Decimal(1), "count/pods": Decimal(1)}
        for kind, total in totals.items():
            usage.update({f"{kind}.{resource}": value for resource, value in total.items()})
        for hard in hard_limits(self.name):
            for kind, resource in _must_declare(hard):
                for container in containers + inits:
                    if resource not in container["resources"][kind]:
                        raise Refused(f"must specify {kind}.{resource}")
        self._charge(usage)
        return admitted

    # --- claims and other objects -------------------------------------------------------

    def claim(self, storage: str, storage_class: str) -> None:
        """Admit a PersistentVolumeClaim asking for ``storage`` of ``storage_class``."""
        item = _item(self.name, "PersistentVolumeClaim")
        if "max" in item and quantity(storage) > quantity(item["max"]["storage"]):
            raise Refused(f"maximum storage per claim is {item['max']['storage']}, asked {storage}")
        if "min" in item and quantity(storage) < quantity(item["min"]["storage"]):
            raise Refused(f"minimum storage per claim is {item['min']['storage']}, asked {storage}")
        per_class = f"{storage_class}.storageclass.storage.k8s.io"
        self._charge(
            {
                "persistentvolumeclaims": Decimal(1),
                "count/persistentvolumeclaims": Decimal(1),
                "requests.storage": quantity(storage),
                f"{per_class}/persistentvolumeclaims": Decimal(1),
                f"{per_class}/requests.storage": quantity(storage),
            }
        )

    def create(self, resource: str) -> None:
        """Admit one more object of ``resource`` (`secrets`, `deployments.apps`, ...)."""
        usage = {f"count/{resource}": Decimal(1)}
        legacy = {"secrets", "configmaps", "services", "persistentvolumeclaims"}
        if resource in legacy:
            usage[resource] = Decimal(1)
        self._charge(usage)

    def _charge(self, usage: Mapping[str, Decimal]) -> None:
        exceeded = [
            f"{resource}, requested {asked}, used {self.used.get(resource, Decimal(0))}, "
            f"limited {hard[resource]}"
            for hard in hard_limits(self.name)
            for resource, asked in usage.items()
            if resource in hard
            and self.used.get(resource, Decimal(0)) + asked > quantity(hard[resource])
        ]
        if exceeded:
            raise Refused("exceeded quota: " + "; ".join(exceeded))
        for resource, asked in usage.items():
            self.used[resource] = self.used.get(resource, Decimal(0)) + asked
