"""The boundary matrix (docs/boundary-matrix.yaml) is complete and its proofs exist (its
rendered forms are kept in sync by tests/test_docs.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pingvas_infra.boundary.matrix import (
    ACCEPTED,
    CLOSED,
    MATRIX_PATH,
    Matrix,
    MatrixError,
    load,
)
from tests.support.project import PROJECT_DIR

MATRIX_FILE = PROJECT_DIR / MATRIX_PATH

# What the boundary must cover: every dev-side actor and every prod asset.
ROWS = {
    "dev-pod", "host-network", "host-path", "privileged", "node-name", "tolerations",
    "priority", "exposure", "dev-ingress", "internet-dev", "app-role", "person", "ci",
    "deployer", "db-user", "cache-user",
}  # fmt: skip
COLUMNS = {
    "network", "api-objects", "gpu-nodes", "system-nodes", "rows", "cache-keys",
    "prod-images", "backups", "models", "efs", "kms", "logs", "imds", "karpenter",
    "cluster-scoped", "capacity", "storage-objects", "efs-throughput", "db-connections",
    "cache-capacity", "dns", "sideways",
    "alerting", "model-sync", "bootstrap-credentials", "state", "entry",
}  # fmt: skip


@pytest.fixture(scope="module")
def matrix() -> Matrix:
    return load(MATRIX_FILE, PROJECT_DIR)


def test_every_actor_and_every_asset_is_in_the_matrix(matrix: Matrix) -> None:
    assert {r["id"] for r in matrix.rows} == ROWS
    assert {c["id"] for c in matrix.columns} == COLUMNS
    assert len(matrix.cells) == len(ROWS) * len(COLUMNS)


def _collected(files: set[str]) -> set[str]:
    """Node ids as pytest itself collects them (parametrized ids included)."""
    done = subprocess.run(
        [
            sys.executable, "-m", "pytest", "--collect-only", "-q",
            "-p", "no:randomly", "-p", "no:cacheprovider", *sorted(files),
        ],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return {line.strip() for line in done.stdout.splitlines() if "::" in line}


def test_every_closed_cell_names_a_test_pytest_collects(matrix: Matrix) -> None:
    cited = matrix.all_tests()
    collected = _collected({t.split("::", 1)[0] for t in cited})
    missing = [
        t
        for t in sorted(cited)
        if t not in collected and not any(c.startswith(f"{t}[") for c in collected)
    ]
    assert missing == []
    for cell in matrix.cells.values():
        if cell.status == CLOSED:
            assert cell.tests, (cell.row, cell.column)


def test_accepted_cells_say_why_and_who_decided(matrix: Matrix) -> None:
    accepted = [c for c in matrix.cells.values() if c.status == ACCEPTED]
    assert accepted
    for cell in accepted:
        assert cell.reason and cell.decided_by, (cell.row, cell.column)


def _broken(tmp_path: Path, change: str) -> str:
    document = yaml.safe_load(MATRIX_FILE.read_text(encoding="utf-8"))
    row = next(r for r in document["rows"] if r["id"] == "dev-pod")
    if change == "blank":
        del row["cells"]["dns"]
    elif change == "closed-without-test":
        row["cells"]["dns"] = {"status": "closed", "note": "trust me"}
    elif change == "accepted-without-decider":
        row["cells"]["dns"] = {"status": "accepted", "reason": "x" * 50}
    elif change == "not-applicable-without-why":
        row["cells"]["dns"] = {"status": "not-applicable"}
    elif change == "missing-control-file":
        document["proofs"]["network"]["files"] = ["k8s_manifests/no-such-file.yaml"]
    path = tmp_path / "matrix.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    with pytest.raises(MatrixError) as refused:
        load(path, PROJECT_DIR)
    return str(refused.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("blank", "dev-pod x dns: blank cell"),
        ("closed-without-test", "dev-pod x dns: closed without a control file and a test"),
        ("accepted-without-decider", "dev-pod x dns: accepted without a reason and who decided"),
        ("not-applicable-without-why", "dev-pod x dns: not applicable without why"),
        ("missing-control-file", "control file k8s_manifests/no-such-file.yaml does not exist"),
    ],
)
def test_an_incomplete_matrix_is_refused(tmp_path: Path, change: str, message: str) -> None:
    assert message in _broken(tmp_path, change)
