"""scripts/bench.py still runs: one plan in a fresh interpreter, its figure printed (the
figure itself depends on the machine and is never checked)."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.support.project import PROJECT_DIR


def test_the_benchmark_runs_one_plan_and_prints_its_time() -> None:
    done = subprocess.run(
        [sys.executable, "scripts/bench.py", "--runs", "1", "--plan-only"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"^plan \(fresh interpreter, median of 1\): +\d+\.\d\d s$", done.stdout, re.M)
    assert "import of the" not in done.stdout
