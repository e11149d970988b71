"""An independent scanner over what the plan renders: checkov's Kubernetes framework.

checkov conflicts with the project's pins, so scripts/test.sh installs it (pinned) into
.venv-tools/checkov. Every skipped check is declared, with its reason, in
pingvas_infra/policy/checkov-skips.yaml. With CI=true a missing checkov fails the run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import PROJECT_DIR
from tests.plan.test_runner import run_cli

SKIPS_FILE = PROJECT_DIR / "pingvas_infra" / "policy" / "checkov-skips.yaml"
DEFAULT_CHECKOV = PROJECT_DIR / ".venv-tools" / "checkov" / "bin" / "checkov"
_CHECK_ID = re.compile(r"^CKV2?_K8S_\d+$")


def checkov_binary() -> Path:
    binary = Path(os.environ.get("CHECKOV_BIN", DEFAULT_CHECKOV))
    if binary.is_file():
        return binary
    message = f"checkov not found at {binary}: run ./scripts/test.sh, which installs it"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def skips() -> list[dict[str, str]]:
    return list(yaml.safe_load(SKIPS_FILE.read_text(encoding="utf-8"))["skips"] or [])


def run_checkov(directory: Path) -> dict[str, Any]:
    """checkov's JSON report over ``directory`` with the declared skips."""
    command = [
        str(checkov_binary()),
        "--framework",
        "kubernetes",
        "--directory",
        str(directory),
        "--output",
        "json",
        # Offline: no download of Prisma Cloud guidelines (this machine has no internet).
        "--skip-download",
    ]
    skipped = [entry["id"] for entry in skips()]
    if skipped:
        command += ["--skip-check", ",".join(skipped)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode in (0, 1), done.stderr
    report = json.loads(done.stdout)
    # One framework gives one report; checkov prints a list when it runs several.
    reports = report if isinstance(report, list) else [report]
    failed = [
        check
        for entry in reports
        for check in (entry.get("results") or {}).get("failed_checks", [])
    ]
    return {
        "failed": failed,
        "parsing_errors": sum(
            entry.get("summary", entry).get("parsing_errors", 0) for entry in reports
        ),
    }


def test_every_skip_names_a_kubernetes_check_and_a_reason() -> None:
    for entry in skips():
        assert _CHECK_ID.match(entry["id"]), entry
        assert len(str(entry.get("reason", "")).split()) >= 5, entry


def test_rendered_manifests_pass_checkov(tmp_path: Path) -> None:
    out = tmp_path / "plan"
    done = run_cli("plan", "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    manifests = out / "manifests"
    # A stack that renders nothing yet still gets scanned (and must stay clean).
    manifests.mkdir(exist_ok=True)

    report = run_checkov(manifests)

    failures = [
        f"{check['check_id']} {check['resource']} ({check['file_path']}): {check['check_name']}"
        for check in report["failed"]
    ]
    assert failures == []
    assert report["parsing_errors"] == 0


def test_checkov_catches_a_privileged_pod(tmp_path: Path) -> None:
    """The scanner is live: a deliberately bad manifest fails it."""
    (tmp_path / "pod.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "bad", "namespace": "dev"},
                "spec": {
                    "containers": [
                        {
                            "name": "bad",
                            "image": "nginx:latest",
                            "securityContext": {"privileged": True},
                        }
                    ]
                },
            }
        ),
        encoding="utf-8",
    )
    failed = {check["check_id"] for check in run_checkov(tmp_path)["failed"]}
    # CKV_K8S_16: container should not be privileged.
    assert "CKV_K8S_16" in failed
