"""What the monitoring tests read from the operations layer's graph: the layer planned with
both alert receivers' keys and the heartbeat URL (or some of them), its
kube-prometheus-stack release, rules and Alertmanager configuration, and the two checkers
that judge them (promtool, amtool)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from pingvas_infra import resource_types as rt
from pingvas_infra.operations import monitoring
from pingvas_infra.plan.model import PlanResult, RecordedResource
from tests.support.plan_graph import PlanRunner, layer_graph
from tests.support.tools import require_tool

# Both receivers' keys, set as `pulumi config set --secret` sets them.
BOTH_KEYS = {
    "pingvas-infra:pagerdutyRoutingKey": "pd-routing-key",
    "pingvas-infra:slackWebhookUrl": "https://hooks.invalid/x",
}
# The dead man's switch's ping URL, and every key at once.
HEARTBEAT_KEY = {"pingvas-infra:heartbeatUrl": "https://hc-ping.invalid/0b1c2d3e-heartbeat"}
ALL_KEYS = {**BOTH_KEYS, **HEARTBEAT_KEY}
# How Karpenter's logs are read in the GPU alerts' first actions (its chart's pod labels).
KARPENTER_LOGS = (
    "kubectl -n kube-system logs -l app.kubernetes.io/name=karpenter,"
    "app.kubernetes.io/instance=karpenter --since=30m --tail=-1"
)


def runbook_link(alert: str) -> dict[str, str]:
    """The `runbook` annotation of a stack alert: its section in docs/runbooks.md."""
    return {"runbook": f"docs/runbooks.md#{alert.lower()}"}


def operations(
    run_plan: PlanRunner, overrides: dict[str, Any], secrets: dict[str, str]
) -> PlanResult:
    """The operations layer's resources in the stack planned with ``overrides``/``secrets``."""
    return layer_graph(run_plan(overrides, secrets), "operations")


def release(ops: PlanResult, release_name: str) -> RecordedResource:
    (found,) = [r for r in ops.of_type(rt.HELM_RELEASE) if r.inputs["name"] == release_name]
    return found


def kube_prometheus_stack(ops: PlanResult) -> RecordedResource:
    return release(ops, monitoring.RELEASE_NAME)


def alertmanager_file(ops: PlanResult, tmp_path: Path) -> Path:
    values = kube_prometheus_stack(ops).inputs["values"]
    path = tmp_path / "alertmanager.yaml"
    path.write_text(yaml.safe_dump(values["alertmanager"]["config"]), encoding="utf-8")
    return path


def rule_groups(ops: PlanResult) -> list[dict[str, Any]]:
    """Every rule group of every PrometheusRule the layer registers."""
    return [g for rule in ops.of_type(rt.PROMETHEUS_RULE) for g in rule.inputs["spec"]["groups"]]


def rule_file(ops: PlanResult, tmp_path: Path) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": rule_groups(ops)}), encoding="utf-8")
    return path


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_tool("promtool"), *args], capture_output=True, text=True, check=False
    )


def amtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_tool("amtool"), *args], capture_output=True, text=True, check=False
    )


def run_rule_tests(rules: Path, tests: list[dict[str, Any]], tmp_path: Path) -> None:
    """`promtool test rules` over ``tests`` (promtool's unit-test format)."""
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
