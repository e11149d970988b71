"""Where every alert goes, asked of Alertmanager's own `amtool` on the rendered configuration.

An on-call engineer's questions: a node NotReady in kube-system, Prometheus down in
monitoring, a Karpenter launch failure, a failed schema bootstrap in pingvas-system, an
alert from a namespace nobody routed, one without any namespace: who gets paged? And with
the receivers' keys unset: does anyone say that nobody will be? And when Prometheus or
Alertmanager itself dies: does the heartbeat, and only the heartbeat, reach the dead
man's switch that pages when it stops?
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
from pingvas_infra.policy.catalogue import parameters
from pingvas_infra.policy.offline import evaluate_plan
from tests.operations.monitoring_graph import (
    ALL_KEYS,
    BOTH_KEYS,
    HEARTBEAT_KEY,
    alertmanager_file,
    amtool,
    kube_prometheus_stack,
    operations,
)
from tests.support.plan_graph import PlanRunner

PAGERDUTY = next(n for n in routing.NOTIFIERS if n.environment == PROD).receiver
SLACK = next(n for n in routing.NOTIFIERS if n.environment == DEV).receiver
HEARTBEAT = routing.HEARTBEAT.receiver

# (labels of an alert, who it reaches with every key set): the platform's namespaces, the
# environments, a namespace nobody configured, none at all, the heartbeat and the info
# silencer.
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
    (("alertname=Watchdog", "severity=none"), HEARTBEAT),
    (("namespace=prod", "alertname=Watchdog"), HEARTBEAT),
    (("namespace=dev", "alertname=Watchdog", "severity=critical"), HEARTBEAT),
    (("namespace=kube-system", "alertname=InfoInhibitor"), routing.NULL_RECEIVER),
    (("alertname=InfoInhibitor", "severity=none"), routing.NULL_RECEIVER),
]
# Alerts the heartbeat's receiver must never catch: the ones above, and names that only
# look like the heartbeat.
NOT_THE_HEARTBEAT: list[tuple[str, ...]] = [
    *(labels for labels, receiver in ALERTS if receiver != HEARTBEAT),
    ("alertname=watchdog", "severity=none"),
    ("alertname=WatchdogX",),
    ("alertname=Watchdog2", "namespace=prod"),
    ("namespace=monitoring", "alertname=AlertmanagerFailedToSendAlerts", "severity=warning"),
    ("namespace=monitoring", "alertname=PrometheusRuleFailures", "severity=critical"),
]


@pytest.fixture(scope="module")
def all_set(run_plan: PlanRunner) -> PlanResult:
    """Every key: both receivers and the heartbeat."""
    return operations(run_plan, {}, ALL_KEYS)


@pytest.fixture(scope="module")
def receivers_only(run_plan: PlanRunner) -> PlanResult:
    """PagerDuty and Slack set, no heartbeat URL."""
    return operations(run_plan, {}, BOTH_KEYS)


@pytest.fixture(scope="module")
def none_set(run_plan: PlanRunner) -> PlanResult:
    return operations(run_plan, {}, {})


def routed_to(config: Path, *labels: str) -> str:
    done = amtool("config", "routes", "test", f"--config.file={config}", *labels)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_alertmanager_accepts_the_configuration_with_and_without_receivers(
    all_set: PlanResult, receivers_only: PlanResult, none_set: PlanResult, tmp_path: Path
) -> None:
    for ops, name in ((all_set, "all"), (receivers_only, "receivers"), (none_set, "none")):
        (tmp_path / name).mkdir()
        done = amtool("check-config", str(alertmanager_file(ops, tmp_path / name)))
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(("labels", "receiver"), ALERTS, ids=str)
def test_every_alert_reaches_someone_with_every_key_set(
    all_set: PlanResult, tmp_path: Path, labels: tuple[str, ...], receiver: str
) -> None:
    assert routed_to(alertmanager_file(all_set, tmp_path), *labels) == receiver


@pytest.mark.parametrize(("labels", "receiver"), ALERTS, ids=str)
def test_with_no_receiver_set_every_alert_goes_to_null(
    none_set: PlanResult, tmp_path: Path, labels: tuple[str, ...], receiver: str
) -> None:
    del receiver
    assert routed_to(alertmanager_file(none_set, tmp_path), *labels) == routing.NULL_RECEIVER


def test_only_the_info_silencer_goes_nowhere(all_set: PlanResult, tmp_path: Path) -> None:
    """Read the other way round: every route to null in the configuration is the alert
    that notifies no one on purpose, and the root route (the platform's) pages."""
    config = yaml.safe_load(alertmanager_file(all_set, tmp_path).read_text())
    assert config["route"]["receiver"] == PAGERDUTY
    to_null = [r["matchers"] for r in config["route"]["routes"] if r["receiver"] == "null"]
    assert to_null == [[f'alertname = "{n}"'] for n in routing.UNDELIVERED_ALERTS]


def test_prod_pages_at_once_and_every_five_minutes_dev_posts_hourly(
    all_set: PlanResult, tmp_path: Path
) -> None:
    config = yaml.safe_load(alertmanager_file(all_set, tmp_path).read_text())
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


def test_with_no_key_the_program_warns_for_each(none_set: PlanResult) -> None:
    warnings = [w for w in none_set.warnings if w in routing.unrouted({})]
    assert warnings == routing.unrouted({})
    assert [w.split(" is not set:")[0] for w in warnings] == [
        "pingvas-infra:pagerdutyRoutingKey",
        "pingvas-infra:slackWebhookUrl",
        "pingvas-infra:heartbeatUrl",
    ]
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


def test_receivers_read_credentials_from_the_mounted_secret_only(all_set: PlanResult) -> None:
    values: dict[str, Any] = kube_prometheus_stack(all_set).raw_inputs["values"]
    text = json.dumps(values)
    for secret_value in ALL_KEYS.values():
        assert secret_value not in text
    mounted = values["alertmanager"]["alertmanagerSpec"]["secrets"]
    secret = all_set.one(rt.KUBERNETES_SECRET, "operations-alertmanager-receivers")
    assert secret.inputs["metadata"]["name"] in mounted
    files = {
        config.get("routing_key_file") or config.get("api_url_file") or config.get("url_file")
        for receiver in values["alertmanager"]["config"]["receivers"]
        for kind in ("pagerduty_configs", "slack_configs", "webhook_configs")
        for config in receiver.get(kind, [])
    }
    # The operator mounts Secret <name> at /etc/alertmanager/secrets/<name>/<key>.
    expected = {
        f"/etc/alertmanager/secrets/{secret.inputs['metadata']['name']}/{key}"
        for key in secret.inputs["stringData"]
    }
    assert files == expected
    assert len(files) == 3
    # No receiver carries a credential inline (url, api_url, routing_key) beside the files.
    for receiver in values["alertmanager"]["config"]["receivers"]:
        for configs in receiver.values():
            for config in configs if isinstance(configs, list) else []:
                assert not {"url", "api_url", "routing_key", "service_key"} & set(config)


# --- the heartbeat ------------------------------------------------------------------------


@pytest.mark.parametrize("labels", NOT_THE_HEARTBEAT, ids=str)
def test_the_heartbeat_receiver_catches_no_other_alert(
    all_set: PlanResult, tmp_path: Path, labels: tuple[str, ...]
) -> None:
    assert HEARTBEAT not in routed_to(alertmanager_file(all_set, tmp_path), *labels).split(",")


def test_without_the_heartbeat_url_watchdog_goes_to_null_and_the_plan_says_so(
    receivers_only: PlanResult, tmp_path: Path
) -> None:
    config = alertmanager_file(receivers_only, tmp_path)
    assert routed_to(config, "alertname=Watchdog", "severity=none") == routing.NULL_RECEIVER
    assert routed_to(config, "namespace=prod", "alertname=Watchdog") == routing.NULL_RECEIVER
    assert routed_to(config, "namespace=kube-system", "alertname=InfoInhibitor") == "null"
    # The receivers still page.
    assert routed_to(config, "namespace=prod", "alertname=GpuPodsPending") == PAGERDUTY
    (warning,) = [w for w in receivers_only.warnings if "monitoring itself stops" in w]
    assert warning.startswith(
        "pingvas-infra:heartbeatUrl is not set: no one hears when monitoring itself stops"
    )
    assert not [w for w in receivers_only.warnings if "reach no one" in w]
    names = [r["name"] for r in yaml.safe_load(config.read_text())["receivers"]]
    assert HEARTBEAT not in names


def test_the_heartbeat_alone_reaches_its_switch_and_needs_no_receiver(
    run_plan: PlanRunner, tmp_path: Path
) -> None:
    """The heartbeat URL without PagerDuty or Slack: Watchdog pings, everything else goes
    to null, and the Secret holds the URL alone."""
    ops = operations(run_plan, {}, HEARTBEAT_KEY)
    config = alertmanager_file(ops, tmp_path)
    assert amtool("check-config", str(config)).returncode == 0
    assert routed_to(config, "alertname=Watchdog", "severity=none") == HEARTBEAT
    assert routed_to(config, "namespace=prod", "alertname=GpuPodsPending") == routing.NULL_RECEIVER
    assert not [w for w in ops.warnings if "monitoring itself stops" in w]
    secret = ops.one(rt.KUBERNETES_SECRET, "operations-alertmanager-receivers")
    assert set(secret.inputs["stringData"]) == {routing.HEARTBEAT.secret_file}


def test_the_heartbeat_pings_at_once_every_minute_and_never_resolves(
    all_set: PlanResult, tmp_path: Path
) -> None:
    config = yaml.safe_load(alertmanager_file(all_set, tmp_path).read_text())
    first = config["route"]["routes"][0]
    # The first route and no `continue`: nothing after it sees the heartbeat.
    assert first["matchers"] == ['alertname = "Watchdog"']
    assert "continue" not in first
    assert (first["group_wait"], first["group_interval"], first["repeat_interval"]) == (
        "0s",
        "1m",
        "1m",
    )
    (receiver,) = [r for r in config["receivers"] if r["name"] == HEARTBEAT]
    assert receiver == {
        "name": HEARTBEAT,
        "webhook_configs": [
            {
                "url_file": "/etc/alertmanager/secrets/alertmanager-receivers/heartbeat-url",
                "send_resolved": False,
            }
        ],
    }


def test_the_policy_reports_a_missing_heartbeat_as_an_advisory(run_plan: PlanRunner) -> None:
    def findings(secrets: dict[str, str]) -> list[str]:
        (result,) = [
            r
            for r in evaluate_plan(run_plan({}, secrets))
            if r.control.id == "heartbeat-reaches-a-switch"
        ]
        assert result.control.enforcement == "advisory"
        return [v.message for v in result.violations]

    assert findings(BOTH_KEYS) == [
        "Watchdog goes to the null receiver: no one hears when monitoring itself stops "
        "(set heartbeatUrl)"
    ]
    assert findings(ALL_KEYS) == []
    assert findings(HEARTBEAT_KEY) == []


def test_the_policy_pack_and_the_routing_name_the_same_alerts() -> None:
    """The policy pack reads its own table (it runs without the program); the names must
    stay those the routing uses."""
    params = parameters()
    assert params.heartbeat_alert == routing.HEARTBEAT.alert
    assert params.undelivered_alerts == routing.UNDELIVERED_ALERTS
    assert params.null_receiver == routing.NULL_RECEIVER


def matched_by(matchers: list[str], tmp_path: Path, *labels: str) -> bool:
    """Whether Alertmanager's own matcher parser matches ``labels`` with ``matchers``: a
    one-route configuration asked through amtool (which evaluates routes, not inhibitions)."""
    config = {
        "route": {"receiver": "other", "routes": [{"receiver": "matched", "matchers": matchers}]},
        "receivers": [{"name": "other"}, {"name": "matched"}],
    }
    path = tmp_path / "matchers.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return routed_to(path, *labels) == "matched"


def test_failing_pages_silence_the_heartbeat_so_the_switch_pages(
    all_set: PlanResult, tmp_path: Path
) -> None:
    """PagerDuty refusing the key is reported by an alert sent to the same PagerDuty: the
    inhibition stops the heartbeat instead. Its source matches kube-prometheus-stack's
    failed-to-send alerts (labelled with the integration, as its alertmanager.rules keep
    it) for PagerDuty only; its target is the heartbeat alone."""
    config = yaml.safe_load(alertmanager_file(all_set, tmp_path).read_text())
    (rule,) = [r for r in config["inhibit_rules"] if "Watchdog" in str(r["target_matchers"])]
    assert "equal" not in rule
    source, target = rule["source_matchers"], rule["target_matchers"]
    for name, severity in (
        ("AlertmanagerFailedToSendAlerts", "warning"),
        ("AlertmanagerClusterFailedToSendAlerts", "critical"),
    ):
        failing = (f"alertname={name}", "namespace=monitoring", f"severity={severity}")
        assert matched_by(source, tmp_path, *failing, "integration=pagerduty")
        # Dev's Slack failing is no reason to wake anyone.
        assert not matched_by(source, tmp_path, *failing, "integration=slack")
        assert not matched_by(source, tmp_path, *failing, "integration=webhook")
    assert not matched_by(source, tmp_path, "alertname=TargetDown", "integration=pagerduty")
    assert matched_by(target, tmp_path, "alertname=Watchdog", "severity=none")
    for labels in NOT_THE_HEARTBEAT:
        assert not matched_by(target, tmp_path, *labels), labels
