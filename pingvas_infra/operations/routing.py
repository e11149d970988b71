"""Where alerts go: the whole Alertmanager configuration, as data.

Alertmanager routes by the alert's `namespace` label. Dev's alerts post to Slack; every
other alert pages the prod receiver: prod's own, and the platform's, whatever namespace
it carries (kube-system, monitoring, karpenter, pingvas-system, one nobody has thought of
yet) or none at all (node and cluster-wide alerts). The platform runs prod, so a node that
is NotReady or a Prometheus that is down is a prod incident.

Two alerts are not routed by namespace:

- `Watchdog` always fires, to prove the alerting pipeline works end to end. With
  `heartbeatUrl` set it pings a dead man's switch service every minute, and that service
  pages when the pings *stop*: Prometheus crashed or sits Pending on its volume,
  Alertmanager is down, or the cluster is gone. The alerts that would say so (TargetDown,
  AlertmanagerFailedToSendAlerts) are evaluated or delivered by the part that failed, so
  only a service outside the cluster hears it. PagerDuty failing to take pages silences
  the heartbeat too (an inhibit rule), so the switch pages. Unset, Watchdog goes to the
  null receiver.
- `InfoInhibitor` is kube-prometheus-stack's helper that silences info-level alerts; it
  is not meant to be delivered.

A receiver whose credential is unset is never invented: its routes go to the `null`
receiver, and :func:`unrouted` says which alerts then reach no one, or that no one hears
when monitoring stops (the program warns, the plan prints it and the policy pack's
`alerts-reach-someone` and `heartbeat-reaches-a-switch` report it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pingvas_infra.configbase import CONFIG_NAMESPACE
from pingvas_infra.environments import DEV, PROD, Environment

NULL_RECEIVER = "null"
# Secrets listed in alertmanagerSpec.secrets are mounted by the operator at
# /etc/alertmanager/secrets/<secret name>/<key>.
RECEIVERS_SECRET = "alertmanager-receivers"
_SECRETS_MOUNT = "/etc/alertmanager/secrets"
# Alerts that never notify anyone (see the module docstring).
UNDELIVERED_ALERTS = ("InfoInhibitor",)
# What the platform's catch-all route covers, in the words of the warnings.
PLATFORM_SCOPE = "platform (every namespace but dev, and alerts without a namespace)"


@dataclass(frozen=True)
class Notifier:
    """Where one environment's alerts go, and how urgently."""

    environment: Environment
    receiver: str
    # The Pulumi secret config key holding the credential (pingvas-infra:<key>).
    secret_config_key: str
    # The file name of that credential inside the receivers Secret.
    secret_file: str
    group_wait: str
    repeat_interval: str
    # Whether the platform's alerts (every namespace but the other notifiers') come here too.
    takes_the_platform: bool

    @property
    def secret_path(self) -> str:
        return f"{_SECRETS_MOUNT}/{RECEIVERS_SECRET}/{self.secret_file}"

    @property
    def scope(self) -> str:
        """Whose alerts this notifier delivers, for the warnings."""
        own = self.environment.name
        return f"{own} and {PLATFORM_SCOPE}" if self.takes_the_platform else own

    def receiver_config(self) -> dict[str, Any]:
        if self.environment == PROD:
            return {
                "name": self.receiver,
                "pagerduty_configs": [
                    {"routing_key_file": self.secret_path, "send_resolved": True}
                ],
            }
        return {
            "name": self.receiver,
            "slack_configs": [
                {
                    "api_url_file": self.secret_path,
                    "send_resolved": True,
                    "title": (
                        "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}"
                        " in {{ .CommonLabels.namespace }}"
                    ),
                    "text": "{{ range .Alerts }}{{ .Annotations.summary }}\n{{ end }}",
                }
            ],
        }


# The design guide's routing: prod pages PagerDuty at once and every 5 minutes; dev posts
# to Slack. The platform pages with prod.
NOTIFIERS: tuple[Notifier, ...] = (
    Notifier(
        PROD,
        "pagerduty-prod",
        "pagerdutyRoutingKey",
        "pagerduty-routing-key",
        group_wait="10s",
        repeat_interval="5m",
        takes_the_platform=True,
    ),
    Notifier(
        DEV,
        "slack-dev",
        "slackWebhookUrl",
        "slack-webhook-url",
        group_wait="5m",
        repeat_interval="1h",
        takes_the_platform=False,
    ),
)
PLATFORM_NOTIFIER = next(n for n in NOTIFIERS if n.takes_the_platform)


@dataclass(frozen=True)
class Heartbeat:
    """The dead man's switch: the always-firing alert, posted to a URL outside the cluster."""

    alert: str
    receiver: str
    secret_config_key: str
    secret_file: str
    # How often the service is pinged: group_wait 0s sends the first ping as soon as the
    # alert arrives; Alertmanager re-sends a firing group when repeat_interval has passed,
    # checked every group_interval, so both are the ping period.
    group_wait: str
    ping_interval: str

    @property
    def secret_path(self) -> str:
        return f"{_SECRETS_MOUNT}/{RECEIVERS_SECRET}/{self.secret_file}"

    def route(self, configured: Mapping[str, bool]) -> dict[str, Any]:
        if not configured.get(self.secret_config_key, False):
            return {"receiver": NULL_RECEIVER, "matchers": [f'alertname = "{self.alert}"']}
        return {
            "receiver": self.receiver,
            "matchers": [f'alertname = "{self.alert}"'],
            "group_wait": self.group_wait,
            "group_interval": self.ping_interval,
            "repeat_interval": self.ping_interval,
        }

    def receiver_config(self) -> dict[str, Any]:
        # send_resolved false: when Prometheus stops re-sending the alert, Alertmanager
        # resolves it minutes later; a "resolved" post would be one more ping, not silence.
        return {
            "name": self.receiver,
            "webhook_configs": [{"url_file": self.secret_path, "send_resolved": False}],
        }


# One ping a minute, as Canonical's COS Alerter (a Watchdog dead man's switch) configures
# its Alertmanager route (group_wait 0s, group_interval 1m, repeat_interval 1m; README of
# github.com/canonical/cos-alerter). healthchecks.io rate-limits a check at 5 pings a
# minute and Better Stack's shortest heartbeat period is 30 s (its heartbeat API docs),
# so one a minute fits both; the service's own period (5 minutes, README) absorbs an
# Alertmanager restart.
HEARTBEAT = Heartbeat(
    alert="Watchdog",
    receiver="heartbeat",
    secret_config_key="heartbeatUrl",
    secret_file="heartbeat-url",
    group_wait="0s",
    ping_interval="1m",
)
# kube-prometheus-stack's alerts on notifications Alertmanager failed to send, labelled with
# the integration (its alertmanager.rules), and the integration that pages.
FAILED_TO_SEND_ALERTS = ("AlertmanagerFailedToSendAlerts", "AlertmanagerClusterFailedToSendAlerts")
PAGING_INTEGRATION = "pagerduty"
# Every credential the receivers read: secret config key -> file in the receivers Secret.
CREDENTIAL_FILES: dict[str, str] = {
    **{n.secret_config_key: n.secret_file for n in NOTIFIERS},
    HEARTBEAT.secret_config_key: HEARTBEAT.secret_file,
}
# Platform alerts wait a little for their siblings and repeat every 4 hours while firing:
# a node or a controller down pages once, not every 5 minutes like an outage of prod.
PLATFORM_GROUP_WAIT = "30s"
PLATFORM_REPEAT_INTERVAL = "4h"


def _receiver(notifier: Notifier, configured: Mapping[str, bool]) -> str:
    return notifier.receiver if configured.get(notifier.secret_config_key, False) else NULL_RECEIVER


def alertmanager_config(configured: Mapping[str, bool]) -> dict[str, Any]:
    """The whole Alertmanager configuration; holds file paths, never a credential.

    ``configured`` maps a credential's secret config key (:data:`CREDENTIAL_FILES`) to
    whether it is set; a receiver whose credential is unset keeps its routes, delivered to
    the null receiver.
    """
    # First, so neither alert reaches a namespace's receiver (no route continues).
    routes: list[dict[str, Any]] = [HEARTBEAT.route(configured)]
    routes += [
        {"receiver": NULL_RECEIVER, "matchers": [f'alertname = "{name}"']}
        for name in UNDELIVERED_ALERTS
    ]
    routes += [
        {
            "receiver": _receiver(notifier, configured),
            "matchers": [f'namespace = "{notifier.environment.namespace}"'],
            "group_wait": notifier.group_wait,
            "repeat_interval": notifier.repeat_interval,
        }
        for notifier in NOTIFIERS
    ]
    receivers: list[dict[str, Any]] = [{"name": NULL_RECEIVER}]
    receivers += [
        n.receiver_config() for n in NOTIFIERS if configured.get(n.secret_config_key, False)
    ]
    if configured.get(HEARTBEAT.secret_config_key, False):
        receivers.append(HEARTBEAT.receiver_config())
    return {
        "global": {"resolve_timeout": "5m"},
        "route": {
            # Whatever no route below matches: the platform, paged with prod.
            "receiver": _receiver(PLATFORM_NOTIFIER, configured),
            "group_by": ["namespace", "alertname"],
            "group_wait": PLATFORM_GROUP_WAIT,
            "group_interval": "5m",
            "repeat_interval": PLATFORM_REPEAT_INTERVAL,
            "routes": routes,
        },
        # A critical alert silences its own warning and info siblings; info alerts are
        # only sent beside a warning or critical one in the same namespace.
        "inhibit_rules": [
            {
                "source_matchers": ['severity = "critical"'],
                "target_matchers": ['severity =~ "warning|info"'],
                "equal": ["namespace", "alertname"],
            },
            {
                "source_matchers": ['severity = "warning"'],
                "target_matchers": ['severity = "info"'],
                "equal": ["namespace", "alertname"],
            },
            {
                "source_matchers": ['alertname = "InfoInhibitor"'],
                "target_matchers": ['severity = "info"'],
                "equal": ["namespace"],
            },
            # Pages that fail (PagerDuty refusing the routing key, or down) are reported by
            # an alert delivered to the same PagerDuty: silence the heartbeat instead, so
            # the dead man's switch pages.
            {
                "source_matchers": [
                    f'alertname =~ "{"|".join(FAILED_TO_SEND_ALERTS)}"',
                    f'integration = "{PAGING_INTEGRATION}"',
                ],
                "target_matchers": [f'alertname = "{HEARTBEAT.alert}"'],
            },
        ],
        "receivers": receivers,
        "templates": [],
    }


def unrouted(configured: Mapping[str, bool]) -> list[str]:
    """One sentence per unset credential: whose alerts then reach no one (or that no one
    hears when monitoring itself stops), and the fix."""
    gaps = [
        f"{CONFIG_NAMESPACE}:{n.secret_config_key} is not set: {n.scope} alerts reach no one "
        f"(routed to the '{NULL_RECEIVER}' receiver). Set it with "
        f"`pulumi config set --secret {CONFIG_NAMESPACE}:{n.secret_config_key} ...`"
        for n in NOTIFIERS
        if not configured.get(n.secret_config_key, False)
    ]
    if not configured.get(HEARTBEAT.secret_config_key, False):
        key = f"{CONFIG_NAMESPACE}:{HEARTBEAT.secret_config_key}"
        gaps.append(
            f"{key} is not set: no one hears when monitoring itself stops (the always-firing "
            f"{HEARTBEAT.alert} alert goes to the '{NULL_RECEIVER}' receiver, so a crashed "
            "Prometheus or Alertmanager pages no one). Set it to a dead man's switch's ping "
            f"URL with `pulumi config set --secret {key} https://...`"
        )
    return gaps
