"""Config and the policy pack agree: every value the configuration table documents as
allowed passes the mandatory controls, and a value a mandatory control refuses is refused
by config first, naming that control."""

from __future__ import annotations

import re
import typing
from typing import Any, Literal

import pytest

import pingvas_infra.config as config_module
from pingvas_infra import resource_types as rt
from pingvas_infra.config import RawConfig, parse_stack_config
from pingvas_infra.configbase import CONFIG_NAMESPACE
from pingvas_infra.plan.model import PlanResult
from pingvas_infra.plan.stackfile import StackFile
from pingvas_infra.policy.catalogue import controls, parameters
from pingvas_infra.policy.offline import evaluate_plan
from pingvas_infra.ports import NFS_PORT, POSTGRESQL_PORT, REDIS_PORT
from tests.support.config_cases import leaf_settings
from tests.support.plan_graph import PlanRunner, plan_stack
from tests.support.project import STACK

# A switch that needs another key to be valid: the value that goes with it.
COMPANIONS: dict[tuple[str, ...], dict[tuple[str, ...], Any]] = {
    ("operations", "argocd", "enabled"): {
        ("operations", "argocd", "repoUrl"): "https://github.com/example/services"
    },
}


def switches() -> list[tuple[tuple[str, ...], list[Any]]]:
    """Every true/false and one-of key, with each value other than its default."""
    found = []
    for path, setting in leaf_settings():
        if path[:3] == ("gpu", "pools", "dev"):
            continue  # a pool is a map of its own; its values are in the GPU tests
        if path[:2] == ("ingress", "environments"):
            continue  # a map of entries too (no switch among them); tests/ingress
        inner = setting.without_none()
        default = _default(path)
        if inner.annotation is bool:
            found.append((path, [not default]))
        elif typing.get_origin(inner.annotation) is Literal:
            others = [v for v in typing.get_args(inner.annotation) if v != default]
            if others:
                found.append((path, others))
    return found


def _default(path: tuple[str, ...]) -> Any:
    value: Any = parse_stack_config(RawConfig({}, frozenset()), STACK)
    for part in path:
        value = getattr(value, _attribute(type(value), part))
    return value


def _attribute(model: type, alias: str) -> str:
    return next(n for n, f in model.model_fields.items() if (f.alias or n) == alias)


def _set(document: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    *parents, key = path
    for part in parents:
        document = document.setdefault(part, {})
    document[key] = value


def overrides_with(choice: int) -> dict[str, Any]:
    """One stack with every switch moved: the ``choice``-th alternative of each (or its
    last, when it has fewer)."""
    document: dict[str, Any] = {}
    for path, values in switches():
        _set(document, path, values[min(choice, len(values) - 1)])
        for companion, value in COMPANIONS.get(path, {}).items():
            _set(document, companion, value)
    return {f"{CONFIG_NAMESPACE}:{section}": value for section, value in document.items()}


def test_the_switches_are_found() -> None:
    paths = {p for p, _ in switches()}
    assert {
        ("cluster", "deletionProtection"),
        ("data", "aurora", "reader"),
        ("operations", "monitoring", "enabled"),
        ("storage", "efs", "throughputMode"),
        ("tenancy", "serviceMesh"),
    } <= paths
    # Values the mandatory controls refuse are no switch: config allows one value only.
    assert ("data", "aurora", "deletionProtection") not in paths
    assert ("cluster", "supportType") not in paths


def test_every_documented_value_passes_the_mandatory_controls(run_plan: PlanRunner) -> None:
    most = max(len(values) for _, values in switches())
    for choice in (0, most - 1):
        results = evaluate_plan(run_plan(overrides_with(choice)))
        violations = [
            (r.control.id, v.message) for r in results if r.mandatory for v in r.violations
        ]
        assert violations == [], (choice, violations)


def test_every_value_config_refuses_for_a_control_names_a_mandatory_one() -> None:
    mandatory = {c.id for c in controls() if c.enforcement == "mandatory"}
    named = {
        control
        for _, setting in leaf_settings()
        for control in re.findall(r"control ([a-z0-9-]+)", setting.why)
    }
    assert named == {"eks-upgrade-policy-standard", "rds-deletion-protection"}
    assert named <= mandatory


def test_the_refused_values_would_fail_those_controls(
    stack_file: StackFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The refusals are not arbitrary: planned past the config check (the values set on the
    parsed model), the controls they name fail."""
    original = config_module.parse_stack_config

    def without_the_refusals(*args: Any, **kwargs: Any) -> Any:
        parsed = original(*args, **kwargs)
        cluster = parsed.cluster.model_copy(update={"support_type": "EXTENDED"})
        aurora = parsed.data.aurora.model_copy(update={"deletion_protection": False})
        data = parsed.data.model_copy(update={"aurora": aurora})
        return parsed.model_copy(update={"cluster": cluster, "data": data})

    monkeypatch.setattr(config_module, "parse_stack_config", without_the_refusals)
    graph = plan_stack(stack_file, {})
    failed = {r.control.id for r in evaluate_plan(graph) if r.mandatory and r.violations}
    assert failed == {"eks-upgrade-policy-standard", "rds-deletion-protection"}


def test_the_data_ports_the_policy_guards_are_the_ports_the_data_tier_opens(
    graph: PlanResult,
) -> None:
    """The control `sg-no-public-data-ports` reads its ports from its table; they are the
    ones the stack's data tier really listens on (pingvas_infra/ports.py)."""
    guarded = set(parameters().data_ports)
    assert guarded == {POSTGRESQL_PORT, REDIS_PORT, NFS_PORT}
    opened = {
        (r.inputs["fromPort"], r.inputs["toPort"])
        for r in graph.of_type(rt.SECURITY_GROUP_INGRESS_RULE)
    }
    assert opened == {(port, port) for port in guarded}
