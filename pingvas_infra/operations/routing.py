"""Where alerts go: the whole Alertmanager configuration, as data.

Alertmanager routes by the alert's `namespace` label. Dev's alerts post to Slack; every
other alert pages the prod receiver: prod's own, and the platform's, whatever namespace
it carries (kube-system, monitoring, karpenter, pingvas-system, one nobody has thought of
yet) or none at all (node and cluster-wide alerts). The platform runs prod, so a node that
is NotReady or a Prometheus that is down is a prod incident.

Two alerts notify no one, on purpose:

- `Watchdog` always fires, to prove the alerting pipeline works end to end. It is useful
  only to a dead man's switch service that pages when the heartbeat *stops*; none is
  configured here, so it is dropped rather than paging every few minutes.
- `InfoInhibitor` is kube-prometheus-stack's helper that silences info-level alerts; it
  is not meant to be delivered.

A receiver whose credential is unset is never invented: its routes go to the `null`
receiver, and :func:`unrouted` says which alerts then reach no one (the program warns, the
plan prints it and the policy pack's `alerts-reach-someone` reports it).
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
UNDELIVERED_ALERTS = ("Watchdog", "InfoInhibitor")
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
# Platform alerts wait a little for their siblings and repeat every 4 hours while firing:
# a node or a controller down pages once, not every 5 minutes like an outage of prod.
PLATFORM_GROUP_WAIT = "30s"
PLATFORM_REPEAT_INTERVAL = "4h"


def _receiver(notifier: Notifier, configured: Mapping[str, bool]) -> str:
    return notifier.receiver if configured.get(notifier.secret_config_key, False) else NULL_RECEIVER


def alertmanager_config(configured: Mapping[str, bool]) -> dict[str, Any]:
    """The whole Alertmanager configuration; holds file paths, never a credential.

    ``configured`` maps a notifier's secret config key to whether it is set; a notifier
    whose credential is unset keeps its routes, delivered to the null receiver.
    """
    routes: list[dict[str, Any]] = [
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
        ],
        "receivers": receivers,
        "templates": [],
    }


def unrouted(configured: Mapping[str, bool]) -> list[str]:
    """One sentence per unset credential: whose alerts then reach no one, and the fix."""
    return [
        f"{CONFIG_NAMESPACE}:{n.secret_config_key} is not set: {n.scope} alerts reach no one "
        f"(routed to the '{NULL_RECEIVER}' receiver). Set it with "
        f"`pulumi config set --secret {CONFIG_NAMESPACE}:{n.secret_config_key} ...`"
        for n in NOTIFIERS
        if not configured.get(n.secret_config_key, False)
    ]
