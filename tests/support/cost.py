"""The default stack priced: what the cost tests and the architecture picture's tests read."""

from __future__ import annotations

from pingvas_infra.cost.report import CostReport, build_report
from pingvas_infra.plan.model import PlanResult


def report_of(plan: PlanResult) -> CostReport:
    return build_report(plan.resources, project=plan.project, stack=plan.stack, region="us-east-1")
