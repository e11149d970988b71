"""Alerts, routing and dashboards, checked by Prometheus' and Alertmanager's own tools.

The rules are taken from the PrometheusRule object the layer registers and run through
`promtool test rules` on synthetic kube-state-metrics series; the routing is taken from
the Helm release's values and run through `amtool`; every dashboard query goes through
Prometheus' PromQL parser (`promtool check rules`). scripts/test.sh installs both tools.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from pingvas_infra import resource_types as rt
from pingvas_infra.environments import DEV, ENVIRONMENTS, PROD
from pingvas_infra.operations import backup, monitoring
from pingvas_infra.plan.model import PlanResult
from pingvas_infra.tables import load_table
from pingvas_infra.tenancy.static import GPU_QUOTA_KEY
from tests.operations.monitoring_graph import (
    BOTH_KEYS,
    amtool,
    operations,
    promtool,
    rule_file,
    rule_groups,
    run_rule_tests,
    runbook_link,
)
from tests.support.charts import chart_values
from tests.support.plan_graph import PlanRunner

# kube-state-metrics target labels every series carries.
KSM = 'job="kube-state-metrics", instance="10.0.40.7:8080"'


@pytest.fixture(scope="module")
def ops(run_plan: PlanRunner) -> PlanResult:
    """The operations layer of the default stack with both receivers' keys set."""
    return operations(run_plan, {}, BOTH_KEYS)


def quota(namespace: str, resource: str, kind: str, values: str) -> dict[str, str]:
    return {
        "series": (
            f'kube_resourcequota{{{KSM}, namespace="{namespace}", '
            f'resourcequota="{namespace}-quota", resource="{resource}", type="{kind}"}}'
        ),
        "values": values,
    }


def quota_alert(namespace: str, resource: str, severity: str, alertname: str) -> dict[str, Any]:
    return {
        "exp_labels": {
            "alertname": alertname,
            "severity": severity,
            "namespace": namespace,
            "resource": resource,
            "resourcequota": f"{namespace}-quota",
            "job": "kube-state-metrics",
            "instance": "10.0.40.7:8080",
        }
    }


QUOTA_SERIES = [
    # dev: GPUs at 3 of 3 (100%), CPU at 10 of 20 (50%).
    quota("dev", GPU_QUOTA_KEY, "used", "3x20"),
    quota("dev", GPU_QUOTA_KEY, "hard", "3x20"),
    quota("dev", "requests.cpu", "used", "10x20"),
    quota("dev", "requests.cpu", "hard", "20x20"),
    # prod: memory at 95%, CPU at 80%.
    quota("prod", "requests.memory", "used", "190x20"),
    quota("prod", "requests.memory", "hard", "200x20"),
    quota("prod", "requests.cpu", "used", "40x20"),
    quota("prod", "requests.cpu", "hard", "50x20"),
]


def test_rules_are_valid_for_prometheus(ops: PlanResult, tmp_path: Path) -> None:
    done = promtool("check", "rules", str(rule_file(ops, tmp_path)))
    assert done.returncode == 0, done.stdout + done.stderr


def test_quota_alert_fires_per_namespace_after_five_minutes_above_ninety_percent(
    ops: PlanResult, tmp_path: Path
) -> None:
    dev_alert, prod_alert = (monitoring.quota_alert_name(e) for e in (DEV, PROD))
    run_rule_tests(
        rule_file(ops, tmp_path),
        [
            {
                "interval": "1m",
                "input_series": QUOTA_SERIES,
                "alert_rule_test": [
                    # Pending, not firing, before the 5 minutes are up.
                    {"eval_time": "4m", "alertname": dev_alert, "exp_alerts": []},
                    {"eval_time": "4m", "alertname": prod_alert, "exp_alerts": []},
                    {
                        "eval_time": "6m",
                        "alertname": dev_alert,
                        "exp_alerts": [
                            {
                                **quota_alert("dev", GPU_QUOTA_KEY, "warning", dev_alert),
                                "exp_annotations": {
                                    "summary": "dev namespace is using more than 90% of its "
                                    f"{GPU_QUOTA_KEY} quota (100%)",
                                    "description": "Compare used with hard: kubectl -n dev "
                                    "describe resourcequota dev-quota; then find the workload "
                                    "that grew.",
                                    **runbook_link(dev_alert),
                                },
                            }
                        ],
                    },
                    {
                        "eval_time": "6m",
                        "alertname": prod_alert,
                        "exp_alerts": [
                            {
                                **quota_alert("prod", "requests.memory", "critical", prod_alert),
                                "exp_annotations": {
                                    "summary": "prod namespace is using more than 90% of its "
                                    "requests.memory quota (95%)",
                                    "description": "Compare used with hard: kubectl -n prod "
                                    "describe resourcequota prod-quota; then find the workload "
                                    "that grew.",
                                    **runbook_link(prod_alert),
                                },
                            }
                        ],
                    },
                ],
            }
        ],
        tmp_path,
    )


def test_the_guides_expression_never_matches_on_the_same_series(
    ops: PlanResult, tmp_path: Path
) -> None:
    """The defect the fixed rule corrects: `used / hard` also matches on `type`."""
    guide_expression = (
        'kube_resourcequota{namespace="dev",type="used"} '
        '/ kube_resourcequota{namespace="dev",type="hard"} > 0.9'
    )
    fixed = f"{monitoring.quota_ratio_expression(DEV.namespace)} > 0.9"
    run_rule_tests(
        rule_file(ops, tmp_path),
        [
            {
                "interval": "1m",
                "input_series": QUOTA_SERIES,
                "promql_expr_test": [
                    {"expr": guide_expression, "eval_time": "10m", "exp_samples": []},
                    {
                        "expr": fixed,
                        "eval_time": "10m",
                        "exp_samples": [
                            {
                                "labels": (
                                    f'{{{KSM}, namespace="dev", resourcequota="dev-quota", '
                                    f'resource="{GPU_QUOTA_KEY}"}}'
                                ),
                                "value": 1,
                            }
                        ],
                    },
                ],
            }
        ],
        tmp_path,
    )


def cron_series(metric: str, values: str) -> dict[str, str]:
    return {
        "series": f'{metric}{{{KSM}, namespace="prod", cronjob="{backup.NAME}"}}',
        "values": values,
    }


FAILED_SUMMARY = f"The last prod schema backup ({backup.NAME}) did not succeed"
FIRST_ACTIONS = {
    "ProdBackupFailed": (
        "Read the newest run's logs: kubectl -n prod get jobs "
        "-l app.kubernetes.io/name=prod-db-backup, then kubectl -n prod logs job/<newest> "
        "-c dump (and -c upload)."
    ),
    "ProdBackupStale": (
        "Check the schedule: kubectl -n prod get cronjob prod-db-backup (SUSPEND, LAST "
        "SCHEDULE); take a backup now: kubectl -n prod create job "
        "--from=cronjob/prod-db-backup prod-db-backup-manual-$(date +%s)."
    ),
}


def backup_alert(alertname: str, summary: str = FAILED_SUMMARY) -> dict[str, Any]:
    return {
        "exp_annotations": {
            "summary": summary,
            "description": FIRST_ACTIONS[alertname],
            **runbook_link(alertname),
        },
        "exp_labels": {
            "alertname": alertname,
            "severity": "critical",
            "namespace": "prod",
            "cronjob": backup.NAME,
            "job": "kube-state-metrics",
            "instance": "10.0.40.7:8080",
        },
    }


def test_backup_alerts_page_for_a_failed_a_never_successful_and_a_stale_backup(
    ops: PlanResult, tmp_path: Path
) -> None:
    scheduled = "kube_cronjob_status_last_schedule_time"
    succeeded = "kube_cronjob_status_last_successful_time"
    # Timestamps in seconds; promtool's clock starts at 0.
    run_rule_tests(
        rule_file(ops, tmp_path),
        [
            {
                # A run scheduled at 01:00 that never succeeds: pages once the 60-minute
                # deadline has passed.
                "interval": "1m",
                "input_series": [
                    cron_series(scheduled, "3600x200"),
                    cron_series(succeeded, "0x200"),
                ],
                "alert_rule_test": [
                    {"eval_time": "30m", "alertname": "ProdBackupFailed", "exp_alerts": []},
                    {
                        "eval_time": "61m",
                        "alertname": "ProdBackupFailed",
                        "exp_alerts": [backup_alert("ProdBackupFailed")],
                    },
                ],
            },
            {
                # The same run succeeding at 01:05: silence.
                "interval": "1m",
                "input_series": [
                    cron_series(scheduled, "3600x200"),
                    cron_series(succeeded, "3900x200"),
                ],
                "alert_rule_test": [
                    {"eval_time": "3h", "alertname": "ProdBackupFailed", "exp_alerts": []},
                ],
            },
            {
                # Scheduled, and no success ever recorded.
                "interval": "1m",
                "input_series": [cron_series(scheduled, "0x200")],
                "alert_rule_test": [
                    {
                        "eval_time": "61m",
                        "alertname": "ProdBackupFailed",
                        "exp_alerts": [backup_alert("ProdBackupFailed")],
                    },
                ],
            },
            {
                # The last success is 27 hours old: a daily backup is overdue.
                "interval": "1m",
                "input_series": [cron_series(succeeded, "0x1800")],
                "alert_rule_test": [
                    {"eval_time": "25h", "alertname": "ProdBackupStale", "exp_alerts": []},
                    {
                        "eval_time": "27h",
                        "alertname": "ProdBackupStale",
                        "exp_alerts": [
                            backup_alert(
                                "ProdBackupStale",
                                "No prod schema backup has succeeded for 1d 3h 0m 0s",
                            )
                        ],
                    },
                ],
            },
        ],
        tmp_path,
    )


def dashboards(ops: PlanResult, kind: str = "namespace") -> dict[str, dict[str, Any]]:
    """The dashboards of one kind: "namespace" (overview per environment) or "gpu"."""
    label, value = monitoring.DASHBOARD_LABEL
    found = {}
    for config_map in ops.of_type(rt.CONFIG_MAP):
        name = config_map.inputs["metadata"]["name"]
        if ("-gpu-" in name) != (kind == "gpu"):
            continue
        if config_map.inputs["metadata"].get("labels", {}).get(label) == value:
            ((_, text),) = config_map.inputs["data"].items()
            found[config_map.inputs["metadata"]["name"]] = json.loads(text)
    return found


def filled_queries(document: dict[str, Any]) -> list[str]:
    """Every query with the dashboard's constant variables filled in, as Grafana does."""
    constants = {
        f"${v['name']}": v["query"]
        for v in document["templating"]["list"]
        if v["type"] == "constant"
    }
    queries = []
    for panel in document["panels"]:
        for target in panel["targets"]:
            query = target["expr"]
            for name, value in constants.items():
                query = query.replace(name, value)
            queries.append(query)
    return queries


def test_one_dashboard_per_environment_each_confined_to_its_namespace(
    ops: PlanResult,
) -> None:
    found = dashboards(ops)
    assert len(found) == len(ENVIRONMENTS)
    by_namespace = {}
    for document in found.values():
        namespaces = {
            m for q in filled_queries(document) for m in re.findall(r'namespace="([^"]*)"', q)
        }
        assert len(namespaces) == 1
        by_namespace[namespaces.pop()] = document
    assert set(by_namespace) == {e.namespace for e in ENVIRONMENTS}
    assert len({d["uid"] for d in found.values()}) == len(found)
    for document in found.values():
        titles = " ".join(p["title"] for p in document["panels"]).lower()
        for topic in ("cpu", "memory", "gpu", "quota"):
            assert topic in titles
        queries = " ".join(filled_queries(document))
        assert f'resource="{GPU_QUOTA_KEY}"' in queries


def test_dashboard_queries_parse_as_promql(ops: PlanResult, tmp_path: Path) -> None:
    records = [
        {"record": f"dashboard:query{i}", "expr": query}
        for i, document in enumerate(dashboards(ops).values())
        for query in filled_queries(document)
    ]
    path = tmp_path / "queries.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "q", "rules": records}]}))
    done = promtool("check", "rules", str(path))
    assert done.returncode == 0, done.stdout + done.stderr


def test_quota_gauges_turn_red_at_the_alert_ratio(run_plan: PlanRunner) -> None:
    ops = operations(
        run_plan, {"pingvas-infra:operations": {"monitoring": {"quotaAlertRatio": 0.8}}}, BOTH_KEYS
    )
    for document in dashboards(ops).values():
        steps = [
            p["fieldConfig"]["defaults"]["thresholds"]["steps"][-1]["value"]
            for p in document["panels"]
            if "thresholds" in p["fieldConfig"]["defaults"]
        ]
        assert steps == [0.8]
    exprs = [r["expr"] for g in rule_groups(ops) for r in g["rules"] if "alert" in r]
    assert sum(e.endswith("> 0.8") for e in exprs) == len(ENVIRONMENTS)


def _version(tool_output: str) -> tuple[int, int]:
    match = re.search(r"version (\d+)\.(\d+)", tool_output)
    assert match, tool_output
    return int(match[1]), int(match[2])


def test_the_checkers_are_of_the_deployed_majors() -> None:
    """promtool and amtool test what kube-prometheus-stack deploys (its values.yaml pins the
    images), of the same major: Prometheus 3 parses rules differently from 2 (UTF-8 names,
    stricter durations). Alertmanager 0.34 is not packaged anywhere this repository installs
    from; 0.33 is the nearest (README, Testing)."""
    deployed = load_table("operations")["deployed"]
    upstream = chart_values("kube-prometheus-stack-88.5.3")
    prometheus_image = upstream["prometheus"]["prometheusSpec"]["image"]["tag"]
    alertmanager_image = upstream["alertmanager"]["alertmanagerSpec"]["image"]["tag"]
    assert prometheus_image.removeprefix("v").split("-")[0] == deployed["prometheus"]
    assert alertmanager_image.removeprefix("v") == deployed["alertmanager"]
    promtool_version = _version(promtool("--version").stdout)
    amtool_version = _version(amtool("--version").stdout)
    assert promtool_version[0] == int(deployed["prometheus"].split(".")[0])
    assert amtool_version[0] == int(deployed["alertmanager"].split(".")[0])
    # Alertmanager is still 0.x: its minor is what moves; at most one behind.
    assert int(deployed["alertmanager"].split(".")[1]) - amtool_version[1] <= 1
