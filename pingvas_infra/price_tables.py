"""Regional list prices (`tables/prices/<region>.yaml`), validated, and which regions and
settings they price.

Shared by the config (which refuses a region, or a setting in a region, that no table
prices) and by the cost estimate (which prices the graph from the same table). Every figure
carries its source and the date it was read; a figure no source gave is written as
``usd: null`` with ``missing: true``, so an unpriced item reads as *unknown*, never as 0.

A region is *priced* when its table gives every figure (no price is missing). Instance and
node prices are checked per setting: a type missing from a region's table (not offered
there, or no source found) is refused for that region by the config.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from pingvas_infra.configbase import ConfigModel, offences_from
from pingvas_infra.tables import has_table, read_table, table_names, table_path

PRICES = "prices"
# The cache layer runs Valkey: its node prices are the ones settings need.
CACHE_ENGINE = "valkey"


class PriceTableError(ValueError):
    """A price table is malformed."""


class PriceTableNotFound(LookupError):
    """No price table exists for the region: nothing is priced at another region's rates."""


class Price(ConfigModel):
    usd: float | None = Field(ge=0)
    unit: str
    source: str
    # The day the figure was read from its source.
    date: date
    # A figure read from a single secondary source: an estimate, not a fact.
    assumption: bool = False
    # No source gave the figure: `usd` is null and every line needing it is unpriced.
    missing: bool = False
    note: str | None = None

    @model_validator(mode="after")
    def _missing_means_null(self) -> Price:
        if self.missing != (self.usd is None):
            raise ValueError("a figure is either missing (usd: null) or has a usd value")
        return self


class InstancePrices(ConfigModel):
    """Hourly on-demand prices of instance or node types, read from the sources named."""

    source: str
    date: date
    assumption: bool = False
    hourly: dict[str, float]
    # Type -> why it has no price here (not offered in the region, or no source found).
    missing: dict[str, str] = Field(default_factory=dict)


class SpotDiscount(ConfigModel):
    fraction: float = Field(ge=0, lt=1)
    source: str
    assumption: bool = True


class PriceTable(ConfigModel):
    region: str
    # The day the table was assembled; each figure has its own `date`.
    date: date
    currency: Literal["USD"]
    hours_per_month: float = Field(gt=0)
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

    def missing_prices(self) -> list[str]:
        """The figures this table lacks (unpriced wherever a resource needs them)."""
        return sorted(key for key, price in self.prices.items() if price.missing)

    def citation(self, price_key: str) -> dict[str, str]:
        """Source and date of the figure behind a cost line's price key (``ec2:<types>``,
        ``elasticache:<engine>:<node>``, ``rds:<class>`` or a key of ``prices``)."""
        kind, _, rest = price_key.partition(":")
        section: InstancePrices | Price | None
        if kind == "ec2":
            section = self.ec2_on_demand
        elif kind == "rds":
            section = self.rds_instances
        elif kind == "elasticache":
            section = self.elasticache_nodes.get(rest.split(":", 1)[0])
        else:
            section = self.prices.get(price_key)
        if section is None:
            return {"source": "not in the table", "date": ""}
        return {"source": section.source, "date": section.date.isoformat()}

    def ec2_hourly(self, instance_type: str) -> float | None:
        return self.ec2_on_demand.hourly.get(instance_type)

    def cache_hourly(self, node_type: str, engine: str = CACHE_ENGINE) -> float | None:
        prices = self.elasticache_nodes.get(engine)
        return prices.hourly.get(node_type) if prices else None


def _validated(document: Any, relative: str) -> PriceTable:
    try:
        return PriceTable.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(
            f"{o.key} = {o.value}: {o.allowed}" for o in offences_from(exc, PriceTable, "")
        )
        raise PriceTableError(f"{table_path(relative)}: {problems}") from None


def price_table(document: Any, region: str) -> PriceTable:
    """A price table document as the table of ``region`` (its `region:` must agree)."""
    relative = f"{PRICES}/{region}.yaml"
    table = _validated(document, relative)
    if table.region != region:
        raise PriceTableError(
            f"{table_path(relative)}: says region {table.region}, file name says {region}"
        )
    return table


def table_regions() -> list[str]:
    """Regions with a price table, complete or not."""
    return table_names(PRICES)


@cache
def load_price_table(region: str) -> PriceTable:
    """The price table of ``region``; never another region's prices in its place."""
    relative = f"{PRICES}/{region}.yaml"
    if not has_table(relative):
        raise PriceTableNotFound(
            f"no price table for region {region} ({table_path(relative)}); "
            f"priced regions: {', '.join(priced_regions())}. The stack is not priced "
            "rather than priced at another region's rates."
        )
    return price_table(read_table(relative), region)


@cache
def priced_regions() -> list[str]:
    """Regions whose table gives every figure: the regions the config accepts."""
    return [r for r in table_regions() if not load_price_table(r).missing_prices()]


def region_gaps(region: str) -> list[str]:
    """Why ``region`` is not priced: no table, or the figures its table lacks."""
    if region not in table_regions():
        return ["no price table"]
    return load_price_table(region).missing_prices()
