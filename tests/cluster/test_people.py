"""People: who gets kubectl, and what each kind of person can do, proven by evaluating the
EKS access policies' documented permissions (tests/support/rbac.py) at the scopes the
stack associates them with, and by the admission policies for what RBAC alone allows.
"""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.runtime import MockResourceArgs

from pingvas_infra import resource_types as rt
from pingvas_infra.cluster.people import (
    Access,
    access_entry_name,
    creator_problem,
    people_group,
)
from pingvas_infra.config import ConfigError
from pingvas_infra.plan.mocks import ACCOUNT_ID, PlanMocks
from pingvas_infra.plan.model import PlanResult
from pingvas_infra.plan.stackfile import StackFile
from tests.support.admission import Request, denials
from tests.support.config_cases import refused_config_test
from tests.support.plan_graph import PlanRunner, plan_stack
from tests.support.rbac import Association, ResourceRequest, allowed

ADMIN = f"arn:aws:iam::{ACCOUNT_ID}:role/platform-admin"
DEV = f"arn:aws:iam::{ACCOUNT_ID}:role/teams/dev-engineer"
PROD = f"arn:aws:iam::{ACCOUNT_ID}:role/prod-engineer"
VIEWER = f"arn:aws:iam::{ACCOUNT_ID}:user/auditor"
PEOPLE = {
    "pingvas-infra:cluster": {
        "adminPrincipalArns": [ADMIN],
        "environmentPrincipalArns": {"dev": [DEV], "prod": [PROD]},
        "viewerPrincipalArns": [VIEWER],
    }
}


@pytest.fixture(scope="module")
def people_graph(run_plan: PlanRunner) -> PlanResult:
    return run_plan(PEOPLE)


def associations(graph: PlanResult, arn: str) -> list[Association]:
    found = []
    for resource in graph.of_type(rt.EKS_ACCESS_POLICY_ASSOCIATION):
        if resource.inputs["principalArn"] != arn:
            continue
        scope = resource.inputs["accessScope"]
        namespaces = scope["namespaces"] if scope["type"] == "namespace" else None
        found.append(Association(resource.inputs["policyArn"].rsplit("/", 1)[1], namespaces))
    return found


def groups(graph: PlanResult, arn: str) -> list[str]:
    (entry,) = [e for e in graph.of_type(rt.EKS_ACCESS_ENTRY) if e.inputs["principalArn"] == arn]
    return list(entry.inputs.get("kubernetesGroups") or [])


def test_each_principal_gets_one_entry_with_one_policy(people_graph: PlanResult) -> None:
    expected = {
        ADMIN: ("AmazonEKSClusterAdminPolicy", None, []),
        DEV: ("AmazonEKSEditPolicy", ["dev"], [people_group("dev")]),
        PROD: ("AmazonEKSEditPolicy", ["prod"], [people_group("prod")]),
        VIEWER: ("AmazonEKSViewPolicy", None, []),
    }
    for arn, (policy, namespaces, kubernetes_groups) in expected.items():
        assert associations(people_graph, arn) == [Association(policy, namespaces)]
        assert groups(people_graph, arn) == kubernetes_groups
    people = {e.inputs["principalArn"] for e in people_graph.of_type(rt.EKS_ACCESS_ENTRY)} - {
        e.inputs["principalArn"]
        for e in people_graph.of_type(rt.EKS_ACCESS_ENTRY)
        if e.inputs.get("type") != "STANDARD"
    }
    assert people == set(expected)


def test_no_people_no_entries(graph: PlanResult) -> None:
    """The default stack lists nobody: only Karpenter's node role has an entry."""
    assert [e.inputs["type"] for e in graph.of_type(rt.EKS_ACCESS_ENTRY)] == ["EC2_LINUX"]
    assert graph.of_type(rt.EKS_ACCESS_POLICY_ASSOCIATION) == []


CLUSTER_SCOPED = [
    ResourceRequest("create", "namespaces", None, name="intruder"),
    ResourceRequest("delete", "namespaces", None, name="prod"),
    ResourceRequest("patch", "nodes", None, name="ip-10-0-64-7.ec2.internal"),
    ResourceRequest("create", "priorityclasses", None, group="scheduling.k8s.io"),
    ResourceRequest("create", "clusterrolebindings", None, group="rbac.authorization.k8s.io"),
    ResourceRequest("create", "persistentvolumes", None),
    ResourceRequest(
        "delete", "validatingadmissionpolicies", None, group="admissionregistration.k8s.io"
    ),
    ResourceRequest("patch", "nodepools", None, group="karpenter.sh"),
    ResourceRequest("delete", "nodeclaims", None, group="karpenter.sh"),
    ResourceRequest("patch", "ec2nodeclasses", None, group="karpenter.k8s.aws"),
    ResourceRequest("create", "customresourcedefinitions", None, group="apiextensions.k8s.io"),
    ResourceRequest("create", "ingressclasses", None, group="networking.k8s.io"),
    ResourceRequest("patch", "ingressclassparams", None, group="elbv2.k8s.aws"),
]
INTO_PROD = [
    ResourceRequest("get", "secrets", "prod", name="db-credentials"),
    ResourceRequest("list", "secrets", "prod"),
    ResourceRequest("get", "configmaps", "prod"),
    ResourceRequest("create", "pods", "prod"),
    ResourceRequest("create", "pods", "prod", subresource="exec"),
    ResourceRequest("get", "pods", "prod", subresource="log"),
    ResourceRequest("create", "pods", "prod", subresource="portforward"),
    ResourceRequest("create", "services", "prod", subresource="proxy"),
    ResourceRequest("create", "serviceaccounts", "prod", subresource="token"),
    ResourceRequest("create", "deployments", "prod", group="apps"),
    ResourceRequest("get", "secrets", "pingvas-system", name="schema-bootstrap-roles"),
    ResourceRequest("get", "secrets", "monitoring", name="alertmanager-receivers"),
    ResourceRequest("create", "silences", "monitoring", group="monitoring.coreos.com"),
    ResourceRequest("create", "applications", "argocd", group="argoproj.io"),
    ResourceRequest("create", "pods", "kube-system"),
    ResourceRequest("create", "ingresses", "prod", group="networking.k8s.io"),
    ResourceRequest("patch", "ingresses", "prod", group="networking.k8s.io", name="web"),
    ResourceRequest("create", "targetgroupbindings", "prod", group="elbv2.k8s.aws"),
]
DEV_SELF_ESCALATION = [
    ResourceRequest("create", "pods", "dev", subresource="binding"),
    ResourceRequest("create", "bindings", "dev"),
    ResourceRequest("patch", "pods", "dev", subresource="ephemeralcontainers"),
    ResourceRequest("create", "rolebindings", "dev", group="rbac.authorization.k8s.io"),
    ResourceRequest("create", "roles", "dev", group="rbac.authorization.k8s.io"),
    ResourceRequest("update", "resourcequotas", "dev"),
    ResourceRequest("delete", "limitranges", "dev"),
    # Edit covers no elbv2.k8s.aws kind: dev people cannot bind pods to a target group by
    # ARN (the admission policy refuses it a second time, and refuses Argo CD too).
    ResourceRequest("create", "targetgroupbindings", "dev", group="elbv2.k8s.aws"),
    # What the VPC CNI's node agents enforce: Edit has no rule for networking.k8s.aws (and
    # the admission policy refuses people there too).
    ResourceRequest("create", "policyendpoints", "dev", group="networking.k8s.aws"),
]


def _id(request: ResourceRequest) -> str:
    resource = (
        f"{request.resource}/{request.subresource}" if request.subresource else request.resource
    )
    return f"{request.verb}-{resource}-{request.namespace or 'cluster'}"


@pytest.mark.parametrize("request_", INTO_PROD + CLUSTER_SCOPED + DEV_SELF_ESCALATION, ids=_id)
def test_a_dev_person_has_nothing_outside_dev(
    people_graph: PlanResult, request_: ResourceRequest
) -> None:
    assert not allowed(associations(people_graph, DEV), request_)


@pytest.mark.parametrize(
    "request_",
    [
        ResourceRequest("create", "pods", "dev"),
        ResourceRequest("get", "secrets", "dev"),
        ResourceRequest("create", "deployments", "dev", group="apps"),
        ResourceRequest("create", "pods", "dev", subresource="exec"),
        ResourceRequest("get", "namespaces", None, name="dev"),
        ResourceRequest("create", "ingresses", "dev", group="networking.k8s.io"),
    ],
    ids=_id,
)
def test_a_dev_person_works_in_dev(people_graph: PlanResult, request_: ResourceRequest) -> None:
    assert allowed(associations(people_graph, DEV), request_)


def test_a_prod_person_has_nothing_in_dev(people_graph: PlanResult) -> None:
    prod = associations(people_graph, PROD)
    assert allowed(prod, ResourceRequest("get", "secrets", "prod"))
    assert not allowed(prod, ResourceRequest("get", "secrets", "dev"))
    assert not allowed(prod, ResourceRequest("create", "pods", "dev"))


def test_edit_would_let_a_dev_person_drop_devs_network_policies_and_admission_refuses(
    people_graph: PlanResult,
) -> None:
    """AmazonEKSEditPolicy includes networkpolicies; the entry's group is what the
    admission policy recognises."""
    delete = ResourceRequest(
        "delete", "networkpolicies", "dev", group="networking.k8s.io", name="default-deny"
    )
    assert allowed(associations(people_graph, DEV), delete)
    request = Request(
        operation="DELETE",
        resource="networkpolicies",
        group="networking.k8s.io",
        namespace="dev",
        old_object={"metadata": {"name": "default-deny", "namespace": "dev"}},
        username="arn:aws:sts::123456789012:assumed-role/dev-engineer/alice",
        groups=(*groups(people_graph, DEV), "system:authenticated"),
    )
    assert denials(request)


def test_viewers_read_prod_configmaps_but_no_secrets(people_graph: PlanResult) -> None:
    viewer = associations(people_graph, VIEWER)
    assert allowed(viewer, ResourceRequest("get", "configmaps", "prod"))
    assert allowed(viewer, ResourceRequest("get", "pods", "prod"))
    for namespace in ("prod", "dev", "pingvas-system", "monitoring"):
        assert not allowed(viewer, ResourceRequest("get", "secrets", namespace))
        assert not allowed(viewer, ResourceRequest("list", "secrets", namespace))
    assert not allowed(viewer, ResourceRequest("create", "pods", "prod"))


# --- configuration --------------------------------------------------------------------------

OTHER_PARTITION = "arn:aws-cn:iam::123456789012:role/dev-engineer"
test_people_config_is_refused = refused_config_test(
    [
        (
            "environment-arn-root",
            {"environmentPrincipalArns": {"dev": ["arn:aws:iam::123456789012:root"]}},
            "pingvas-infra:cluster.environmentPrincipalArns.dev[0]",
            "an IAM role or user ARN",
        ),
        (
            "unknown-environment",
            {"environmentPrincipalArns": {"staging": [DEV]}},
            "pingvas-infra:cluster.environmentPrincipalArns.staging",
            "an environment: dev, prod",
        ),
        (
            "dev-and-prod",
            {"environmentPrincipalArns": {"dev": [DEV], "prod": [DEV]}},
            "pingvas-infra:cluster.environmentPrincipalArns.prod[0]",
            "each principal in one list only (also environmentPrincipalArns.dev[0])",
        ),
        (
            "admin-and-dev",
            {"adminPrincipalArns": [DEV], "environmentPrincipalArns": {"dev": [DEV]}},
            "pingvas-infra:cluster.environmentPrincipalArns.dev[0]",
            "each principal in one list only (also adminPrincipalArns[0])",
        ),
        (
            "dev-and-viewer",
            {"environmentPrincipalArns": {"dev": [DEV]}, "viewerPrincipalArns": [DEV]},
            "pingvas-infra:cluster.viewerPrincipalArns[0]",
            "each principal in one list only",
        ),
        (
            "one-role-two-paths",
            {
                "environmentPrincipalArns": {
                    "dev": [DEV, f"arn:aws:iam::{ACCOUNT_ID}:role/other/dev-engineer"]
                }
            },
            "pingvas-infra:cluster.environmentPrincipalArns.dev[1]",
            "another path of the same role",
        ),
        (
            "service-linked-role",
            {
                "adminPrincipalArns": [
                    f"arn:aws:iam::{ACCOUNT_ID}:role/aws-service-role/eks.amazonaws.com/"
                    "AWSServiceRoleForAmazonEKS"
                ]
            },
            "pingvas-infra:cluster.adminPrincipalArns[0]",
            "EKS refuses an access entry for a service-linked role",
        ),
        (
            "wrong-partition",
            {"environmentPrincipalArns": {"dev": [OTHER_PARTITION]}},
            "pingvas-infra:cluster.environmentPrincipalArns.dev[0]",
            "an ARN of partition aws",
        ),
    ],
    section="pingvas-infra:cluster",
)


def test_a_user_and_a_role_of_one_name_are_two_principals(run_plan: PlanRunner) -> None:
    role, user = f"arn:aws:iam::{ACCOUNT_ID}:role/ops", f"arn:aws:iam::{ACCOUNT_ID}:user/ops"
    assert access_entry_name(Access.ADMIN, role) != access_entry_name(Access.ADMIN, user)
    planned = run_plan({"pingvas-infra:cluster": {"adminPrincipalArns": [role, user]}})
    assert {e.inputs["principalArn"] for e in planned.of_type(rt.EKS_ACCESS_ENTRY)} >= {role, user}
    assert len({e.name for e in planned.of_type(rt.EKS_ACCESS_ENTRY)}) == len(
        planned.of_type(rt.EKS_ACCESS_ENTRY)
    )


def test_entry_names_hash_the_full_arn_and_ignore_list_order(run_plan: PlanRunner) -> None:
    first = access_entry_name(Access.ENVIRONMENT, DEV)
    assert first == access_entry_name(Access.ENVIRONMENT, DEV)
    assert first != access_entry_name(
        Access.ENVIRONMENT, f"arn:aws:iam::{ACCOUNT_ID}:role/dev-engineer"
    )
    a, b = DEV, f"arn:aws:iam::{ACCOUNT_ID}:role/dev-two"

    def names(order: list[str]) -> set[str]:
        planned = run_plan({"pingvas-infra:cluster": {"environmentPrincipalArns": {"dev": order}}})
        return {e.name for e in planned.of_type(rt.EKS_ACCESS_ENTRY)}

    assert names([a, b]) == names([b, a])


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The type of every resource the program registers with the mock engine."""
    types: list[str] = []
    original = PlanMocks.new_resource

    def record(self: PlanMocks, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        types.append(args.typ)
        return original(self, args)

    monkeypatch.setattr(PlanMocks, "new_resource", record)
    return types


def test_listing_the_identity_running_the_program_stops_before_anything_is_created(
    stack_file: StackFile, registered: list[str]
) -> None:
    """The offline plan runs as arn:aws:iam::<account>:user/plan (plan/mocks.py). The check
    runs right after the AWS provider is configured: no resource is registered (under
    `pulumi up` the engine creates each resource as soon as it is registered)."""
    creator = f"arn:aws:iam::{ACCOUNT_ID}:user/plan"
    with pytest.raises(ConfigError) as refused:
        plan_stack(
            stack_file,
            {"pingvas-infra:cluster": {"environmentPrincipalArns": {"dev": [creator]}}},
        )
    message = str(refused.value)
    assert "pingvas-infra:cluster.environmentPrincipalArns.dev[0] = " in message
    assert "409 ResourceInUseException" in message
    assert "nothing was created" in message
    assert registered == [rt.AWS_PROVIDER]


def test_the_recording_sees_every_resource_of_an_accepted_plan(
    stack_file: StackFile, registered: list[str]
) -> None:
    """The control for the test above: with someone else listed, the whole stack is
    registered, and the recording sees it."""
    planned = plan_stack(
        stack_file, {"pingvas-infra:cluster": {"environmentPrincipalArns": {"dev": [DEV]}}}
    )
    assert len(registered) >= len(planned.resources) > 100


@pytest.mark.parametrize(
    ("caller", "listed", "found"),
    [
        (
            f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/platform-admin/laptop",
            ADMIN,
            True,
        ),
        # The session ARN drops the role's path; IAM role names are unique per account.
        (f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/dev-engineer/ci", DEV, True),
        (f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/dev-engineer/ci", VIEWER, False),
        ("arn:aws:sts::999999999999:assumed-role/platform-admin/x", ADMIN, False),
        (f"arn:aws:iam::{ACCOUNT_ID}:user/auditor", VIEWER, True),
        (f"arn:aws:iam::{ACCOUNT_ID}:root", ADMIN, False),
    ],
)
def test_the_creator_is_recognised_from_its_session(caller: str, listed: str, found: bool) -> None:
    assert (creator_problem(caller, {"key": listed}) is not None) is found
