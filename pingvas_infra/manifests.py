"""The static, reviewable Kubernetes YAML in `k8s_manifests/`.

These files are the source of truth for cluster policy (namespaces, quotas, limit ranges,
priority classes, baseline network and admission policies). They stay at the top of the
repository, where reviewers look for them; an installed package carries them as
``pingvas_infra/k8s_manifests/`` (pyproject.toml). This module is the one reader of both.
The tenancy layer applies them object by object; __main__.py hands the GPU quotas they set
to the GPU layer.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml

FOLDER = "k8s_manifests"


class ManifestError(ValueError):
    """A static manifest is malformed or missing what the stack relies on."""


def manifests_dir() -> Traversable:
    """k8s_manifests/: inside the installed package, else at the top of the checkout the
    package is imported from (a source tree or an editable install)."""
    installed = resources.files("pingvas_infra").joinpath(FOLDER)
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parent.parent / FOLDER


@cache
def load_documents(file_name: str) -> tuple[dict[str, Any], ...]:
    entry = manifests_dir().joinpath(file_name)
    if not entry.is_file():
        raise ManifestError(f"{FOLDER}/{file_name} does not exist")
    documents = tuple(d for d in yaml.safe_load_all(entry.read_text(encoding="utf-8")) if d)
    for document in documents:
        if not isinstance(document, dict) or not {"apiVersion", "kind", "metadata"} <= set(
            document
        ):
            raise ManifestError(f"{file_name}: every document needs apiVersion, kind, metadata")
    return documents
