"""The project under test: its folder and its stack file."""

from __future__ import annotations

from pathlib import Path

import pytest

from pingvas_infra.plan.stackfile import StackFile, read_stack_file

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent
STACK = "shared"


@pytest.fixture(scope="session")
def project_dir() -> Path:
    return PROJECT_DIR


@pytest.fixture(scope="session")
def stack_file() -> StackFile:
    return read_stack_file(PROJECT_DIR, STACK)
