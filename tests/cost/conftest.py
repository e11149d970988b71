"""Fixtures of the cost tests: the real default stack, priced."""

from __future__ import annotations

import pytest

from pingvas_infra.cost.report import CostReport
from pingvas_infra.plan.model import PlanResult
from tests.support.cost import report_of


@pytest.fixture(scope="session")
def default_report(graph: PlanResult) -> CostReport:
    """The default stack (every layer, the project's defaults) under both profiles."""
    return report_of(graph)
