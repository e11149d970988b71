"""What dev's application role may do in AWS, and who may become which Pod Identity role,
evaluated on the stack's own policies (tests/support/iam.py).

The dev role is what any dev pod running as `pingvas-app` holds (its Pod Identity
association); a pod running as any other ServiceAccount holds no AWS identity at all
(no association, instance metadata closed: tests/tenancy/test_network_policies.py and the
IMDS hop limit). Bucket policies are evaluated with the role's own policies; key policies
are AWS's default (IAM decides), so a key is reached through the role's policies only.
"""

from __future__ import annotations

import json

import pytest

from pingvas_infra import resource_types as rt
from pingvas_infra.plan.mocks import ACCOUNT_ID
from pingvas_infra.plan.model import PlanResult
from tests.support.iam import Decision, Request, evaluate, role_policies, trust_policy
from tests.support.plan_graph import mock_outputs

DEV_ROLE = "storage-dev-app"
REGION = "us-east-1"
S3 = {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}
POD_IDENTITY = "pods.eks.amazonaws.com"


def arn_of(graph: PlanResult, type_token: str, name: str) -> str:
    (resource,) = [r for r in graph.of_type(type_token) if r.name == name]
    return str(mock_outputs(resource)["arn"])


def bucket(graph: PlanResult, purpose: str) -> str:
    return arn_of(graph, rt.BUCKET, f"storage-{purpose}")


def bucket_policy(graph: PlanResult, purpose: str) -> str:
    (policy,) = [p for p in graph.of_type(rt.BUCKET_POLICY) if p.name == f"storage-{purpose}"]
    return str(policy.inputs["policy"])


def key(graph: PlanResult, name: str) -> str:
    return arn_of(graph, rt.KMS_KEY, name)


def master_secret(graph: PlanResult) -> str:
    (cluster,) = graph.of_type(rt.RDS_CLUSTER)
    return str(mock_outputs(cluster)["masterUserSecrets"][0]["secretArn"])


class DevRole:
    def __init__(self, graph: PlanResult) -> None:
        self.graph = graph
        (role,) = [r for r in graph.of_type(rt.IAM_ROLE) if r.name == DEV_ROLE]
        self.arn = str(mock_outputs(role)["arn"])
        self.policies = role_policies(graph, DEV_ROLE)

    def decide(
        self, action: str, resource: str, purpose: str | None = None, **context: str
    ) -> Decision:
        request = Request(self.arn, action, resource, context)
        policy = bucket_policy(self.graph, purpose) if purpose else None
        return evaluate(request, self.policies, policy)


@pytest.fixture(scope="module")
def dev(graph: PlanResult) -> DevRole:
    return DevRole(graph)


@pytest.mark.parametrize("purpose", ["prod-images", "backups", "logs"])
@pytest.mark.parametrize(
    "action", ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"]
)
def test_the_dev_role_touches_no_prod_or_log_bucket(
    dev: DevRole, purpose: str, action: str
) -> None:
    arn = bucket(dev.graph, purpose)
    resource = arn if action == "s3:ListBucket" else f"{arn}/prod/object"
    assert dev.decide(action, resource, purpose) is not Decision.ALLOW


def test_the_dev_role_reads_models_and_writes_none(dev: DevRole) -> None:
    models = bucket(dev.graph, "models")
    assert (
        dev.decide("s3:GetObject", f"{models}/sd-xl/unet.safetensors", "models") is Decision.ALLOW
    )
    for action in ("s3:PutObject", "s3:DeleteObject", "s3:PutObjectAcl", "s3:PutBucketPolicy"):
        assert (
            dev.decide(action, f"{models}/sd-xl/unet.safetensors", "models") is not Decision.ALLOW
        )


def test_the_dev_role_works_in_its_own_bucket(dev: DevRole) -> None:
    images = bucket(dev.graph, "dev-images")
    for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
        assert dev.decide(action, f"{images}/x.png", "dev-images") is Decision.ALLOW
    # Not over plain HTTP: the bucket policy's TLS deny.
    assert (
        dev.decide(
            "s3:GetObject", f"{images}/x.png", "dev-images", **{"aws:SecureTransport": "false"}
        )
        is Decision.EXPLICIT_DENY
    )


@pytest.mark.parametrize(
    ("key_name", "action", "through_s3", "allowed"),
    [
        ("storage-prod-key", "kms:Decrypt", True, False),
        ("storage-prod-key", "kms:GenerateDataKey", True, False),
        ("data-key", "kms:Decrypt", False, False),
        ("cluster-secrets", "kms:Decrypt", False, False),
        ("storage-models-key", "kms:Decrypt", True, True),
        # The models key decrypts only what S3 hands back: not EFS, not a raw blob.
        ("storage-models-key", "kms:Decrypt", False, False),
        ("storage-models-key", "kms:Encrypt", True, False),
    ],
)
def test_the_dev_role_uses_only_the_models_key_and_only_through_s3(
    dev: DevRole, key_name: str, action: str, through_s3: bool, allowed: bool
) -> None:
    context = S3 if through_s3 else {}
    decision = dev.decide(action, key(dev.graph, key_name), **context)
    assert (decision is Decision.ALLOW) is allowed


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("secretsmanager:GetSecretValue", "master-secret"),
        (
            "logs:GetLogEvents",
            "arn:aws:logs:us-east-1:123456789012:log-group:/aws/rds/cluster/pingvas-shared-aurora/postgresql:log-stream:x",
        ),
        (
            "logs:FilterLogEvents",
            "arn:aws:logs:us-east-1:123456789012:log-group:/aws/eks/pingvas-shared-eks/cluster",
        ),
        ("sqs:SendMessage", "interruption-queue"),
        (
            "ec2:TerminateInstances",
            "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0",
        ),
        (
            "eks:CreatePodIdentityAssociation",
            "arn:aws:eks:us-east-1:123456789012:cluster/pingvas-shared-eks",
        ),
        ("iam:PassRole", "arn:aws:iam::123456789012:role/storage-prod-app"),
        ("sts:AssumeRole", "arn:aws:iam::123456789012:role/storage-prod-app"),
        (
            "s3:GetObject",
            "arn:aws:s3:::pingvas-pulumi-state-123456789012-us-east-1/.pulumi/stacks/pingvas-infra/shared.json",
        ),
        ("kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:alias/pingvas-pulumi-secrets"),
        (
            "elasticfilesystem:ClientMount",
            "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-1",
        ),
        ("rds-db:connect", "arn:aws:rds-db:us-east-1:123456789012:dbuser:cluster-x/prod_user"),
        (
            "elasticloadbalancing:ModifyLoadBalancerAttributes",
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/pingvas-prod/1",
        ),
        (
            "elasticloadbalancing:RegisterTargets",
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/k8s-prod-web/1",
        ),
        (
            "wafv2:DisassociateWebACL",
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/pingvas-prod/1",
        ),
    ],
    ids=lambda v: v if ":" in v and "/" not in v else None,
)
def test_the_dev_role_reaches_nothing_else(dev: DevRole, action: str, resource: str) -> None:
    """The schema-bootstrap secret, logs, Karpenter's queue and nodes, other roles, the
    Pulumi state and its key, the file system, prod's database user."""
    resolved = {
        "master-secret": master_secret(dev.graph),
        "interruption-queue": arn_of(dev.graph, rt.SQS_QUEUE, "gpu-interruption"),
    }.get(resource, resource)
    assert dev.decide(action, resolved) is Decision.IMPLICIT_DENY


POD_IDENTITY_ROLES = {
    "storage-dev-app": ("dev", "pingvas-app"),
    "storage-prod-app": ("prod", "pingvas-app"),
    "operations-prod-db-backup": ("prod", "prod-db-backup"),
    "tenancy-schema-bootstrap": ("pingvas-system", "schema-bootstrap"),
    "storage-model-sync": ("pingvas-system", "model-sync"),
    "gpu-karpenter-controller": ("kube-system", "karpenter"),
    "cluster-aws-efs-csi-driver": ("kube-system", "efs-csi-node-sa"),
    "ingress-controller": ("kube-system", "aws-load-balancer-controller"),
    "cluster-vpc-cni": ("kube-system", "aws-node"),
}
SESSIONS = [*dict.fromkeys(POD_IDENTITY_ROLES.values()), ("dev", "default"), ("dev", "model-sync")]


@pytest.mark.parametrize("role", list(POD_IDENTITY_ROLES))
@pytest.mark.parametrize("session", SESSIONS, ids=lambda s: f"{s[0]}/{s[1]}")
def test_each_pod_identity_role_trusts_its_own_service_account_only(
    graph: PlanResult, role: str, session: tuple[str, str]
) -> None:
    """Even an association someone adds from a dev ServiceAccount to a prod role fails:
    the trust policy checks the session tags EKS Pod Identity sets. The same namespace and
    ServiceAccount names in another cluster of the account fail too."""
    trust = json.loads(trust_policy(graph, role))
    this_cluster = cluster_arn(graph)
    other_cluster = this_cluster.rsplit("/", 1)[0] + "/another-cluster"
    for cluster in (this_cluster, other_cluster):
        for action in ("sts:AssumeRole", "sts:TagSession"):
            request = Request(
                None,
                action,
                "*",
                {
                    "aws:RequestTag/eks-cluster-arn": cluster,
                    "aws:RequestTag/eks-cluster-name": cluster.rsplit("/", 1)[1],
                    "aws:RequestTag/kubernetes-namespace": session[0],
                    "aws:RequestTag/kubernetes-service-account": session[1],
                },
                service=POD_IDENTITY,
            )
            expected = session == POD_IDENTITY_ROLES[role] and cluster == this_cluster
            assert (evaluate(request, (), trust) is Decision.ALLOW) is expected, (
                role,
                session,
                cluster,
            )


def cluster_arn(graph: PlanResult) -> str:
    """The ARN EKS gives the stack's cluster, as it appears in the session tag."""
    name = graph.one(rt.EKS_CLUSTER_COMPONENT).inputs["name"]
    return f"arn:aws:eks:{REGION}:{ACCOUNT_ID}:cluster/{name}"
