"""`pingvas-infra` as a newcomer runs it: the command in a subprocess, and one plan of the
default stack for every test that only reads it."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.project import PROJECT_DIR, STACK


def run_cli(*args: str, cwd: Path = PROJECT_DIR) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_DIR)}
    return subprocess.run(
        [sys.executable, "-m", "pingvas_infra", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@dataclass(frozen=True)
class CliPlan:
    out: Path
    done: subprocess.CompletedProcess[str]


@pytest.fixture(scope="session")
def cli_plan(tmp_path_factory: pytest.TempPathFactory) -> CliPlan:
    """One `pingvas-infra plan` of the default stack, for every test that only reads it."""
    out = tmp_path_factory.mktemp("cli-plan") / "out"
    done = run_cli("plan", "--stack", STACK, "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    return CliPlan(out, done)
