"""The cost model's data, validated: price tables, usage profiles, the GPU workload
reference and the baseline designs this stack is compared with.

Everything a figure depends on lives in the data home (pingvas_infra/tables/, read through
:mod:`pingvas_infra.tables`), each value with its source or its assumption beside it:

- ``prices/<region>.yaml``: dated list prices of one region, every entry with its source;
- ``profiles/<name>.yaml``: usage (GPU-hours, GB, ACU) in the spirit of Infracost's usage file;
- ``gpu_workload.yaml``: what one GPU-hour produces (the design guide's seconds per image);
- ``baselines/<name>.yaml``: the design guide's two designs as resource lists, each with the
  guide's own cost table;
- ``free_resource_types.yaml``: resource types that cost nothing of their own, and why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from pydantic import Field, ValidationError, field_validator, model_validator

from pingvas_infra.configbase import ConfigModel, offences_from
from pingvas_infra.tables import load_table, read_table, table_names, table_path

PROFILES = "profiles"
BASELINES = "baselines"
WORKLOAD = "gpu_workload.yaml"
FREE_TYPES = "free_resource_types"


class CostDataError(ValueError):
    """A cost data file is missing or malformed."""


@dataclass(frozen=True)
class FreeTypes:
    """Resource types with nothing billable of their own: by exact type, or by prefix
    (whole families: IAM, providers, this project's layer components)."""

    types: Mapping[str, str]
    prefixes: Mapping[str, str]

    def reason(self, type_token: str) -> str | None:
        if type_token in self.types:
            return self.types[type_token]
        for prefix, reason in self.prefixes.items():
            if type_token.startswith(prefix):
                return reason
        return None


class GpuPoolUsage(ConfigModel):
    # Hours of the reference instance (workload.yaml) the pool runs in a month.
    gpu_hours: float = Field(ge=0)
    # Fraction of those hours on spot capacity (the rest on-demand).
    spot_share: float = Field(ge=0, le=1)


class GpuUsage(ConfigModel):
    # Environment name -> its pool's usage.
    pools: dict[str, GpuPoolUsage]


class AuroraUsage(ConfigModel):
    """What the database's clients ask of it. Serverless v2 instances scale per instance:
    the writer with the load sent to the cluster (writer) endpoint; a reader in promotion
    tier 0 or 1 follows the writer's capacity (and pauses only with it); a reader in tier
    2-15 scales with the load sent to it and pauses on its own when nobody connects."""

    # Average ACU the writer's load needs; null = the writer sits at its floor.
    writer_average_acu: float | None = Field(default=None, ge=0)
    # Average ACU of load sent to the reader endpoint; null = nobody connects to it.
    reader_average_acu: float | None = Field(default=None, ge=0)
    # Clients hold connections to the writer all month (connection pools): it never
    # pauses, whatever the minimum capacity.
    writer_connected: bool
    storage_gb: float = Field(ge=0)
    io_millions: float = Field(ge=0)


class NatUsage(ConfigModel):
    processed_gb: float = Field(ge=0)


class InternetUsage(ConfigModel):
    data_transfer_out_gb: float = Field(ge=0)
    # Billable CloudFront GB (beyond the always-free tier).
    cloudfront_gb: float = Field(ge=0)


class S3Usage(ConfigModel):
    # Bucket purpose ("dev-images", "models", ...) -> GB stored (monthly average).
    stored_gb: dict[str, float]
    # GB a month S3 replication copies to another region (the off-region copy of the prod
    # dumps, when storage.backupCopy is on).
    replicated_gb: float = Field(default=0, ge=0)

    @field_validator("stored_gb")
    @classmethod
    def _non_negative(cls, value: dict[str, float]) -> dict[str, float]:
        if any(gb < 0 for gb in value.values()):
            raise ValueError("stored GB must be >= 0")
        return value


class EfsUsage(ConfigModel):
    standard_gb: float = Field(ge=0)
    infrequent_access_gb: float = Field(ge=0)
    # Only billed when the file system uses Elastic throughput.
    elastic_read_gb: float = Field(ge=0)
    elastic_write_gb: float = Field(ge=0)


class LogsUsage(ConfigModel):
    # Log kind ("eks:audit", "vpc-flow-logs", "rds:postgresql") -> GB ingested per month.
    ingested_gb: dict[str, float]


class InterfaceEndpointUsage(ConfigModel):
    processed_gb: float = Field(ge=0)


class SystemTierUsage(ConfigModel):
    # Hours a month the system tier's overflow node runs (Karpenter launches it only when
    # a platform pod, Prometheus on its zonal volume, finds no system node it may use).
    overflow_node_hours: float = Field(default=0, ge=0)


class EntryUsage(ConfigModel):
    """What one environment's internet load balancer carries in a month."""

    # HTTP requests, in millions (priced as one new connection each: no keep-alive).
    requests_millions: float = Field(ge=0)
    # GB the load balancer processes, requests and responses together.
    processed_gb: float = Field(ge=0)


class LoadBalancerUsage(ConfigModel):
    # Environment name -> its entry's traffic, spread evenly over the month's hours.
    environments: dict[str, EntryUsage]


class UsageProfile(ConfigModel):
    """How much the workload uses in a month. Every quantity is the design's total,
    split evenly over the resources that carry it (two NAT gateways share the GB)."""

    name: str
    description: str
    gpu: GpuUsage
    aurora: AuroraUsage
    nat: NatUsage
    internet: InternetUsage
    s3: S3Usage
    efs: EfsUsage
    logs: LogsUsage
    interface_endpoints: InterfaceEndpointUsage
    load_balancers: LoadBalancerUsage
    system_tier: SystemTierUsage = Field(default_factory=SystemTierUsage)


class GpuWorkload(ConfigModel):
    """What a GPU-hour buys: the design guide's own measurement."""

    reference_instance: str
    seconds_per_image: float = Field(gt=0)
    source: str

    @property
    def reference_family(self) -> str:
        return self.reference_instance.split(".")[0]

    @property
    def hours_per_1000_images(self) -> float:
        return 1000 * self.seconds_per_image / 3600


class BaselineResource(ConfigModel):
    """One resource of a baseline design, as the Pulumi SDK would register it."""

    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    type: str
    layer: str
    count: int = Field(default=1, ge=1)
    inputs: dict[str, Any] = Field(default_factory=dict)
    why: str


class GuideRow(ConfigModel):
    """One row of the design guide's own cost table for a design: a unit price times the
    units of the baseline resources it covers, or a lump sum the guide states without
    units (then `resources` names what the sum covers, if anything)."""

    item: str
    unit_price: Decimal | None = None
    resources: list[str] = Field(default_factory=list)
    amount: Decimal | None = None

    @model_validator(mode="after")
    def _one_form(self) -> GuideRow:
        if (self.amount is None) == (self.unit_price is None):
            raise ValueError(f"{self.item}: give either amount or unitPrice with resources")
        if self.unit_price is not None and not self.resources:
            raise ValueError(f"{self.item}: unitPrice needs the resources it prices")
        return self


class GuideTable(ConfigModel):
    source: str
    total: Decimal
    rows: list[GuideRow]


class Baseline(ConfigModel):
    name: str
    title: str
    source: str
    notes: list[str]
    resources: list[BaselineResource]
    guide_table: GuideTable

    @model_validator(mode="after")
    def _rows_name_resources(self) -> Baseline:
        ids = [r.id for r in self.resources]
        if len(ids) != len(set(ids)):
            raise ValueError("resource ids must be unique")
        unknown = sorted({i for row in self.guide_table.rows for i in row.resources} - set(ids))
        if unknown:
            raise ValueError(f"guide table rows name unknown resources: {', '.join(unknown)}")
        return self


def validated(document: Any, model: type[ConfigModel], relative: str) -> Any:
    """``document`` as ``model``, or CostDataError naming the file and every bad key."""
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(
            f"{o.key} = {o.value}: {o.allowed}" for o in offences_from(exc, model, "")
        )
        raise CostDataError(f"{table_path(relative)}: {problems}") from None


def _named(folder: str, name: str, model: type[ConfigModel]) -> Any:
    """The table ``<folder>/<name>.yaml`` as ``model``, whose `name:` must be the file's."""
    relative = f"{folder}/{name}.yaml"
    item = validated(read_table(relative), model, relative)
    if item.name != name:
        raise CostDataError(f"{table_path(relative)}: name {item.name} differs from the file name")
    return item


@cache
def load_profiles() -> dict[str, UsageProfile]:
    """Every usage profile, by name (file name and `name:` must agree)."""
    return {name: _named(PROFILES, name, UsageProfile) for name in table_names(PROFILES)}


@cache
def load_workload() -> GpuWorkload:
    workload: GpuWorkload = validated(read_table(WORKLOAD), GpuWorkload, WORKLOAD)
    return workload


@cache
def load_baselines() -> dict[str, Baseline]:
    return {name: _named(BASELINES, name, Baseline) for name in table_names(BASELINES)}


@cache
def load_free_types() -> FreeTypes:
    """The resource types that cost nothing of their own, with the reason for each."""
    table = load_table(FREE_TYPES)
    return FreeTypes(
        types={str(k): str(v) for k, v in table["types"].items()},
        prefixes={str(k): str(v) for k, v in table["prefixes"].items()},
    )
