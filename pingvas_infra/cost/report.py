"""The whole cost picture of a plan: this stack and the design guide's two designs under
every usage profile, the guide's own cost tables reproduced, and the GPU cost per 1,000
images."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pingvas_infra.cost.baseline_graphs import Reproduction, baseline_resources, reproduce
from pingvas_infra.cost.context import PricingContext
from pingvas_infra.cost.data import (
    Baseline,
    GpuWorkload,
    UsageProfile,
    load_baselines,
    load_profiles,
    load_workload,
)
from pingvas_infra.cost.model import Priced, free_summary, money, optional_money
from pingvas_infra.cost.pricing import price_design
from pingvas_infra.plan.model import RecordedResource
from pingvas_infra.price_tables import PriceTable, load_price_table

# The layers __main__.py wires, in order: a graph without one of them is not yet the
# whole stack, and its totals are not comparable with the baseline designs.
LAYER_ORDER = (
    "network",
    "cluster",
    "gpu",
    "data",
    "tenancy",
    "storage",
    "ingress",
    "operations",
)
# Usage profiles (pingvas_infra/tables/profiles/): no traffic, and the design guide's own
# usage figures.
IDLE = "idle"
REFERENCE = "guide-reference"
# Baselines (pingvas_infra/tables/baselines/): the guide's single-cluster design and the
# legacy two-cluster setup it describes.
SINGLE = "guide-single-cluster"
LEGACY = "legacy-two-cluster"
THIS_STACK = "this stack"


@dataclass(frozen=True)
class PoolImageCost:
    environment: str
    spot_share: float
    usd: float
    on_demand: float
    # Where the share comes from: the profile, or the pool's allowed capacity types.
    basis: str

    @property
    def share_of_on_demand(self) -> float:
        return self.usd / self.on_demand


@dataclass(frozen=True)
class GpuImageCost:
    reference_instance: str
    seconds_per_image: float
    hours_per_1000: float
    on_demand: float
    pools: dict[str, PoolImageCost]

    def to_json(self) -> dict[str, Any]:
        return {
            **{env: money(pool.usd) for env, pool in self.pools.items()},
            "on_demand": money(self.on_demand),
            "basis": {
                "instance": self.reference_instance,
                "seconds_per_image": self.seconds_per_image,
                "gpu_hours_per_1000_images": round(self.hours_per_1000, 4),
                "pools": {
                    env: {
                        "spot_share": pool.spot_share,
                        "share_of_on_demand": round(pool.share_of_on_demand, 4),
                        "spot_share_from": pool.basis,
                    }
                    for env, pool in self.pools.items()
                },
            },
        }


def gpu_image_cost(
    resources: Sequence[RecordedResource],
    table: PriceTable,
    profile: UsageProfile,
    workload: GpuWorkload,
) -> GpuImageCost:
    """Cost of 1,000 images on each pool at the design guide's seconds per image: the
    pool's spot share of the hours at the spot price, the rest on-demand."""
    ctx = PricingContext(resources, table, profile, workload)
    hourly = ctx.instance_hourly(workload.reference_instance)
    hours = workload.hours_per_1000_images
    shares: dict[str, tuple[float, str]] = {
        env: (usage.spot_share, f"profile {profile.name} (no NodePool for it in the graph)")
        for env, usage in profile.gpu.pools.items()
    }
    for pool in ctx.gpu_pools():
        share = ctx.pool_share(pool)
        shares[share.environment] = (share.share, share.note or f"profile {profile.name}")
    pools = {
        env: PoolImageCost(
            environment=env,
            spot_share=share,
            usd=hours * hourly * (share * table.spot_factor + 1 - share),
            on_demand=hours * hourly,
            basis=basis,
        )
        for env, (share, basis) in sorted(shares.items())
    }
    return GpuImageCost(
        reference_instance=workload.reference_instance,
        seconds_per_image=workload.seconds_per_image,
        hours_per_1000=hours,
        on_demand=hours * hourly,
        pools=pools,
    )


@dataclass
class CostReport:
    project: str
    stack: str
    table: PriceTable
    profiles: dict[str, UsageProfile]
    this_stack: dict[str, Priced]
    baselines: dict[str, Baseline]
    baseline_costs: dict[str, dict[str, Priced]]
    reproductions: dict[str, Reproduction]
    gpu: GpuImageCost
    # Layers with resources in the priced graph.
    layers: frozenset[str]

    @property
    def missing_layers(self) -> list[str]:
        return [layer for layer in LAYER_ORDER if layer not in self.layers]

    def priced(self, design: str, profile: str) -> Priced:
        if design == THIS_STACK:
            return self.this_stack[profile]
        return self.baseline_costs[design][profile]

    def total(self, design: str, profile: str) -> float | None:
        """The design's monthly total; None (unknown) while anything in it is unpriced."""
        return self.priced(design, profile).total

    def ratio(self, profile: str, baseline: str) -> float | None:
        """This stack's total over the baseline's; unknown if either total is."""
        this, other = self.total(THIS_STACK, profile), self.total(baseline, profile)
        if this is None or other is None or other == 0:
            return None
        return this / other

    @property
    def complete(self) -> bool:
        """Every total of this stack is known (nothing unpriced)."""
        return all(priced.complete for priced in self.this_stack.values())

    def unpriced(self) -> list[dict[str, str]]:
        seen = {
            tuple(item.to_json().items()): item.to_json()
            for priced in self.this_stack.values()
            for item in priced.unpriced
        }
        return [seen[key] for key in sorted(seen)]

    def comparison_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for profile in self.profiles:
            this = self.total(THIS_STACK, profile)
            row: dict[str, Any] = {"this_stack": optional_money(this)}
            for baseline in self.baselines:
                other = self.total(baseline, profile)
                ratio = self.ratio(profile, baseline)
                row[baseline] = optional_money(other)
                row[f"ratio_to_{baseline}"] = None if ratio is None else round(ratio, 4)
                row[f"saving_vs_{baseline}"] = (
                    None if this is None or other is None else money(other - this)
                )
            out[profile] = row
        return out

    def to_json(self) -> dict[str, Any]:
        """cost.json without the targets (pingvas_infra/cost/targets.py adds them)."""
        table = self.table
        return {
            "project": self.project,
            "stack": self.stack,
            "price_table": {
                "region": table.region,
                "date": table.date.isoformat(),
                "currency": table.currency,
                "hours_per_month": table.hours_per_month,
                "spot_discount": table.spot_discount.fraction,
                "file": f"pingvas_infra/tables/prices/{table.region}.yaml",
                # Source and date of every figure this stack's lines use.
                "figures": {
                    key: table.citation(key)
                    for key in sorted(
                        {line.price_key for p in self.this_stack.values() for line in p.lines}
                    )
                },
            },
            "profiles": {
                name: {
                    "description": self.profiles[name].description,
                    **priced.to_json(),
                    "warnings": priced.warnings,
                }
                for name, priced in self.this_stack.items()
            },
            "free": free_summary(next(iter(self.this_stack.values())).free),
            "unpriced": self.unpriced(),
            "baselines": {
                name: {
                    "title": baseline.title,
                    "source": baseline.source,
                    "notes": baseline.notes,
                    **{
                        profile: priced.to_json()
                        for profile, priced in self.baseline_costs[name].items()
                    },
                }
                for name, baseline in self.baselines.items()
            },
            "completeness": {
                "complete": not self.missing_layers,
                "missing_layers": self.missing_layers,
            },
            "comparison": self.comparison_json(),
            "guide_tables_reproduced": {
                name: reproduction.to_json() for name, reproduction in self.reproductions.items()
            },
            "gpu_cost_per_1000_images": self.gpu.to_json(),
        }


def build_report(
    resources: Sequence[RecordedResource], *, project: str, stack: str, region: str
) -> CostReport:
    """Price ``resources`` and the baseline designs under every profile (raises
    PriceTableNotFound when the region has no table)."""
    table = load_price_table(region)
    # The floor first, then the usage profiles by name.
    profiles = dict(sorted(load_profiles().items(), key=lambda item: item[0] != IDLE))
    workload = load_workload()
    baselines = load_baselines()
    this_stack = {
        name: price_design(resources, table, profile, workload)
        for name, profile in profiles.items()
    }
    baseline_costs = {
        name: {
            profile_name: price_design(baseline_resources(baseline), table, profile, workload)
            for profile_name, profile in profiles.items()
        }
        for name, baseline in baselines.items()
    }
    reproductions = {
        name: reproduce(baseline, baseline_costs[name][REFERENCE])
        for name, baseline in baselines.items()
    }
    return CostReport(
        project=project,
        stack=stack,
        table=table,
        profiles=profiles,
        this_stack=this_stack,
        baselines=baselines,
        baseline_costs=baseline_costs,
        reproductions=reproductions,
        gpu=gpu_image_cost(resources, table, profiles[REFERENCE], workload),
        layers=frozenset(r.layer for r in resources),
    )
