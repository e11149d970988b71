"""The stack's resource graph: the real `__main__.py` run in-process by the same engine as
`pingvas-infra plan` (pingvas_infra.plan.engine), so what the tests see is what the plan
writes and what `pulumi up` would register. Every layer is tested in that one graph:
values another layer computes (ids, endpoints, ARNs) are followed through it, never faked.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Protocol

import pytest
from pulumi.runtime import MockResourceArgs

from pingvas_infra import resource_types as rt
from pingvas_infra.config import parse_stack_config
from pingvas_infra.plan.engine import program_from_file, run_program
from pingvas_infra.plan.mocks import PLAN_CALLER_ARN, PlanMocks
from pingvas_infra.plan.model import PlanResult, RecordedResource
from pingvas_infra.plan.stackfile import StackFile
from tests.support.config_cases import raw_config
from tests.support.project import STACK


class PlanRunner(Protocol):
    """Runs the real program with config overrides and secret config values, as a caller
    (what GetCallerIdentity answers; the offline plan's user unless given)."""

    def __call__(
        self,
        overrides: Mapping[str, Any],
        secrets: Mapping[str, str] | None = None,
        *,
        caller_arn: str = PLAN_CALLER_ARN,
    ) -> PlanResult: ...


def plan_stack(
    stack_file: StackFile,
    overrides: Mapping[str, Any],
    secrets: Mapping[str, str] | None = None,
    *,
    caller_arn: str = PLAN_CALLER_ARN,
) -> PlanResult:
    """Run the real __main__.py under mocks with config overrides, as ``caller_arn``;
    returns the graph."""
    raw = raw_config(stack_file, overrides, secrets or {})
    config = parse_stack_config(raw, STACK)
    return run_program(
        program_from_file(stack_file.main_file),
        project=stack_file.project,
        stack=STACK,
        config=dict(raw.values),
        secret_keys=sorted(raw.secret_keys),
        region=config.region,
        caller_arn=caller_arn,
    )


@pytest.fixture(scope="session")
def run_plan(stack_file: StackFile) -> PlanRunner:
    """`plan_stack`, remembered for the session: the same overrides and secrets are
    planned once however many tests ask for them. The graphs are shared: read only."""

    @functools.cache
    def planned(key: str) -> PlanResult:
        overrides, secrets, caller_arn = json.loads(key)
        return plan_stack(stack_file, overrides, secrets, caller_arn=caller_arn)

    def run(
        overrides: Mapping[str, Any],
        secrets: Mapping[str, str] | None = None,
        *,
        caller_arn: str = PLAN_CALLER_ARN,
    ) -> PlanResult:
        return planned(json.dumps([overrides, secrets or {}, caller_arn], sort_keys=True))

    return run


@pytest.fixture(scope="session")
def run_plan_uncached(stack_file: StackFile) -> PlanRunner:
    """A new run every call: for tests that compare two runs of the program."""
    return functools.partial(plan_stack, stack_file)


@pytest.fixture(scope="session")
def graph(run_plan: PlanRunner) -> PlanResult:
    """The default stack's graph, built once per session."""
    return run_plan({})


def layer_graph(graph: PlanResult, layer: str) -> PlanResult:
    """The resources of one layer's component (``pingvas:<layer>:*``) and its children."""
    return replace(graph, resources=[r for r in graph.resources if r.layer == layer])


def mock_outputs(resource: RecordedResource, region: str = "us-east-1") -> dict[str, Any]:
    """What the mock engine answered for ``resource``: its computed outputs (an endpoint,
    a secret ARN, the EKS cluster security group). The fakes are deterministic, so this is
    the value every consumer of the output received."""
    mocks = PlanMocks(region=region)
    # References (pulumi-eks's eksCluster) only matter inside the engine.
    mocks.register_reference = lambda type_token, name, state: {"urn": name}
    _, state = mocks.new_resource(
        MockResourceArgs(
            typ=resource.type,
            name=resource.name,
            inputs=resource.raw_inputs,
            provider="",
            custom=resource.custom,
        )
    )
    return state


def cluster_security_group_id(graph: PlanResult) -> str:
    """The EKS-created cluster security group, as the eks:index:Cluster mock hands it out."""
    return str(mock_outputs(graph.one(rt.EKS_CLUSTER_COMPONENT))["clusterSecurityGroupId"])


def tags_of(resource_inputs: Mapping[str, Any]) -> dict[str, str]:
    return dict(resource_inputs.get("tags") or {})


def recorded_resource(
    urn: str,
    type_token: str,
    name: str,
    inputs: Mapping[str, Any] | None = None,
    *,
    dependencies: Sequence[str] = (),
    protect: bool = False,
    provider: str | None = None,
    resource_id: str | None = None,
) -> RecordedResource:
    """A custom resource as the engine records it, built by hand for the code that reads
    recorded resources (pricing rules, policy controls); its id defaults to ``<name>-id``."""
    return RecordedResource(
        urn=urn,
        type=type_token,
        name=name,
        parent=None,
        custom=True,
        remote=False,
        inputs=dict(inputs or {}),
        protect=protect,
        retain_on_delete=False,
        dependencies=tuple(dependencies),
        provider=provider,
        id=resource_id or f"{name}-id",
    )


# Kubernetes API groups of custom resources (CRDs the charts install): the Kubernetes SDK
# has no class for them; the program registers them as CustomResource.
CUSTOM_RESOURCE_GROUPS = (
    "karpenter.sh/",
    "karpenter.k8s.aws/",
    "monitoring.coreos.com/",
    "argoproj.io/",
    "elbv2.k8s.aws/",
)


def is_custom_resource(type_token: str) -> bool:
    module = type_token.split(":")[1]
    return type_token.startswith(rt.KUBERNETES_PREFIX) and module.startswith(CUSTOM_RESOURCE_GROUPS)
