"""`pingvas-infra cost --compare`: the monthly delta between two plans' cost.json, line by
line, as Markdown to paste into a pull-request comment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

COST_FILE = "cost.json"


class CompareError(ValueError):
    """A plan folder or cost.json cannot be read."""


def load_cost(path: Path) -> dict[str, Any]:
    """A cost.json, given itself or the plan folder holding it."""
    file = path / COST_FILE if path.is_dir() else path
    if not file.is_file():
        raise CompareError(f"{file} not found: run `pingvas-infra plan` first")
    try:
        document: dict[str, Any] = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CompareError(f"{file} is not JSON: {exc}") from None
    if "profiles" not in document:
        status = document.get("price_table", {}).get("status", "no profiles")
        raise CompareError(f"{file} holds no priced profiles ({status})")
    return document


def _usd(value: float | None) -> str:
    if value is None:
        return "unknown"
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"


def _total(document: dict[str, Any], profile: str) -> float | None:
    """A profile's total; None when unknown (something unpriced) or the profile is absent
    (0.0: a plan without the profile has nothing priced under it)."""
    entry = document["profiles"].get(profile)
    if entry is None:
        return 0.0
    total = entry.get("total")
    return None if total is None else float(total)


def unpriced_items(document: dict[str, Any]) -> list[dict[str, str]]:
    """What makes a plan's totals unknown (cost.json's `unpriced`)."""
    items: list[dict[str, str]] = document.get("unpriced", [])
    return items


def is_complete(document: dict[str, Any]) -> bool:
    return not unpriced_items(document) and all(
        entry.get("total") is not None for entry in document["profiles"].values()
    )


def _delta(value: float) -> str:
    if round(value, 2) == 0:
        return "$0.00"
    return ("+" if value > 0 else "-") + f"${abs(value):,.2f}"


def _percent(before: float, after: float) -> str:
    if before == 0:
        return "new" if after else ""
    return f"{(after - before) / before:+.1%}"


def _unknown_lead(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The first thing a reviewer reads when a total is unknown: which plan, and what is
    unpriced. A change that cannot be priced never reads as cheaper."""
    out = []
    for which, document in (("this pull request", new), ("the base", old)):
        if is_complete(document):
            continue
        items = unpriced_items(document)
        named = "; ".join(f"{u['type']} {u['resource']}: {u['reason']}" for u in items)
        out += [
            f"> **Cost unknown for {which}**: {len(items)} item(s) unpriced, so its totals "
            f"and the change are unknown, not a number. Unpriced: {named or 'see cost.json'}.",
            "",
        ]
    return out


def compare_markdown(old: dict[str, Any], new: dict[str, Any]) -> str:
    out = ["## Monthly cost change", ""]
    out += _unknown_lead(old, new)
    old_table, new_table = old.get("price_table", {}), new.get("price_table", {})
    out.append(
        f"Prices: {new_table.get('region')} table of {new_table.get('date')}"
        + (
            f" (before: {old_table.get('region')} of {old_table.get('date')})"
            if (old_table.get("region"), old_table.get("date"))
            != (new_table.get("region"), new_table.get("date"))
            else ""
        )
        + ". Per profile, only the lines that changed; + costs more."
    )
    out.append("")
    out += ["| profile | before | after | change |", "| --- | ---: | ---: | ---: |"]
    profiles = sorted(set(old["profiles"]) | set(new["profiles"]))
    for profile in profiles:
        before, after = _total(old, profile), _total(new, profile)
        change = (
            "unknown"
            if before is None or after is None
            else f"{_delta(after - before)} ({_percent(before, after) or 'n/a'})"
        )
        out.append(f"| {profile} | {_usd(before)} | {_usd(after)} | {change} |")
    for profile in profiles:
        old_lines = {
            line["key"]: line for line in old["profiles"].get(profile, {}).get("lines", [])
        }
        new_lines = {
            line["key"]: line for line in new["profiles"].get(profile, {}).get("lines", [])
        }
        changed = []
        for key in sorted(set(old_lines) | set(new_lines)):
            before = old_lines.get(key, {}).get("monthly", 0.0)
            after = new_lines.get(key, {}).get("monthly", 0.0)
            status = "added" if key not in old_lines else "removed" if key not in new_lines else ""
            if round(after - before, 2) != 0 or (status and (before or after)):
                changed.append((after - before, key, before, after, status))
        out += ["", f"### {profile}", ""]
        if not changed:
            out.append(f"No line changed ({len(new_lines)} lines).")
            continue
        changed.sort(key=lambda item: (-abs(item[0]), item[1]))
        out += ["| line | before | after | change |", "| --- | ---: | ---: | ---: |"]
        for delta, key, before, after, status in changed:
            label = f"{key} ({status})" if status else key
            out.append(f"| {label} | {_usd(before)} | {_usd(after)} | {_delta(delta)} |")
        unchanged = len(set(old_lines) | set(new_lines)) - len(changed)
        out += ["", f"{unchanged} other lines unchanged."]
    old_unpriced = {json.dumps(u, sort_keys=True) for u in old.get("unpriced", [])}
    new_unpriced = [
        u for u in new.get("unpriced", []) if json.dumps(u, sort_keys=True) not in old_unpriced
    ]
    if new_unpriced:
        out += ["", "### Newly unpriced", ""]
        out += [f"- {u['type']} {u['resource']}: {u['reason']}" for u in new_unpriced]
    return "\n".join(out) + "\n"
