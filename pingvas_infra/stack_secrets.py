"""The stack's secret config values: which keys are secrets, and how the program reads them.

Kept apart from the config model (pingvas_infra.config), which never holds a secret:
the config check refuses these keys in plain text, the program reads them as Pulumi
secrets and hands them to the layer that needs them (operations: alert routing).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi

from pingvas_infra.configbase import CONFIG_NAMESPACE

# Keys that hold secrets. They are read only as Pulumi secrets, must be set with
# `pulumi config set --secret`, and are never part of the pydantic model.
SECRET_KEYS: dict[str, str] = {
    "pagerdutyRoutingKey": (
        "PagerDuty Events API v2 routing key for prod and platform alerts (every namespace but dev)"
    ),
    "slackWebhookUrl": "Slack incoming-webhook URL for dev alerts",
}


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
