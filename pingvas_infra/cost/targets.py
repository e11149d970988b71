"""The stack's cost targets, checked on a cost report (all figures from the same price
table and profiles):

- idle: this stack at most 0.5 x the guide's single-cluster design's idle total;
- guide-reference: at most 0.72 x the guide's single-cluster design's total;
- GPU per 1,000 images on the dev pool (spot only) at most 35% of the all-on-demand figure;
- the prod pool's figure is reported at the profile's spot share (a statement, no limit).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pingvas_infra.cost.report import IDLE, REFERENCE, SINGLE, CostReport

IDLE_RATIO_LIMIT = 0.5
REFERENCE_RATIO_LIMIT = 0.72
DEV_GPU_SHARE_LIMIT = 0.35


@dataclass(frozen=True)
class TargetCheck:
    name: str
    value: float
    # None: reported, not limited.
    limit: float | None
    detail: str

    @property
    def met(self) -> bool:
        return self.limit is None or self.value <= self.limit

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": round(self.value, 4),
            "limit": self.limit,
            "met": self.met,
            "detail": self.detail,
        }


def idle_ratio(report: CostReport) -> TargetCheck:
    return TargetCheck(
        name=f"{IDLE} total vs {SINGLE}",
        value=report.ratio(IDLE, SINGLE),
        limit=IDLE_RATIO_LIMIT,
        detail="this stack's idle total / the guide's single-cluster design's idle total",
    )


def reference_ratio(report: CostReport) -> TargetCheck:
    return TargetCheck(
        name=f"{REFERENCE} total vs {SINGLE}",
        value=report.ratio(REFERENCE, SINGLE),
        limit=REFERENCE_RATIO_LIMIT,
        detail=f"this stack's {REFERENCE} total / the guide's single-cluster design's",
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
