"""The stack configuration: one pydantic model with a sub-model per layer.

Read from Pulumi config under the ``pingvas`` namespace (structured values, one key per
layer: ``pingvas:network``, ``pingvas:cluster`` ...) plus ``aws:region``. Validation runs
before any resource is registered; every problem in every layer is collected into one
message, raised as :class:`ConfigError` (a ``pulumi.RunError``, so `pulumi up` prints the
message without a Python traceback).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pydantic import Field, ValidationError, field_validator, model_validator

from pingvas_infra import sdk_internals
from pingvas_infra.cluster.config import ClusterConfig
from pingvas_infra.cluster.people import Principal, partition_of
from pingvas_infra.configbase import (
    CONFIG_NAMESPACE,
    ConfigError,
    ConfigModel,
    ConfigWarning,
    Offence,
    Problem,
    offences_from,
    raise_problems,
    render_offences,
)
from pingvas_infra.data.config import DataConfig
from pingvas_infra.gpu.config import GpuConfig, kubernetes_version_problems
from pingvas_infra.ingress.config import IngressConfig
from pingvas_infra.instances import (
    general_purpose_types,
    gpu_families,
    instance_shapes,
    types_of_family,
)
from pingvas_infra.network.config import NetworkConfig
from pingvas_infra.operations.config import OperationsConfig
from pingvas_infra.price_tables import load_price_table, priced_regions, region_gaps
from pingvas_infra.stack_secrets import SECRET_KEYS
from pingvas_infra.storage.config import StorageConfig
from pingvas_infra.tables import load_table
from pingvas_infra.tenancy.config import TenancyConfig

_TAG_KEY_RESERVED_PREFIX = "aws:"


class StackConfig(ConfigModel):
    """Everything the stack reads from configuration, one sub-model per layer."""

    # Lower-case project name: the Project tag and the prefix of named resources.
    project: str = Field(default="pingvas", pattern=r"^[a-z][a-z0-9-]{1,20}$")
    region: str = "us-east-1"
    # Extra tags added to the provider's default tags (Project/Environment/ManagedBy).
    tags: dict[str, str] = Field(default_factory=dict)
    network: NetworkConfig = Field(default_factory=NetworkConfig)
    cluster: ClusterConfig = Field(default_factory=ClusterConfig)
    gpu: GpuConfig = Field(default_factory=GpuConfig)
    data: DataConfig = Field(default_factory=DataConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    ingress: IngressConfig = Field(default_factory=IngressConfig)
    operations: OperationsConfig = Field(default_factory=OperationsConfig)
    tenancy: TenancyConfig = Field(default_factory=TenancyConfig)

    @field_validator("region")
    @classmethod
    def _priced_region(cls, value: str) -> str:
        # Only a region whose price table gives every figure: a stack the plan cannot
        # price is refused before anything is created, never priced at another region's
        # rates or with a hole read as $0.
        regions = load_table("regions")["regions"]
        priced = priced_regions()
        if value not in regions:
            raise ValueError(f"unknown region; allowed (priced): {', '.join(priced)}")
        if value not in priced:
            gaps = ", ".join(region_gaps(value))
            raise ValueError(
                f"a priced region: {', '.join(priced)} ({value} lacks prices: {gaps}; "
                f"see pingvas_infra/tables/prices/)"
            )
        return value

    @model_validator(mode="after")
    def _cross_layer(self) -> StackConfig:
        problems: list[Problem] = []
        azs = self.network.availability_zones
        if azs is None:
            # Default: the region's first three zones, in order.
            azs = tuple(f"{self.region}{suffix}" for suffix in "abc")
            object.__setattr__(
                self, "network", self.network.model_copy(update={"availability_zones": azs})
            )
        problems.extend(
            Problem(
                f"network.availabilityZones[{i}]",
                az,
                f"a zone of region {self.region} (aws:region), such as {self.region}a",
            )
            for i, az in enumerate(azs)
            if not az.startswith(self.region)
        )
        problems.extend(
            Problem(f"tags.{key}", value, "tag keys may not start with 'aws:'")
            for key, value in self.tags.items()
            if key.lower().startswith(_TAG_KEY_RESERVED_PREFIX)
        )
        problems.extend(kubernetes_version_problems(self.cluster.kubernetes_version))
        problems.extend(self._unpriced_settings())
        partition = partition_of(self.region)
        for key, arn in self.cluster.people().items():
            principal = Principal.parse(arn)
            if principal is not None and principal.partition != partition:
                problems.append(
                    Problem(
                        f"cluster.{key}",
                        arn,
                        f"an ARN of partition {partition}, the partition of region "
                        f"{self.region} (aws:region)",
                    )
                )
        problems.extend(
            Problem(f"ingress.{p.key}", p.value, p.allowed)
            for p in self.ingress.arn_region_problems(self.region, partition)
        )
        raise_problems(problems)
        return self

    def _unpriced_settings(self) -> list[Problem]:
        """Settings the region's price table cannot price (a type not offered there, or
        with no sourced price): refused, naming what the region prices instead."""
        table = load_price_table(self.region)
        problems: list[Problem] = []
        node_types = self.cluster.system_nodes.instance_types
        priced_types = [t for t in general_purpose_types() if table.ec2_hourly(t) is not None]
        problems.extend(
            Problem(
                f"cluster.systemNodes.instanceTypes[{i}]",
                name,
                f"a type priced in {self.region}: {', '.join(priced_types)}",
            )
            for i, name in enumerate(node_types)
            if name in instance_shapes() and table.ec2_hourly(name) is None
        )
        priced_families = [
            f for f in gpu_families() if all(table.ec2_hourly(s.name) for s in types_of_family(f))
        ]
        problems.extend(
            Problem(
                f"gpu.instanceFamilies[{i}]",
                family,
                f"a family priced in {self.region}: {', '.join(priced_families)}",
            )
            for i, family in enumerate(self.gpu.instance_families)
            if family in gpu_families() and family not in priced_families
        )
        node_type = self.data.cache.node_type
        cache_nodes = load_table("cache_node_types")["node_types"]
        if node_type in cache_nodes and table.cache_hourly(node_type) is None:
            priced_nodes = [n for n in cache_nodes if table.cache_hourly(n) is not None]
            problems.append(
                Problem(
                    "data.cache.nodeType",
                    node_type,
                    f"a node type priced in {self.region}: {', '.join(priced_nodes)}",
                )
            )
        return problems

    def warnings(self) -> list[ConfigWarning]:
        """Every section's warnings, keyed by full stack-file key."""
        found: list[ConfigWarning] = []
        for name, field in type(self).model_fields.items():
            section = getattr(self, name)
            if isinstance(section, ConfigModel):
                key = f"{CONFIG_NAMESPACE}:{field.alias or name}"
                found.extend(
                    ConfigWarning(f"{key}.{w.key}", w.value, w.message) for w in section.warnings()
                )
        return found

    @model_validator(mode="after")
    def _bucket_names(self) -> StackConfig:
        # Bucket names include the project name, so they are checked here.
        raise_problems(self.storage.bucket_name_problems(self.project))
        return self

    @property
    def availability_zones(self) -> tuple[str, ...]:
        azs = self.network.availability_zones
        assert azs is not None  # resolved by _cross_layer
        return azs

    def default_tags(self) -> dict[str, str]:
        """Tags the AWS provider puts on every taggable resource."""
        return {
            **self.tags,
            "Project": self.project,
            "Environment": "shared",
            "ManagedBy": "pulumi",
        }


# Top-level keys of the `pingvas` namespace, as written in the stack file.
SECTION_KEYS = tuple(
    f.alias or name for name, f in StackConfig.model_fields.items() if name != "region"
)


def _stack_key(path: str) -> str:
    """Map a model path ("network.vpcCidr", "region") to the stack-file key."""
    if path == "region" or path.startswith("region."):
        return "aws:" + path
    return f"{CONFIG_NAMESPACE}:{path}"


@dataclass(frozen=True)
class RawConfig:
    """Pulumi config as the engine hands it over: ``ns:key`` -> string, plus secret keys."""

    values: Mapping[str, str]
    secret_keys: frozenset[str]

    @classmethod
    def from_runtime(cls) -> RawConfig:
        values, secret_keys = sdk_internals.engine_config()
        return cls(values=values, secret_keys=secret_keys)


def parse_stack_config(raw: RawConfig, stack: str) -> StackConfig:
    """Validate ``raw`` into a StackConfig or raise ConfigError naming every bad key."""
    offences: list[Offence] = []
    document: dict[str, Any] = {}
    for key, value in sorted(raw.values.items()):
        namespace, _, name = key.partition(":")
        if key == "aws:region":
            document["region"] = value
            continue
        if namespace != CONFIG_NAMESPACE:
            continue
        if name in SECRET_KEYS:
            if key not in raw.secret_keys:
                offences.append(
                    Offence(
                        key,
                        "(plain text)",
                        f"a secret: set it with `pulumi config set --secret {key}`",
                    )
                )
            continue
        if name not in SECTION_KEYS:
            offences.append(
                Offence(
                    key,
                    json.dumps(value)[:60],
                    "unknown key; allowed keys: "
                    + ", ".join(f"{CONFIG_NAMESPACE}:{k}" for k in (*SECTION_KEYS, *SECRET_KEYS)),
                )
            )
            continue
        document[name] = _decode(value)
    try:
        config = StackConfig.model_validate(document)
    except ValidationError as exc:
        offences.extend(
            Offence(_stack_key(o.key), o.value, o.allowed)
            for o in offences_from(exc, StackConfig, "")
        )
    if offences:
        raise ConfigError(render_offences(offences, stack))
    return config


def _decode(value: Any) -> Any:
    """Structured config arrives as a JSON string; scalars arrive as plain strings."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def load_stack_config() -> StackConfig:
    """The program's entry point to configuration (reads the running stack's config).

    Risky but valid settings are printed as warnings by `pulumi preview` and `pulumi up`.
    """
    config = parse_stack_config(RawConfig.from_runtime(), pulumi.get_stack())
    for warning in config.warnings():
        pulumi.log.warn(warning.render(""))
    return config
