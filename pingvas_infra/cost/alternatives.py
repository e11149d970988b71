"""The same usage priced under the operating model a team would weigh instead: EKS Auto
Mode. Auto Mode runs the node autoscaler and the core add-ons for the cluster and bills a
management fee per instance-hour on top of EC2; everything else (control plane, data
stores, storage, network, traffic) is the same resource billed the same way.

The fee is modelled as a share of each node's on-demand price (tables/auto_mode.yaml, with
the readings it is checked against); it is charged on every instance-hour, spot ones too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from pingvas_infra.cost.model import CostLine, optional_money
from pingvas_infra.cost.report import THIS_STACK, CostReport
from pingvas_infra.price_tables import PriceTable
from pingvas_infra.tables import load_table

AUTO_MODE = "eks-auto-mode"


@cache
def auto_mode_table() -> dict[str, Any]:
    return load_table("auto_mode")


def fee_share(instance_type: str) -> tuple[float, dict[str, Any]]:
    """The fee as a share of the type's on-demand price, and the entry it comes from."""
    shares = auto_mode_table()["feeShare"]
    family = instance_type.split(".", 1)[0]
    entry = shares["gpu"] if family in shares["gpu"]["families"] else shares["general"]
    return float(entry["share"]), entry


@dataclass(frozen=True)
class FeeLine:
    """The Auto Mode fee on one of this stack's instance lines."""

    line: CostLine
    instance_types: tuple[str, ...]
    on_demand_hourly: float
    share: float

    @property
    def hourly(self) -> float:
        return self.on_demand_hourly * self.share

    @property
    def monthly(self) -> float:
        return self.line.quantity * self.hourly

    def to_json(self) -> dict[str, Any]:
        return {
            "on": self.line.key,
            "instance_hours": round(self.line.quantity, 4),
            "types": list(self.instance_types),
            "fee_per_hour": round(self.hourly, 6),
            "share_of_on_demand": self.share,
            "monthly": optional_money(self.monthly),
        }


@dataclass(frozen=True)
class AlternativeCost:
    profile: str
    this_stack: float | None
    fees: list[FeeLine]

    @property
    def fee_total(self) -> float:
        return sum(fee.monthly for fee in self.fees)

    @property
    def total(self) -> float | None:
        return None if self.this_stack is None else self.this_stack + self.fee_total


def fee_lines(lines: list[CostLine], table: PriceTable) -> list[FeeLine]:
    """A fee for every instance-hour line (system nodes, GPU pools) of a priced design."""
    fees = []
    for line in lines:
        if not line.price_key.startswith("ec2:") or line.unit != "instance-hours":
            continue
        types = tuple(line.price_key.removeprefix("ec2:").split("|"))
        prices = [table.ec2_hourly(t) for t in types]
        known = [p for p in prices if p is not None]
        if len(known) != len(prices):
            continue
        share, _ = fee_share(types[0])
        fees.append(FeeLine(line, types, sum(known) / len(known), share))
    return fees


def auto_mode(report: CostReport) -> dict[str, AlternativeCost]:
    return {
        profile: AlternativeCost(
            profile,
            report.total(THIS_STACK, profile),
            fee_lines(report.this_stack[profile].lines, report.table),
        )
        for profile in report.profiles
    }


def _plain(value: Any) -> Any:
    """Table data as JSON values (YAML dates as ISO strings)."""
    return json.loads(json.dumps(value, default=str))


def alternatives_json(report: CostReport) -> dict[str, Any]:
    table = auto_mode_table()
    costs = auto_mode(report)
    return {
        AUTO_MODE: {
            "title": "EKS Auto Mode, same usage profile",
            "model": (
                "this stack's resources and node-hours (Auto Mode's own pools launch the "
                "system and GPU nodes; custom NodePools keep the same spot mix), plus an "
                "Auto Mode management fee on every node instance-hour, spot ones too (a share "
                "of the on-demand price, tables/auto_mode.yaml)"
            ),
            "fee_share": _plain(table["feeShare"]),
            "readings": _plain(table["readings"]),
            "replaces": table["replaces"],
            "sources": table["sources"],
            "date": str(table["date"]),
            "profiles": {
                profile: {
                    "this_stack": optional_money(cost.this_stack),
                    "fees": optional_money(cost.fee_total),
                    "total": optional_money(cost.total),
                    "fee_lines": [fee.to_json() for fee in cost.fees],
                }
                for profile, cost in costs.items()
            },
        }
    }


def alternatives_markdown(document: dict[str, Any]) -> str:
    """The Auto Mode comparison from cost.json's `alternatives` (also `cost --alternatives`)."""
    auto = document["alternatives"][AUTO_MODE]

    def usd(value: float | None) -> str:
        return "unknown" if value is None else f"${value:,.2f}"

    out = [
        "## The same usage under EKS Auto Mode",
        "",
        f"Model: {auto['model']}. Auto Mode would run for the cluster: "
        + "; ".join(auto["replaces"])
        + ".",
        "",
        "| profile | this stack | Auto Mode fees | Auto Mode total | difference |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    profiles = sorted(auto["profiles"].items(), key=lambda item: item[0] != "idle")
    for profile, entry in profiles:
        this, total = entry["this_stack"], entry["total"]
        diff = "unknown" if total is None else f"+{usd(entry['fees'])}"
        out.append(f"| {profile} | {usd(this)} | {usd(entry['fees'])} | {usd(total)} | {diff} |")
    out += ["", "| fee on | instance-hours | fee per hour | share of on-demand | profile |"]
    out += ["| --- | ---: | ---: | ---: | --- |"]
    for profile, entry in profiles:
        for fee in (f for f in entry["fee_lines"] if f["instance_hours"]):
            out.append(
                f"| {fee['on']} | {fee['instance_hours']:g} | ${fee['fee_per_hour']:.6f} | "
                f"{fee['share_of_on_demand']:.1%} | {profile} |"
            )
    out += ["", "Fee sources and dates:", ""]
    for name, entry in auto["fee_share"].items():
        assumption = " (assumption)" if entry.get("assumption") else ""
        out.append(
            f"- {name} share {entry['share']:.1%}, {entry['date']}{assumption}: {entry['source']}"
        )
    out += [
        f"- reading {r['region']} {r['type']} ${r['usd']}/h, {r['date']}: {r['source']}"
        for r in auto["readings"]
    ]
    out += [f"- {source}" for source in auto["sources"]]
    return "\n".join(out) + "\n"
