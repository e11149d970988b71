"""`pingvas-infra preflight` checks against an emulated account.

moto models STS, EC2 instance types and offerings, IAM roles and S3 buckets. It has no
model for the EC2 quotas in Service Quotas (only VPC ones), EKS DescribeClusterVersions or
RDS DescribeDBEngineVersions: those tests use botocore's Stubber, which also provides the
S3 403 (a bucket of another account) that moto does not produce.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from pingvas_infra.labels import ON_DEMAND, SPOT
from pingvas_infra.preflight.checks import (
    GPU_QUOTA_CODES,
    SPOT_SERVICE_LINKED_ROLE,
    AwsClients,
    CheckResult,
    InstanceShape,
    check_aurora,
    check_bucket,
    check_eks_version,
    check_gpu_offerings,
    check_gpu_quotas,
    check_identity,
    check_region,
    check_spot_role,
    failed,
    gpu_instance_shapes,
    run_preflight,
)
from pingvas_infra.preflight.targets import GpuPool, PreflightTargets

TODAY = date(2026, 11, 26)
ACCOUNT = "123456789012"


@contextmanager
def stubbed(client: Any) -> Iterator[Stubber]:
    stubber = Stubber(client)
    with stubber:
        yield stubber
    stubber.assert_no_pending_responses()


@pytest.fixture(scope="module")
def g4dn_shapes() -> dict[str, InstanceShape]:
    """The design guide's GPU type as moto's EC2 describes it (read once: the lookup is slow)."""
    with mock_aws():
        clients = AwsClients(boto3.Session(region_name="us-east-1"), "us-east-1")
        return gpu_instance_shapes(clients, ("g4dn.xlarge",))


def quota(value: float) -> dict[str, Any]:
    return {"Quota": {"ServiceCode": "ec2", "QuotaCode": "L-X", "Value": value}}


def stub_quotas(stubber: Stubber, spot: float, on_demand: float) -> None:
    for capacity_type, value in ((ON_DEMAND, on_demand), (SPOT, spot)):
        code = GPU_QUOTA_CODES[capacity_type][0]
        stubber.add_response(
            "get_service_quota", quota(value), {"ServiceCode": "ec2", "QuotaCode": code}
        )


# --- credentials (moto; Stubber for the refused call) -------------------------------------


def test_credentials_pass_with_the_account(clients: AwsClients) -> None:
    result, account = check_identity(clients)
    assert (result.status, account) == ("pass", ACCOUNT)


def test_refused_credentials_fail_and_stop_the_run(
    clients: AwsClients, targets: PreflightTargets
) -> None:
    # Stubber: an STS rejection (moto accepts any key).
    with stubbed(clients.sts) as sts:
        sts.add_client_error("get_caller_identity", "InvalidClientTokenId", http_status_code=403)
        results = run_preflight(clients, targets, configured_region="us-east-1", today=TODAY)
    assert [(r.check, r.status) for r in results] == [("credentials", "fail")]
    assert "aws configure" in results[0].action


# --- GPU quotas (moto for instance shapes, Stubber for Service Quotas) --------------------


@pytest.mark.parametrize(
    ("spot", "on_demand", "expected"),
    [
        # dev 3 + prod 15 GPUs on spot, prod 15 on demand; g4dn.xlarge = 4 vCPUs per GPU.
        (72, 60, {SPOT: "pass", ON_DEMAND: "pass"}),
        (0, 0, {SPOT: "fail", ON_DEMAND: "fail"}),
        (40, 60, {SPOT: "warn", ON_DEMAND: "pass"}),
        (72, 2, {SPOT: "pass", ON_DEMAND: "fail"}),
    ],
)
def test_gpu_quota_against_what_the_pools_may_launch(
    clients: AwsClients,
    targets: PreflightTargets,
    g4dn_shapes: dict[str, InstanceShape],
    *,
    spot: float,
    on_demand: float,
    expected: dict[str, str],
) -> None:
    with stubbed(clients.service_quotas) as quotas:
        stub_quotas(quotas, spot, on_demand)
        results = check_gpu_quotas(clients, targets, g4dn_shapes)
    assert {r.check.split()[0]: r.status for r in results} == expected
    for result in results:
        if result.status != "pass":
            assert "request-service-quota-increase" in result.action
    needed = {SPOT: "72 vCPUs", ON_DEMAND: "60 vCPUs"}
    assert all(needed[r.check.split()[0]] in r.detail for r in results)


def test_an_unchanged_quota_falls_back_to_the_aws_default(
    clients: AwsClients, targets: PreflightTargets, g4dn_shapes: dict[str, InstanceShape]
) -> None:
    on_demand_only = replace(targets, gpu_pools=(GpuPool("prod", 15, (ON_DEMAND,)),))
    shapes = g4dn_shapes
    code = GPU_QUOTA_CODES[ON_DEMAND][0]
    with stubbed(clients.service_quotas) as quotas:
        quotas.add_client_error("get_service_quota", "NoSuchResourceException")
        quotas.add_response(
            "get_aws_default_service_quota", quota(0), {"ServiceCode": "ec2", "QuotaCode": code}
        )
        (result,) = check_gpu_quotas(clients, on_demand_only, shapes)
    assert result.status == "fail"


def test_larger_instances_raise_the_vcpus_each_gpu_needs(
    clients: AwsClients, targets: PreflightTargets
) -> None:
    """g5.16xlarge has one GPU and 64 vCPUs: allowing it makes each GPU cost 64 vCPUs."""
    bigger = replace(
        targets,
        gpu_instance_types=("g5.xlarge", "g5.16xlarge"),
        gpu_pools=(GpuPool("prod", 2, (ON_DEMAND,)),),
    )
    shapes = gpu_instance_shapes(clients, bigger.gpu_instance_types)
    assert {t: (s.vcpus, s.gpus) for t, s in shapes.items()} == {
        "g5.xlarge": (4, 1),
        "g5.16xlarge": (64, 1),
    }
    code = GPU_QUOTA_CODES[ON_DEMAND][0]
    with stubbed(clients.service_quotas) as quotas:
        quotas.add_response(
            "get_service_quota", quota(128), {"ServiceCode": "ec2", "QuotaCode": code}
        )
        (result,) = check_gpu_quotas(clients, bigger, shapes)
    assert result.status == "pass"
    assert "128 vCPUs" in result.detail


def test_wildcards_expand_to_gpu_types(clients: AwsClients) -> None:
    shapes = gpu_instance_shapes(clients, ("g6.*",))
    assert "g6.xlarge" in shapes
    assert all(name.startswith("g6.") for name in shapes)


# --- GPU offerings (moto) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("zones", "status"),
    [
        (("us-east-1a", "us-east-1b", "us-east-1c"), "pass"),
        (("us-east-1a", "us-east-1e"), "warn"),
        (("us-east-1e",), "fail"),
    ],
)
def test_gpu_types_offered_in_the_zones(
    clients: AwsClients, targets: PreflightTargets, zones: tuple[str, ...], status: str
) -> None:
    chosen = replace(targets, availability_zones=zones)
    shapes = gpu_instance_shapes(clients, chosen.gpu_instance_types)
    (result,) = check_gpu_offerings(clients, chosen, shapes)
    assert result.status == status


def test_no_matching_gpu_type_fails(clients: AwsClients, targets: PreflightTargets) -> None:
    chosen = replace(targets, gpu_instance_types=("m7i.large",))
    shapes = gpu_instance_shapes(clients, chosen.gpu_instance_types)
    assert shapes == {}
    (result,) = check_gpu_offerings(clients, chosen, shapes)
    assert result.status == "fail"


# --- EKS version (Stubber: moto has no DescribeClusterVersions) --------------------------


def cluster_version(version: str, end: date) -> dict[str, Any]:
    return {
        "clusterVersions": [
            {
                "clusterVersion": version,
                "status": "STANDARD_SUPPORT",
                "endOfStandardSupportDate": datetime(end.year, end.month, end.day, tzinfo=UTC),
            }
        ]
    }


@pytest.mark.parametrize(
    ("end", "status"),
    [
        (date(2027, 3, 27), "pass"),  # 121 days away
        (date(2027, 2, 1), "warn"),  # 67 days away
        (date(2026, 11, 25), "fail"),  # ended yesterday
    ],
)
def test_eks_version_support_window(
    clients: AwsClients, targets: PreflightTargets, end: date, status: str
) -> None:
    with stubbed(clients.eks) as eks:
        eks.add_response(
            "describe_cluster_versions", cluster_version("1.35", end), {"clusterVersions": ["1.35"]}
        )
        result = check_eks_version(clients, targets, TODAY)
    assert result.status == status
    assert end.isoformat() in result.detail


def test_an_eks_version_not_offered_fails(clients: AwsClients, targets: PreflightTargets) -> None:
    with stubbed(clients.eks) as eks:
        eks.add_response("describe_cluster_versions", {"clusterVersions": []})
        result = check_eks_version(clients, targets, TODAY)
    assert result.status == "fail"


# --- Aurora (Stubber: moto has no DescribeDBEngineVersions) -------------------------------


def engine_version(min_capacity: float, status: str = "available") -> dict[str, Any]:
    return {
        "DBEngineVersions": [
            {
                "Engine": "aurora-postgresql",
                "EngineVersion": "16.8",
                "Status": status,
                "ServerlessV2FeaturesSupport": {"MinCapacity": min_capacity, "MaxCapacity": 256.0},
            }
        ]
    }


@pytest.mark.parametrize(
    ("response", "min_acu", "status"),
    [
        (engine_version(0.0), 0.0, "pass"),
        (engine_version(0.5), 0.0, "fail"),
        (engine_version(0.5), 0.5, "pass"),
        (engine_version(0.0, status="deprecated"), 0.0, "warn"),
        ({"DBEngineVersions": []}, 0.0, "fail"),
    ],
)
def test_aurora_version_offered_and_able_to_pause(
    clients: AwsClients,
    targets: PreflightTargets,
    response: dict[str, Any],
    min_acu: float,
    status: str,
) -> None:
    with stubbed(clients.rds) as rds:
        rds.add_response(
            "describe_db_engine_versions",
            response,
            # The major the stack pins; RDS answers with that major's default minor.
            {"Engine": "aurora-postgresql", "EngineVersion": "16", "DefaultOnly": True},
        )
        result = check_aurora(clients, replace(targets, aurora_min_acu=min_acu))
    assert result.status == status
    if response["DBEngineVersions"]:
        assert "16 (default minor 16.8)" in result.detail


# --- spot service-linked role (moto) ------------------------------------------------------


def test_spot_role_missing_fails(clients: AwsClients, targets: PreflightTargets) -> None:
    result = check_spot_role(clients, targets)
    assert result.status == "fail"
    assert "create-service-linked-role --aws-service-name spot.amazonaws.com" in result.action


def test_spot_role_present_passes(clients: AwsClients, targets: PreflightTargets) -> None:
    clients.iam.create_role(
        RoleName=SPOT_SERVICE_LINKED_ROLE,
        Path="/aws-service-role/spot.amazonaws.com/",
        AssumeRolePolicyDocument="{}",
    )
    assert check_spot_role(clients, targets).status == "pass"


def test_spot_role_is_not_needed_without_spot_pools(
    clients: AwsClients, targets: PreflightTargets
) -> None:
    on_demand = replace(targets, gpu_pools=(GpuPool("prod", 15, (ON_DEMAND,)),))
    assert check_spot_role(clients, on_demand).status == "pass"


# --- bucket names (moto for 404/200, Stubber for 403) ------------------------------------


def test_a_free_bucket_name_passes(clients: AwsClients) -> None:
    result = check_bucket(clients, "models", "pingvas-models-free", ACCOUNT)
    assert (result.status, "free" in result.detail) == ("pass", True)


def test_our_own_bucket_passes(clients: AwsClients) -> None:
    clients.s3.create_bucket(Bucket="pingvas-models-ours")
    result = check_bucket(clients, "models", "pingvas-models-ours", ACCOUNT)
    assert result.status == "pass"
    assert "this account" in result.detail


def test_a_bucket_of_another_account_fails(clients: AwsClients) -> None:
    # Stubber: moto answers 200 for another account's bucket.
    with stubbed(clients.s3) as s3:
        s3.add_client_error("head_bucket", "403", http_status_code=403)
        result = check_bucket(clients, "models", "pingvas-models", ACCOUNT)
    assert result.status == "fail"


# --- the whole run --------------------------------------------------------------------------


def test_a_ready_account_passes(clients: AwsClients, targets: PreflightTargets) -> None:
    clients.iam.create_role(
        RoleName=SPOT_SERVICE_LINKED_ROLE,
        Path="/aws-service-role/spot.amazonaws.com/",
        AssumeRolePolicyDocument="{}",
    )
    with (
        stubbed(clients.service_quotas) as quotas,
        stubbed(clients.eks) as eks,
        stubbed(clients.rds) as rds,
    ):
        stub_quotas(quotas, spot=96, on_demand=64)
        eks.add_response("describe_cluster_versions", cluster_version("1.35", date(2027, 3, 27)))
        rds.add_response("describe_db_engine_versions", engine_version(0.0))
        results = run_preflight(clients, targets, configured_region="us-east-1", today=TODAY)
    assert [r for r in results if r.status != "pass"] == []
    assert not failed(results)
    checks = [r.check for r in results]
    assert checks[:2] == ["credentials", "region"]
    assert {"bucket logs", "bucket models", "EKS version", "Aurora version"} <= set(checks)


def test_a_denied_api_call_warns_instead_of_crashing(
    clients: AwsClients, targets: PreflightTargets
) -> None:
    # Stubber: an AccessDenied from Service Quotas.
    with (
        stubbed(clients.service_quotas) as quotas,
        stubbed(clients.eks) as eks,
        stubbed(clients.rds) as rds,
    ):
        quotas.add_client_error("get_service_quota", "AccessDeniedException", http_status_code=403)
        eks.add_response("describe_cluster_versions", cluster_version("1.35", date(2027, 3, 27)))
        rds.add_response("describe_db_engine_versions", engine_version(0.0))
        results = run_preflight(clients, targets, configured_region="us-east-1", today=TODAY)
    quota_results = [r for r in results if r.check == "GPU quota"]
    assert [r.status for r in quota_results] == ["warn"]
    assert "AccessDenied" in quota_results[0].detail


def test_a_different_region_warns(targets: PreflightTargets) -> None:
    result: CheckResult = check_region(replace(targets, region="eu-west-1"), "us-east-1")
    assert result.status == "warn"
    assert check_region(targets, "us-east-1").status == "pass"
