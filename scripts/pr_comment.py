#!/usr/bin/env python3
"""The body of the pull request's cost comment, whatever the checks concluded.

Run by .github/workflows/cost-comment.yml from the default branch (never the pull request's
code), with the standard library only:

    python3 scripts/pr_comment.py --jobs jobs.json --artifact cost-comment \
        --head-sha SHA --out comment

`jobs.json` is the GitHub API's list of the `pull request` run's jobs; the artifact folder,
which the run may have failed to upload, holds `pr-number`, `plan-outcome` and
`cost-delta.md`. It writes `comment/body.md` and `comment/pr-number` (empty when no pull
request can be named). Everything in the artifact comes from the pull request's run, so it is
read as data: the number must be a positive integer, the outcome one known word, and the
delta is shown as the run wrote it, cut to fit a comment.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

MARKER = "<!-- pingvas-cost-delta -->"
# The `name:` of the jobs in .github/workflows/pull-request.yml (a test ties them).
TESTS_JOB = "tests"
PLAN_JOB = "offline plan, policy and cost"
# A comment holds at most 65,536 characters; the status lines need the rest.
MAX_DELTA_CHARS = 60_000
OUTCOMES = ("success", "failure", "cancelled", "skipped")
# How `pingvas-infra cost --compare` starts the line that says a total is unknown.
UNKNOWN_LEAD = "> **Cost unknown for "

_SHOWN = {
    "success": "passed",
    "failure": "failed",
    "cancelled": "cancelled",
    "skipped": "skipped",
    "timed_out": "timed out",
    None: "did not finish",
}


@dataclass(frozen=True)
class Artifact:
    pr_number: int | None
    plan_outcome: str | None
    cost_delta: str | None


def _read(folder: Path, name: str) -> str | None:
    path = folder / name
    return path.read_text(encoding="utf-8") if path.is_file() else None


def read_artifact(folder: Path) -> Artifact:
    number_text = (_read(folder, "pr-number") or "").strip()
    number = int(number_text) if number_text.isdigit() and int(number_text) > 0 else None
    outcome = (_read(folder, "plan-outcome") or "").strip()
    return Artifact(
        pr_number=number,
        plan_outcome=outcome if outcome in OUTCOMES else None,
        cost_delta=_read(folder, "cost-delta.md"),
    )


def job_conclusions(jobs: Mapping[str, object]) -> dict[str, str | None]:
    """Job name -> conclusion, from the API's `{"jobs": [...]}` answer."""
    listed = jobs.get("jobs")
    found: dict[str, str | None] = {}
    for job in listed if isinstance(listed, list) else []:
        if isinstance(job, dict) and isinstance(job.get("name"), str):
            conclusion = job.get("conclusion")
            found[job["name"]] = conclusion if isinstance(conclusion, str) else None
    return found


def _status(conclusion: str | None) -> str:
    return _SHOWN.get(conclusion, conclusion or "did not finish")


def comment_body(conclusions: Mapping[str, str | None], artifact: Artifact, head_sha: str) -> str:
    """Status of each check first (what failed, in words), then the cost delta if any."""
    tests = conclusions.get(TESTS_JOB)
    # The plan step's own outcome says whether policy (or config) failed; the job's
    # conclusion stands in when the artifact never arrived.
    plan = artifact.plan_outcome or conclusions.get(PLAN_JOB)
    failed = [
        what
        for what, conclusion in (("tests", tests), ("offline plan and policy", plan))
        if conclusion != "success"
    ]
    lines = [
        MARKER,
        f"### Checks and monthly cost of `{head_sha[:12]}`",
        "",
        # `cost --compare` leads with these when a total is unknown (something unpriced):
        # they go first here too, so nobody reads a partial sum as the cost.
        *[
            line
            for line in (artifact.cost_delta or "").splitlines()
            if line.startswith(UNKNOWN_LEAD)
        ][:2],
        "",
        "| check | result |",
        "|---|---|",
        f"| tests (`./scripts/test.sh`) | {_status(tests)} |",
        f"| offline plan and policy (`./scripts/plan.sh`) | {_status(plan)} |",
        "",
    ]
    if failed:
        lines += [f"**Failed: {', '.join(failed)}.** The run's logs say why.", ""]
    if artifact.cost_delta and artifact.cost_delta.strip():
        delta = artifact.cost_delta
        if len(delta) > MAX_DELTA_CHARS:
            delta = delta[:MAX_DELTA_CHARS] + "\n\n(cut: the whole delta is in the run's summary)"
        lines.append(delta.rstrip("\n"))
    else:
        lines.append(
            "No cost delta: the offline plan of this pull request or of its base did not "
            "finish (see the run)."
        )
    return "\n".join(lines) + "\n"


def pull_request_number(artifact: Artifact, event_numbers: Sequence[int]) -> int | None:
    """The artifact's number, else the one pull request the event names (same-repository
    branches only: GitHub lists none for forks)."""
    if artifact.pr_number is not None:
        return artifact.pr_number
    return event_numbers[0] if len(event_numbers) == 1 else None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=Path, required=True)
    parser.add_argument("--artifact", type=Path, required=True)
    parser.add_argument("--head-sha", required=True)
    parser.add_argument("--event-pull-requests", default="[]", help="JSON list of numbers")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    artifact = read_artifact(args.artifact)
    conclusions = job_conclusions(json.loads(args.jobs.read_text(encoding="utf-8")))
    listed = json.loads(args.event_pull_requests)
    numbers = [n for n in listed if isinstance(n, int)] if isinstance(listed, list) else []
    number = pull_request_number(artifact, numbers)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "body.md").write_text(
        comment_body(conclusions, artifact, args.head_sha), encoding="utf-8"
    )
    (args.out / "pr-number").write_text(str(number or ""), encoding="utf-8")
    if number is None:
        print("no pull request can be named for this run", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
