"""The plan's cost step: cost.json, cost.md and cost-map.svg in the plan folder."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import graphviz

from pingvas_infra.cost.alternatives import alternatives_json, alternatives_markdown
from pingvas_infra.cost.diagram import render_svg
from pingvas_infra.cost.markdown import console_summary, render_markdown
from pingvas_infra.cost.report import build_report
from pingvas_infra.cost.targets import check_targets, cost_document
from pingvas_infra.plan.model import PlanResult
from pingvas_infra.price_tables import PriceTableNotFound

COST_JSON = "cost.json"
COST_MD = "cost.md"
COST_MAP = "cost-map.svg"


@dataclass
class CostOutput:
    files: list[Path] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # This stack's totals are unknown (something unpriced): the plan exits non-zero.
    failed: bool = False


def _write_json(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def write_cost(result: PlanResult, region: str, out_dir: Path) -> CostOutput:
    out_dir.mkdir(parents=True, exist_ok=True)
    output = CostOutput()
    try:
        report = build_report(
            result.resources, project=result.project, stack=result.stack, region=region
        )
    except PriceTableNotFound as exc:
        document = {
            "project": result.project,
            "stack": result.stack,
            "price_table": {"region": region, "status": "not priced", "reason": str(exc)},
        }
        output.files.append(_write_json(out_dir / COST_JSON, document))
        output.lines.append(f"not priced: no price table for {region}")
        output.warnings.append(str(exc))
        output.failed = True
        return output
    targets = check_targets(report)
    document = {**cost_document(report, targets), "alternatives": alternatives_json(report)}
    output.files.append(_write_json(out_dir / COST_JSON, document))
    markdown = out_dir / COST_MD
    markdown.write_text(
        render_markdown(report, targets) + "\n" + alternatives_markdown(document), encoding="utf-8"
    )
    output.files.append(markdown)
    try:
        svg = render_svg(report, result.resources)
    except graphviz.ExecutableNotFound:
        output.warnings.append(
            f"graphviz's `dot` is not installed: {COST_MAP} skipped (apt-get install graphviz)"
        )
    else:
        (out_dir / COST_MAP).write_bytes(svg)
        output.files.append(out_dir / COST_MAP)
    output.lines += console_summary(report, targets)
    if report.missing_layers:
        output.warnings.append(
            f"the graph has no {', '.join(report.missing_layers)} layer yet; "
            "its totals are not comparable with the baseline designs"
        )
    else:
        output.warnings += [
            f"cost target not met: {check.name} is "
            f"{'unknown' if check.value is None else f'{check.value:.4g}'} (limit {check.limit:g})"
            for check in targets
            if not check.met and check.limit is not None
        ]
    unpriced = report.unpriced()
    output.warnings += [f"unpriced: {u['type']} {u['resource']} ({u['reason']})" for u in unpriced]
    output.failed = not report.complete
    return output
