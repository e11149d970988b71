"""The `pingvas-infra` command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from pingvas_infra.config import ConfigError
from pingvas_infra.plan.runner import (
    PlanContext,
    build_graph,
    layer_summary,
    prepare_out_dir,
    run_steps,
)
from pingvas_infra.plan.stackfile import StackFileError, find_project_dir

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    help="pingvas-infra: offline plan, cost and account checks for the pingvas Pulumi stack.",
)
console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

# Exit codes: 1 = a check failed (policy, preflight); 2 = bad input (config, files).
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2

StackOption = Annotated[
    str, typer.Option("--stack", "-s", help="Stack name (Pulumi.<stack>.yaml).")
]
ProjectOption = Annotated[
    Path | None,
    typer.Option("--project-dir", help="Folder holding Pulumi.yaml (default: found upward)."),
]


@app.callback()
def _root() -> None:
    """pingvas-infra: offline plan, cost and account checks for the pingvas Pulumi stack."""


@app.command()
def plan(
    stack: StackOption = "shared",
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("build/plan"),
    project_dir: ProjectOption = None,
) -> None:
    """Run the Pulumi program under the mock engine and write build/plan/."""
    try:
        root = project_dir or find_project_dir(Path.cwd())
        stack_file, config, result = build_graph(root, stack)
    except (ConfigError, StackFileError) as exc:
        err_console.print(str(exc), markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None

    prepare_out_dir(out)
    outcomes = run_steps(PlanContext(stack_file, config, result, out))

    table = Table(title=f"{result.project} / {result.stack}: resources by layer")
    table.add_column("layer")
    table.add_column("resources", justify="right")
    table.add_column("types")
    for layer, counts in layer_summary(result).items():
        types = ", ".join(f"{t.split(':')[-1]} x{n}" for t, n in sorted(counts.items()))
        table.add_row(layer, str(sum(counts.values())), types)
    console.print(table)

    failed = False
    for name, outcome in outcomes:
        for line in outcome.lines:
            console.print(f"[bold]{name}[/bold]: {line}")
        for warning in outcome.warnings:
            console.print(f"[yellow]warning[/yellow] ({name}): {warning}")
        failed |= outcome.failed
    console.print(f"plan written to {out}/")
    if failed:
        raise typer.Exit(EXIT_FAILED)


@app.command("local-env")
def local_env(
    local_dir: Annotated[
        Path | None, typer.Option("--local-dir", help="Folder of compose.yaml (default: local/).")
    ] = None,
) -> None:
    """Write local/.env and the Valkey ACL file that local/compose.yaml reads."""
    from pingvas_infra.operations import localenv  # noqa: PLC0415

    try:
        written = localenv.write_local_env(local_dir or localenv.LOCAL_DIR)
    except ModuleNotFoundError as exc:
        err_console.print(
            f"local-env needs the data layer's cache ACLs ({exc.name} is missing)", markup=False
        )
        raise typer.Exit(EXIT_BAD_INPUT) from None
    console.print(f"wrote {written.env_file} and {written.acl_file}")
    console.print("next: docker compose -f local/compose.yaml up -d")


def main() -> None:
    app()
