"""The Karpenter controller's policy and interruption queue against the reference of the
pinned version: Karpenter's getting-started CloudFormation template, stored verbatim under
pingvas_infra/tables/upstream/ (sha256 and source in tables/gpu_stack.yaml).

Statement by statement, the role's policy is the reference rendered for this stack (the
cluster's name, region and account, the node role and the interruption queue), except for
the differences named below, each with its reason. A statement the stack adds, an action
it widens, or a reference statement it loses without a reason fails the comparison.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from pingvas_infra import resource_types as rt
from pingvas_infra.gpu.config import pinned_software
from pingvas_infra.plan.mocks import ACCOUNT_ID
from pingvas_infra.plan.model import PlanResult
from pingvas_infra.tables import load_table
from tests.gpu.test_component import (
    cluster_name,
    controller_policy,
    karpenter_node_role,
    queue_arn,
    release,
    role_arn,
)

REGION = "us-east-1"
CHART_VALUES = Path(__file__).parent / "fixtures/charts/karpenter-1.14.1/values.yaml"


@dataclass(frozen=True)
class Narrowed:
    """A reference statement the stack keeps with fewer values under one condition key."""

    operator: str
    key: str
    values: tuple[str, ...]
    why: str


# Reference statements the stack leaves out, and why.
LEFT_OUT = {
    "AllowZonalShiftStatusReadOnly": (
        "zonal shift stays off: the stack does not set settings.enableZonalShift, whose "
        "chart default is false, and only then does Karpenter call "
        "arc-zonal-shift:GetManagedResource"
    ),
}

# Reference statements the stack keeps narrower, and why.
NARROWED = {
    "AllowPassingInstanceRole": Narrowed(
        operator="StringEquals",
        key="iam:PassedToService",
        values=("ec2.amazonaws.com",),
        why=(
            "the stack runs in the commercial partition (its ARNs say arn:aws:), so the "
            "China partition's ec2.amazonaws.com.cn is never the service passed to"
        ),
    ),
}


def stored_template() -> bytes:
    entry = load_table("gpu_stack")["karpenter"]["cloudformation"]
    return resources.files("pingvas_infra.tables").joinpath(entry["file"]).read_bytes()


class _TemplateLoader(yaml.SafeLoader):
    """CloudFormation's short forms (!Sub, !GetAtt, !Ref) read as {"Fn": value}."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value = loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else None
    return {suffix: value}


_TemplateLoader.add_multi_constructor("!", _intrinsic)


def template() -> dict[str, Any]:
    parsed = yaml.load(stored_template(), Loader=_TemplateLoader)  # a SafeLoader: no Python objects
    assert isinstance(parsed, dict)
    return parsed


def render(text: str, variables: dict[str, str]) -> str:
    """A !Sub string with every ${...} replaced; an unknown variable fails."""
    return re.sub(r"\$\{([^}]+)\}", lambda m: variables[m.group(1)], text)


def reference_statements(graph: PlanResult) -> dict[str, dict[str, Any]]:
    """Every statement of the template's controller policies, rendered for this stack."""
    (queue,) = graph.of_type(rt.SQS_QUEUE)
    variables = {
        "AWS::Partition": "aws",
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT_ID,
        "ClusterName": cluster_name(graph),
        "KarpenterNodeRole.Arn": role_arn(karpenter_node_role(graph)),
        "KarpenterInterruptionQueue.Arn": queue_arn(queue),
    }
    statements: dict[str, dict[str, Any]] = {}
    for name, resource in template()["Resources"].items():
        if resource["Type"] != "AWS::IAM::ManagedPolicy":
            continue
        document = json.loads(render(resource["Properties"]["PolicyDocument"]["Sub"], variables))
        for statement in document["Statement"]:
            assert statement["Sid"] not in statements, f"{name}: {statement['Sid']} twice"
            statements[statement["Sid"]] = statement
    return statements


def _values(value: Any) -> list[Any]:
    return sorted(value) if isinstance(value, list) else [value]


def normalized(statement: dict[str, Any]) -> dict[str, Any]:
    """One spelling of a statement: single values as lists, lists sorted."""
    return {
        "Effect": statement["Effect"],
        "Action": _values(statement["Action"]),
        "Resource": _values(statement["Resource"]),
        "Condition": {
            operator: {key: _values(value) for key, value in keys.items()}
            for operator, keys in statement.get("Condition", {}).items()
        },
    }


def test_the_stored_template_is_the_published_file_of_the_pinned_version() -> None:
    entry = load_table("gpu_stack")["karpenter"]["cloudformation"]
    assert hashlib.sha256(stored_template()).hexdigest() == entry["sha256"]
    # Tag v1.14.1 is this commit.
    assert "/bde00654cd316fddb3dccfba3f5ac07039865429/" in entry["source"]
    assert pinned_software().karpenter_version == "1.14.1"


def differences(
    stack_statements: list[dict[str, Any]], reference: dict[str, dict[str, Any]]
) -> list[str]:
    """Every way the stack's statements differ from the reference beyond the named ones."""
    stack = {s["Sid"]: s for s in stack_statements}
    found = [f"{sid}: twice" for sid in stack if sum(s["Sid"] == sid for s in stack_statements) > 1]
    found += [f"{sid}: not in the reference" for sid in sorted(set(stack) - set(reference))]
    found += [
        f"{sid}: left out without a reason"
        for sid in sorted(set(reference) - set(stack) - set(LEFT_OUT))
    ]
    found += [
        f"{sid}: named as left out, but present" for sid in sorted(set(LEFT_OUT) & set(stack))
    ]
    for sid in sorted(set(stack) & set(reference)):
        expected = normalized(reference[sid])
        if sid in NARROWED:
            narrowed = NARROWED[sid]
            upstream_values = expected["Condition"][narrowed.operator][narrowed.key]
            if not set(narrowed.values) < set(upstream_values):
                found.append(f"{sid}: the named narrowing is not narrower than the reference")
            expected["Condition"][narrowed.operator][narrowed.key] = sorted(narrowed.values)
        if normalized(stack[sid]) != expected:
            found.append(f"{sid}: {normalized(stack[sid])} != {expected}")
    return found


def test_the_controller_policy_is_the_reference_statement_by_statement(
    graph: PlanResult,
) -> None:
    reference = reference_statements(graph)
    assert set(LEFT_OUT) | set(NARROWED) <= set(reference)
    assert differences(controller_policy(graph), reference) == []


def test_the_comparison_catches_a_widened_added_or_lost_statement(graph: PlanResult) -> None:
    reference = reference_statements(graph)
    statements = controller_policy(graph)

    def changed(sid: str, **fields: Any) -> list[dict[str, Any]]:
        return [{**s, **fields} if s["Sid"] == sid else s for s in statements]

    reads = next(s for s in statements if s["Sid"] == "AllowRegionalReadActions")
    for mutated in (
        # An action the reference does not grant.
        changed("AllowRegionalReadActions", Action=[*reads["Action"], "ec2:DescribeVpcs"]),
        # The region condition dropped.
        changed("AllowRegionalReadActions", Condition={}),
        # The China partition's service back in.
        changed(
            "AllowPassingInstanceRole",
            Condition={
                "StringEquals": {
                    "iam:PassedToService": ["ec2.amazonaws.com", "ec2.amazonaws.com.cn"]
                }
            },
        ),
        # A statement of the stack's own.
        [*statements, {"Sid": "AllowEverything", "Effect": "Allow", "Action": "*"}],
        # A reference statement lost without a reason.
        [s for s in statements if s["Sid"] != "AllowScopedDeletion"],
    ):
        assert differences(mutated, reference) != []


def test_the_left_out_statements_guard_features_the_stack_leaves_off(graph: PlanResult) -> None:
    defaults = yaml.safe_load(CHART_VALUES.read_text(encoding="utf-8"))
    assert defaults["settings"]["enableZonalShift"] is False
    settings = release(graph, "karpenter").inputs["values"]["settings"]
    assert "enableZonalShift" not in settings
    zonal_shift = reference_statements(graph)["AllowZonalShiftStatusReadOnly"]
    assert zonal_shift["Action"] == ["arc-zonal-shift:GetManagedResource"]


def test_the_interruption_queue_and_rules_are_the_reference(graph: PlanResult) -> None:
    resources_ = template()["Resources"]
    queue_props = resources_["KarpenterInterruptionQueue"]["Properties"]
    (queue,) = graph.of_type(rt.SQS_QUEUE)
    assert queue.inputs["messageRetentionSeconds"] == queue_props["MessageRetentionPeriod"]
    assert queue.inputs["sqsManagedSseEnabled"] is queue_props["SqsManagedSseEnabled"]
    reference_events = {
        (
            r["Properties"]["EventPattern"]["source"][0],
            r["Properties"]["EventPattern"]["detail-type"][0],
        )
        for r in resources_.values()
        if r["Type"] == "AWS::Events::Rule"
    }
    pinned = {(source, detail) for _, source, detail in pinned_software().interruption_events}
    assert pinned == reference_events
    recorded = {
        (pattern["source"][0], pattern["detail-type"][0])
        for pattern in (json.loads(r.inputs["eventPattern"]) for r in graph.of_type(rt.EVENT_RULE))
    }
    assert recorded == reference_events
    queue_policy = resources_["KarpenterInterruptionQueuePolicy"]["Properties"]["PolicyDocument"]
    (allow,) = [s for s in queue_policy["Statement"] if s["Effect"] == "Allow"]
    (stack_policy,) = graph.of_type(rt.SQS_QUEUE_POLICY)
    (stack_allow,) = [
        s for s in json.loads(stack_policy.inputs["policy"])["Statement"] if s["Effect"] == "Allow"
    ]
    assert sorted(stack_allow["Principal"]["Service"]) == sorted(allow["Principal"]["Service"])
    assert stack_allow["Action"] == allow["Action"]
