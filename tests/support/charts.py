"""The upstream values of the Helm charts the stack pins (verbatim files under
tests/<area>/fixtures/charts/, sources in their SOURCE.md), and the check every release's
values go through: each key the stack sets exists in the chart's values, or is one its
templates read (template-keys.yaml). A misspelt key would otherwise be ignored by Helm
without a word, and the setting silently never applied."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml

TESTS = Path(__file__).resolve().parents[1]
# Keys whose content is the chart user's own (Kubernetes fields passed through as they
# are): anything below them is accepted.
FREE_FORM_KEYS = frozenset(
    {
        "nodeSelector",
        "tolerations",
        "affinity",
        "resources",
        "securityContext",
        "podLabels",
        "podAnnotations",
        "additionalLabels",
        "labels",
        "annotations",
        "env",
        "extraEnv",
    }
)
CHART_FOLDERS = (
    TESTS / "operations" / "fixtures" / "charts",
    TESTS / "gpu" / "fixtures" / "charts",
)


@cache
def chart_values(chart: str) -> dict[str, Any]:
    """``chart`` is "<name>-<version>", a folder under one of CHART_FOLDERS."""
    for folder in CHART_FOLDERS:
        path = folder / chart / "values.yaml"
        if path.exists():
            values: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
            return values
    raise FileNotFoundError(f"no upstream values for {chart} under {CHART_FOLDERS}")


@cache
def template_keys(chart: str) -> frozenset[str]:
    keys: set[str] = set()
    for folder in CHART_FOLDERS:
        path = folder / "template-keys.yaml"
        if path.exists():
            listed = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            keys.update(entry["path"] for entry in listed.get(chart, []))
    return frozenset(keys)


def unknown_keys(
    values: Mapping[str, Any],
    chart: str,
    *,
    subcharts: Mapping[str, str] | None = None,
    free_form: frozenset[str] = frozenset(),
) -> list[str]:
    """Every key path of ``values`` that ``chart`` does not know.

    ``subcharts`` maps an alias of the chart's values (kube-prometheus-stack's "grafana")
    to the bundled chart whose values it configures. A key whose upstream default is a
    scalar, a list or an empty map takes anything below it (resources, nodeSelector,
    tolerations ...); ``free_form`` names other such paths (an Alertmanager configuration).
    """
    found: list[str] = []
    aliases = dict(subcharts or {})

    def walk(
        ours: Mapping[str, Any], theirs: Mapping[str, Any], chart_name: str, path: str
    ) -> None:
        for key, value in ours.items():
            full = f"{path}.{key}" if path else key
            if not path and key in aliases:
                merged = deep_merge(chart_values(aliases[key]), theirs.get(key) or {})
                walk(value, merged, aliases[key], "")
                continue
            if full in template_keys(chart_name):
                continue
            if key not in theirs:
                found.append(f"{chart_name}: {full}")
                continue
            default = theirs[key]
            if (
                isinstance(value, Mapping)
                and isinstance(default, Mapping)
                and default
                and full not in free_form
                and key not in FREE_FORM_KEYS
            ):
                walk(value, default, chart_name, full)

    walk(values, chart_values(chart), chart, "")
    return found


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``, maps merged key by key (how Helm merges a parent chart's
    values for a subchart over the subchart's own)."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
