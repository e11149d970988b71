"""An independent scanner over what the plan renders: checkov's Kubernetes framework.

checkov conflicts with the project's pins, so scripts/test.sh installs it (pinned) into
.venv-tools/checkov. It runs with no skip of its own: every finding must be fixed or
accepted in tests/policy/checkov-skips.yaml for the named resources only, with its
reason, and an accepted finding that no longer occurs fails too (a stale skip would hide
the next one). With CI=true a missing checkov fails the run.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.cli import run_cli
from tests.support.project import PROJECT_DIR

SKIPS_FILE = Path(__file__).parent / "checkov-skips.yaml"
DEFAULT_CHECKOV = PROJECT_DIR / ".venv-tools" / "checkov" / "bin" / "checkov"
_CHECK_ID = re.compile(r"^CKV2?_K8S_\d+$")
_RESOURCE = re.compile(r"^[A-Z][A-Za-z]+\.[a-z0-9-]+\.[a-z0-9][a-z0-9.*-]*$")


def checkov_binary() -> Path:
    binary = Path(os.environ.get("CHECKOV_BIN", DEFAULT_CHECKOV))
    if binary.is_file():
        return binary
    message = f"checkov not found at {binary}: run ./scripts/test.sh, which installs it"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def skips() -> list[dict[str, Any]]:
    return list(yaml.safe_load(SKIPS_FILE.read_text(encoding="utf-8"))["skips"] or [])


def accepted_by(check: dict[str, Any], entries: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The (id, resource pattern) skips that accept one checkov finding."""
    return [
        (entry["id"], pattern)
        for entry in entries
        if entry["id"] == check["check_id"]
        for pattern in entry["resources"]
        if fnmatch.fnmatchcase(check["resource"], pattern)
    ]


def run_checkov(directory: Path) -> dict[str, Any]:
    """checkov's JSON report over ``directory``, every check on."""
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


def test_every_skip_names_a_kubernetes_check_its_resources_and_a_reason() -> None:
    for entry in skips():
        assert set(entry) == {"id", "resources", "reason"}, entry
        assert _CHECK_ID.match(entry["id"]), entry
        # Kind.namespace.name, as checkov names a resource; never a bare wildcard.
        assert entry["resources"], entry
        for pattern in entry["resources"]:
            assert _RESOURCE.match(pattern), pattern
        assert len(str(entry["reason"]).split()) >= 5, entry


def test_rendered_manifests_pass_checkov(tmp_path: Path) -> None:
    out = tmp_path / "plan"
    done = run_cli("plan", "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    manifests = out / "manifests"
    # A stack that renders nothing yet still gets scanned (and must stay clean).
    manifests.mkdir(exist_ok=True)

    report = run_checkov(manifests)

    entries = skips()
    failures = [
        f"{check['check_id']} {check['resource']} ({check['file_path']}): {check['check_name']}"
        for check in report["failed"]
        if not accepted_by(check, entries)
    ]
    assert failures == []
    used = {skip for check in report["failed"] for skip in accepted_by(check, entries)}
    declared = {(entry["id"], pattern) for entry in entries for pattern in entry["resources"]}
    assert declared - used == set(), "stale skips: no such finding any more"
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
