"""The seed's designs as resource graphs, and the reproduction of the seed's own totals.

A baseline file lists the resources a seed design would register, in the shape the Pulumi
SDKs send them; :func:`baseline_resources` turns it into recorded resources so the very
rules that price this stack price the baseline too. :func:`reproduce` multiplies the
seed's own unit prices by the units of those resources: it must give the seed's totals to
the cent, which shows the baseline has the seed's architecture (counts), not just its sum.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pingvas_infra.cost.data import Baseline
from pingvas_infra.cost.model import Priced
from pingvas_infra.plan.model import RecordedResource

# How many units of a seed cost-table row one resource is (nodes, instances, gateways).
SEED_UNITS: dict[str, Callable[[Mapping[str, Any]], int]] = {
    "eks:index:Cluster": lambda inputs: 1,
    "eks:index:ManagedNodeGroup": lambda inputs: int(inputs["scalingConfig"]["desiredSize"]),
    "aws:rds/clusterInstance:ClusterInstance": lambda inputs: 1,
    "aws:elasticache/replicationGroup:ReplicationGroup": lambda inputs: int(
        inputs["numCacheClusters"]
    ),
    "aws:ec2/natGateway:NatGateway": lambda inputs: 1,
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
        urn = (
            f"urn:pulumi:{baseline.name}::seed::pingvas:{entry.layer}:Baseline${entry.type}::{name}"
        )
        recorded.append(
            RecordedResource(
                urn=urn,
                type=entry.type,
                name=name,
                parent=None,
                custom=not entry.type.startswith("eks:index:"),
                remote=entry.type.startswith("eks:index:"),
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
class SeedRowResult:
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
    rows: list[SeedRowResult]
    seed_total: Decimal
    # Baseline resources the seed's table leaves out, with their table-priced monthly cost
    # under the seed-reference profile.
    omitted: dict[str, float]

    @property
    def total(self) -> Decimal:
        return sum((row.amount for row in self.rows), Decimal(0))

    @property
    def matches(self) -> bool:
        return self.total == self.seed_total

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "computed": str(self.total),
            "seed_total": str(self.seed_total),
            "matches": self.matches,
            "rows": [row.to_json() for row in self.rows],
            "omitted_by_the_seed": {k: round(v, 2) for k, v in sorted(self.omitted.items())},
        }


def reproduce(baseline: Baseline, priced_reference: Priced) -> Reproduction:
    """The seed's own table, recomputed from the baseline's resources."""
    by_id = {entry.id: entry for entry in baseline.resources}
    rows = []
    for row in baseline.seed_table.rows:
        if row.amount is not None:
            rows.append(SeedRowResult(row.item, None, None, row.amount))
            continue
        assert row.unit_price is not None  # validated: amount or unit price
        units = sum(
            SEED_UNITS[by_id[i].type](by_id[i].inputs) * by_id[i].count for i in row.resources
        )
        rows.append(SeedRowResult(row.item, units, row.unit_price, row.unit_price * units))
    counted = {i for row in baseline.seed_table.rows for i in row.resources}
    names = resource_names(baseline)
    omitted: dict[str, float] = {}
    for line in priced_reference.lines:
        entry_id = names.get(line.resource)
        if entry_id is not None and entry_id not in counted and line.monthly:
            omitted[entry_id] = omitted.get(entry_id, 0.0) + line.monthly
    return Reproduction(
        baseline=baseline.name,
        source=baseline.seed_table.source,
        rows=rows,
        seed_total=baseline.seed_table.total,
        omitted=omitted,
    )
