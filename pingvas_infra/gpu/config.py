"""GPU capacity layer configuration (`pingvas-infra:gpu`)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache

from pydantic import Field, model_validator

from pingvas_infra.configbase import ConfigModel, Problem, raise_problems
from pingvas_infra.eks_versions import minor_key
from pingvas_infra.environments import ENVIRONMENTS
from pingvas_infra.instances import gpu_families, types_of_family
from pingvas_infra.labels import ON_DEMAND, SPOT, CapacityType
from pingvas_infra.tables import load_table

# Karpenter's own duration syntax (NodePool CRD: consolidateAfter, expireAfter).
_DURATION = r"^(([0-9]+(s|m|h))+|Never)$"
_GRACE_PERIOD = r"^([0-9]+(s|m|h))+$"
_BUDGET_NODES = r"^((100|[0-9]{1,2})%|[0-9]+)$"
# A pinned AL2023 release ("al2023@v20260714"); the NVIDIA variant is picked per type.
_AMI_ALIAS = re.compile(r"^al2023@v(\d{8})$")


@dataclass(frozen=True)
class PinnedSoftware:
    """tables/gpu_stack.yaml: the released artifacts this layer installs."""

    karpenter_version: str
    karpenter_chart: str
    karpenter_crd_chart: str
    karpenter_kubernetes_min: str
    karpenter_kubernetes_max: str
    # (rule name, event source, detail-type) of each event the interruption queue receives.
    interruption_events: tuple[tuple[str, str, str], ...]
    node_image_alias: str
    node_image_kubernetes_versions: tuple[str, ...]
    device_plugin_version: str
    device_plugin_chart: str
    device_plugin_repository: str


@cache
def pinned_software() -> PinnedSoftware:
    table = load_table("gpu_stack")
    karpenter, image, plugin = (
        table["karpenter"],
        table["node_image"],
        table["nvidia_device_plugin"],
    )
    return PinnedSoftware(
        karpenter_version=str(karpenter["version"]),
        karpenter_chart=karpenter["chart"],
        karpenter_crd_chart=karpenter["crd_chart"],
        karpenter_kubernetes_min=str(karpenter["kubernetes_min"]),
        karpenter_kubernetes_max=str(karpenter["kubernetes_max"]),
        interruption_events=tuple(
            (e["name"], e["source"], e["detail_type"]) for e in karpenter["interruption_events"]
        ),
        node_image_alias=image["alias"],
        node_image_kubernetes_versions=tuple(str(v) for v in image["kubernetes_versions"]),
        device_plugin_version=str(plugin["version"]),
        device_plugin_chart=plugin["chart"],
        device_plugin_repository=plugin["repository"],
    )


def _default_ami_alias() -> str:
    return pinned_software().node_image_alias


class GpuPoolConfig(ConfigModel):
    """One environment's NodePool."""

    capacity_types: tuple[CapacityType, ...] = Field(
        default=(SPOT,),
        description=(
            "Capacity the pool may buy; with both, Karpenter tries spot first and falls back to "
            "on-demand when no spot capacity is left. Every environment needs a pool."
        ),
        json_schema_extra={"allowed": f"a list of {SPOT}, {ON_DEMAND} or both, each once"},
    )
    disruption_budget_nodes: str | None = Field(
        default=None,
        pattern=_BUDGET_NODES,
        description=(
            "How many nodes Karpenter may disrupt at once (count or percentage); unset keeps "
            "Karpenter's default of 10%."
        ),
        json_schema_extra={"allowed": 'a node count ("1") or a percentage ("20%")'},
    )


def _default_pools() -> dict[str, GpuPoolConfig]:
    return {
        "dev": GpuPoolConfig(capacity_types=(SPOT,)),
        # Prod: spot first, on-demand when spot runs dry; one GPU node disrupted at a time.
        "prod": GpuPoolConfig(capacity_types=(SPOT, ON_DEMAND), disruption_budget_nodes="1"),
    }


class GpuConfig(ConfigModel):
    """Karpenter GPU pools, one per environment, and their node class."""

    instance_families: tuple[str, ...] = Field(
        default=("g4dn", "g5", "g6"),
        description="GPU instance families the pools may launch.",
        json_schema_extra={
            "allowed": "a list of GPU families of tables/instance_types.yaml "
            f"({', '.join(gpu_families())}), each once, at least one"
        },
    )
    ami_alias: str = Field(
        default_factory=_default_ami_alias,
        description=(
            "Pinned AL2023 release of the GPU nodes (tables/gpu_stack.yaml); never `@latest`, "
            "which would roll every GPU node at each AMI release."
        ),
        json_schema_extra={"allowed": "al2023@vYYYYMMDD, a real release date"},
    )
    root_volume_gib: int = Field(
        default=100,
        ge=50,
        le=1000,
        description=(
            "GPU node root volume (gp3, encrypted). Serving images unpack to 10-15 GB, two "
            "coexist during a rollout, plus a model cache and the OS."
        ),
    )
    consolidate_after: str = Field(
        default="10m",
        pattern=_DURATION,
        description=(
            "Consolidate an empty or underused GPU node after this long (GPU hours are the bill)."
        ),
        json_schema_extra={"allowed": "a duration such as 10m, 720h or 1h30m, or Never"},
    )
    expire_after: str = Field(
        default="720h",
        pattern=_DURATION,
        description="Replace every GPU node after this long (patched AMIs, bounded node age).",
        json_schema_extra={"allowed": "a duration such as 10m, 720h or 1h30m, or Never"},
    )
    termination_grace_period: str = Field(
        default="30m",
        pattern=_GRACE_PERIOD,
        description="How long a draining GPU node waits for running generations.",
        json_schema_extra={"allowed": "a duration such as 30m or 1h"},
    )
    pools: dict[str, GpuPoolConfig] = Field(
        default_factory=_default_pools,
        description="One Karpenter NodePool per environment (dev, prod).",
        json_schema_extra={"allowed": "a map of environment (dev, prod) to its pool"},
    )

    @model_validator(mode="after")
    def _check(self) -> GpuConfig:
        problems: list[Problem] = []
        families = gpu_families()
        problems.extend(
            Problem(
                f"instanceFamilies[{i}]",
                family,
                f"unknown GPU family; allowed: {', '.join(families)}",
            )
            for i, family in enumerate(self.instance_families)
            if family not in families or not types_of_family(family)
        )
        if not self.instance_families:
            problems.append(Problem("instanceFamilies", [], "at least one GPU family"))
        if len(set(self.instance_families)) != len(self.instance_families):
            problems.append(
                Problem("instanceFamilies", list(self.instance_families), "each family once")
            )
        problems.extend(self._ami_problems())
        problems.extend(self._pool_problems())
        raise_problems(problems)
        return self

    def _ami_problems(self) -> list[Problem]:
        match = _AMI_ALIAS.match(self.ami_alias)
        example = _default_ami_alias()
        if self.ami_alias.endswith("@latest"):
            return [
                Problem(
                    "amiAlias",
                    self.ami_alias,
                    "a pinned release, never @latest (every AMI release would roll every GPU "
                    f"node); such as {example}",
                )
            ]
        if match is None:
            return [
                Problem(
                    "amiAlias",
                    self.ami_alias,
                    f"an AL2023 release alias al2023@vYYYYMMDD, such as {example}",
                )
            ]
        try:
            dt.datetime.strptime(match.group(1), "%Y%m%d")
        except ValueError:
            return [Problem("amiAlias", self.ami_alias, f"a real release date, such as {example}")]
        return []

    def _pool_problems(self) -> list[Problem]:
        problems: list[Problem] = []
        names = [e.name for e in ENVIRONMENTS]
        problems.extend(
            Problem(
                f"pools.{name}",
                pool,
                f"unknown environment; allowed: {', '.join(names)}",
            )
            for name, pool in self.pools.items()
            if name not in names
        )
        problems.extend(
            Problem("pools", sorted(self.pools), f"a pool for every environment ({name} missing)")
            for name in names
            if name not in self.pools
        )
        for name, pool in self.pools.items():
            if not pool.capacity_types:
                problems.append(
                    Problem(f"pools.{name}.capacityTypes", [], "spot, on-demand or both")
                )
            elif len(set(pool.capacity_types)) != len(pool.capacity_types):
                problems.append(
                    Problem(
                        f"pools.{name}.capacityTypes",
                        list(pool.capacity_types),
                        "each capacity type once",
                    )
                )
        return problems


def kubernetes_version_problems(version: str) -> list[Problem]:
    """The pinned Karpenter and GPU node image must both support the cluster's version."""
    pinned = pinned_software()
    low, high = pinned.karpenter_kubernetes_min, pinned.karpenter_kubernetes_max
    problems = []
    if not minor_key(low) <= minor_key(version) <= minor_key(high):
        problems.append(
            Problem(
                "cluster.kubernetesVersion",
                version,
                f"the pinned Karpenter {pinned.karpenter_version} supports Kubernetes "
                f"{low} to {high}",
            )
        )
    if version not in pinned.node_image_kubernetes_versions:
        problems.append(
            Problem(
                "cluster.kubernetesVersion",
                version,
                f"the pinned GPU node image {pinned.node_image_alias} exists for Kubernetes "
                f"{', '.join(pinned.node_image_kubernetes_versions)}",
            )
        )
    return problems
