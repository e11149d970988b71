"""`pingvas-infra preflight`: is this AWS account ready for the first `pulumi up`?

Each check reads the account with boto3 and says pass, warn or fail, and what to do. The
most common surprise is covered first: new accounts have 0 vCPUs of G and VT instances,
on demand and spot, so Karpenter's GPU nodes would never appear.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property, partial
from typing import TYPE_CHECKING, Literal

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from pingvas_infra.labels import ON_DEMAND, SPOT
from pingvas_infra.preflight.targets import PreflightTargets

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_eks import EKSClient
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_rds import RDSClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_service_quotas import ServiceQuotasClient
    from mypy_boto3_sts import STSClient

Status = Literal["pass", "warn", "fail"]

# EC2 vCPU quotas of the G and VT families (Service Quotas codes).
GPU_QUOTA_CODES = {
    ON_DEMAND: ("L-DB2E81BA", "Running On-Demand G and VT instances"),
    SPOT: ("L-3819A6DF", "All G and VT Spot Instance Requests"),
}
SPOT_SERVICE_LINKED_ROLE = "AWSServiceRoleForEC2Spot"
AURORA_ENGINE = "aurora-postgresql"
# Warn this long before a Kubernetes version leaves EKS standard support.
EKS_WARN_DAYS = 90


@dataclass(frozen=True)
class CheckResult:
    check: str
    status: Status
    detail: str
    action: str = ""


class AwsClients:
    """The boto3 clients the checks use, one per service, all in the checked region."""

    def __init__(self, session: boto3.session.Session, region: str) -> None:
        self.session = session
        self.region = region

    @cached_property
    def sts(self) -> STSClient:
        return self.session.client("sts", region_name=self.region)

    @cached_property
    def ec2(self) -> EC2Client:
        return self.session.client("ec2", region_name=self.region)

    @cached_property
    def service_quotas(self) -> ServiceQuotasClient:
        return self.session.client("service-quotas", region_name=self.region)

    @cached_property
    def eks(self) -> EKSClient:
        return self.session.client("eks", region_name=self.region)

    @cached_property
    def rds(self) -> RDSClient:
        return self.session.client("rds", region_name=self.region)

    @cached_property
    def iam(self) -> IAMClient:
        return self.session.client("iam", region_name=self.region)

    @cached_property
    def s3(self) -> S3Client:
        return self.session.client("s3", region_name=self.region)


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _guarded(check: str, run: Callable[[], list[CheckResult]]) -> list[CheckResult]:
    """Run a check; an API error (a missing permission, say) becomes a warning."""
    try:
        return run()
    except (ClientError, BotoCoreError) as exc:
        return [
            CheckResult(
                check,
                "warn",
                f"could not check: {exc}",
                "run preflight with credentials allowed to read this (see the error)",
            )
        ]


def check_identity(clients: AwsClients) -> tuple[CheckResult, str | None]:
    try:
        identity = clients.sts.get_caller_identity()
    except (ClientError, BotoCoreError) as exc:
        return (
            CheckResult(
                "credentials",
                "fail",
                f"no usable AWS credentials: {exc}",
                "configure credentials (`aws configure`, `aws sso login`) or pass --profile",
            ),
            None,
        )
    account = identity["Account"]
    return CheckResult("credentials", "pass", f"account {account} as {identity['Arn']}"), account


def check_region(targets: PreflightTargets, configured_region: str) -> CheckResult:
    if targets.region != configured_region:
        return CheckResult(
            "region",
            "warn",
            f"checking {targets.region}, but the stack deploys to {configured_region} (aws:region)",
            f"run without --region, or set aws:region to {targets.region}",
        )
    return CheckResult(
        "region", "pass", f"{targets.region}, zones {', '.join(targets.availability_zones)}"
    )


@dataclass(frozen=True)
class InstanceShape:
    vcpus: int
    gpus: int


def gpu_instance_shapes(clients: AwsClients, patterns: Sequence[str]) -> dict[str, InstanceShape]:
    """vCPUs and GPUs of every GPU instance type the patterns name (EC2 wildcards allowed)."""
    shapes: dict[str, InstanceShape] = {}
    paginator = clients.ec2.get_paginator("describe_instance_types")
    pages = paginator.paginate(Filters=[{"Name": "instance-type", "Values": list(patterns)}])
    for page in pages:
        for info in page["InstanceTypes"]:
            gpus = sum(g.get("Count", 0) for g in info.get("GpuInfo", {}).get("Gpus", []))
            if gpus:
                shapes[info["InstanceType"]] = InstanceShape(info["VCpuInfo"]["DefaultVCpus"], gpus)
    return shapes


def _quota_value(clients: AwsClients, code: str) -> float:
    try:
        quota = clients.service_quotas.get_service_quota(ServiceCode="ec2", QuotaCode=code)
    except ClientError as exc:
        if _error_code(exc) != "NoSuchResourceException":
            raise
        # Never changed in this account: the AWS default applies.
        quota = clients.service_quotas.get_aws_default_service_quota(
            ServiceCode="ec2", QuotaCode=code
        )
    return float(quota["Quota"].get("Value", 0.0))


def check_gpu_quotas(
    clients: AwsClients, targets: PreflightTargets, shapes: dict[str, InstanceShape]
) -> list[CheckResult]:
    results: list[CheckResult] = []
    if not shapes:
        return results
    # Each GPU the pools may request brings at most this many vCPUs along.
    vcpus_per_gpu = max(s.vcpus / s.gpus for s in shapes.values())
    smallest = min(s.vcpus for s in shapes.values())
    for capacity_type, (code, name) in GPU_QUOTA_CODES.items():
        pools = [p for p in targets.gpu_pools if capacity_type in p.capacity_types]
        if not pools:
            continue
        gpus = sum(p.gpus for p in pools)
        needed = math.ceil(gpus * vcpus_per_gpu)
        quota = _quota_value(clients, code)
        check = f"{capacity_type} GPU quota"
        request = (
            f"request {needed} vCPUs: aws service-quotas request-service-quota-increase "
            f"--service-code ec2 --quota-code {code} --desired-value {needed} "
            f"--region {targets.region}"
        )
        detail = (
            f"{name} ({code}) = {quota:g} vCPUs; the "
            f"{'/'.join(p.environment for p in pools)} pools may launch {gpus} GPUs = "
            f"{needed} vCPUs"
        )
        if quota >= needed:
            results.append(CheckResult(check, "pass", detail))
        elif quota >= smallest:
            can_run = int(quota // vcpus_per_gpu)
            results.append(
                CheckResult(check, "warn", f"{detail}; only about {can_run} GPUs fit", request)
            )
        else:
            results.append(
                CheckResult(
                    check,
                    "fail",
                    f"{detail}; not even one {smallest}-vCPU GPU node fits, so none will start",
                    request,
                )
            )
    return results


def check_gpu_offerings(
    clients: AwsClients, targets: PreflightTargets, shapes: dict[str, InstanceShape]
) -> list[CheckResult]:
    check = "GPU instance types"
    if not shapes:
        return [
            CheckResult(
                check,
                "fail",
                f"no GPU instance type matches {', '.join(targets.gpu_instance_types)}",
                "fix the GPU pools' instance types",
            )
        ]
    offered: dict[str, set[str]] = {zone: set() for zone in targets.availability_zones}
    paginator = clients.ec2.get_paginator("describe_instance_type_offerings")
    pages = paginator.paginate(
        LocationType="availability-zone",
        Filters=[
            {"Name": "instance-type", "Values": sorted(shapes)},
            {"Name": "location", "Values": list(targets.availability_zones)},
        ],
    )
    for page in pages:
        for offering in page["InstanceTypeOfferings"]:
            offered.setdefault(offering["Location"], set()).add(offering["InstanceType"])
    empty = [zone for zone in targets.availability_zones if not offered[zone]]
    per_zone = "; ".join(
        f"{zone}: {', '.join(sorted(offered[zone])) or 'none'}"
        for zone in targets.availability_zones
    )
    if len(empty) == len(targets.availability_zones):
        return [
            CheckResult(
                check,
                "fail",
                f"none of {', '.join(sorted(shapes))} is offered in {', '.join(empty)}",
                "choose GPU instance types or zones where they are offered",
            )
        ]
    if empty:
        return [
            CheckResult(
                check,
                "warn",
                f"no allowed GPU type in {', '.join(empty)} ({per_zone})",
                "GPU nodes will only start in the other zones; allow more types or change zones",
            )
        ]
    return [CheckResult(check, "pass", per_zone)]


def check_eks_version(clients: AwsClients, targets: PreflightTargets, today: date) -> CheckResult:
    check = "EKS version"
    version = targets.kubernetes_version
    found = clients.eks.describe_cluster_versions(clusterVersions=[version]).get(
        "clusterVersions", []
    )
    if not found:
        return CheckResult(
            check,
            "fail",
            f"EKS does not offer Kubernetes {version} in {targets.region}",
            "choose a version from `aws eks describe-cluster-versions`",
        )
    end_date = found[0].get("endOfStandardSupportDate")
    if end_date is None:
        return CheckResult(check, "warn", f"EKS gives no end of standard support for {version}")
    end = end_date.date()
    days = (end - today).days
    detail = f"Kubernetes {version}: standard support ends {end.isoformat()}"
    upgrade = (
        "upgrade pingvas-infra:cluster.kubernetesVersion before then (extended support: $0.60/h)"
    )
    if days < 0:
        return CheckResult(
            check,
            "fail",
            f"{detail}, {-days} days ago: the cluster bills extended support",
            upgrade,
        )
    if days <= EKS_WARN_DAYS:
        return CheckResult(check, "warn", f"{detail}, in {days} days", upgrade)
    return CheckResult(check, "pass", f"{detail} ({days} days)")


def check_aurora(clients: AwsClients, targets: PreflightTargets) -> CheckResult:
    check = "Aurora version"
    version = targets.aurora_engine_version
    # The stack pins the major: RDS creates the cluster on the major's default minor.
    found = clients.rds.describe_db_engine_versions(
        Engine=AURORA_ENGINE, EngineVersion=version, DefaultOnly=True
    ).get("DBEngineVersions", [])
    if not found:
        return CheckResult(
            check,
            "fail",
            f"{AURORA_ENGINE} {version} is not offered in {targets.region}",
            f"choose one of `aws rds describe-db-engine-versions --engine {AURORA_ENGINE}`",
        )
    engine = found[0]
    version = f"{version} (default minor {engine.get('EngineVersion', 'not reported')})"
    min_capacity = engine.get("ServerlessV2FeaturesSupport", {}).get("MinCapacity")
    if targets.aurora_min_acu == 0 and min_capacity != 0:
        return CheckResult(
            check,
            "fail",
            f"{AURORA_ENGINE} {version} cannot scale Serverless v2 to 0 ACU "
            f"(its minimum is {min_capacity if min_capacity is not None else 'not reported'})",
            "choose a major whose default minor has ServerlessV2FeaturesSupport.MinCapacity 0, "
            "or raise minAcu",
        )
    if engine.get("Status") == "deprecated":
        return CheckResult(
            check,
            "warn",
            f"{AURORA_ENGINE} {version} is deprecated",
            "choose a newer major version",
        )
    scale = " and scales to 0 ACU" if targets.aurora_min_acu == 0 else ""
    return CheckResult(check, "pass", f"{AURORA_ENGINE} {version} is offered{scale}")


def check_spot_role(clients: AwsClients, targets: PreflightTargets) -> CheckResult:
    check = "spot service-linked role"
    if not any(SPOT in p.capacity_types for p in targets.gpu_pools):
        return CheckResult(check, "pass", "no pool uses spot")
    try:
        clients.iam.get_role(RoleName=SPOT_SERVICE_LINKED_ROLE)
    except ClientError as exc:
        if _error_code(exc) != "NoSuchEntity":
            raise
        return CheckResult(
            check,
            "fail",
            f"{SPOT_SERVICE_LINKED_ROLE} does not exist: Karpenter cannot launch spot nodes",
            "aws iam create-service-linked-role --aws-service-name spot.amazonaws.com",
        )
    return CheckResult(check, "pass", f"{SPOT_SERVICE_LINKED_ROLE} exists")


def check_bucket(clients: AwsClients, purpose: str, name: str, account: str) -> CheckResult:
    check = f"bucket {purpose}"
    try:
        clients.s3.head_bucket(Bucket=name, ExpectedBucketOwner=account)
    except ClientError as exc:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = _error_code(exc)
        if status == 404 or code in ("404", "NoSuchBucket"):
            return CheckResult(check, "pass", f"{name} is free")
        if status == 403 or code == "403":
            return CheckResult(
                check,
                "fail",
                f"{name} belongs to another account",
                "bucket names are global: change the storage bucket names",
            )
        if status == 301 or code in ("301", "PermanentRedirect"):
            return CheckResult(
                check,
                "fail",
                f"{name} exists in another region",
                "change the storage bucket names",
            )
        raise
    return CheckResult(
        check,
        "pass",
        f"{name} already exists in this account",
        "fine if this stack created it; otherwise `pulumi import` it or pick another name",
    )


def _bucket_results(
    clients: AwsClients, purpose: str, name: str, account: str
) -> list[CheckResult]:
    return [check_bucket(clients, purpose, name, account)]


def run_preflight(
    clients: AwsClients,
    targets: PreflightTargets,
    *,
    configured_region: str,
    today: date,
) -> list[CheckResult]:
    identity, account = check_identity(clients)
    results = [identity]
    if account is None:
        # Every other check needs working credentials.
        return results
    results.append(check_region(targets, configured_region))

    shapes: dict[str, InstanceShape] = {}

    def gpu_checks() -> list[CheckResult]:
        shapes.update(gpu_instance_shapes(clients, targets.gpu_instance_types))
        return check_gpu_offerings(clients, targets, shapes)

    results += _guarded("GPU instance types", gpu_checks)
    results += _guarded("GPU quota", lambda: check_gpu_quotas(clients, targets, shapes))
    results += _guarded("EKS version", lambda: [check_eks_version(clients, targets, today)])
    results += _guarded("Aurora version", lambda: [check_aurora(clients, targets)])
    results += _guarded("spot service-linked role", lambda: [check_spot_role(clients, targets)])
    for purpose, name in sorted(targets.bucket_names(account).items()):
        results += _guarded(
            f"bucket {purpose}", partial(_bucket_results, clients, purpose, name, account)
        )
    return results


def failed(results: Iterable[CheckResult]) -> bool:
    return any(r.status == "fail" for r in results)
