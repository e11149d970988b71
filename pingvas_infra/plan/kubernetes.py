"""Every Kubernetes object the stack applies, rendered as the YAML the API server gets.

Kubernetes resources in the graph carry their whole object as inputs (apiVersion, kind,
metadata, spec ...), so rendering is a matter of reading them back. Helm releases are
written as their chart coordinates and values. Secret data is always redacted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pingvas_infra import resource_types as rt
from pingvas_infra.plan.model import SECRET, PlanResult, RecordedResource
from pingvas_infra.plan.model import reveal as reveal_values

_FIRST_KEYS = ("apiVersion", "kind", "metadata")
_SECRET_FIELDS = ("data", "stringData")


def is_kubernetes_object(resource: RecordedResource) -> bool:
    return resource.type.startswith(rt.KUBERNETES_PREFIX) and resource.type != rt.HELM_RELEASE


@dataclass(frozen=True)
class RenderedObject:
    relative_path: str
    document: dict[str, Any]
    resource: RecordedResource


def _ordered(inputs: dict[str, Any]) -> dict[str, Any]:
    """apiVersion, kind, metadata first, as people write manifests; the rest sorted."""
    ordered = {k: inputs[k] for k in _FIRST_KEYS if k in inputs}
    ordered.update({k: inputs[k] for k in sorted(inputs) if k not in _FIRST_KEYS})
    return ordered


def object_document(resource: RecordedResource, *, reveal: bool = False) -> dict[str, Any]:
    """The Kubernetes object of a recorded resource (secrets redacted unless ``reveal``)."""
    inputs = reveal_values(resource.raw_inputs) if reveal else dict(resource.inputs)
    metadata = dict(inputs.get("metadata") or {})
    metadata.setdefault("name", resource.name)
    inputs["metadata"] = metadata
    if inputs.get("kind") == "Secret" and not reveal:
        for field in _SECRET_FIELDS:
            if isinstance(inputs.get(field), dict):
                inputs[field] = dict.fromkeys(inputs[field], SECRET)
    return _ordered(inputs)


def _path_for(document: dict[str, Any]) -> str:
    metadata = document["metadata"]
    scope = metadata.get("namespace") or "cluster"
    return f"{scope}/{document['kind'].lower()}-{metadata['name']}.yaml"


def kubernetes_objects(result: PlanResult, *, reveal: bool = False) -> list[RenderedObject]:
    rendered: list[RenderedObject] = []
    seen: dict[str, str] = {}
    for resource in result.resources:
        if not is_kubernetes_object(resource):
            continue
        document = object_document(resource, reveal=reveal)
        path = _path_for(document)
        if path in seen:
            raise ValueError(f"two resources render {path}: {seen[path]} and {resource.urn}")
        seen[path] = resource.urn
        rendered.append(RenderedObject(path, document, resource))
    return sorted(rendered, key=lambda r: r.relative_path)


def helm_releases(result: PlanResult) -> list[RecordedResource]:
    return result.of_type(rt.HELM_RELEASE)


def helm_document(release: RecordedResource) -> dict[str, Any]:
    inputs = release.inputs
    repository = (inputs.get("repositoryOpts") or {}).get("repo")
    return {
        "release": inputs.get("name", release.name),
        "namespace": inputs.get("namespace"),
        "chart": inputs.get("chart"),
        "repository": repository,
        "version": inputs.get("version"),
        "values": inputs.get("values") or {},
    }


def dump_yaml(document: Any) -> str:
    return yaml.safe_dump(document, sort_keys=False, default_flow_style=False, width=100)


def write_manifests(result: PlanResult, out_dir: Path) -> list[Path]:
    """Write one object per file under ``out_dir``; Helm releases under ``helm/``."""
    written: list[Path] = []
    for item in kubernetes_objects(result):
        path = out_dir / item.relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump_yaml(item.document), encoding="utf-8")
        written.append(path)
    for release in helm_releases(result):
        document = helm_document(release)
        path = out_dir / "helm" / f"{document['release']}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump_yaml(document), encoding="utf-8")
        written.append(path)
    return written
