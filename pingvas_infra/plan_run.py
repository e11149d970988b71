"""One `pingvas-infra plan` run: the program under the offline engine, then every step
that reads its graph (resources, manifests, config warnings, cost and diagram, policy),
each writing its own files into the plan folder.

This module sits above the engine (pingvas_infra.plan) and the steps built on it
(pingvas_infra.cost, pingvas_infra.policy), beside the command line that calls it: the
engine knows nothing of what is done with its graph. A new step is one function here and
one line in :func:`plan_steps`.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import graphviz

from pingvas_infra.architecture import DIAGRAM, render_architecture
from pingvas_infra.config import RawConfig, StackConfig, parse_stack_config
from pingvas_infra.configbase import Offence
from pingvas_infra.cost.step import write_cost
from pingvas_infra.plan.engine import program_from_file, run_program
from pingvas_infra.plan.kubernetes import write_manifests
from pingvas_infra.plan.model import PlanResult
from pingvas_infra.plan.stackfile import StackFile, read_stack_file
from pingvas_infra.policy.offline import evaluate_plan, report_document

# Written into the output folder so a later plan may safely empty it.
_MARKER = ".pingvas-plan"


@dataclass
class PlanContext:
    stack_file: StackFile
    config: StackConfig
    result: PlanResult
    out_dir: Path


@dataclass
class StepOutcome:
    """What a step produced: files written, lines for the console, and whether the
    plan must fail (a mandatory policy violation, say)."""

    files: list[Path] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    failed: bool = False


PlanStep = Callable[[PlanContext], StepOutcome]


def load_config(stack_file: StackFile) -> StackConfig:
    """Validate the stack file's config exactly as the program will (raises ConfigError)."""
    raw = RawConfig(values=stack_file.config, secret_keys=frozenset(stack_file.secret_keys))
    file_offences = [Offence(p.key, p.value, p.allowed) for p in stack_file.problems]
    return parse_stack_config(raw, stack_file.stack, file_offences)


def build_graph(project_dir: Path, stack: str) -> tuple[StackFile, StackConfig, PlanResult]:
    stack_file = read_stack_file(project_dir, stack)
    config = load_config(stack_file)
    result = run_program(
        program_from_file(stack_file.main_file),
        project=stack_file.project,
        stack=stack,
        config=stack_file.config,
        secret_keys=stack_file.secret_keys,
        region=config.region,
    )
    return stack_file, config, result


def write_json(path: Path, document: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def resources_step(ctx: PlanContext) -> StepOutcome:
    resources = ctx.out_dir / "resources.json"
    resources.write_text(ctx.result.resources_json(), encoding="utf-8")
    outputs = write_json(ctx.out_dir / "outputs.json", ctx.result.outputs)
    return StepOutcome(
        files=[resources, outputs],
        lines=[f"{len(ctx.result.resources)} resources"],
    )


def manifests_step(ctx: PlanContext) -> StepOutcome:
    written = write_manifests(ctx.result, ctx.out_dir / "manifests")
    helm = sum(1 for p in written if p.parent.name == "helm")
    return StepOutcome(
        files=written,
        lines=[f"{len(written) - helm} Kubernetes objects and {helm} Helm releases in manifests/"],
    )


def warnings_step(ctx: PlanContext) -> StepOutcome:
    """What `pulumi preview` and `pulumi up` would warn about: valid but risky settings (an
    API endpoint open to the internet, say) and what the program itself logs through
    `pulumi.log.warn` (alerts that reach no one, say), each once."""
    config = [w.render("") for w in ctx.config.warnings()]
    return StepOutcome(warnings=list(dict.fromkeys([*config, *ctx.result.warnings])))


def policy_step(ctx: PlanContext) -> StepOutcome:
    """Run the policy pack over the graph; a mandatory violation fails the plan."""
    results = evaluate_plan(ctx.result)
    path = write_json(ctx.out_dir / "policy.json", report_document(results))
    mandatory = [(r, v) for r in results if r.mandatory for v in r.violations]
    advisory = [(r, v) for r in results if not r.mandatory for v in r.violations]
    lines = [
        f"{len(results)} controls: {len(mandatory)} mandatory and {len(advisory)} advisory "
        "violations in policy.json"
    ]
    lines += [
        f"MANDATORY {r.control.id}: {v.urn.rsplit('::', 1)[-1]}: {v.message}" for r, v in mandatory
    ]
    warnings = [f"{r.control.id}: {v.urn.rsplit('::', 1)[-1]}: {v.message}" for r, v in advisory]
    warnings += [
        f"{r.control.id}: not evaluated for {v.urn.rsplit('::', 1)[-1]}: {v.message}"
        for r in results
        for v in r.not_evaluated
    ]
    return StepOutcome(files=[path], lines=lines, warnings=warnings, failed=bool(mandatory))


def layer_summary(result: PlanResult) -> dict[str, Counter[str]]:
    """Resource counts by type, per layer component."""
    by_layer: dict[str, Counter[str]] = defaultdict(Counter)
    for resource in result.resources:
        by_layer[resource.layer][resource.type] += 1
    return dict(sorted(by_layer.items()))


def cost_step(ctx: PlanContext) -> StepOutcome:
    """cost.json, cost.md and architecture.svg: this stack priced against the baselines."""
    written = write_cost(ctx.result, ctx.config.region, ctx.out_dir)
    return StepOutcome(
        files=written.files, lines=written.lines, warnings=written.warnings, failed=written.failed
    )


def architecture_step(ctx: PlanContext) -> StepOutcome:
    """architecture.svg: the system drawn from the graph (zones, tiers, stores, flows)."""
    try:
        svg = render_architecture(ctx.result)
    except graphviz.ExecutableNotFound:
        return StepOutcome(
            warnings=[
                f"graphviz's `dot` is not installed: {DIAGRAM} skipped (apt-get install graphviz)"
            ]
        )
    path = ctx.out_dir / DIAGRAM
    path.write_bytes(svg)
    return StepOutcome(files=[path])


def plan_steps() -> list[tuple[str, PlanStep]]:
    """The steps `plan` runs, in order."""
    return [
        ("resources", resources_step),
        ("manifests", manifests_step),
        ("settings", warnings_step),
        ("cost", cost_step),
        ("architecture", architecture_step),
        ("policy", policy_step),
    ]


def check_out_dir(out_dir: Path) -> None:
    """Refuse a folder `pingvas-infra plan` did not write: it is emptied before writing."""
    if out_dir.exists() and not (out_dir / _MARKER).exists() and any(out_dir.iterdir()):
        raise FileExistsError(
            f"{out_dir} exists and was not written by `pingvas-infra plan`; choose another --out"
        )


def prepare_out_dir(out_dir: Path) -> None:
    check_out_dir(out_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    (out_dir / _MARKER).write_text("written by pingvas-infra plan\n", encoding="utf-8")


def run_steps(ctx: PlanContext) -> list[tuple[str, StepOutcome]]:
    return [(name, step(ctx)) for name, step in plan_steps()]
