"""The offline checkers scripts/test.sh installs (promtool, amtool, shellcheck, nca,
checkov, the AWS CLI). Missing, their tests skip; with CI=true a missing one fails the run
instead."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.project import PROJECT_DIR

TOOLS_DIR = PROJECT_DIR / ".tools"
TOOL_VENVS = PROJECT_DIR / ".venv-tools"


def require_binary(found: str | None, what: str) -> str:
    if found:
        return found
    message = f"{what} not found; scripts/test.sh installs it"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " (CI=true: a missing tool is a failure)")
    pytest.skip(message)


def require_tool(name: str) -> str:
    """A checker unpacked into .tools/ or else on PATH (promtool, amtool, shellcheck, node).

    The unpacked copy wins: scripts/ops-tools.sh pins promtool and amtool to the majors the
    cluster deploys, and an older copy on PATH would test the rules against another parser.
    """
    unpacked = TOOLS_DIR / "debian" / "usr" / "bin" / name
    found = str(unpacked) if unpacked.exists() else shutil.which(name)
    return require_binary(found, name)


def require_venv_tool(venv: str, name: str) -> str:
    """A tool from its own virtualenv under .venv-tools/ (nca, checkov)."""
    binary = TOOL_VENVS / venv / "bin" / name
    return require_binary(str(binary) if binary.exists() else None, f"{name} ({binary})")


def aws_cli() -> str:
    """The `aws` command of the test virtualenv (the `awscli` test dependency)."""
    candidate = Path(sys.executable).parent / "aws"
    return require_binary(str(candidate) if candidate.exists() else None, "aws (awscli)")


def shellcheck_findings(*scripts: Path | str) -> str:
    """What shellcheck (bash, every severity down to style) says of ``scripts``: empty when
    they pass."""
    done = subprocess.run(
        [require_tool("shellcheck"), "--shell=bash", "--severity=style", *map(str, scripts)],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout if done.returncode else ""
