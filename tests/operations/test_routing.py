"""Where every alert goes, asked of Alertmanager's own `amtool` on the rendered configuration.

An on-call engineer's questions: a node NotReady in kube-system, Prometheus down in
monitoring, a Karpenter launch failure, a failed schema bootstrap in pingvas-system, an
alert from a namespace nobody routed, one without any namespace: who gets paged? And with
the receivers' keys unset: does anyone say that nobody will be?
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from pingvas_infra import resource_types as rt
from pingvas_infra.environments import DEV, PROD
from pingvas_infra.operations import routing
from pingvas_infra.plan.model import PlanResult
from pingvas_infra.policy.offline import evaluate_plan
from tests.operations.monitoring_graph import (
    BOTH_KEYS,
    alertmanager_file,
    amtool,
    kube_prometheus_stack,
    operations,
)
from tests.support.plan_graph import PlanRunner

PAGERDUTY = next(n for n in routing.NOTIFIERS if n.environment == PROD).receiver
SLACK = next(n for n in routing.NOTIFIERS if n.environment == DEV).receiver

# (labels of an alert, who it reaches with both keys set): the platform's namespaces, the
# environments, a namespace nobody configured, none at all, and the two undelivered ones.
ALERTS: list[tuple[tuple[str, ...], str]] = [
    (("namespace=kube-system", "alertname=KubeNodeNotReady", "severity=warning"), PAGERDUTY),
    (("namespace=kube-system", "alertname=KubePodCrashLooping"), PAGERDUTY),
    (("namespace=monitoring", "alertname=TargetDown"), PAGERDUTY),
    (("namespace=monitoring", "alertname=PrometheusNotConnectedToAlertmanagers"), PAGERDUTY),
    (("namespace=karpenter", "alertname=KarpenterNodeClaimsNotLaunching"), PAGERDUTY),
    (("namespace=pingvas-system", "alertname=KubeJobFailed"), PAGERDUTY),
    (("namespace=a-namespace-added-later", "alertname=KubePodNotReady"), PAGERDUTY),
    (("alertname=NodeFilesystemSpaceFillingUp", "severity=critical"), PAGERDUTY),
    (("namespace=prod", "alertname=ProdBackupFailed", "severity=critical"), PAGERDUTY),
    (("namespace=prod", "alertname=GpuPodsPending"), PAGERDUTY),
    (("namespace=dev", "alertname=DevResourceQuotaExceeded"), SLACK),
    (("namespace=dev", "alertname=KubePodCrashLooping"), SLACK),
    (("alertname=Watchdog", "severity=none"), routing.NULL_RECEIVER),
    (("namespace=prod", "alertname=Watchdog"), routing.NULL_RECEIVER),
    (("namespace=kube-system", "alertname=InfoInhibitor"), routing.NULL_RECEIVER),
]


@pytest.fixture(scope="module")
def both_set(run_plan: PlanRunner) -> PlanResult:
    return operations(run_plan, {}, BOTH_KEYS)


@pytest.fixture(scope="module")
def none_set(run_plan: PlanRunner) -> PlanResult:
    return operations(run_plan, {}, {})


def routed_to(config: Path, *labels: str) -> str:
    done = amtool("config", "routes", "test", f"--config.file={config}", *labels)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_alertmanager_accepts_the_configuration_with_and_without_receivers(
    both_set: PlanResult, none_set: PlanResult, tmp_path: Path
) -> None:
    for ops, name in ((both_set, "both"), (none_set, "none")):
        (tmp_path / name).mkdir()
        done = amtool("check-config", str(alertmanager_file(ops, tmp_path / name)))
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(("labels", "receiver"), ALERTS, ids=str)
def test_every_alert_reaches_someone_with_both_receivers_set(
    both_set: PlanResult, tmp_path: Path, labels: tuple[str, ...], receiver: str
) -> None:
    assert routed_to(alertmanager_file(both_set, tmp_path), *labels) == receiver


@pytest.mark.parametrize(("labels", "receiver"), ALERTS, ids=str)
def test_with_no_receiver_set_every_alert_goes_to_null(
    none_set: PlanResult, tmp_path: Path, labels: tuple[str, ...], receiver: str
) -> None:
    del receiver
    assert routed_to(alertmanager_file(none_set, tmp_path), *labels) == routing.NULL_RECEIVER


def test_only_the_heartbeat_and_the_info_silencer_go_nowhere(
    both_set: PlanResult, tmp_path: Path
) -> None:
    """Read the other way round: every route to null in the configuration is one of the two
    alerts that notify no one on purpose, and the root route (the platform's) pages."""
    config = yaml.safe_load(alertmanager_file(both_set, tmp_path).read_text())
    assert config["route"]["receiver"] == PAGERDUTY
    to_null = [r["matchers"] for r in config["route"]["routes"] if r["receiver"] == "null"]
    assert to_null == [[f'alertname = "{n}"'] for n in routing.UNDELIVERED_ALERTS]


def test_prod_pages_at_once_and_every_five_minutes_dev_posts_hourly(
    both_set: PlanResult, tmp_path: Path
) -> None:
    config = yaml.safe_load(alertmanager_file(both_set, tmp_path).read_text())
    routes = {tuple(r["matchers"]): r for r in config["route"]["routes"]}
    assert routes[('namespace = "prod"',)]["group_wait"] == "10s"
    assert routes[('namespace = "prod"',)]["repeat_interval"] == "5m"
    assert routes[('namespace = "dev"',)]["group_wait"] == "5m"
    assert routes[('namespace = "dev"',)]["repeat_interval"] == "1h"
    # The platform's own: paged, repeated every 4 hours while it fires.
    assert config["route"]["repeat_interval"] == "4h"


def test_with_only_pagerduty_dev_goes_to_null_and_the_plan_says_so(
    run_plan: PlanRunner, tmp_path: Path
) -> None:
    ops = operations(run_plan, {}, {"pingvas-infra:pagerdutyRoutingKey": "pd-routing-key"})
    (warning,) = [w for w in ops.warnings if "reach no one" in w]
    assert warning.startswith("pingvas-infra:slackWebhookUrl is not set: dev alerts reach no one")
    config = alertmanager_file(ops, tmp_path)
    assert amtool("check-config", str(config)).returncode == 0
    assert routed_to(config, "namespace=dev", "alertname=DevResourceQuotaExceeded") == "null"
    assert routed_to(config, "namespace=kube-system", "alertname=KubeNodeNotReady") == PAGERDUTY
    secret = ops.one(rt.KUBERNETES_SECRET, "operations-alertmanager-receivers")
    assert set(secret.inputs["stringData"]) == {"pagerduty-routing-key"}


def test_with_no_receiver_the_program_warns_for_both(none_set: PlanResult) -> None:
    warnings = [w for w in none_set.warnings if "reach no one" in w]
    assert warnings == routing.unrouted({})
    assert warnings[0].startswith(
        "pingvas-infra:pagerdutyRoutingKey is not set: prod and platform (every namespace but dev, "
        "and alerts without a namespace) alerts reach no one"
    )


def alert_findings(run_plan: PlanRunner, secrets: dict[str, str]) -> list[str]:
    (result,) = [
        r for r in evaluate_plan(run_plan({}, secrets)) if r.control.id == "alerts-reach-someone"
    ]
    assert result.control.enforcement == "advisory"
    return [v.message for v in result.violations]


def test_the_policy_result_carries_unrouted_alerts_as_an_advisory(run_plan: PlanRunner) -> None:
    findings = alert_findings(run_plan, {})
    assert findings == [
        "the root route goes to the null receiver: every alert no other route matches "
        "(the platform's) reaches no one",
        'alerts matching namespace = "prod" go to the null receiver: they reach no one',
        'alerts matching namespace = "dev" go to the null receiver: they reach no one',
    ]
    assert alert_findings(run_plan, BOTH_KEYS) == []
    only_dev = alert_findings(
        run_plan, {"pingvas-infra:slackWebhookUrl": "https://hooks.invalid/x"}
    )
    assert len(only_dev) == 2


def test_receivers_read_credentials_from_the_mounted_secret_only(both_set: PlanResult) -> None:
    values: dict[str, Any] = kube_prometheus_stack(both_set).raw_inputs["values"]
    text = json.dumps(values)
    for secret_value in BOTH_KEYS.values():
        assert secret_value not in text
    mounted = values["alertmanager"]["alertmanagerSpec"]["secrets"]
    secret = both_set.one(rt.KUBERNETES_SECRET, "operations-alertmanager-receivers")
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
