"""Slow statements are logged: the parameter the cluster parameter group sets, checked
against a real PostgreSQL (the session's server): the value parses as the duration the
config means, and the parameter changes without a restart, so `immediate` is right."""

from __future__ import annotations

import psycopg
import pytest

from pingvas_infra import resource_types as rt
from pingvas_infra.data.component import SLOW_STATEMENT_PARAMETER
from pingvas_infra.data.config import AuroraConfig
from pingvas_infra.plan.model import PlanResult
from tests.support.plan_graph import PlanRunner
from tests.support.servers import PostgresServer

pytestmark = pytest.mark.postgres


def slow_statement_parameter(graph: PlanResult) -> dict[str, str]:
    (group,) = graph.of_type(rt.RDS_CLUSTER_PARAMETER_GROUP)
    (parameter,) = [p for p in group.inputs["parameters"] if p["name"] == SLOW_STATEMENT_PARAMETER]
    return dict(parameter)


def test_postgresql_reads_the_value_as_the_configured_milliseconds(
    graph: PlanResult, postgres_server: PostgresServer
) -> None:
    parameter = slow_statement_parameter(graph)
    assert parameter["value"] == str(AuroraConfig().slow_statement_ms)
    with psycopg.connect(postgres_server.dsn(), autocommit=True) as connection:
        context, unit = connection.execute(
            "SELECT context, unit FROM pg_settings WHERE name = %s", (parameter["name"],)
        ).fetchone()  # type: ignore[misc]
        # Changed by a superuser (RDS) at run time: no reboot.
        assert context in {"superuser", "user", "sighup"}
        assert parameter["applyMethod"] == "immediate"
        assert unit == "ms"
        connection.execute(f"SET {parameter['name']} = '{parameter['value']}'")
        (shown,) = connection.execute(f"SHOW {parameter['name']}").fetchone()  # type: ignore[misc]
    assert shown == "1s"


def test_the_threshold_is_configurable_and_bounded(run_plan: PlanRunner) -> None:
    graph = run_plan({"pingvas-infra:data": {"aurora": {"slowStatementMs": 250}}})
    assert slow_statement_parameter(graph)["value"] == "250"
