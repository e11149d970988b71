"""What pricing produces: cost lines, resources that cost nothing, and what could not be priced.

A cost line is one billable component of one resource (Infracost's "cost component"): a
unit, a monthly quantity and a unit price from the price table. Lines are either *fixed*
(capacity billed by the hour whether used or not, hourly price x hours per month) or
*usage* (driven by the usage profile: GB, ACU-hours above the floor, GPU-hours).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from pingvas_infra import resource_types as rt

Kind = Literal["fixed", "usage"]
SHARED = "shared"
# Lines that belong to no resource in the graph: traffic the workload causes whatever the
# architecture (data transfer out, CloudFront delivery).
WORKLOAD_LAYER = "workload"


def money(value: float) -> float:
    """Round to cents for output (half up, from the shortest decimal form of the float)."""
    return float(Decimal(repr(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def optional_money(value: float | None) -> float | None:
    """Cents, or None for an unknown figure (JSON null)."""
    return None if value is None else money(value)


@dataclass(frozen=True)
class CostLine:
    resource: str
    resource_type: str
    layer: str
    environment: str
    component: str
    unit: str
    quantity: float
    unit_price: float
    kind: Kind
    price_key: str
    # The assumption the quantity rests on, where a rule made one (a spot share, what an
    # Aurora instance scales with): shown beside the line.
    basis: str = ""

    @property
    def monthly(self) -> float:
        return self.quantity * self.unit_price

    @property
    def key(self) -> str:
        """Identifies the line across plans (for `cost --compare`)."""
        return (
            f"{self.layer} / {rt.short_name(self.resource_type)} {self.resource} / {self.component}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "resource": self.resource,
            "type": self.resource_type,
            "layer": self.layer,
            "environment": self.environment,
            "component": self.component,
            "unit": self.unit,
            "quantity": round(self.quantity, 4),
            "unit_price": round(self.unit_price, 6),
            "monthly": money(self.monthly),
            "kind": self.kind,
            "price": self.price_key,
            "basis": self.basis,
        }


@dataclass(frozen=True)
class Unpriced:
    """A resource (or one component of it) that no rule could price: shown, never dropped."""

    resource: str
    resource_type: str
    layer: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {
            "resource": self.resource,
            "type": self.resource_type,
            "layer": self.layer,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Free:
    """A resource that costs nothing of its own, and why."""

    resource: str
    resource_type: str
    layer: str
    reason: str


@dataclass
class Priced:
    """Every line, free resource, unpriced item and warning of one design under one profile."""

    lines: list[CostLine] = field(default_factory=list)
    free: list[Free] = field(default_factory=list)
    unpriced: list[Unpriced] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Every resource priced: only then is the sum of the lines the design's cost."""
        return not self.unpriced

    @property
    def priced_total(self) -> float:
        """The sum of the lines that have a price: a floor, never the total, while
        something is unpriced."""
        return sum(line.monthly for line in self.lines)

    @property
    def total(self) -> float | None:
        """The monthly total, or None (unknown) when anything is unpriced: an unpriced
        resource never reads as free."""
        return self.priced_total if self.complete else None

    def total_of(self, kind: Kind) -> float:
        return sum(line.monthly for line in self.lines if line.kind == kind)

    def by(self, attribute: str) -> dict[str, float]:
        sums: dict[str, float] = defaultdict(float)
        for line in self.lines:
            sums[getattr(line, attribute)] += line.monthly
        return dict(sorted(sums.items()))

    def summary_json(self) -> dict[str, Any]:
        return {
            "total": optional_money(self.total),
            "complete": self.complete,
            "priced_total": money(self.priced_total),
            "unpriced": [item.to_json() for item in self.unpriced],
            "fixed": money(self.total_of("fixed")),
            "usage": money(self.total_of("usage")),
            "by_layer": {k: money(v) for k, v in self.by("layer").items()},
            "by_environment": {k: money(v) for k, v in self.by("environment").items()},
        }

    def to_json(self) -> dict[str, Any]:
        return {
            **self.summary_json(),
            "lines": [line.to_json() for line in sorted_lines(self.lines)],
        }


def sorted_lines(lines: Iterable[CostLine]) -> list[CostLine]:
    return sorted(lines, key=lambda line: (line.layer, line.resource, line.component))


def free_summary(free: Iterable[Free]) -> list[dict[str, Any]]:
    """Free resources grouped by type, with the reason and how many there are."""
    groups: dict[tuple[str, str], int] = defaultdict(int)
    for item in free:
        groups[(item.resource_type, item.reason)] += 1
    return [
        {"type": type_token, "count": count, "reason": reason}
        for (type_token, reason), count in sorted(groups.items())
    ]
