#!/usr/bin/env python3
"""Measure the offline plan against the cost of importing the Pulumi SDK modules it uses.

    .venv/bin/python scripts/bench.py [--runs 5] [--plan-only] [--tests]

1. Runs `pingvas-infra plan` in a fresh interpreter `--runs` times (wall time, median).
2. Unless --plan-only, records which `pulumi*` modules a plan imports, then times a fresh
   interpreter that only imports those modules (median): the floor any in-process plan pays.
3. With --tests, times the whole pytest suite once.
Figures are printed, never asserted: wall time depends on the machine (tests/test_bench.py
runs it once, plan only, to see that it still works).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_LIST_MODULES = """
import json, sys
from pathlib import Path
from pingvas_infra.plan_run import build_graph
build_graph(Path({root!r}), "shared")
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0].startswith("pulumi"))))
"""


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[1])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--plan-only", action="store_true", help="skip the import floor")
    parser.add_argument("--tests", action="store_true", help="also time the pytest suite")
    args = parser.parse_args(argv)
    python = sys.executable

    with tempfile.TemporaryDirectory() as out:
        plan_cmd = [python, "-m", "pingvas_infra", "plan", "--out", f"{out}/plan"]
        plan_times = [timed(plan_cmd) for _ in range(args.runs)]
    plan_s = statistics.median(plan_times)
    print(f"plan (fresh interpreter, median of {args.runs}):     {plan_s:6.2f} s")
    if args.plan_only:
        return

    listed = subprocess.run(
        [python, "-c", _LIST_MODULES.format(root=str(ROOT))],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    modules = json.loads(listed.stdout.strip().splitlines()[-1])
    import_cmd = [python, "-c", "import " + ", ".join(modules)]
    import_times = [timed(import_cmd) for _ in range(args.runs)]

    import_s = statistics.median(import_times)
    print(f"import of the {len(modules)} pulumi* modules it uses:    {import_s:6.2f} s")
    print(f"ratio plan / import:                          {plan_s / import_s:6.2f}x")

    if args.tests:
        suite_s = timed([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"])
        print(f"pytest suite (one run):                       {suite_s:6.2f} s")


if __name__ == "__main__":
    main()
