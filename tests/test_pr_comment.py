"""scripts/pr_comment.py: the pull request's comment says which check failed, and shows the
cost delta whenever there is one, failed tests or policy included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts import pr_comment
from scripts.pr_comment import PLAN_JOB, TESTS_JOB, Artifact, comment_body, read_artifact

DELTA = "| line | before | after |\n|---|---|---|\n| Aurora | $10 | $12 |\n"
SHA = "0123456789abcdef0123456789abcdef01234567"


def jobs(tests: str | None, plan: str | None) -> dict[str, object]:
    return {
        "jobs": [
            {"name": TESTS_JOB, "conclusion": tests, "status": "completed"},
            {"name": PLAN_JOB, "conclusion": plan, "status": "completed"},
        ]
    }


def artifact_dir(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "cost-comment"
    folder.mkdir()
    for name, text in files.items():
        (folder / name.replace("_", "-").replace("-md", ".md")).write_text(text)
    return folder


def run(tmp_path: Path, artifact: Path, job_results: dict[str, object], *extra: str) -> Path:
    jobs_file = tmp_path / "jobs.json"
    jobs_file.write_text(json.dumps(job_results))
    out = tmp_path / "comment"
    args = ["--jobs", str(jobs_file), "--artifact", str(artifact), "--head-sha", SHA]
    assert pr_comment.main([*args, *extra, "--out", str(out)]) == 0
    return out


def test_failed_tests_still_get_the_cost_delta_and_say_so(tmp_path: Path) -> None:
    folder = artifact_dir(tmp_path, pr_number="42\n", plan_outcome="success\n", cost_delta_md=DELTA)
    out = run(tmp_path, folder, jobs("failure", "success"))
    body = (out / "body.md").read_text()
    assert body.startswith(pr_comment.MARKER)
    assert "| tests (`./scripts/test.sh`) | failed |" in body
    assert "| offline plan and policy (`./scripts/plan.sh`) | passed |" in body
    assert "**Failed: tests.**" in body
    assert DELTA.strip() in body
    assert (out / "pr-number").read_text() == "42"


def test_a_policy_failure_is_named_and_the_delta_still_shown(tmp_path: Path) -> None:
    folder = artifact_dir(tmp_path, pr_number="7", plan_outcome="failure", cost_delta_md=DELTA)
    body = (run(tmp_path, folder, jobs("success", "failure")) / "body.md").read_text()
    assert "**Failed: offline plan and policy.**" in body
    assert "| tests (`./scripts/test.sh`) | passed |" in body
    assert "Aurora" in body


def test_all_passed_names_no_failure() -> None:
    body = comment_body(
        {TESTS_JOB: "success", PLAN_JOB: "success"}, Artifact(1, "success", DELTA), SHA
    )
    assert "Failed" not in body
    assert f"`{SHA[:12]}`" in body


def test_no_artifact_falls_back_to_the_job_and_the_events_pull_request(tmp_path: Path) -> None:
    missing = tmp_path / "never-downloaded"
    out = run(tmp_path, missing, jobs("success", "failure"), "--event-pull-requests", "[9]")
    body = (out / "body.md").read_text()
    assert "**Failed: offline plan and policy.**" in body
    assert "No cost delta" in body
    assert (out / "pr-number").read_text() == "9"


def test_a_run_that_names_no_pull_request_writes_an_empty_number(tmp_path: Path) -> None:
    """Forks: GitHub lists no pull request in the event, and without the artifact the
    comment cannot be placed; the posting step then fails rather than guess."""
    out = run(tmp_path, tmp_path / "none", jobs(None, None), "--event-pull-requests", "[]")
    assert (out / "pr-number").read_text() == ""
    assert "did not finish" in (out / "body.md").read_text()


@pytest.mark.parametrize("number", ["-3", "0", "12abc", "1e3", "", "42; rm -rf /"])
def test_a_forged_number_is_not_trusted(tmp_path: Path, number: str) -> None:
    folder = artifact_dir(tmp_path, pr_number=number)
    assert read_artifact(folder).pr_number is None


def test_an_unknown_outcome_word_is_ignored_and_the_job_result_used(tmp_path: Path) -> None:
    folder = artifact_dir(tmp_path, pr_number="5", plan_outcome="success | tests | passed")
    artifact = read_artifact(folder)
    assert artifact.plan_outcome is None
    body = comment_body({TESTS_JOB: "success", PLAN_JOB: "failure"}, artifact, SHA)
    assert "**Failed: offline plan and policy.**" in body


def test_an_oversized_delta_is_cut_to_fit_a_comment() -> None:
    huge = "x" * (pr_comment.MAX_DELTA_CHARS * 2)
    body = comment_body({}, Artifact(1, "success", huge), SHA)
    assert len(body) < 65_536
    assert "(cut:" in body


def test_an_unknown_cost_is_said_at_the_top_of_the_comment() -> None:
    """`cost --compare` leads with the unknown-total line; the comment lifts it above the
    checks table, so the first thing a reviewer reads is that the cost is unknown."""
    from pingvas_infra.cost.compare import compare_markdown  # noqa: PLC0415

    known = {"price_table": {}, "profiles": {"idle": {"total": 10.0, "lines": []}}, "unpriced": []}
    unpriced = [{"type": "aws:backup/vault:Vault", "resource": "v", "reason": "no rule"}]
    unknown = {
        "price_table": {},
        "profiles": {"idle": {"total": None, "lines": []}},
        "unpriced": unpriced,
    }
    delta = compare_markdown(known, unknown)
    body = comment_body(
        {TESTS_JOB: "success", PLAN_JOB: "failure"}, Artifact(1, "failure", delta), SHA
    )
    lines = body.splitlines()
    assert lines[1].startswith("### Checks and monthly cost")
    assert lines[3].startswith(pr_comment.UNKNOWN_LEAD)
    assert "aws:backup/vault:Vault v: no rule" in lines[3]
    assert "| idle | $10.00 | unknown | unknown |" in body
