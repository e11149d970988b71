"""Malformed operations configuration is refused with the offending key named."""

from __future__ import annotations

import pytest

from pingvas_infra.config import ConfigError, RawConfig, parse_stack_config
from pingvas_infra.operations.config import OperationsConfig
from pingvas_infra.plan.model import SECRET
from pingvas_infra.plan.stackfile import StackFile
from pingvas_infra.stack_secrets import UNREAD
from tests.support.config_cases import BadConfigCase, config_refusal, refused_config_test

KEY = "pingvas-infra:operations"

# (case id, pingvas-infra:operations value, key the message must name, text it must contain)
BAD_OPERATIONS: list[BadConfigCase] = [
    (
        "cron-four-fields",
        {"backup": {"schedule": "0 2 * *"}},
        f"{KEY}.backup.schedule",
        "five cron fields",
    ),
    (
        "cron-with-seconds",
        {"backup": {"schedule": "0 0 2 * * *"}},
        f"{KEY}.backup.schedule",
        "no seconds",
    ),
    (
        "cron-tz-prefix",
        {"backup": {"schedule": "CRON_TZ=UTC 0 2 * * *"}},
        f"{KEY}.backup.schedule",
        "use timeZone",
    ),
    (
        "cron-out-of-range",
        {"backup": {"schedule": "0 25 * * *"}},
        f"{KEY}.backup.schedule",
        "not a Kubernetes cron schedule",
    ),
    (
        "cron-quartz-last-day",
        {"backup": {"schedule": "0 2 L * *"}},
        f"{KEY}.backup.schedule",
        "L/W/#",
    ),
    (
        "unknown-time-zone",
        {"backup": {"timeZone": "Mars/Olympus"}},
        f"{KEY}.backup.timeZone",
        "IANA zone name",
    ),
    (
        "backoff-too-high",
        {"backup": {"backoffLimit": 10}},
        f"{KEY}.backup.backoffLimit",
        "above the maximum 6",
    ),
    (
        "deadline-longer-than-interval",
        {"backup": {"schedule": "0 * * * *", "activeDeadlineMinutes": 90}},
        f"{KEY}.backup.activeDeadlineMinutes",
        "shortest interval between scheduled runs (60 minutes)",
    ),
    (
        "retention-in-words",
        {"monitoring": {"retention": "15 days"}},
        f"{KEY}.monitoring.retention",
        "whole number of h, d or w",
    ),
    (
        "volume-too-small",
        {"monitoring": {"volumeSizeGi": 5}},
        f"{KEY}.monitoring.volumeSizeGi",
        "below the minimum 10",
    ),
    (
        "quantity-garbage",
        {"monitoring": {"prometheusMemory": "lots"}},
        f"{KEY}.monitoring.prometheusMemory",
        "not a Kubernetes quantity",
    ),
    (
        "memory-limit-below-request",
        {"monitoring": {"prometheusMemory": "2Gi", "prometheusMemoryLimit": "1Gi"}},
        f"{KEY}.monitoring.prometheusMemoryLimit",
        "at least prometheusMemory (2Gi)",
    ),
    (
        "prometheus-too-big-for-system-nodes",
        {"monitoring": {"prometheusMemory": "6Gi", "prometheusMemoryLimit": "8Gi"}},
        f"{KEY}.monitoring.prometheusMemory",
        "the system nodes have",
    ),
    (
        "quota-ratio-above-one",
        {"monitoring": {"quotaAlertRatio": 1.5}},
        f"{KEY}.monitoring.quotaAlertRatio",
        "allowed: a number above 0 and at most 1",
    ),
    (
        "runbook-address-plain-http",
        {"monitoring": {"runbookBaseUrl": "http://git.example.com/acme/pingvas-infra/blob/main"}},
        f"{KEY}.monitoring.runbookBaseUrl",
        "an https:// URL",
    ),
    (
        "runbook-address-with-fragment",
        {"monitoring": {"runbookBaseUrl": "https://git.example.com/acme/infra#readme"}},
        f"{KEY}.monitoring.runbookBaseUrl",
        "no query or fragment",
    ),
    (
        "runbook-address-without-host",
        {"monitoring": {"runbookBaseUrl": "https:///acme/pingvas-infra"}},
        f"{KEY}.monitoring.runbookBaseUrl",
        "with a host",
    ),
    (
        "runbook-address-with-space",
        {"monitoring": {"runbookBaseUrl": "https://git.example.com/acme/pingvas infra"}},
        f"{KEY}.monitoring.runbookBaseUrl",
        "an https:// URL",
    ),
    (
        "argocd-without-repository",
        {"argocd": {"enabled": True}},
        f"{KEY}.argocd.repoUrl",
        "required when enabled",
    ),
    (
        "argocd-plain-http-repository",
        {"argocd": {"enabled": True, "repoUrl": "http://git.example.com/services"}},
        f"{KEY}.argocd.repoUrl",
        "https://",
    ),
    (
        "argocd-path-escapes-repository",
        {"argocd": {"repoUrl": "https://github.com/pingvas/services", "servicesPath": "../x"}},
        f"{KEY}.argocd.servicesPath",
        "without '..'",
    ),
    (
        "unknown-key",
        {"monitoring": {"enable": False}},
        f"{KEY}.monitoring.enable",
        "unknown key; allowed keys: enabled",
    ),
]


test_bad_operations_config_names_key = refused_config_test(BAD_OPERATIONS, KEY)


def test_every_bad_key_is_named_in_one_message(stack_file: StackFile) -> None:
    section = {
        "backup": {"timeZone": "Nowhere/Town"},
        "monitoring": {"retention": "forever"},
        "argocd": {"enabled": True},
    }
    message = config_refusal(stack_file, {KEY: section})
    for key in ("backup.timeZone", "monitoring.retention", "argocd.repoUrl"):
        assert f"{KEY}.{key} = " in message


def test_defaults_follow_the_design_guide() -> None:
    config = OperationsConfig()
    assert config.backup.schedule == "0 2 * * *"
    assert config.backup.time_zone == "Etc/UTC"
    assert config.monitoring.enabled is True
    assert config.monitoring.quota_alert_ratio == 0.9
    assert config.argocd.enabled is False


def test_monitoring_and_argocd_together_fit_on_the_system_nodes() -> None:
    OperationsConfig.model_validate(
        {"argocd": {"enabled": True, "repoUrl": "git@github.com:pingvas/services.git"}}
    )


def test_dst_zones_and_descriptors_are_accepted() -> None:
    config = OperationsConfig.model_validate(
        {"backup": {"schedule": "@daily", "timeZone": "Europe/Berlin"}}
    )
    assert config.backup.longest_interval.total_seconds() == 24 * 3600
    weekdays = OperationsConfig.model_validate({"backup": {"schedule": "30 1 * * MON-FRI"}})
    assert weekdays.backup.longest_interval.days == 3


def test_receiver_keys_must_be_pulumi_secrets() -> None:
    raw = RawConfig(
        values={"pingvas-infra:pagerdutyRoutingKey": "plain-text-key"}, secret_keys=frozenset()
    )
    with pytest.raises(ConfigError, match=r"pingvas-infra:pagerdutyRoutingKey = \(plain text\)"):
        parse_stack_config(raw, "shared")
    encrypted = RawConfig(
        values={"pingvas-infra:slackWebhookUrl": "[secret]"},
        secret_keys=frozenset({"pingvas-infra:slackWebhookUrl"}),
    )
    parse_stack_config(encrypted, "shared")


def decrypted(key: str, value: str) -> RawConfig:
    """What `pulumi up` hands the program: the secret decrypted, its key marked secret."""
    return RawConfig(values={key: value}, secret_keys=frozenset({key}))


# (the decrypted value, what the refusal says it is): never the value itself.
NOT_HTTPS = [
    ("http://hc-ping.com/0b1c2d3e-plain", "[secret], an http:// URL"),
    ("hc-ping.com/0b1c2d3e-no-scheme", "[secret], no https URL with a host"),
    ("https:///0b1c2d3e-no-host", "[secret], no https URL with a host"),
    ("https://hc-ping.com/0b1c2d3e trailing", "[secret], no https URL with a host"),
    (" https://hc-ping.com/0b1c2d3e-space", "[secret], no https URL with a host"),
    ("https://[hc-ping.com/0b1c2d3e-bracket", "[secret], no URL"),
    ("token0b1c2d3e:rest", "[secret], no https URL with a host"),
]


@pytest.mark.parametrize("name", ["heartbeatUrl", "slackWebhookUrl"])
@pytest.mark.parametrize(("value", "shown"), NOT_HTTPS, ids=[v for v, _ in NOT_HTTPS])
def test_a_receiver_url_must_be_https_and_the_refusal_never_quotes_it(
    name: str, value: str, shown: str
) -> None:
    key = f"pingvas-infra:{name}"
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(decrypted(key, value), "shared")
    message = str(caught.value)
    assert f"{key} = {shown}" in message
    assert f"`pulumi config set --secret {name} https://...`" in message
    assert "0b1c2d3e" not in message


@pytest.mark.parametrize("name", ["heartbeatUrl", "slackWebhookUrl"])
def test_an_https_receiver_url_is_accepted(name: str) -> None:
    key = f"pingvas-infra:{name}"
    parse_stack_config(decrypted(key, "https://hc-ping.com/0b1c2d3e"), "shared")
    parse_stack_config(decrypted(key, "https://uptime.example:8443/api/v1/heartbeat/x?y=1"), "s")


def test_the_routing_key_is_no_url_and_the_plan_reads_no_secret() -> None:
    """PagerDuty's routing key is a token, not a URL; and the offline plan, which never
    decrypts, hands the program its placeholder: nothing to check there."""
    parse_stack_config(decrypted("pingvas-infra:pagerdutyRoutingKey", "R0ut1ngKey"), "shared")
    parse_stack_config(decrypted("pingvas-infra:heartbeatUrl", SECRET), "shared")
    assert UNREAD == SECRET


def test_the_runbook_address_is_optional_and_takes_https() -> None:
    assert OperationsConfig().monitoring.runbook_base_url is None
    for url in (
        "https://github.com/acme/pingvas-infra/blob/main",
        "https://gitlab.example.com:8443/platform/pingvas-infra/-/blob/main/",
    ):
        config = OperationsConfig.model_validate({"monitoring": {"runbookBaseUrl": url}})
        assert config.monitoring.runbook_base_url == url
