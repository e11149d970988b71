"""The installed package carries everything the program reads at run time.

The wheel `pip install .` would install is built (by the project's pinned uv, which every
set-up command installs; a uv-made .venv has no pip) and unpacked into a folder of its own,
and `pingvas-infra plan` runs from another working directory with that copy of
pingvas_infra ahead of the checkout: the tables, the layers' scripts and the cluster
policy of k8s_manifests/ must all come from the package, and the plan must be the one the
checkout writes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.support.cli import CliPlan
from tests.support.project import PROJECT_DIR, STACK


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pingvas_infra as the wheel installs it (dependencies come from the test venv)."""
    dist = tmp_path_factory.mktemp("dist")
    uv = PROJECT_DIR / ".venv-tools" / "uv" / "bin" / "uv"
    built = subprocess.run(
        [str(uv), "build", "--wheel", "--quiet", "--out-dir", str(dist), "."],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = dist.glob("pingvas_infra-*.whl")
    site = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    return site


def run_installed(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def test_the_wheel_ships_the_cluster_policy_and_the_tables(installed: Path) -> None:
    package = installed / "pingvas_infra"
    manifests = {p.name for p in (PROJECT_DIR / "k8s_manifests").glob("*.yaml")}
    assert {p.name for p in (package / "k8s_manifests").glob("*.yaml")} == manifests
    for table in ("prices/us-east-1.yaml", "profiles/idle.yaml", "free_resource_types.yaml"):
        assert (package / "tables" / table).is_file(), table


def test_the_installed_package_reads_its_own_copy(installed: Path, tmp_path: Path) -> None:
    probe = (
        "import pingvas_infra.manifests as m, pingvas_infra.tables as t; "
        "print(m.manifests_dir()); print(t.__file__)"
    )
    done = run_installed(installed, tmp_path, "-c", probe)
    assert done.returncode == 0, done.stderr
    manifests, tables = done.stdout.split()
    assert manifests.startswith(str(installed)), manifests
    assert tables.startswith(str(installed)), tables


def test_plan_from_the_installed_package_in_another_folder(
    installed: Path, tmp_path: Path, cli_plan: CliPlan
) -> None:
    out = tmp_path / "plan"
    done = run_installed(
        installed,
        tmp_path,
        *("-m", "pingvas_infra", "plan", "--stack", STACK),
        *("--project-dir", str(PROJECT_DIR), "--out", str(out)),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for name in ("resources.json", "outputs.json", "cost.json", "policy.json"):
        assert (out / name).read_bytes() == (cli_plan.out / name).read_bytes(), name


def test_every_folder_of_the_package_is_listed_for_the_wheel() -> None:
    """pyproject.toml lists the packages (k8s_manifests/ is mapped in from the top level): a
    new folder left off the list would be missing from an installed package."""
    import tomllib  # noqa: PLC0415

    listed = set(
        tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["tool"]["setuptools"][
            "packages"
        ]
    )
    root = PROJECT_DIR / "pingvas_infra"
    folders = {
        ".".join(("pingvas_infra", *d.relative_to(root).parts)).rstrip(".")
        for d in [root, *root.rglob("*")]
        if d.is_dir() and d.name != "__pycache__" and any(d.iterdir())
    }
    assert folders | {"pingvas_infra.k8s_manifests"} == listed
