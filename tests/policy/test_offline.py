"""The policy pack over the offline plan: the default stack passes, policy.json is written,
and `pingvas-infra plan` fails on a mandatory violation."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pingvas_infra.plan.model import PlanResult
from pingvas_infra.policy.catalogue import controls
from pingvas_infra.policy.offline import evaluate_plan
from tests.support.cli import run_cli
from tests.support.project import PROJECT_DIR


def test_default_stack_passes_every_mandatory_control(graph: PlanResult) -> None:
    results = evaluate_plan(graph)
    failures = [
        f"{r.control.id}: {v.urn}: {v.message}"
        for r in results
        if r.mandatory
        for v in r.violations
    ]
    assert failures == []
    assert [r.control.id for r in results] == [c.id for c in controls()]


def test_default_stack_leaves_no_control_unevaluated(graph: PlanResult) -> None:
    assert [(r.control.id, r.not_evaluated) for r in evaluate_plan(graph) if r.not_evaluated] == []


def test_the_catalogue_has_enough_controls_from_the_named_benchmarks() -> None:
    benchmarked = [c for c in controls() if "FSBP" in c.source or "CIS EKS" in c.source]
    assert len(benchmarked) >= 25
    assert {c.enforcement for c in controls()} == {"mandatory", "advisory"}


@pytest.fixture(scope="module")
def default_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("plan") / "out"
    done = run_cli("plan", "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def test_plan_writes_policy_json(default_plan: Path) -> None:
    document = json.loads((default_plan / "policy.json").read_text())
    listed = document["controls"]
    assert [entry["id"] for entry in listed] == [c.id for c in controls()]
    for entry in listed:
        assert set(entry) >= {"id", "title", "enforcement", "violations"}
        assert entry["enforcement"] in ("mandatory", "advisory")
    assert not [e for e in listed if e["enforcement"] == "mandatory" and e["violations"]]


BAD_PROGRAM = """
import pulumi
import pulumi_aws as aws

from pingvas_infra.config import load_stack_config
from pingvas_infra.providers import aws_provider

config = load_stack_config()
provider = aws_provider(config)
aws.sqs.Queue("jobs", sqs_managed_sse_enabled=False, opts=pulumi.ResourceOptions(provider=provider))
aws.cloudwatch.LogGroup("forever", opts=pulumi.ResourceOptions(provider=provider))
"""


def test_plan_fails_on_a_mandatory_violation(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    for name in ("Pulumi.yaml", "Pulumi.shared.yaml"):
        shutil.copy(PROJECT_DIR / name, project / name)
    (project / "__main__.py").write_text(BAD_PROGRAM, encoding="utf-8")
    out = tmp_path / "out"

    done = run_cli("plan", "--project-dir", str(project), "--out", str(out))

    assert done.returncode == 1, done.stdout + done.stderr
    assert "sqs-encrypted" in done.stdout
    document = json.loads((out / "policy.json").read_text())
    violated = {e["id"]: e["violations"] for e in document["controls"] if e["violations"]}
    # The bad program's log group has neither a retention nor a customer-managed key.
    assert set(violated) == {"sqs-encrypted", "log-group-retention", "log-group-kms"}
    (queue,) = violated["sqs-encrypted"]
    assert queue["urn"].endswith("aws:sqs/queue:Queue::jobs")
