"""The stack's cost targets, checked on a cost report (all figures from the same price
table and profiles):

- idle: this stack at most 0.48 x the guide's single-cluster design's idle total;
- guide-reference: at most 0.70 x the guide's single-cluster design's total;
- GPU per 1,000 images on the dev pool (spot only) at most 35% of the all-on-demand figure;
- the prod pool's figure is reported at the profile's spot share (a statement, no limit).

A total that includes an unpriced resource is unknown, and a target judged on it is not met.
The margin of a ratio target is in dollars: how much this stack could still grow (or must
shrink) before the limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pingvas_infra.cost.model import optional_money
from pingvas_infra.cost.report import IDLE, REFERENCE, SINGLE, THIS_STACK, CostReport

IDLE_RATIO_LIMIT = 0.48
REFERENCE_RATIO_LIMIT = 0.70
DEV_GPU_SHARE_LIMIT = 0.35


@dataclass(frozen=True)
class TargetCheck:
    name: str
    # None: unknown (a total it depends on includes something unpriced).
    value: float | None
    # None: reported, not limited.
    limit: float | None
    detail: str
    # Ratio targets: dollars a month left under the limit (negative: over it).
    margin_usd: float | None = None

    @property
    def met(self) -> bool:
        if self.limit is None:
            return True
        return self.value is not None and self.value <= self.limit

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": None if self.value is None else round(self.value, 4),
            "limit": self.limit,
            "met": self.met,
            "margin_usd": optional_money(self.margin_usd),
            "detail": self.detail,
        }


def _ratio_target(report: CostReport, profile: str, limit: float, detail: str) -> TargetCheck:
    this, baseline = report.total(THIS_STACK, profile), report.total(SINGLE, profile)
    margin = None if this is None or baseline is None else limit * baseline - this
    return TargetCheck(
        name=f"{profile} total vs {SINGLE}",
        value=report.ratio(profile, SINGLE),
        limit=limit,
        detail=detail,
        margin_usd=margin,
    )


def idle_ratio(report: CostReport) -> TargetCheck:
    return _ratio_target(
        report,
        IDLE,
        IDLE_RATIO_LIMIT,
        "this stack's idle total / the guide's single-cluster design's idle total",
    )


def reference_ratio(report: CostReport) -> TargetCheck:
    return _ratio_target(
        report,
        REFERENCE,
        REFERENCE_RATIO_LIMIT,
        f"this stack's {REFERENCE} total / the guide's single-cluster design's",
    )


def dev_gpu_share(report: CostReport) -> TargetCheck:
    pool = report.gpu.pools["dev"]
    return TargetCheck(
        name="dev GPU cost per 1,000 images vs all on-demand",
        value=pool.share_of_on_demand,
        limit=DEV_GPU_SHARE_LIMIT,
        detail=f"${pool.usd:.4f} at spot share {pool.spot_share:g} / ${report.gpu.on_demand:.4f}",
    )


def prod_gpu_reported(report: CostReport) -> TargetCheck:
    pool = report.gpu.pools["prod"]
    return TargetCheck(
        name="prod GPU cost per 1,000 images at the profile's spot share",
        value=pool.share_of_on_demand,
        limit=None,
        detail=f"${pool.usd:.4f} at spot share {pool.spot_share:g} ({pool.basis})",
    )


def check_targets(report: CostReport) -> list[TargetCheck]:
    return [
        idle_ratio(report),
        reference_ratio(report),
        dev_gpu_share(report),
        prod_gpu_reported(report),
    ]


def cost_document(report: CostReport, targets: Sequence[TargetCheck]) -> dict[str, Any]:
    """cost.json: the report and the targets checked on it."""
    return {**report.to_json(), "targets": [check.to_json() for check in targets]}
