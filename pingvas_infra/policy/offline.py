"""Run the policy pack over the offline plan's recorded graph, as the engine would.

The engine hands a policy pack each resource's inputs, options (``protect``, parent) and the
inputs of its provider (``ResourceValidationArgs``); stack policies get every resource with
its parent and dependencies (``StackValidationArgs``). This module builds exactly those
objects from ``resources.json`` records, wrapped in pulumi-policy's unknown-value proxy, and
calls the same ``validate`` methods the CrossGuard server calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import (
    Policy,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import unknown_checking_proxy

from pingvas_infra import resource_types as rt
from pingvas_infra.plan.model import UNKNOWN, PlanResult, RecordedResource
from pingvas_infra.policy.catalogue import Control, control
from pingvas_infra.policy.controls import policies
from pingvas_infra.policy.props import UNKNOWN_STRING_VALUE, UnknownValueError


def _restore_unknowns(value: Any) -> Any:
    """The plan writes values unknown at plan time as "[unknown]"; turn them back into the
    engine's sentinel so reading one raises UnknownValueError, as under `pulumi preview`."""
    if isinstance(value, Mapping):
        return {k: _restore_unknowns(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_restore_unknowns(v) for v in value]
    return UNKNOWN_STRING_VALUE if value == UNKNOWN else value


def policy_props(inputs: Mapping[str, Any]) -> Mapping[str, Any]:
    proxied: Mapping[str, Any] = unknown_checking_proxy(_restore_unknowns(dict(inputs)))
    return proxied


def resource_options(*, protect: bool = False, parent: str | None = None) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=protect,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=parent,
    )


def provider_resource(provider: RecordedResource) -> PolicyProviderResource:
    return PolicyProviderResource(
        resource_type=provider.type,
        props=policy_props(provider.inputs),
        urn=provider.urn,
        name=provider.name,
    )


def resource_args(
    resource: RecordedResource, provider: PolicyProviderResource | None
) -> ResourceValidationArgs:
    return ResourceValidationArgs(
        resource_type=resource.type,
        props=policy_props(resource.inputs),
        urn=resource.urn,
        name=resource.name,
        opts=resource_options(protect=resource.protect, parent=resource.parent),
        provider=provider,
    )


def stack_args(resources: Sequence[RecordedResource]) -> StackValidationArgs:
    """Every resource linked to its parent and dependencies. The engine gives stack
    policies each resource's outputs; for AWS resources those are the inputs plus the id,
    which is what is built here."""
    by_urn: dict[str, PolicyResource] = {}
    for resource in resources:
        props = dict(resource.inputs)
        if resource.id:
            props.setdefault("id", resource.id)
        by_urn[resource.urn] = PolicyResource(
            resource_type=resource.type,
            props=policy_props(props),
            urn=resource.urn,
            name=resource.name,
            opts=resource_options(protect=resource.protect, parent=resource.parent),
            provider=None,
            parent=None,
            dependencies=[],
            property_dependencies={},
        )
    for resource in resources:
        policy_resource = by_urn[resource.urn]
        policy_resource.parent = by_urn.get(resource.parent or "")
        policy_resource.dependencies = [by_urn[d] for d in resource.dependencies if d in by_urn]
    return StackValidationArgs(resources=list(by_urn.values()))


@dataclass(frozen=True)
class Violation:
    urn: str
    message: str


@dataclass
class ControlResult:
    control: Control
    violations: list[Violation] = field(default_factory=list)
    # Resources the control could not judge: a value only known at apply time.
    not_evaluated: list[Violation] = field(default_factory=list)

    @property
    def mandatory(self) -> bool:
        return self.control.enforcement == "mandatory"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.control.id,
            "title": self.control.title,
            "source": self.control.source,
            "enforcement": self.control.enforcement,
            "violations": [{"urn": v.urn, "message": v.message} for v in self.violations],
            "notEvaluated": [{"urn": v.urn, "message": v.message} for v in self.not_evaluated],
        }


def _run_resource_policy(
    policy: ResourceValidationPolicy, args: ResourceValidationArgs, result: ControlResult
) -> None:
    def report(message: str, urn: str | None = None) -> None:
        # As in the engine, a resource policy's violation is always about this resource.
        result.violations.append(Violation(args.urn, message))

    try:
        policy.validate(args, report)
    except UnknownValueError as exc:
        result.not_evaluated.append(Violation(args.urn, exc.message))


def _run_stack_policy(
    policy: StackValidationPolicy, args: StackValidationArgs, result: ControlResult, stack_urn: str
) -> None:
    known = {r.urn for r in args.resources}

    def report(message: str, urn: str | None = None) -> None:
        result.violations.append(Violation(urn if urn in known else stack_urn, message))

    try:
        policy.validate(args, report)
    except UnknownValueError as exc:
        result.not_evaluated.append(Violation(stack_urn, exc.message))


def evaluate(
    resources: Sequence[RecordedResource],
    *,
    stack_urn: str = "",
    pack: Sequence[Policy] | None = None,
) -> list[ControlResult]:
    """Every control's violations over ``resources`` (one result per control, in order)."""
    chosen = list(pack) if pack is not None else policies()
    by_urn = {r.urn: r for r in resources}
    providers = {
        urn: provider_resource(r)
        for urn, r in by_urn.items()
        if r.type.startswith(rt.PROVIDER_PREFIX)
    }
    resource_arguments = [resource_args(r, providers.get(r.provider or "")) for r in resources]
    stack_arguments = stack_args(resources)
    results: list[ControlResult] = []
    for policy in chosen:
        result = ControlResult(control(policy.name))
        if isinstance(policy, ResourceValidationPolicy):
            for args in resource_arguments:
                _run_resource_policy(policy, args, result)
        elif isinstance(policy, StackValidationPolicy):
            _run_stack_policy(policy, stack_arguments, result, stack_urn)
        results.append(result)
    return results


def evaluate_plan(result: PlanResult) -> list[ControlResult]:
    stack_urn = f"urn:pulumi:{result.stack}::{result.project}::pulumi:pulumi:Stack::"
    stack_urn += f"{result.project}-{result.stack}"
    return evaluate(result.resources, stack_urn=stack_urn)


def report_document(results: Sequence[ControlResult]) -> dict[str, Any]:
    """build/plan/policy.json."""
    return {"controls": [r.to_json() for r in results]}
