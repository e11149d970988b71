"""The cost model's data files, validated: price tables, usage profiles, the GPU workload
reference and the seed's baseline architectures.

Everything a figure depends on lives in YAML next to this module, each value with its
source or its assumption written beside it:

- ``prices/<region>.yaml``: dated list prices of one region, every entry with its source;
- ``profiles/<name>.yaml``: usage (GPU-hours, GB, ACU) in the spirit of Infracost's usage file;
- ``workload.yaml``: what one GPU-hour produces (the seed's measured seconds per image);
- ``baselines/<name>.yaml``: the seed's designs as resource lists, plus the seed's own table.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from pingvas_infra.configbase import ConfigModel, offences_from

DATA_DIR = Path(__file__).resolve().parent
PRICES_DIR = DATA_DIR / "prices"
PROFILES_DIR = DATA_DIR / "profiles"
BASELINES_DIR = DATA_DIR / "baselines"
WORKLOAD_FILE = DATA_DIR / "workload.yaml"


class CostDataError(ValueError):
    """A cost data file is missing or malformed."""


class PriceTableNotFound(LookupError):
    """No price table exists for the configured region: costs are not estimated."""


class Price(ConfigModel):
    usd: float = Field(ge=0)
    unit: str
    source: str
    # True for a figure read from a single secondary source: an estimate, not a fact.
    assumption: bool = False


class InstancePrices(ConfigModel):
    """Hourly on-demand prices of instance or node types, read from one source."""

    source: str
    assumption: bool = False
    hourly: dict[str, float]


class SpotDiscount(ConfigModel):
    fraction: float = Field(ge=0, lt=1)
    source: str
    assumption: bool = True


class PriceTable(ConfigModel):
    region: str
    date: date
    currency: Literal["USD"]
    hours_per_month: float = Field(gt=0)
    sources: list[str] = Field(min_length=1)
    spot_discount: SpotDiscount
    prices: dict[str, Price]
    ec2_on_demand: InstancePrices
    rds_instances: InstancePrices
    # Engine ("redis", "valkey") -> node prices.
    elasticache_nodes: dict[str, InstancePrices]

    @property
    def spot_factor(self) -> float:
        """What a spot hour costs as a fraction of the on-demand hour."""
        return 1 - self.spot_discount.fraction

    @property
    def days_per_month(self) -> float:
        return self.hours_per_month / 24


class GpuPoolUsage(ConfigModel):
    # Hours of the reference instance (workload.yaml) the pool runs in a month.
    gpu_hours: float = Field(ge=0)
    # Fraction of those hours on spot capacity (the rest on-demand).
    spot_share: float = Field(ge=0, le=1)


class GpuUsage(ConfigModel):
    # Environment name -> its pool's usage.
    pools: dict[str, GpuPoolUsage]


class AuroraUsage(ConfigModel):
    # Average ACU per Serverless v2 instance; null = every instance sits at its minimum.
    average_acu_per_instance: float | None = Field(default=None, ge=0)
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


class GpuWorkload(ConfigModel):
    """What a GPU-hour buys: the seed's own measurement."""

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
    """One resource of a seed design, as the Pulumi SDK would register it."""

    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    type: str
    layer: str
    count: int = Field(default=1, ge=1)
    inputs: dict[str, Any] = Field(default_factory=dict)
    why: str


class SeedRow(ConfigModel):
    """One row of the seed's own cost table: a unit price times the units of the
    baseline resources it covers, or a lump sum the seed states without units (then
    `resources` names what the sum covers, if anything)."""

    item: str
    unit_price: Decimal | None = None
    resources: list[str] = Field(default_factory=list)
    amount: Decimal | None = None

    @model_validator(mode="after")
    def _one_form(self) -> SeedRow:
        if (self.amount is None) == (self.unit_price is None):
            raise ValueError(f"{self.item}: give either amount or unitPrice with resources")
        if self.unit_price is not None and not self.resources:
            raise ValueError(f"{self.item}: unitPrice needs the resources it prices")
        return self


class SeedTable(ConfigModel):
    source: str
    total: Decimal
    rows: list[SeedRow]


class Baseline(ConfigModel):
    name: str
    title: str
    source: str
    notes: list[str]
    resources: list[BaselineResource]
    seed_table: SeedTable

    @model_validator(mode="after")
    def _rows_name_resources(self) -> Baseline:
        ids = [r.id for r in self.resources]
        if len(ids) != len(set(ids)):
            raise ValueError("resource ids must be unique")
        unknown = sorted({i for row in self.seed_table.rows for i in row.resources} - set(ids))
        if unknown:
            raise ValueError(f"seed table rows name unknown resources: {', '.join(unknown)}")
        return self


def _read(path: Path, model: type[ConfigModel]) -> Any:
    if not path.is_file():
        raise CostDataError(f"{path} does not exist")
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(
            f"{o.key} = {o.value}: {o.allowed}" for o in offences_from(exc, model, "")
        )
        raise CostDataError(f"{path}: {problems}") from None


def priced_regions() -> list[str]:
    return sorted(p.stem for p in PRICES_DIR.glob("*.yaml"))


@cache
def load_price_table(region: str) -> PriceTable:
    """The price table of ``region``; never another region's prices in its place."""
    path = PRICES_DIR / f"{region}.yaml"
    if not path.is_file():
        raise PriceTableNotFound(
            f"no price table for region {region} (pingvas_infra/cost/prices/{region}.yaml); "
            f"tables exist for: {', '.join(priced_regions())}. The stack is not priced "
            "rather than priced at another region's rates."
        )
    table: PriceTable = _read(path, PriceTable)
    if table.region != region:
        raise CostDataError(f"{path}: says region {table.region}, file name says {region}")
    return table


@cache
def load_profiles() -> dict[str, UsageProfile]:
    """Every usage profile, by name (file name and `name:` must agree)."""
    profiles: dict[str, UsageProfile] = {}
    for path in sorted(PROFILES_DIR.glob("*.yaml")):
        profile: UsageProfile = _read(path, UsageProfile)
        if profile.name != path.stem:
            raise CostDataError(f"{path}: name {profile.name} differs from the file name")
        profiles[profile.name] = profile
    return profiles


@cache
def load_workload() -> GpuWorkload:
    workload: GpuWorkload = _read(WORKLOAD_FILE, GpuWorkload)
    return workload


@cache
def load_baselines() -> dict[str, Baseline]:
    baselines: dict[str, Baseline] = {}
    for path in sorted(BASELINES_DIR.glob("*.yaml")):
        baseline: Baseline = _read(path, Baseline)
        if baseline.name != path.stem:
            raise CostDataError(f"{path}: name {baseline.name} differs from the file name")
        baselines[baseline.name] = baseline
    return baselines
