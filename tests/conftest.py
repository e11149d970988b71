"""Shared fixtures: the stack's resource graph under Pulumi mocks, config helpers.

The program under test is the real `__main__.py`, run in-process by the same engine as
`pingvas-infra plan` (pingvas_infra.plan.engine), so what the tests see is what the plan
writes and what `pulumi up` would register.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from pingvas_infra.config import RawConfig, StackConfig, parse_stack_config
from pingvas_infra.plan.engine import program_from_file, run_program
from pingvas_infra.plan.model import PlanResult
from pingvas_infra.plan.stackfile import StackFile, read_stack_file

PROJECT_DIR = Path(__file__).resolve().parent.parent
STACK = "shared"


@pytest.fixture(scope="session")
def project_dir() -> Path:
    return PROJECT_DIR


@pytest.fixture(scope="session")
def stack_file() -> StackFile:
    return read_stack_file(PROJECT_DIR, STACK)


def merged_config(base: Mapping[str, str], overrides: Mapping[str, Any]) -> dict[str, str]:
    """The stack file's config with ``overrides`` merged into its sections.

    ``overrides`` maps full keys to values: ``{"pingvas:network": {"natGateways": 3}}``
    merges into the section; a value of ``None`` deletes the key.
    """
    config = dict(base)
    for key, value in overrides.items():
        if value is None:
            config.pop(key, None)
            continue
        current = config.get(key)
        if isinstance(value, dict) and current is not None:
            merged = json.loads(current)
            merged.update(copy.deepcopy(value))
            config[key] = json.dumps(merged)
        else:
            config[key] = value if isinstance(value, str) else json.dumps(value)
    return config


def config_with(stack_file: StackFile, overrides: Mapping[str, Any]) -> StackConfig:
    """Parse the stack file's config with overrides (raises ConfigError when invalid)."""
    values = merged_config(stack_file.config, overrides)
    return parse_stack_config(
        RawConfig(values=values, secret_keys=frozenset(stack_file.secret_keys)), STACK
    )


PlanRunner = Callable[[Mapping[str, Any]], PlanResult]


@pytest.fixture(scope="session")
def run_plan(stack_file: StackFile) -> PlanRunner:
    """Run the real program under mocks with config overrides; returns the graph."""

    def run(overrides: Mapping[str, Any]) -> PlanResult:
        config = config_with(stack_file, overrides)
        return run_program(
            program_from_file(stack_file.main_file),
            project=stack_file.project,
            stack=STACK,
            config=merged_config(stack_file.config, overrides),
            secret_keys=stack_file.secret_keys,
            region=config.region,
        )

    return run


@pytest.fixture(scope="session")
def graph(run_plan: PlanRunner) -> PlanResult:
    """The default stack's graph, built once per session."""
    return run_plan({})


def tags_of(resource_inputs: Mapping[str, Any]) -> dict[str, str]:
    return dict(resource_inputs.get("tags") or {})
