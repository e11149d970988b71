"""What the preflight checks the account against, read from the validated stack config."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pingvas_infra.config import StackConfig
from pingvas_infra.environments import ENVIRONMENTS
from pingvas_infra.storage.config import BUCKET_BASE_NAMES, bucket_name
from pingvas_infra.tenancy.static import gpu_quotas, static_objects


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
    kubernetes_version: str
    aurora_engine_version: str
    aurora_min_acu: float
    # Account id -> purpose -> bucket name (the default suffix holds the account id).
    bucket_names: Callable[[str], Mapping[str, str]]


def targets_from_config(config: StackConfig, region: str | None = None) -> PreflightTargets:
    chosen = region or config.region
    # The configured zones belong to aws:region; another region is checked in its a, b, c.
    zones = (
        config.availability_zones
        if chosen == config.region
        else tuple(f"{chosen}{suffix}" for suffix in "abc")
    )
    storage = config.storage

    def bucket_names(account_id: str) -> dict[str, str]:
        suffix = storage.suffix_for(account_id)
        return {
            purpose: bucket_name(storage.bucket_prefix, config.project, purpose, suffix)
            for purpose in BUCKET_BASE_NAMES
        }

    quotas = gpu_quotas(static_objects())
    return PreflightTargets(
        region=chosen,
        availability_zones=zones,
        gpu_instance_types=tuple(f"{family}.*" for family in config.gpu.instance_families),
        gpu_pools=tuple(
            GpuPool(env.name, quotas[env.name], tuple(config.gpu.pools[env.name].capacity_types))
            for env in ENVIRONMENTS
        ),
        kubernetes_version=config.cluster.kubernetes_version,
        aurora_engine_version=config.data.aurora.engine_version,
        aurora_min_acu=config.data.aurora.min_acu,
        bucket_names=bucket_names,
    )
