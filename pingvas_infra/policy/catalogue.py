"""The control catalogue (pingvas_infra/tables/policy_controls.yaml) as typed data."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from pingvas_infra.tables import load_table

TABLE = "policy_controls"

Enforcement = Literal["mandatory", "advisory"]


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    source: str
    enforcement: Enforcement
    rationale: str

    @property
    def description(self) -> str:
        """Printed by `pulumi preview` beside a violation: title and implemented control."""
        return f"{self.title} [{self.source}]"


@dataclass(frozen=True)
class Parameters:
    required_tags: tuple[str, ...]
    eks_log_types: tuple[str, ...]
    min_backup_retention_days: int
    bucket_purposes: tuple[str, ...]
    protected_bucket_purposes: tuple[str, ...]
    versioned_bucket_purposes: tuple[str, ...]
    kms_bucket_purposes: tuple[str, ...]
    undelivered_alerts: tuple[str, ...]
    heartbeat_alert: str
    null_receiver: str
    data_ports: dict[int, str]


def _control(entry: dict[str, Any]) -> Control:
    enforcement = entry["enforcement"]
    if enforcement not in ("mandatory", "advisory"):
        raise ValueError(f"{TABLE}.yaml: {entry['id']}: enforcement must be mandatory or advisory")
    return Control(
        id=entry["id"],
        title=entry["title"],
        source=entry["source"],
        enforcement=enforcement,
        rationale=" ".join(str(entry["rationale"]).split()),
    )


@cache
def controls() -> tuple[Control, ...]:
    entries = [_control(entry) for entry in load_table(TABLE)["controls"]]
    ids = [c.id for c in entries]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"{TABLE}.yaml: duplicate control ids: {', '.join(duplicates)}")
    return tuple(entries)


def control(control_id: str) -> Control:
    for entry in controls():
        if entry.id == control_id:
            return entry
    raise KeyError(f"no control {control_id!r} in {TABLE}.yaml")


@cache
def parameters() -> Parameters:
    raw = load_table(TABLE)["parameters"]
    return Parameters(
        required_tags=tuple(raw["required_tags"]),
        eks_log_types=tuple(raw["eks_log_types"]),
        min_backup_retention_days=int(raw["min_backup_retention_days"]),
        bucket_purposes=tuple(raw["bucket_purposes"]),
        protected_bucket_purposes=tuple(raw["protected_bucket_purposes"]),
        versioned_bucket_purposes=tuple(raw["versioned_bucket_purposes"]),
        kms_bucket_purposes=tuple(raw["kms_bucket_purposes"]),
        undelivered_alerts=tuple(raw["undelivered_alerts"]),
        heartbeat_alert=str(raw["heartbeat_alert"]),
        null_receiver=str(raw["null_receiver"]),
        data_ports={int(port): str(what) for port, what in raw["data_ports"].items()},
    )
