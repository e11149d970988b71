"""Fixtures of the cost tests: the real default stack, priced."""

from __future__ import annotations

import pytest

from pingvas_infra.cost.report import CostReport, build_report
from pingvas_infra.plan.model import PlanResult


def report_of(plan: PlanResult) -> CostReport:
    return build_report(plan.resources, project=plan.project, stack=plan.stack, region="us-east-1")


@pytest.fixture(scope="session")
def default_report(graph: PlanResult) -> CostReport:
    """The default stack (every layer, the project's defaults) under both profiles."""
    return report_of(graph)
