"""`pingvas-infra cost --compare`: the per-line monthly delta between two plans."""

from __future__ import annotations

import copy
import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from pingvas_infra import resource_types as rt
from pingvas_infra.cost.compare import CompareError, compare_markdown, load_cost
from pingvas_infra.cost.step import write_cost
from pingvas_infra.plan.model import PlanResult
from tests.support.cli import run_cli
from tests.support.plan_graph import recorded_resource
from tests.support.project import PROJECT_DIR


def cost_document(lines: list[tuple[str, float]]) -> dict[str, Any]:
    return {
        "price_table": {"region": "us-east-1", "date": "2026-11-01"},
        "profiles": {
            "idle": {
                "total": sum(monthly for _, monthly in lines),
                "lines": [{"key": key, "monthly": monthly} for key, monthly in lines],
            }
        },
        "unpriced": [],
    }


def test_changed_added_and_removed_lines_with_their_delta() -> None:
    old = cost_document([("data / Cache a / nodes", 300.76), ("net / Nat n / hours", 32.85)])
    new = cost_document([("data / Cache a / nodes", 18.69), ("gpu / Pool p / hours", 10.0)])
    new["unpriced"] = [{"type": rt.BACKUP_VAULT, "resource": "v", "reason": "no rule"}]
    text = compare_markdown(old, new)
    assert "| idle | $333.61 | $28.69 | -$304.92 (-91.4%) |" in text
    rows = [row for row in text.splitlines() if row.startswith("| ") and " / " in row]
    # Biggest change first.
    assert rows == [
        "| data / Cache a / nodes | $300.76 | $18.69 | -$282.07 |",
        "| net / Nat n / hours (removed) | $32.85 | $0.00 | -$32.85 |",
        "| gpu / Pool p / hours (added) | $0.00 | $10.00 | +$10.00 |",
    ]
    assert "- aws:backup/vault:Vault v: no rule" in text


def test_identical_plans_change_nothing() -> None:
    document = cost_document([("a / b / c", 1.0)])
    text = compare_markdown(document, copy.deepcopy(document))
    assert "No line changed (1 lines)." in text
    assert "| idle | $1.00 | $1.00 | $0.00 (+0.0%) |" in text


def test_unreadable_inputs_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(CompareError, match="run `pingvas-infra plan` first"):
        load_cost(tmp_path)
    (tmp_path / "cost.json").write_text(
        json.dumps({"price_table": {"region": "eu-west-1", "status": "not priced"}})
    )
    with pytest.raises(CompareError, match="not priced"):
        load_cost(tmp_path)


def plans_before_and_after(tmp_path: Path, setting: str, changed: str) -> tuple[Path, Path]:
    """The default stack's plan, and the plan of a copy of the project whose stack file
    has ``setting`` replaced by ``changed``."""
    before, after = tmp_path / "before", tmp_path / "after"
    assert run_cli("plan", "--out", str(before)).returncode == 0
    project = tmp_path / "project"
    project.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, project / name)
    stack = (PROJECT_DIR / "Pulumi.shared.yaml").read_text()
    assert setting in stack
    (project / "Pulumi.shared.yaml").write_text(stack.replace(setting, changed))
    done = run_cli("plan", "--out", str(after), cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    return before, after


def test_cli_compares_two_plans_for_a_pull_request(tmp_path: Path) -> None:
    before, after = plans_before_and_after(tmp_path, "natGateways: 1", "natGateways: 3")

    compared = run_cli("cost", "--compare", str(before), "--plan", str(after))
    assert compared.returncode == 0, compared.stderr
    text = compared.stdout
    assert text.startswith("## Monthly cost change")
    # Two more NAT gateways and their addresses: 2 x ($32.85 + $3.65) a month idle.
    (idle_row,) = [line for line in text.splitlines() if line.startswith("| idle |")]
    assert "| +$73.00 (" in idle_row
    assert "| network / NatGateway network-nat-us-east-1b / NAT gateway hours (added) |" in text
    assert "| network / Eip network-nat-us-east-1c / Public IPv4 address (added) |" in text

    shown = run_cli("cost", "--plan", str(after))
    assert shown.returncode == 0
    assert shown.stdout == (after / "cost.md").read_text()
    missing = run_cli("cost", "--compare", str(tmp_path / "nowhere"), "--plan", str(after))
    assert missing.returncode == 2
    assert "Traceback" not in missing.stderr


def test_a_dearer_cache_node_is_priced_and_the_compare_shows_it_dearer(tmp_path: Path) -> None:
    """cache.r7g.large, a node type the config accepts, has a price: the plan is complete
    and the compare reports the change as a cost, not a saving."""
    before, after = plans_before_and_after(
        tmp_path, "nodeType: cache.t4g.micro", "nodeType: cache.r7g.large"
    )
    compared = run_cli("cost", "--compare", str(before), "--plan", str(after))
    assert compared.returncode == 0, compared.stderr
    (idle_row,) = [line for line in compared.stdout.splitlines() if line.startswith("| idle |")]
    # 2 nodes x 730 h x ($0.1752 - $0.0128) = +$237.104 a month ($271.65 -> $508.76).
    assert idle_row == "| idle | $271.65 | $508.76 | +$237.11 (+87.3%) |"
    assert "unknown" not in compared.stdout.lower()


def test_an_unpriced_resource_makes_report_and_compare_unknown_and_fail(
    graph: PlanResult, tmp_path: Path
) -> None:
    """A resource no rule prices (here a backup vault) makes every total unknown: the
    report and the compare say so first, name it, and exit 1; the delta is not a number."""
    before, after = tmp_path / "before", tmp_path / "after"
    write_cost(graph, "us-east-1", before)
    vault = recorded_resource(
        "urn:pulumi:shared::pingvas::pingvas:storage:Storage$aws:backup/vault:Vault::copies",
        rt.BACKUP_VAULT,
        "copies",
        {},
    )
    written = write_cost(
        dataclasses.replace(graph, resources=[*graph.resources, vault]), "us-east-1", after
    )
    assert written.failed
    shown = run_cli("cost", "--plan", str(after))
    assert shown.returncode == 1
    assert "**UNKNOWN TOTAL: 1 item(s) unpriced" in shown.stdout.splitlines()[2]
    compared = run_cli("cost", "--compare", str(before), "--plan", str(after))
    assert compared.returncode == 1
    lines = compared.stdout.splitlines()
    assert lines[0] == "## Monthly cost change"
    assert lines[2].startswith("> **Cost unknown for this pull request**: 1 item(s) unpriced")
    assert "aws:backup/vault:Vault copies" in lines[2]
    assert any(
        row.startswith("| idle | $") and row.endswith("| unknown | unknown |") for row in lines
    )
