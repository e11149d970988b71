"""The mock engine records what the real engine would receive."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pulumi_random as random
from pulumi.runtime.mocks import MockCallArgs

from pingvas_infra import resource_types as rt
from pingvas_infra.plan.engine import run_program
from pingvas_infra.plan.mocks import PlanMocks, secret
from pingvas_infra.plan.model import SECRET, redact


def small_program() -> None:
    password = random.RandomPassword("pw", length=24, special=False)
    bucket = aws.s3.Bucket("kept", bucket="kept-bucket", opts=pulumi.ResourceOptions(protect=True))
    aws.ssm.Parameter(
        "param",
        type="SecureString",
        value=password.result,
        name=bucket.bucket.apply(lambda b: f"/{b}/pw"),
    )
    cluster = eks.Cluster("eks", skip_default_node_group=True, authentication_mode="API")
    eks.ManagedNodeGroup(
        "system", cluster=cluster, capacity_type="SPOT", node_role_arn="arn:aws:iam::1:role/n"
    )
    pulumi.export("password", password.result)
    pulumi.export("bucket", bucket.bucket)


def run() -> object:
    return run_program(
        small_program,
        project="demo",
        stack="test",
        config={},
        secret_keys=[],
        region="us-east-1",
    )


def test_secrets_are_redacted_but_plain_values_kept() -> None:
    result = run()
    param = result.one(rt.SSM_PARAMETER)
    assert param.inputs["value"] == SECRET
    assert param.inputs["name"] == "/kept-bucket/pw"
    assert result.outputs == {"password": SECRET, "bucket": "kept-bucket"}


def test_protect_and_dependencies_are_recorded() -> None:
    result = run()
    bucket = result.one(rt.BUCKET)
    param = result.one(rt.SSM_PARAMETER)
    password = result.one(rt.RANDOM_PASSWORD)
    assert bucket.protect is True
    assert param.protect is False
    assert set(param.dependencies) == {bucket.urn, password.urn}


def test_remote_components_are_one_resource_each_with_inputs() -> None:
    result = run()
    cluster = result.one(rt.EKS_CLUSTER_COMPONENT)
    group = result.one(rt.EKS_NODE_GROUP_COMPONENT)
    assert cluster.remote and not cluster.custom
    assert cluster.inputs["authenticationMode"] == "API"
    # A component passed as input is recorded by its URN (not rehydrated).
    assert group.inputs["cluster"] == cluster.urn
    assert group.inputs["capacityType"] == "SPOT"


def test_two_runs_in_one_process_record_the_same_graph() -> None:
    first, second = run(), run()
    assert first.resources_json() == second.resources_json()


def test_redact_keeps_the_shape_of_secret_maps() -> None:
    wire = {"stringData": secret({"URL": "postgres://u:p@h/db", "DB": "x"}), "n": 3.0}
    assert redact(wire) == {"stringData": {"URL": SECRET, "DB": SECRET}, "n": 3}


def test_the_session_context_names_the_role_behind_an_assumed_role_session() -> None:
    """What aws.iam.getSessionContext answers offline: the role of an assumed-role session
    (aws:PrincipalArn is the role's ARN, not the session's), anything else as it is."""
    mocks = PlanMocks()

    def issuer(arn: str) -> str:
        answer, _ = mocks.call(
            MockCallArgs(token=rt.GET_SESSION_CONTEXT, args={"arn": arn}, provider="")
        )
        return str(answer["issuerArn"])

    session = "arn:aws:sts::123456789012:assumed-role/platform-deployer/ci-run-42"
    assert issuer(session) == "arn:aws:iam::123456789012:role/platform-deployer"
    assert issuer("arn:aws:iam::123456789012:user/plan") == "arn:aws:iam::123456789012:user/plan"
