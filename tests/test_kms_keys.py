"""Every KMS key of the stack has an explicit policy, and it means what it says: evaluated
with AWS's documented KMS access logic (`evaluate_key`, tests/support/iam.py: the key policy
must allow; a statement naming the account defers to the caller's IAM policies) on the
policies the program registers, with each role's own IAM policies from the graph.

The adversary in every test is a role the key's policy does not name, holding an IAM
policy that allows `kms:*` on every key: it may use none of them.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from pingvas_infra import resource_types as rt
from pingvas_infra.kms_keys import administrator_actions
from pingvas_infra.plan.model import PlanResult, RecordedResource
from tests.support.iam import Decision, Request, evaluate_key, role_arn, role_policies
from tests.support.plan_graph import PlanRunner, mock_outputs

REGION = "us-east-1"
ACCOUNT = "123456789012"
OUTSIDER = f"arn:aws:iam::{ACCOUNT}:role/someone-with-kms-star"
EVERYTHING_KMS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}],
}
USE = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:CreateGrant")


def via(service: str) -> dict[str, str]:
    return {"kms:ViaService": f"{service}.{REGION}.amazonaws.com", "kms:CallerAccount": ACCOUNT}


def keys(graph: PlanResult) -> dict[str, RecordedResource]:
    return {k.name: k for k in graph.of_type(rt.KMS_KEY)}


def policy_of(graph: PlanResult, key_name: str) -> str:
    key = keys(graph)[key_name]
    (policy,) = [p for p in graph.of_type(rt.KMS_KEY_POLICY) if p.inputs["keyId"] == key.id]
    return str(policy.inputs["policy"])


def key_arn(graph: PlanResult, key_name: str) -> str:
    return str(mock_outputs(keys(graph)[key_name])["arn"])


def decide(  # noqa: PLR0917 (the request reads in one line: key, who, what, with which IAM)
    graph: PlanResult,
    key_name: str,
    principal: str | None,
    action: str,
    identity: list[Any],
    context: dict[str, str] | None = None,
    service: str | None = None,
) -> Decision:
    request = Request(principal, action, key_arn(graph, key_name), context or {}, service=service)
    return evaluate_key(request, identity, policy_of(graph, key_name))


def arn_of_bucket(graph: PlanResult, name: str) -> str:
    (bucket,) = [b for b in graph.of_type(rt.BUCKET) if b.name == name]
    return str(mock_outputs(bucket)["arn"])


def role(graph: PlanResult, name: str) -> tuple[str, list[str]]:
    return role_arn(graph, name), role_policies(graph, name)


def test_every_key_has_an_explicit_policy(graph: PlanResult) -> None:
    assert set(keys(graph)) == {
        "network-logs-key",
        "cluster-secrets",
        "data-key",
        "storage-prod-key",
        "storage-models-key",
    }
    for name in keys(graph):
        assert policy_of(graph, name)


@pytest.mark.parametrize(
    "key_name",
    ["network-logs-key", "cluster-secrets", "data-key", "storage-prod-key", "storage-models-key"],
)
@pytest.mark.parametrize("action", USE)
@pytest.mark.parametrize("service", [None, "s3", "rds", "secretsmanager", "logs"])
def test_a_role_outside_the_policy_uses_no_key(
    graph: PlanResult, key_name: str, action: str, service: str | None
) -> None:
    """Even with kms:* in its IAM policy, directly or through any service. (The data key
    and the models key serve their AWS services for any principal the account's IAM lets
    use that service: covered below, never a direct use.)"""
    context = via(service) if service else {}
    if (key_name, service) in {("data-key", "rds"), ("data-key", "secretsmanager")}:
        return  # the service path: test_the_data_key_serves_its_services_only
    decision = decide(graph, key_name, OUTSIDER, action, [EVERYTHING_KMS], context)
    assert decision is not Decision.ALLOW, (key_name, action, service)


def test_administrators_manage_every_key_and_use_none(graph: PlanResult) -> None:
    """Administration is the account's IAM (no lockout); it never includes use."""
    for name in keys(graph):
        for action in ("kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:EnableKeyRotation"):
            assert decide(graph, name, OUTSIDER, action, [EVERYTHING_KMS]) is Decision.ALLOW
            assert decide(graph, name, OUTSIDER, action, []) is Decision.IMPLICIT_DENY
        for action in ("kms:Decrypt", "kms:GenerateDataKey", "kms:CreateGrant"):
            assert decide(graph, name, OUTSIDER, action, [EVERYTHING_KMS]) is not Decision.ALLOW
    assert "kms:CreateGrant" not in administrator_actions()


def test_prod_data_is_used_by_the_prod_app_and_the_backup_job_through_s3_only(
    graph: PlanResult,
) -> None:
    prod_arn, prod_policies = role(graph, "storage-prod-app")
    for action in ("kms:Decrypt", "kms:GenerateDataKey"):
        assert decide(graph, "storage-prod-key", prod_arn, action, prod_policies, via("s3")) is (
            Decision.ALLOW
        )
        # Not directly: a leaked credential cannot decrypt a copied object itself.
        assert decide(graph, "storage-prod-key", prod_arn, action, prod_policies) is not (
            Decision.ALLOW
        )
    backup_arn, backup_policies = role(graph, "operations-prod-db-backup")
    assert (
        decide(
            graph, "storage-prod-key", backup_arn, "kms:GenerateDataKey", backup_policies, via("s3")
        )
        is Decision.ALLOW
    )
    # Dev's role, with its own policies or with kms:*: nothing of prod's key.
    dev_arn, dev_policies = role(graph, "storage-dev-app")
    for identity in (dev_policies, [EVERYTHING_KMS]):
        for action in ("kms:Decrypt", "kms:GenerateDataKey"):
            assert decide(graph, "storage-prod-key", dev_arn, action, identity, via("s3")) is not (
                Decision.ALLOW
            )


def test_the_models_key_is_read_through_s3_and_never_written_by_the_apps(
    graph: PlanResult,
) -> None:
    for name in ("storage-dev-app", "storage-prod-app", "storage-model-sync"):
        arn, policies = role(graph, name)
        assert decide(graph, "storage-models-key", arn, "kms:Decrypt", policies, via("s3")) is (
            Decision.ALLOW
        )
        assert (
            decide(
                graph, "storage-models-key", arn, "kms:GenerateDataKey", [EVERYTHING_KMS], via("s3")
            )
            is not Decision.ALLOW
        )


def test_the_data_key_serves_its_services_only(graph: PlanResult) -> None:
    """The schema bootstrap reads the master secret through Secrets Manager; the same role
    cannot decrypt with the key directly or through S3. A principal whose IAM allows no
    KMS use gets nothing through the services either."""
    arn, policies = role(graph, "tenancy-schema-bootstrap")
    assert decide(graph, "data-key", arn, "kms:Decrypt", policies, via("secretsmanager")) is (
        Decision.ALLOW
    )
    assert decide(graph, "data-key", arn, "kms:Decrypt", policies) is not Decision.ALLOW
    assert decide(graph, "data-key", arn, "kms:Decrypt", [EVERYTHING_KMS], via("s3")) is not (
        Decision.ALLOW
    )
    assert decide(graph, "data-key", OUTSIDER, "kms:Decrypt", [], via("rds")) is not (
        Decision.ALLOW
    )


def test_the_logs_key_serves_cloudwatch_logs_for_the_stacks_groups_only(graph: PlanResult) -> None:
    groups = {g.inputs["name"] for g in graph.of_type(rt.LOG_GROUP)}
    assert len(groups) == 3
    service = f"logs.{REGION}.amazonaws.com"
    for group in groups:
        group_arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}"
        context = {"kms:EncryptionContext:aws:logs:arn": group_arn}
        for action in ("kms:GenerateDataKey", "kms:Decrypt", "kms:Encrypt"):
            assert decide(graph, "network-logs-key", None, action, [], context, service) is (
                Decision.ALLOW
            )
    stranger = {
        "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/other"
    }
    assert (
        decide(graph, "network-logs-key", None, "kms:Decrypt", [], stranger, service)
        is Decision.IMPLICIT_DENY
    )
    assert (
        decide(graph, "network-logs-key", None, "kms:Decrypt", [], {}, f"s3.{REGION}.amazonaws.com")
        is Decision.IMPLICIT_DENY
    )
    # Every log group is encrypted with it.
    (logs_key,) = [k for k in graph.of_type(rt.KMS_KEY) if k.name == "network-logs-key"]
    for group in graph.of_type(rt.LOG_GROUP):
        assert group.inputs["kmsKeyId"] == mock_outputs(logs_key)["arn"]


# The offline plan runs as this user (pingvas_infra/plan/mocks.py); getSessionContext
# answers a user with itself (an assumed role with its role).
DEPLOYER = f"arn:aws:iam::{ACCOUNT}:user/plan"
# pulumi-eks creates the cluster's role; the mock engine names it after the component.
CLUSTER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/cluster-eks-eksRole-role"
# The one KMS action of AmazonEKSClusterPolicy, the cluster role's only policy.
EKS_CLUSTER_ROLE_IAM = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "kms:DescribeKey", "Resource": "*"}],
}
# What the EKS user guide asks of the principal that calls CreateCluster.
CLUSTER_CREATOR_IAM = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["kms:DescribeKey", "kms:CreateGrant"], "Resource": "*"}
    ],
}
# EKS does not send kms:GrantIsForAWSResource for CreateCluster (the EKS user guide).
CREATE_CLUSTER_GRANT: dict[str, str] = {}


def secrets_key_requests() -> list[tuple[str, str, str, list[Any], Decision]]:
    """What the Secrets key must decide, and how: (who, principal, action, its IAM, answer)."""
    return [
        ("creator", DEPLOYER, "kms:CreateGrant", [CLUSTER_CREATOR_IAM], Decision.ALLOW),
        ("creator", DEPLOYER, "kms:DescribeKey", [CLUSTER_CREATOR_IAM], Decision.ALLOW),
        ("cluster role", CLUSTER_ROLE, "kms:DescribeKey", [EKS_CLUSTER_ROLE_IAM], Decision.ALLOW),
        ("administrator", OUTSIDER, "kms:PutKeyPolicy", [EVERYTHING_KMS], Decision.ALLOW),
        ("outsider", OUTSIDER, "kms:CreateGrant", [EVERYTHING_KMS], Decision.IMPLICIT_DENY),
        ("outsider", OUTSIDER, "kms:Decrypt", [EVERYTHING_KMS], Decision.IMPLICIT_DENY),
        ("creator", DEPLOYER, "kms:Decrypt", [EVERYTHING_KMS], Decision.IMPLICIT_DENY),
    ]


def decide_secrets(
    graph: PlanResult, policy: Any, principal: str, action: str, identity: list[Any]
) -> Decision:
    arn = key_arn(graph, "cluster-secrets")
    return evaluate_key(Request(principal, action, arn, CREATE_CLUSTER_GRANT), identity, policy)


def test_the_cluster_creator_may_create_the_grant_eks_encrypts_secrets_under(
    graph: PlanResult,
) -> None:
    """A replaced cluster is created under the explicit policy: EKS needs kms:CreateGrant
    and kms:DescribeKey from whoever calls CreateCluster, without GrantIsForAWSResource.
    Nobody gets to decrypt directly, the creator included."""
    policy = policy_of(graph, "cluster-secrets")
    for who, principal, action, identity, expected in secrets_key_requests():
        assert decide_secrets(graph, policy, principal, action, identity) is expected, (who, action)
    dev_arn = role_arn(graph, "storage-dev-app")
    for action in ("kms:CreateGrant", "kms:Decrypt"):
        assert decide_secrets(graph, policy, dev_arn, action, [EVERYTHING_KMS]) is not (
            Decision.ALLOW
        )


def test_every_statement_of_the_secrets_key_changes_a_decision(graph: PlanResult) -> None:
    """No statement that does nothing: without any one of them, some request EKS or an
    administrator makes is decided otherwise."""
    document = json.loads(policy_of(graph, "cluster-secrets"))
    statements = document["Statement"]
    requests = secrets_key_requests()
    whole = [decide_secrets(graph, document, p, a, i) for _, p, a, i, _ in requests]
    for index, statement in enumerate(statements):
        without = {**document, "Statement": statements[:index] + statements[index + 1 :]}
        changed = [
            (who, action)
            for (who, principal, action, identity, _), before in zip(requests, whole, strict=True)
            if decide_secrets(graph, without, principal, action, identity) is not before
        ]
        assert changed, f"{statement['Sid']} changes no decision"


# What the workflows run as (pingvas_infra/plan/mocks.py answers GetCallerIdentity with
# the session; getSessionContext with its role).
PREVIEW_SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/pingvas-preview/github-actions"
DEPLOY_SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/pingvas-deploy/github-actions"
DEPLOY_ROLE = f"arn:aws:iam::{ACCOUNT}:role/pingvas-deploy"
BREAK_GLASS = f"arn:aws:iam::{ACCOUNT}:role/ops/break-glass"
LISTED_DEPLOYERS = {"pingvas-infra:cluster": {"deployerPrincipalArns": [DEPLOY_ROLE, BREAK_GLASS]}}


def test_a_preview_and_the_deploy_plan_the_same_secrets_key_policy(
    run_plan_uncached: PlanRunner,
) -> None:
    """With the deployers listed, who runs the program changes nothing: the preview role's
    plan shows the policy the deploy role's `up` makes. Unlisted, each names itself."""
    as_preview = run_plan_uncached(LISTED_DEPLOYERS, caller_arn=PREVIEW_SESSION)
    as_deploy = run_plan_uncached(LISTED_DEPLOYERS, caller_arn=DEPLOY_SESSION)
    assert policy_of(as_preview, "cluster-secrets") == policy_of(as_deploy, "cluster-secrets")
    unlisted_preview = run_plan_uncached({}, caller_arn=PREVIEW_SESSION)
    unlisted_deploy = run_plan_uncached({}, caller_arn=DEPLOY_SESSION)
    assert policy_of(unlisted_preview, "cluster-secrets") != policy_of(
        unlisted_deploy, "cluster-secrets"
    )


def test_only_listed_deployers_may_create_the_grant(run_plan_uncached: PlanRunner) -> None:
    """The listed deployers create the grant (and describe the key); the role running a
    preview, unlisted, may not, whoever ran the plan."""
    planned = run_plan_uncached(LISTED_DEPLOYERS, caller_arn=PREVIEW_SESSION)
    policy = policy_of(planned, "cluster-secrets")
    preview_role = f"arn:aws:iam::{ACCOUNT}:role/pingvas-preview"
    for deployer in (DEPLOY_ROLE, BREAK_GLASS):
        for action in ("kms:CreateGrant", "kms:DescribeKey"):
            decision = decide_secrets(planned, policy, deployer, action, [CLUSTER_CREATOR_IAM])
            assert decision is Decision.ALLOW, (deployer, action)
        decision = decide_secrets(planned, policy, deployer, "kms:Decrypt", [EVERYTHING_KMS])
        assert decision is Decision.IMPLICIT_DENY
    for outsider in (preview_role, DEPLOYER):
        decision = decide_secrets(planned, policy, outsider, "kms:CreateGrant", [EVERYTHING_KMS])
        assert decision is Decision.IMPLICIT_DENY, outsider


def test_the_secrets_key_policy_is_in_place_before_the_cluster(graph: PlanResult) -> None:
    """The cluster is created (and a replacement re-created) under the explicit policy,
    not under KMS's default one: the policy names no output of the cluster."""
    key = keys(graph)["cluster-secrets"]
    (policy,) = [p for p in graph.of_type(rt.KMS_KEY_POLICY) if p.inputs["keyId"] == key.id]
    (cluster,) = graph.of_type("eks:index:Cluster")
    assert policy.urn in cluster.dependencies
    assert cluster.urn not in policy.dependencies
    assert not any(":eks" in dependency for dependency in policy.dependencies)


def test_the_off_region_copy_key_serves_replication_only(run_plan: PlanRunner) -> None:
    graph = run_plan({"pingvas-infra:storage": {"backupCopy": {"enabled": True}}})
    replication_arn, replication_policies = role(graph, "storage-backups-copy-replication")
    copy_region = "us-west-2"
    copy_bucket = arn_of_bucket(graph, "storage-backups-copy")
    context = {
        "kms:ViaService": f"s3.{copy_region}.amazonaws.com",
        # With S3 Bucket Keys the encryption context is the bucket's ARN.
        "kms:EncryptionContext:aws:s3:arn": copy_bucket,
    }
    request = Request(
        replication_arn, "kms:Encrypt", key_arn(graph, "storage-backups-copy-key"), context
    )
    assert evaluate_key(
        request, replication_policies, policy_of(graph, "storage-backups-copy-key")
    ) is (Decision.ALLOW)
    outsider = Request(OUTSIDER, "kms:Decrypt", key_arn(graph, "storage-backups-copy-key"), context)
    assert evaluate_key(
        outsider, [EVERYTHING_KMS], policy_of(graph, "storage-backups-copy-key")
    ) is not (Decision.ALLOW)
    # The prod key lets replication decrypt the source dumps through S3, in the source region.
    source_context = {
        **via("s3"),
        "kms:EncryptionContext:aws:s3:arn": arn_of_bucket(graph, "storage-backups"),
    }
    source = decide(
        graph,
        "storage-prod-key",
        replication_arn,
        "kms:Decrypt",
        replication_policies,
        source_context,
    )
    assert source is Decision.ALLOW
