"""The package's import rules (pyproject.toml, [tool.importlinter]): no import cycle, and
no module imports one above it. import-linter checks the contracts on the real import
graph; each contract's name says the rule."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.project import PROJECT_DIR


def test_the_import_contracts_hold() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run(
        [str(lint_imports), "--no-cache"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout
