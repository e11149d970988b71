"""Pod settings shared by the platform's own Jobs (the schema bootstrap, the prod backup).

Both run in namespaces whose Pod Security level is `restricted`: non-root with a fixed
user, the runtime's seccomp profile, no privilege escalation, no capabilities and a
read-only root filesystem.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Each run resolves its tag at the registry again: a re-pushed or withdrawn tag is
# noticed, and the node's cached copy is never trusted blindly (one request per run).
ALWAYS_PULL = "Always"


def restricted_pod_security(run_as: int) -> dict[str, Any]:
    """The pod's securityContext: every container runs as user and group ``run_as``, which
    also owns the mounted volumes (fsGroup)."""
    return {
        "runAsNonRoot": True,
        "runAsUser": run_as,
        "runAsGroup": run_as,
        "fsGroup": run_as,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def restricted_container_security() -> dict[str, Any]:
    """A container's securityContext."""
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }


def env_vars(values: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A container's `env`, from name -> value."""
    return [{"name": name, "value": value} for name, value in values.items()]
