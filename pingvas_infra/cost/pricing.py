"""Price one design (a recorded graph or a baseline) under one usage profile."""

from __future__ import annotations

from collections.abc import Sequence

from pingvas_infra.cost.context import PricingContext
from pingvas_infra.cost.data import GpuWorkload, UsageProfile
from pingvas_infra.cost.model import SHARED, WORKLOAD_LAYER, CostLine, Free, Priced, Unpriced
from pingvas_infra.cost.rules import price_resource
from pingvas_infra.plan.model import RecordedResource
from pingvas_infra.price_tables import PriceTable


def workload_lines(table: PriceTable, profile: UsageProfile) -> Priced:
    """Traffic the workload causes whatever the architecture: the same in every design."""
    internet = profile.internet
    items = [
        (
            "Data transfer out to the internet",
            internet.data_transfer_out_gb,
            "data-transfer-out-gb",
        ),
        ("CloudFront delivery", internet.cloudfront_gb, "cloudfront-gb"),
    ]
    priced = Priced()
    for component, quantity, key in items:
        price = table.prices.get(key)
        if price is None or price.usd is None:
            priced.unpriced.append(
                Unpriced(
                    "internet",
                    "workload",
                    WORKLOAD_LAYER,
                    f"{component}: no '{key}' price in the {table.region} price table",
                )
            )
            continue
        priced.lines.append(
            CostLine(
                resource="internet",
                resource_type="workload",
                layer=WORKLOAD_LAYER,
                environment=SHARED,
                component=component,
                unit=price.unit,
                quantity=quantity,
                unit_price=price.usd,
                kind="usage",
                price_key=key,
            )
        )
    return priced


def price_design(
    resources: Sequence[RecordedResource],
    table: PriceTable,
    profile: UsageProfile,
    workload: GpuWorkload,
) -> Priced:
    ctx = PricingContext(resources, table, profile, workload)
    priced = Priced()
    warnings: set[str] = set()
    for resource in sorted(resources, key=lambda r: r.urn):
        result = price_resource(resource, ctx)
        priced.lines += result.lines
        priced.unpriced += [
            Unpriced(resource.name, resource.type, resource.layer, reason)
            for reason in result.unpriced
        ]
        if result.free is not None and not result.lines and not result.unpriced:
            priced.free.append(Free(resource.name, resource.type, resource.layer, result.free))
        warnings.update(result.warnings)
    traffic = workload_lines(table, profile)
    priced.lines += traffic.lines
    priced.unpriced += traffic.unpriced
    warnings.update(
        f"profile usage {key} is not priced: "
        + (
            "no log group in the graph receives it (log type not enabled)"
            if key.startswith("logs:")
            else "no resource in the graph carries it"
        )
        for key in ctx.unconsumed_usage()
    )
    priced.warnings = sorted(warnings)
    return priced
