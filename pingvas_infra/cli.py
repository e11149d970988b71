"""The `pingvas-infra` command line."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import boto3
import typer
from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pingvas_infra import localenv
from pingvas_infra import resource_types as rt
from pingvas_infra.config import ConfigError, StackConfig
from pingvas_infra.cost.alternatives import alternatives_markdown
from pingvas_infra.cost.compare import CompareError, compare_markdown, is_complete, load_cost
from pingvas_infra.plan.stackfile import StackFileError, find_project_dir, read_stack_file
from pingvas_infra.plan_run import (
    PlanContext,
    build_graph,
    check_out_dir,
    layer_summary,
    load_config,
    prepare_out_dir,
    run_steps,
)
from pingvas_infra.preflight.backend import BackendError, set_project_backend
from pingvas_infra.preflight.bootstrap import BootstrapError, bootstrap_state
from pingvas_infra.preflight.checks import AwsClients, failed, run_preflight
from pingvas_infra.preflight.targets import targets_from_config

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
        # Checked before the program runs, so a refused --out costs nothing.
        check_out_dir(out)
        root = project_dir or find_project_dir(Path.cwd())
        stack_file, config, result = build_graph(root, stack)
    except (ConfigError, StackFileError, FileExistsError) as exc:
        err_console.print(str(exc), markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None

    prepare_out_dir(out)
    outcomes = run_steps(PlanContext(stack_file, config, result, out))

    table = Table(title=f"{result.project} / {result.stack}: resources by layer")
    table.add_column("layer")
    table.add_column("resources", justify="right")
    table.add_column("types")
    for layer, counts in layer_summary(result).items():
        types = ", ".join(f"{rt.short_name(t)} x{n}" for t, n in sorted(counts.items()))
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


ProfileOption = Annotated[
    str | None, typer.Option("--profile", help="AWS profile (default: the usual credential chain).")
]
RegionOption = Annotated[
    str | None, typer.Option("--region", help="AWS region (default: the stack's aws:region).")
]

_STATUS_STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red"}


def _stack_config(stack: str, project_dir: Path | None) -> StackConfig:
    try:
        root = project_dir or find_project_dir(Path.cwd())
        return load_config(read_stack_file(root, stack))
    except (ConfigError, StackFileError) as exc:
        err_console.print(str(exc), markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _session(profile: str | None, region: str) -> boto3.session.Session:
    try:
        return boto3.Session(profile_name=profile, region_name=region)
    except ProfileNotFound as exc:
        err_console.print(str(exc), markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def make_clients(session: boto3.session.Session, region: str) -> AwsClients:
    """The AWS boundary of `preflight` (tests put moto and botocore stubs behind it)."""
    return AwsClients(session, region)


@app.command()
def preflight(
    stack: StackOption = "shared",
    project_dir: ProjectOption = None,
    profile: ProfileOption = None,
    region: RegionOption = None,
) -> None:
    """Check an AWS account before the first `pulumi up` (quotas, versions, names)."""
    config = _stack_config(stack, project_dir)
    targets = targets_from_config(config, region)
    clients = make_clients(_session(profile, targets.region), targets.region)
    results = run_preflight(
        clients, targets, configured_region=config.region, today=datetime.now(UTC).date()
    )
    console.print(f"preflight: {config.project} / {stack} in {targets.region}")
    width = max(len(r.check) for r in results)
    for result in results:
        style = _STATUS_STYLE[result.status]
        console.print(
            f"[{style}]{result.status.upper():4}[/{style}]  {result.check:<{width}}  "
            + escape(result.detail)
        )
        if result.action:
            console.print(f"      {'':<{width}}  -> " + escape(result.action))
    counts = {s: sum(r.status == s for r in results) for s in _STATUS_STYLE}
    console.print(f"{counts['pass']} passed, {counts['warn']} warnings, {counts['fail']} failed")
    if failed(results):
        raise typer.Exit(EXIT_FAILED)


@app.command("bootstrap-state")
def bootstrap_state_command(
    *,
    stack: StackOption = "shared",
    project_dir: ProjectOption = None,
    bucket: Annotated[
        str | None,
        typer.Option(
            "--bucket", help="State bucket (default: <project>-pulumi-state-<account>-<region>)."
        ),
    ] = None,
    profile: ProfileOption = None,
    region: RegionOption = None,
    write_project: Annotated[
        bool,
        typer.Option(
            "--write-project",
            help="Also point Pulumi.yaml's backend.url at the bucket (commit it for the team).",
        ),
    ] = False,
) -> None:
    """Create the team's S3 state bucket and KMS secrets key (idempotent)."""
    try:
        root = project_dir or find_project_dir(Path.cwd())
    except StackFileError as exc:
        err_console.print(str(exc), markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    config = _stack_config(stack, root)
    chosen = region or config.region
    try:
        backend = bootstrap_state(
            _session(profile, chosen), project=config.project, region=chosen, bucket=bucket
        )
    except (BootstrapError, ClientError, BotoCoreError) as exc:
        err_console.print(f"bootstrap-state failed: {exc}", markup=False)
        raise typer.Exit(EXIT_FAILED) from None
    for change in backend.changes:
        console.print(f"changed: {change}", markup=False)
    if not backend.changes:
        console.print("state bucket and key already in place; nothing changed")
    # The committed URL names no profile: each person's AWS_PROFILE is their own.
    team_url = backend.backend_url()
    if write_project:
        try:
            changed = set_project_backend(root, team_url)
        except BackendError as exc:
            err_console.print(str(exc), markup=False)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        state = "set to" if changed else "already"
        console.print(f"Pulumi.yaml: backend.url {state} {team_url}", markup=False)
    lines = [
        f"State: s3://{backend.bucket} (SSE-KMS with {backend.key_alias}).",
        "Use it (PULUMI_BACKEND_URL wins over Pulumi.yaml's backend.url, which wins over",
        "`pulumi login`):",
        f"  commit Pulumi.yaml with backend.url: {team_url}  (--write-project sets it)",
        f"  or export PULUMI_BACKEND_URL='{backend.backend_url(profile)}'",
        "Secrets provider (one person, before anyone sets a secret; commit "
        f"Pulumi.{stack}.yaml after):",
        f"  new stack:      pulumi stack init {stack} --secrets-provider "
        f'"{backend.secrets_provider}"',
        f'  existing stack: pulumi stack change-secrets-provider "{backend.secrets_provider}"',
    ]
    for line in lines:
        console.print(line, markup=False)


@app.command()
def cost(
    compare: Annotated[
        Path | None,
        typer.Option(
            "--compare",
            help="An older plan folder or its cost.json: print the per-line monthly delta.",
        ),
    ] = None,
    plan_dir: Annotated[
        Path, typer.Option("--plan", help="The plan folder holding cost.json.")
    ] = Path("build/plan"),
    alternatives: Annotated[
        bool,
        typer.Option(
            "--alternatives",
            help="Print the same usage priced under EKS Auto Mode, with fee sources.",
        ),
    ] = False,
) -> None:
    """Print the plan's cost report (cost.md), or with --compare the monthly change
    between two plans, line by line, as Markdown for a pull-request comment."""
    try:
        current = load_cost(plan_dir)
        if alternatives:
            typer.echo(alternatives_markdown(current), nl=False)
            if not is_complete(current):
                raise typer.Exit(EXIT_FAILED)
            return
        if compare is None:
            report = (plan_dir if plan_dir.is_dir() else plan_dir.parent) / "cost.md"
            typer.echo(report.read_text(encoding="utf-8"), nl=False)
            if not is_complete(current):
                raise typer.Exit(EXIT_FAILED)
            return
        previous = load_cost(compare)
        typer.echo(compare_markdown(previous, current), nl=False)
    except (CompareError, OSError) as exc:
        err_console.print(str(exc), markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    # An unknown total is a failed check, not a smaller number.
    if not (is_complete(previous) and is_complete(current)):
        raise typer.Exit(EXIT_FAILED)


@app.command("local-env")
def local_env(
    local_dir: Annotated[
        Path | None,
        typer.Option("--local-dir", help="Folder of compose.yaml (default: the project's local/)."),
    ] = None,
    project_dir: ProjectOption = None,
) -> None:
    """Write local/.env and the Valkey ACL file that local/compose.yaml reads."""
    if local_dir is None:
        try:
            root = project_dir or find_project_dir(Path.cwd())
        except StackFileError as exc:
            err_console.print(str(exc), markup=False)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        local_dir = root / localenv.LOCAL_FOLDER
    written = localenv.write_local_env(local_dir)
    console.print(f"wrote {written.env_file} and {written.acl_file}")
    console.print("next: docker compose -f local/compose.yaml up -d")


def main() -> None:
    app()
