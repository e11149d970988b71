"""Alerts, routing and dashboards, checked by Prometheus' and Alertmanager's own tools.

The rules are taken from the PrometheusRule object the layer registers and run through
`promtool test rules` on synthetic kube-state-metrics series; the routing is taken from
the Helm release's values and run through `amtool`; every dashboard query goes through
Prometheus' PromQL parser (`promtool check rules`). scripts/test.sh installs both tools.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from pingvas_infra import resource_types as rt
from pingvas_infra.environments import DEV, ENVIRONMENTS, PROD
from pingvas_infra.operations import backup, monitoring
from pingvas_infra.plan.model import PlanResult
from pingvas_infra.tenancy.static import GPU_QUOTA_KEY
from tests.support.plan_graph import PlanRunner, layer_graph
from tests.support.tools import require_tool

# Both receivers' keys, set as `pulumi config set --secret` sets them.
BOTH_KEYS = {
    "pingvas-infra:pagerdutyRoutingKey": "pd-routing-key",
    "pingvas-infra:slackWebhookUrl": "https://hooks.invalid/x",
}

# kube-state-metrics target labels every series carries.
KSM = 'job="kube-state-metrics", instance="10.0.40.7:8080"'


def operations(
    run_plan: PlanRunner, overrides: dict[str, Any], secrets: dict[str, str]
) -> PlanResult:
    """The operations layer's resources in the stack planned with ``overrides``/``secrets``."""
    return layer_graph(run_plan(overrides, secrets), "operations")


@pytest.fixture(scope="module")
def ops(run_plan: PlanRunner) -> PlanResult:
    """The operations layer of the default stack with both receivers' keys set."""
    return operations(run_plan, {}, BOTH_KEYS)


def rule_file(ops: PlanResult, tmp_path: Path) -> Path:
    rule = ops.one(rt.PROMETHEUS_RULE)
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": rule.inputs["spec"]["groups"]}), encoding="utf-8")
    return path


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_tool("promtool"), *args], capture_output=True, text=True, check=False
    )


def run_rule_tests(rules: Path, tests: list[dict[str, Any]], tmp_path: Path) -> None:
    test_file = tmp_path / "tests.yaml"
    test_file.write_text(
        yaml.safe_dump(
            {"rule_files": [str(rules)], "evaluation_interval": "1m", "tests": tests},
            sort_keys=False,
        ),
        encoding="utf-8",
    )
    done = promtool("test", "rules", str(test_file))
    assert done.returncode == 0, done.stdout + done.stderr


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
                                    f"{GPU_QUOTA_KEY} quota (100%)"
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
                                    "requests.memory quota (95%)"
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


def backup_alert(alertname: str, summary: str = FAILED_SUMMARY) -> dict[str, Any]:
    return {
        "exp_annotations": {"summary": summary},
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


def alertmanager_file(ops: PlanResult, tmp_path: Path) -> Path:
    values = ops.one(rt.HELM_RELEASE).inputs["values"]
    path = tmp_path / "alertmanager.yaml"
    path.write_text(yaml.safe_dump(values["alertmanager"]["config"]), encoding="utf-8")
    return path


def amtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_tool("amtool"), *args], capture_output=True, text=True, check=False
    )


def routed_to(config: Path, *labels: str) -> str:
    done = amtool("config", "routes", "test", f"--config.file={config}", *labels)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_alertmanager_accepts_the_configuration(ops: PlanResult, tmp_path: Path) -> None:
    done = amtool("check-config", str(alertmanager_file(ops, tmp_path)))
    assert done.returncode == 0, done.stdout + done.stderr


def test_prod_pages_pagerduty_and_dev_posts_to_slack_by_namespace(
    ops: PlanResult, tmp_path: Path
) -> None:
    config = alertmanager_file(ops, tmp_path)
    prod, dev = (n for n in monitoring.NOTIFIERS if n.environment in (PROD, DEV))
    assert routed_to(config, "namespace=prod", "alertname=ProdBackupFailed") == prod.receiver
    assert routed_to(config, "namespace=dev", "alertname=DevResourceQuotaExceeded") == dev.receiver
    assert routed_to(config, "namespace=monitoring", "alertname=TargetDown") == "null"
    assert routed_to(config, "namespace=prod", "alertname=Watchdog") == "null"

    routes = {
        tuple(r["matchers"]): r for r in yaml.safe_load(config.read_text())["route"]["routes"]
    }
    assert routes[('namespace = "prod"',)]["group_wait"] == "10s"
    assert routes[('namespace = "prod"',)]["repeat_interval"] == "5m"
    assert routes[('namespace = "dev"',)]["group_wait"] == "5m"
    assert routes[('namespace = "dev"',)]["repeat_interval"] == "1h"


def test_receivers_read_credentials_from_the_mounted_secret_only(ops: PlanResult) -> None:
    values = ops.one(rt.HELM_RELEASE).raw_inputs["values"]
    text = json.dumps(values)
    for secret_value in BOTH_KEYS.values():
        assert secret_value not in text
    mounted = values["alertmanager"]["alertmanagerSpec"]["secrets"]
    secret = ops.one(rt.KUBERNETES_SECRET, "operations-alertmanager-receivers")
    assert secret.inputs["metadata"]["name"] in mounted
    files = {
        config.get("routing_key_file") or config.get("api_url_file")
        for receiver in values["alertmanager"]["config"]["receivers"]
        for kind in ("pagerduty_configs", "slack_configs")
        for config in receiver.get(kind, [])
    }
    # The operator mounts Secret <name> at /etc/alertmanager/secrets/<name>/<key>.
    expected = {
        f"/etc/alertmanager/secrets/{secret.inputs['metadata']['name']}/{key}"
        for key in secret.inputs["stringData"]
    }
    assert files == expected
    assert len(files) == 2


def test_unset_keys_route_to_null_with_a_warning_and_no_invented_key(
    run_plan: PlanRunner, tmp_path: Path
) -> None:
    ops = operations(run_plan, {}, {"pingvas-infra:pagerdutyRoutingKey": "pd-routing-key"})
    # What the program logs through pulumi.log is what the plan prints as warnings.
    warnings = ops.warnings
    assert any("pingvas-infra:slackWebhookUrl is not set" in w for w in warnings)
    assert not any("pingvas-infra:pagerdutyRoutingKey" in w for w in warnings)

    config = alertmanager_file(ops, tmp_path)
    assert amtool("check-config", str(config)).returncode == 0
    assert routed_to(config, "namespace=dev", "alertname=DevResourceQuotaExceeded") == "null"
    assert routed_to(config, "namespace=prod", "alertname=X") == "pagerduty-prod"
    secret = ops.one(rt.KUBERNETES_SECRET, "operations-alertmanager-receivers")
    assert set(secret.inputs["stringData"]) == {"pagerduty-routing-key"}


def dashboards(ops: PlanResult) -> dict[str, dict[str, Any]]:
    label, value = monitoring.DASHBOARD_LABEL
    found = {}
    for config_map in ops.of_type(rt.CONFIG_MAP):
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
    rule = ops.one(rt.PROMETHEUS_RULE)
    exprs = [r["expr"] for g in rule.inputs["spec"]["groups"] for r in g["rules"]]
    assert sum(e.endswith("> 0.8") for e in exprs) == len(ENVIRONMENTS)
