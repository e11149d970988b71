"""The stack's secret config values: which keys are secrets, and how the program reads them.

Kept apart from the config model (pingvas_infra.config), which never holds a secret:
the config check refuses these keys in plain text (and a URL key that is not https), the
program reads them as Pulumi secrets and hands them to the layer that needs them
(operations: alert routing and the heartbeat).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import pulumi

from pingvas_infra.configbase import CONFIG_NAMESPACE

# Keys that hold secrets. They are read only as Pulumi secrets, must be set with
# `pulumi config set --secret`, and are never part of the pydantic model.
SECRET_KEYS: dict[str, str] = {
    "pagerdutyRoutingKey": (
        "PagerDuty Events API v2 routing key for prod and platform alerts (every namespace but dev)"
    ),
    "slackWebhookUrl": "Slack incoming-webhook URL for dev alerts (https)",
    "heartbeatUrl": (
        "Dead man's switch ping URL (https): Alertmanager calls it every minute with the "
        "always-firing Watchdog alert; the service pages when the calls stop"
    ),
}
# Keys that hold a URL a receiver posts to: https only, or the URL (and whatever
# credential its path carries) would cross the internet in plain text.
HTTPS_URL_KEYS = frozenset({"slackWebhookUrl", "heartbeatUrl"})
# What the offline plan hands the program instead of a ciphertext it never decrypts
# (pingvas_infra.plan.model.SECRET; a test compares): the value is checked by `pulumi up`
# and `pulumi preview`, which decrypt it.
UNREAD = "[secret]"


def secret_value_refusal(name: str, value: str) -> tuple[str, str] | None:
    """(what the value is, what is allowed) when the decrypted value of secret key
    ``name`` is refused, else None. Never quotes the value, only its scheme."""
    if name not in HTTPS_URL_KEYS or value == UNREAD:
        return None
    allowed = (
        "an https:// URL with a host and no spaces (Alertmanager posts to it; over plain http "
        "the URL and the token in its path cross the internet readable): "
        f"`pulumi config set --secret {name} https://...`"
    )
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:  # an unclosed [ in the host, a port that is no number
        return f"{UNREAD}, no URL", allowed
    if parts.scheme == "https" and host and not any(c.isspace() for c in value):
        return None
    # The one mistake worth naming; any other "scheme" may be the start of a token.
    if parts.scheme == "http":
        return f"{UNREAD}, an http:// URL", allowed
    return f"{UNREAD}, no https URL with a host", allowed


@dataclass(frozen=True)
class StackSecrets:
    """Secret config values, as Pulumi secret outputs (None when unset)."""

    values: Mapping[str, pulumi.Output[str] | None]

    @classmethod
    def from_runtime(cls) -> StackSecrets:
        cfg = pulumi.Config(CONFIG_NAMESPACE)
        return cls({name: cfg.get_secret(name) for name in SECRET_KEYS})

    def get(self, name: str) -> pulumi.Output[str] | None:
        return self.values.get(name)
