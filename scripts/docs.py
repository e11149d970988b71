#!/usr/bin/env python3
"""Every generated part of the repository's documents, from one command.

    .venv/bin/python -m scripts.docs            # rewrite README.md, docs/boundary.md, the pictures
    .venv/bin/python -m scripts.docs --check    # exit 1 naming what drifted, write nothing

A generated block of a Markdown file sits between `<!-- <name>:begin ... -->` and
`<!-- <name>:end -->` (the text after the name is for the reader); everything between them
is replaced, every occurrence of the name. The blocks:

- `config`: the configuration table, from the config models (pingvas_infra/config_reference.py);
- `boundary`: the promise table, from docs/boundary-matrix.yaml (which also renders the
  whole of docs/boundary.md);
- `controls`: the policy controls, from pingvas_infra/tables/policy_controls.yaml;
- `plan-*`: figures of a fresh plan of the default stack (resources, Kubernetes objects,
  Helm releases, the cost summary the plan prints).

Whole documents: docs/boundary.md, and the README's two pictures, docs/architecture.svg and
docs/cost-map.svg, drawn from the same fresh plan as build/plan/'s.

It reads the repository it sits in (scripts/ is not part of the installed package);
tests/test_docs.py fails while any block differs from what this writes.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from pingvas_infra.architecture import render_architecture
from pingvas_infra.boundary.matrix import (
    DOC_PATH,
    MATRIX_PATH,
    Matrix,
    MatrixError,
    load,
    render_doc,
)
from pingvas_infra.boundary.matrix import render_readme_section as boundary_table
from pingvas_infra.config_reference import render_table as config_table
from pingvas_infra.cost.diagram import render_svg
from pingvas_infra.cost.markdown import console_summary
from pingvas_infra.cost.report import build_report
from pingvas_infra.cost.targets import check_targets
from pingvas_infra.plan.kubernetes import helm_releases, kubernetes_objects
from pingvas_infra.plan.model import PlanResult
from pingvas_infra.plan_run import build_graph
from pingvas_infra.policy.catalogue import controls

ROOT = Path(__file__).resolve().parent.parent
README = "README.md"
ARCHITECTURE_PICTURE = "docs/architecture.svg"
COST_PICTURE = "docs/cost-map.svg"
STACK = "shared"


class BlockNotFound(LookupError):
    """A document lacks the markers of a block it should hold."""


def _markers(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- {re.escape(name)}:begin(?: [^>]*)? -->)(.*?)(<!-- {re.escape(name)}:end -->)",
        re.DOTALL,
    )


def splice(text: str, name: str, body: str) -> str:
    """``text`` with every block ``name`` holding ``body`` (the markers stay)."""
    pattern = _markers(name)
    if not pattern.search(text):
        raise BlockNotFound(f"no <!-- {name}:begin --> ... <!-- {name}:end --> block")
    return pattern.sub(lambda m: m.group(1) + body + m.group(3), text)


def blocks_of(text: str, name: str) -> list[str]:
    """The bodies of every block ``name`` in ``text``."""
    return [m.group(2) for m in _markers(name).finditer(text)]


def _table(markdown: str) -> str:
    """A table block: on lines of its own between the markers."""
    return f"\n{markdown}\n"


def controls_table() -> str:
    return "\n".join(
        [
            "| control | enforcement | implements | what it requires |",
            "|---|---|---|---|",
            *(f"| `{c.id}` | {c.enforcement} | {c.source} | {c.title} |" for c in controls()),
        ]
    )


def plan_blocks(plan: PlanResult, region: str) -> dict[str, str]:
    """The README's figures of the default stack's plan."""
    report = build_report(plan.resources, project=plan.project, stack=plan.stack, region=region)
    summary = console_summary(report, check_targets(report))
    return {
        "plan-resources": str(len(plan.resources)),
        "plan-objects": str(len(kubernetes_objects(plan))),
        "plan-releases": str(len(helm_releases(plan))),
        "plan-cost": "\n```\n" + "\n".join(summary) + "\n```\n",
    }


def readme_blocks(matrix: Matrix, plan: PlanResult, region: str) -> dict[str, str]:
    return {
        "config": _table(config_table()),
        "boundary": _table(boundary_table(matrix)),
        "controls": _table(controls_table()),
        **plan_blocks(plan, region),
    }


def load_matrix(root: Path) -> Matrix:
    return load(root / MATRIX_PATH, root)


def default_plan(root: Path) -> tuple[PlanResult, str]:
    """The default stack's graph and region, as `pingvas-infra plan` builds them."""
    _, config, plan = build_graph(root, STACK)
    return plan, config.region


def documents(root: Path, matrix: Matrix, plan: PlanResult, region: str) -> dict[Path, bytes]:
    """Each generated document's full content as this command writes it."""
    readme = (root / README).read_text(encoding="utf-8")
    for name, body in readme_blocks(matrix, plan, region).items():
        readme = splice(readme, name, body)
    report = build_report(plan.resources, project=plan.project, stack=plan.stack, region=region)
    return {
        root / README: readme.encode("utf-8"),
        root / DOC_PATH: render_doc(matrix).encode("utf-8"),
        root / ARCHITECTURE_PICTURE: render_architecture(plan),
        root / COST_PICTURE: render_svg(report, plan.resources),
    }


def drifted(expected: Mapping[Path, bytes]) -> list[Path]:
    return [
        path
        for path, content in expected.items()
        if not path.is_file() or path.read_bytes() != content
    ]


def main(
    argv: Sequence[str] | None = None,
    *,
    root: Path = ROOT,
    plan: Callable[[Path], tuple[PlanResult, str]] = default_plan,
) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report what drifted")
    args = parser.parse_args(argv)
    try:
        matrix = load_matrix(root)
    except MatrixError as error:
        print(error, file=sys.stderr)
        return 2
    expected = documents(root, matrix, *plan(root))
    stale = drifted(expected)
    if args.check:
        for path in stale:
            print(f"{path.relative_to(root)} drifted: run python -m scripts.docs", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        path.write_bytes(expected[path])
        print(f"wrote {path.relative_to(root)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
