"""The static, reviewable Kubernetes YAML in `k8s_manifests/`.

These files are the source of truth for cluster policy (namespaces, quotas, limit ranges,
priority classes, baseline network policies). The tenancy layer applies them object by
object; other layers read facts from them (the GPU quota caps the Karpenter pools).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import yaml

MANIFESTS_DIR = Path(__file__).resolve().parent.parent / "k8s_manifests"


class ManifestError(ValueError):
    """A static manifest is malformed or missing what the stack relies on."""


@cache
def load_documents(file_name: str) -> tuple[dict[str, Any], ...]:
    path = MANIFESTS_DIR / file_name
    documents = tuple(d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d)
    for document in documents:
        if not isinstance(document, dict) or not {"apiVersion", "kind", "metadata"} <= set(
            document
        ):
            raise ManifestError(f"{file_name}: every document needs apiVersion, kind, metadata")
    return documents


def all_documents() -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object of every file, as (file name, object), in a stable order."""
    for path in sorted(MANIFESTS_DIR.glob("*.yaml")):
        for document in load_documents(path.name):
            yield path.name, document
