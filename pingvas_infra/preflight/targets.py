"""What the preflight checks the account against, read from the validated stack config.

Each layer owns its config section (pingvas:gpu, pingvas:data, pingvas:storage ...). The
preflight reads them only through the small accessors below, defensively: a section (or a
field) that does not exist yet falls back to the seed's value, named beside it. Merging a
layer means adjusting one accessor, nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pingvas_infra.config import StackConfig
from pingvas_infra.environments import ENVIRONMENTS

SPOT = "spot"
ON_DEMAND = "on-demand"

# Seed fallbacks, used only while the owning section is absent.
SEED_GPU_INSTANCE_TYPES = ("g4dn.xlarge",)  # the seed's GPU node type
# Karpenter falls back to on-demand when spot has no capacity, so a pool that may use both
# needs both quotas.
SEED_CAPACITY_TYPES = (SPOT, ON_DEMAND)
SEED_BUCKET_PURPOSES = ("dev-images", "prod-images", "models", "logs", "backups")


@dataclass(frozen=True)
class GpuPool:
    """One environment's Karpenter GPU NodePool."""

    environment: str
    # The NodePool's nvidia.com/gpu limit (= the namespace's GPU quota).
    gpus: int
    capacity_types: tuple[str, ...]


@dataclass(frozen=True)
class PreflightTargets:
    region: str
    availability_zones: tuple[str, ...]
    # Instance types or EC2 wildcards ("g6.*") the GPU pools may launch.
    gpu_instance_types: tuple[str, ...]
    gpu_pools: tuple[GpuPool, ...]
    kubernetes_version: str | None
    aurora_engine_version: str | None
    aurora_min_acu: float | None
    # Purpose -> bucket name.
    bucket_names: Mapping[str, str]


def _section(config: StackConfig, name: str) -> Any:
    return getattr(config, name, None)


def _first(section: Any, *fields: str) -> Any:
    """The first of ``fields`` the section has (field names differ between drafts)."""
    for field in fields:
        value = getattr(section, field, None)
        if value is not None:
            return value
    return None


def gpu_instance_types(config: StackConfig) -> tuple[str, ...]:
    gpu = _section(config, "gpu")
    types = _first(gpu, "instance_types")
    if types:
        return tuple(types)
    families = _first(gpu, "instance_families")
    if families:
        return tuple(f"{family}.*" for family in families)
    return SEED_GPU_INSTANCE_TYPES


def gpu_capacity_types(config: StackConfig, environment: str) -> tuple[str, ...]:
    gpu = _section(config, "gpu")
    per_environment = _first(gpu, "capacity_types")
    if isinstance(per_environment, Mapping):
        chosen = per_environment.get(environment)
        return tuple(chosen) if chosen else SEED_CAPACITY_TYPES
    if per_environment:
        return tuple(per_environment)
    return SEED_CAPACITY_TYPES


def kubernetes_version(config: StackConfig) -> str | None:
    value = _first(_section(config, "cluster"), "version", "kubernetes_version")
    return str(value) if value else None


def aurora_engine_version(config: StackConfig) -> str | None:
    value = _first(_section(config, "data"), "engine_version", "aurora_engine_version")
    return str(value) if value else None


def aurora_min_acu(config: StackConfig) -> float | None:
    value = _first(_section(config, "data"), "min_acu", "min_capacity")
    return float(value) if value is not None else None


def bucket_names(config: StackConfig) -> dict[str, str]:
    storage = _section(config, "storage")
    names = _first(storage, "bucket_names", "buckets")
    if callable(names):
        names = names()
    if isinstance(names, Mapping) and names:
        return {str(k): str(v) for k, v in names.items()}
    return {purpose: f"{config.project}-{purpose}" for purpose in SEED_BUCKET_PURPOSES}


def targets_from_config(config: StackConfig, region: str | None = None) -> PreflightTargets:
    chosen = region or config.region
    # The configured zones belong to aws:region; another region is checked in its a, b, c.
    zones = (
        config.availability_zones
        if chosen == config.region
        else tuple(f"{chosen}{suffix}" for suffix in "abc")
    )
    return PreflightTargets(
        region=chosen,
        availability_zones=zones,
        gpu_instance_types=gpu_instance_types(config),
        gpu_pools=tuple(
            GpuPool(env.name, env.gpu_quota, gpu_capacity_types(config, env.name))
            for env in ENVIRONMENTS
        ),
        kubernetes_version=kubernetes_version(config),
        aurora_engine_version=aurora_engine_version(config),
        aurora_min_acu=aurora_min_acu(config),
        bucket_names=bucket_names(config),
    )
