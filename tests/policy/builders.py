"""Build recorded resources and policy arguments by hand, for the policy tests."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from pingvas_infra import resource_types as rt
from pingvas_infra.plan.model import RecordedResource
from pingvas_infra.policy.controls import policies
from pingvas_infra.policy.offline import ControlResult, evaluate
from tests.support.plan_graph import recorded_resource

PROJECT = "pingvas-infra"
STACK = "shared"
PROVIDER_URN = f"urn:pulumi:{STACK}::{PROJECT}::pulumi:pulumi:Stack$pulumi:providers:aws::aws"
DEFAULT_TAGS = {"Project": "pingvas", "Environment": "shared", "ManagedBy": "pulumi"}


def urn_of(type_token: str, name: str) -> str:
    return f"urn:pulumi:{STACK}::{PROJECT}::{type_token}::{name}"


def record(
    type_token: str,
    name: str,
    inputs: Mapping[str, Any] | None = None,
    *,
    depends_on: Sequence[RecordedResource] = (),
    protect: bool = False,
    provider: str | None = PROVIDER_URN,
    resource_id: str | None = None,
) -> RecordedResource:
    return recorded_resource(
        urn_of(type_token, name),
        type_token,
        name,
        inputs,
        dependencies=[r.urn for r in depends_on],
        protect=protect,
        provider=provider,
        resource_id=resource_id,
    )


def aws_provider(default_tags: Mapping[str, str] | None = None) -> RecordedResource:
    """The explicit AWS provider as the engine records it: defaultTags is a JSON string."""
    inputs: dict[str, Any] = {"region": "us-east-1"}
    if default_tags is not None:
        inputs["defaultTags"] = json.dumps({"tags": dict(default_tags)})
    return recorded_resource(
        PROVIDER_URN, rt.AWS_PROVIDER, "aws", inputs, resource_id="aws-provider-id"
    )


def run_control(control_id: str, resources: Sequence[RecordedResource]) -> ControlResult:
    """One control over ``resources`` through the same code path as the plan."""
    (policy,) = [p for p in policies() if p.name == control_id]
    (result,) = evaluate(list(resources), pack=[policy])
    return result


def messages(control_id: str, resources: Sequence[RecordedResource]) -> list[str]:
    result = run_control(control_id, resources)
    assert not result.not_evaluated, result.not_evaluated
    return [v.message for v in result.violations]
