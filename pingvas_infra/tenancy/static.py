"""The static cluster-policy YAML of `k8s_manifests/` that the tenancy layer applies.

Each object becomes its own typed resource (k8s.core.v1.Namespace, ...), so the mocks, the
offline plan and `pulumi preview` all see every object with its fields. A kind without a
typed class here is refused, naming the kinds that are allowed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic.alias_generators import to_snake

from pingvas_infra.environments import ENVIRONMENTS
from pingvas_infra.labels import GPU_RESOURCE, TENANCY_ENVIRONMENT_LABEL
from pingvas_infra.manifests import ManifestError, load_documents

# The file of each environment's own ResourceQuota.
QUOTA_FILE = "resource-quotas.yaml"
# The files this layer owns, applied in this order (namespaces before what lives in them).
TENANCY_FILES = (
    "namespaces.yaml",
    QUOTA_FILE,
    "limit-ranges.yaml",
    "priority-classes.yaml",
    "network-policies.yaml",
    "admission-policies.yaml",
)

# The platform namespace (schema-bootstrap Job); namespaces.yaml must define it.
SYSTEM_NAMESPACE = "pingvas-system"
# The key of an environment's ResourceQuota that bounds its GPUs.
GPU_QUOTA_KEY = f"requests.{GPU_RESOURCE}"
# The label of the platform's own PriorityClass (priority-classes.yaml): monitoring and the
# other platform tools run above prod with it.
PLATFORM_CLASS_LABEL = ("tier", "platform")

# A typed resource class, called as Class(name, metadata=..., spec=..., opts=...).
ResourceClass = Callable[..., pulumi.CustomResource]

KIND_CLASSES: Mapping[tuple[str, str], ResourceClass] = {
    ("v1", "Namespace"): k8s.core.v1.Namespace,
    ("v1", "ResourceQuota"): k8s.core.v1.ResourceQuota,
    ("v1", "LimitRange"): k8s.core.v1.LimitRange,
    ("scheduling.k8s.io/v1", "PriorityClass"): k8s.scheduling.v1.PriorityClass,
    ("networking.k8s.io/v1", "NetworkPolicy"): k8s.networking.v1.NetworkPolicy,
    ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy"): (
        k8s.admissionregistration.v1.ValidatingAdmissionPolicy
    ),
    ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding"): (
        k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding
    ),
}

# Set by the class itself (or by the API server), never passed as arguments.
_NOT_ARGUMENTS = ("apiVersion", "kind", "status")


@dataclass(frozen=True)
class StaticObject:
    file: str
    document: Mapping[str, Any]

    @property
    def kind(self) -> str:
        return str(self.document["kind"])

    @property
    def name(self) -> str:
        return str(self.document["metadata"]["name"])

    @property
    def namespace(self) -> str | None:
        namespace = self.document["metadata"].get("namespace")
        return str(namespace) if namespace else None

    @property
    def resource_class(self) -> ResourceClass:
        return resource_class(self.document, self.file)

    def arguments(self) -> dict[str, Any]:
        """Constructor arguments: top-level fields in snake_case (`globalDefault` ->
        `global_default`); nested fields keep the API's camelCase, which the SDK accepts."""
        return {to_snake(k): v for k, v in self.document.items() if k not in _NOT_ARGUMENTS}


def resource_class(document: Mapping[str, Any], file: str) -> ResourceClass:
    key = (str(document.get("apiVersion")), str(document.get("kind")))
    try:
        return KIND_CLASSES[key]
    except KeyError:
        allowed = ", ".join(f"{api}/{kind}" for api, kind in KIND_CLASSES)
        raise ManifestError(
            f"{file}: {key[0]}/{key[1]} {document.get('metadata', {}).get('name', '?')!r} "
            f"is not applied by the tenancy layer; allowed kinds: {allowed}"
        ) from None


def static_objects(files: tuple[str, ...] = TENANCY_FILES) -> list[StaticObject]:
    """Every object of ``files``, checked: a known kind, a name, no duplicates, and the
    namespaces the environments and the platform need."""
    objects: list[StaticObject] = []
    seen: dict[tuple[str, str | None, str], str] = {}
    for file in files:
        for document in load_documents(file):
            # Refuse an unknown kind before anything is built.
            resource_class(document, file)
            item = StaticObject(file, document)
            if not document["metadata"].get("name"):
                raise ManifestError(f"{file}: a {item.kind} without metadata.name")
            key = (item.kind, item.namespace, item.name)
            if key in seen:
                raise ManifestError(f"{file}: {item.kind} {item.name} is also in {seen[key]}")
            seen[key] = file
            objects.append(item)
    namespaces = {o.name: o for o in objects if o.kind == "Namespace"}
    required = {env.namespace: env.name for env in ENVIRONMENTS}
    missing = sorted(set(required) - set(namespaces))
    if SYSTEM_NAMESPACE not in namespaces:
        missing.append(SYSTEM_NAMESPACE)
    if missing:
        raise ManifestError(f"{TENANCY_FILES[0]}: no Namespace {', '.join(missing)}")
    platform_classes = [o for o in objects if is_platform_class(o)]
    if len(platform_classes) != 1:
        label, value = PLATFORM_CLASS_LABEL
        raise ManifestError(
            f"priority-classes.yaml: exactly one PriorityClass labelled {label}={value} (the "
            f"platform's); found {len(platform_classes)}"
        )
    for namespace, env_name in required.items():
        labels = namespaces[namespace].document["metadata"].get("labels") or {}
        if labels.get(TENANCY_ENVIRONMENT_LABEL) != env_name:
            raise ManifestError(
                f"{namespaces[namespace].file}: Namespace {namespace} needs the label "
                f"{TENANCY_ENVIRONMENT_LABEL}={env_name}"
            )
    return objects


def gpu_quotas(objects: Sequence[StaticObject]) -> dict[str, int]:
    """`requests.nvidia.com/gpu` of each environment's ResourceQuota among ``objects``: the
    GPUs its namespace may request, and so the cap of its GPU pool."""
    quotas: dict[str, int] = {}
    for item in objects:
        # The environments' own quotas; other files scope quotas to one purpose (no prod
        # priority classes in dev) and set no GPUs.
        if item.kind != "ResourceQuota" or item.file != QUOTA_FILE:
            continue
        hard = item.document["spec"]["hard"]
        if GPU_QUOTA_KEY not in hard:
            raise ManifestError(f"{item.file}: quota for {item.namespace} sets no {GPU_QUOTA_KEY}")
        quotas[str(item.namespace)] = int(hard[GPU_QUOTA_KEY])
    missing = sorted({env.namespace for env in ENVIRONMENTS} - set(quotas))
    if missing:
        raise ManifestError(f"{QUOTA_FILE}: no ResourceQuota for {', '.join(missing)}")
    return {env.name: quotas[env.namespace] for env in ENVIRONMENTS}


def is_platform_class(item: StaticObject) -> bool:
    key, value = PLATFORM_CLASS_LABEL
    labels = item.document["metadata"].get("labels") or {}
    return item.kind == "PriorityClass" and labels.get(key) == value
