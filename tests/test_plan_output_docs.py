"""docs/plan-output.md names every key the plan writes: a key added to a JSON file without
a line in the one description of the plan's output fails here."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.cli import CliPlan
from tests.support.project import PROJECT_DIR

DOC = PROJECT_DIR / "docs" / "plan-output.md"
# Mappings whose keys are names (profiles, baselines, layers, environments, resources), not
# fields; and fields whose content is the resource's own (its inputs, a chart's values).
NAMED = {
    "profiles",
    "baselines",
    "comparison",
    "by_layer",
    "by_environment",
    "guide_tables_reproduced",
    "pools",
    "left_out_of_the_guide_table",
    "figures",
}
OPAQUE = {"inputs", "values"}
ENVIRONMENTS = {"dev", "prod", "shared"}


def documented() -> set[str]:
    """Every word in backticks, split at dots, brackets, angle brackets and spaces."""
    words: set[str] = set()
    for quoted in re.findall(r"`([^`]+)`", DOC.read_text(encoding="utf-8")):
        words.update(w for w in re.split(r"[.\[\]<>()\s,:/]+", quoted) if w)
    return words


def fields(value: Any, parent: str = "") -> Iterator[tuple[str, str]]:
    """(parent, key) of every field of the document."""
    if isinstance(value, dict):
        for key, item in value.items():
            if parent not in NAMED:
                yield parent, re.sub(r"^(ratio_to_|saving_vs_).*", r"\1", key)
            if key not in OPAQUE:
                yield from fields(item, key)
    elif isinstance(value, list):
        for item in value:
            yield from fields(item, parent)


@pytest.mark.parametrize("name", ["resources.json", "cost.json", "policy.json"])
def test_every_key_of_the_plan_is_documented(cli_plan: CliPlan, name: str) -> None:
    document = json.loads((cli_plan.out / name).read_text(encoding="utf-8"))
    names = {*document.get("profiles", {}), *document.get("baselines", {}), *ENVIRONMENTS}
    known = documented()
    missing = sorted(
        {f"{parent}.{key}" for parent, key in fields(document) if key not in known | names}
    )
    assert missing == [], f"{DOC.name} does not name: {', '.join(missing)}"


def test_every_stack_output_is_documented(cli_plan: CliPlan) -> None:
    outputs = json.loads((cli_plan.out / "outputs.json").read_text(encoding="utf-8"))
    assert sorted(set(outputs) - documented()) == []
