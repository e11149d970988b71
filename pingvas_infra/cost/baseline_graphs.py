"""The baseline designs as resource graphs, and the reproduction of the design guide's own
cost tables.

A baseline file lists the resources a design of the guide would register, in the shape the
Pulumi SDKs send them; :func:`baseline_resources` turns it into recorded resources so the
very rules that price this stack price the baseline too. :func:`reproduce` multiplies the
guide's own unit prices by the units of those resources: it must give the guide's totals to
the cent, which shows the baseline has the guide's architecture (counts), not just its sum.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pingvas_infra import resource_types as rt
from pingvas_infra.cost.data import Baseline
from pingvas_infra.cost.model import Priced
from pingvas_infra.plan.model import RecordedResource

# How many units of a row of the guide's cost table one resource is (nodes, instances,
# gateways).
GUIDE_TABLE_UNITS: dict[str, Callable[[Mapping[str, Any]], int]] = {
    rt.EKS_CLUSTER_COMPONENT: lambda inputs: 1,
    rt.EKS_NODE_GROUP_COMPONENT: lambda inputs: int(inputs["scalingConfig"]["desiredSize"]),
    rt.RDS_CLUSTER_INSTANCE: lambda inputs: 1,
    rt.CACHE_REPLICATION_GROUP: lambda inputs: int(inputs["numCacheClusters"]),
    rt.NAT_GATEWAY: lambda inputs: 1,
}


def resource_names(baseline: Baseline) -> dict[str, str]:
    """Recorded resource name -> the baseline resource id it was made from."""
    names = {}
    for entry in baseline.resources:
        for index in range(entry.count):
            names[entry.id if entry.count == 1 else f"{entry.id}-{index + 1}"] = entry.id
    return names


def baseline_resources(baseline: Baseline) -> list[RecordedResource]:
    recorded = []
    names = resource_names(baseline)
    by_id = {entry.id: entry for entry in baseline.resources}
    for name, entry_id in names.items():
        entry = by_id[entry_id]
        component = f"{rt.COMPONENT_PREFIX}{entry.layer}:Baseline"
        urn = f"urn:pulumi:{baseline.name}::baselines::{component}${entry.type}::{name}"
        recorded.append(
            RecordedResource(
                urn=urn,
                type=entry.type,
                name=name,
                parent=None,
                custom=not entry.type.startswith(rt.EKS_COMPONENT_PREFIX),
                remote=entry.type.startswith(rt.EKS_COMPONENT_PREFIX),
                inputs=copy.deepcopy(entry.inputs),
                protect=False,
                retain_on_delete=False,
                dependencies=(),
                provider=None,
                id=name,
            )
        )
    return sorted(recorded, key=lambda r: r.urn)


@dataclass(frozen=True)
class GuideRowResult:
    item: str
    units: int | None
    unit_price: Decimal | None
    amount: Decimal

    def to_json(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "units": self.units,
            "unit_price": None if self.unit_price is None else str(self.unit_price),
            "amount": str(self.amount),
        }


@dataclass(frozen=True)
class Reproduction:
    baseline: str
    source: str
    rows: list[GuideRowResult]
    guide_total: Decimal
    # Baseline resources the guide's table leaves out, with their monthly cost at this
    # stack's price table under the guide-reference profile.
    omitted: dict[str, float]

    @property
    def total(self) -> Decimal:
        return sum((row.amount for row in self.rows), Decimal(0))

    @property
    def matches(self) -> bool:
        return self.total == self.guide_total

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "computed": str(self.total),
            "guide_total": str(self.guide_total),
            "matches": self.matches,
            "rows": [row.to_json() for row in self.rows],
            "left_out_of_the_guide_table": {
                k: round(v, 2) for k, v in sorted(self.omitted.items())
            },
        }


def reproduce(baseline: Baseline, priced_reference: Priced) -> Reproduction:
    """The guide's own cost table, recomputed from the baseline's resources."""
    by_id = {entry.id: entry for entry in baseline.resources}
    rows = []
    for row in baseline.guide_table.rows:
        if row.amount is not None:
            rows.append(GuideRowResult(row.item, None, None, row.amount))
            continue
        assert row.unit_price is not None  # validated: amount or unit price
        units = sum(
            GUIDE_TABLE_UNITS[by_id[i].type](by_id[i].inputs) * by_id[i].count
            for i in row.resources
        )
        rows.append(GuideRowResult(row.item, units, row.unit_price, row.unit_price * units))
    counted = {i for row in baseline.guide_table.rows for i in row.resources}
    names = resource_names(baseline)
    omitted: dict[str, float] = {}
    for line in priced_reference.lines:
        entry_id = names.get(line.resource)
        if entry_id is not None and entry_id not in counted and line.monthly:
            omitted[entry_id] = omitted.get(entry_id, 0.0) + line.monthly
    return Reproduction(
        baseline=baseline.name,
        source=baseline.guide_table.source,
        rows=rows,
        guide_total=baseline.guide_table.total,
        omitted=omitted,
    )
