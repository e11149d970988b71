"""Malformed cluster configuration is refused with the offending key named; risky but valid
settings produce plan warnings."""

from __future__ import annotations

import datetime as dt

import pytest

from pingvas_infra.cluster import config as cluster_config
from pingvas_infra.eks_versions import SupportPhase, eks_versions, offered_versions
from pingvas_infra.gpu.config import kubernetes_version_problems
from pingvas_infra.instances import instance_shapes
from pingvas_infra.plan.stackfile import StackFile
from tests.support.config_cases import (
    BadConfigCase,
    config_refusal,
    config_with,
    refused_config_test,
)

# The day the version table was read; config checks run "as of" this day in these tests.
TABLE_DAY = dt.date(2026, 11, 26)


@pytest.fixture(autouse=True)
def as_of_table_day(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster_config, "today", lambda: TABLE_DAY)


# (case id, pingvas-infra:cluster overrides, key the message must name, text it must contain)
BAD_CLUSTER: list[BadConfigCase] = [
    (
        "version-unknown",
        {"kubernetesVersion": "1.99"},
        "pingvas-infra:cluster.kubernetesVersion",
        "unknown to EKS; allowed on 2026-11-26 (standard support): 1.34, 1.35, 1.36",
    ),
    (
        "version-past-extended-support",
        {"kubernetesVersion": "1.28"},
        "pingvas-infra:cluster.kubernetesVersion",
        "EKS no longer offers versions before 1.29; allowed on 2026-11-26 (standard support): 1.34",
    ),
    (
        "version-not-a-version",
        {"kubernetesVersion": "latest"},
        "pingvas-infra:cluster.kubernetesVersion",
        "unknown to EKS; allowed on 2026-11-26 (standard support): 1.34, 1.35, 1.36",
    ),
    (
        "version-no-longer-offered",
        {"kubernetesVersion": "1.30"},
        "pingvas-infra:cluster.kubernetesVersion",
        "EKS stopped offering it on 2026-07-23",
    ),
    (
        "version-as-yaml-number",
        {"kubernetesVersion": 1.35},
        "pingvas-infra:cluster.kubernetesVersion",
        "quoted text",
    ),
    (
        "version-in-extended-with-standard-policy",
        {"kubernetesVersion": "1.32"},
        "pingvas-infra:cluster.kubernetesVersion",
        "past end of standard support (2026-03-23)",
    ),
    (
        "support-type-unknown",
        {"supportType": "BASIC"},
        "pingvas-infra:cluster.supportType",
        "allowed: only STANDARD. EXTENDED is refused: the mandatory policy control "
        "eks-upgrade-policy-standard",
    ),
    (
        "admin-arn-root",
        {"adminPrincipalArns": ["arn:aws:iam::123456789012:root"]},
        "pingvas-infra:cluster.adminPrincipalArns[0]",
        "an IAM role or user ARN",
    ),
    (
        "admin-arn-duplicate",
        {
            "adminPrincipalArns": [
                "arn:aws:iam::123456789012:role/ops",
                "arn:aws:iam::123456789012:role/ops",
            ]
        },
        "pingvas-infra:cluster.adminPrincipalArns[1]",
        "each principal in one list only",
    ),
    (
        "deployer-arn-root",
        {"deployerPrincipalArns": ["arn:aws:iam::123456789012:root"]},
        "pingvas-infra:cluster.deployerPrincipalArns[0]",
        "an IAM role or user ARN",
    ),
    (
        "deployer-arn-session",
        {"deployerPrincipalArns": ["arn:aws:sts::123456789012:assumed-role/deploy/ci"]},
        "pingvas-infra:cluster.deployerPrincipalArns[0]",
        "an IAM role or user ARN",
    ),
    (
        "deployer-arn-duplicate",
        {
            "deployerPrincipalArns": [
                "arn:aws:iam::123456789012:role/deploy",
                "arn:aws:iam::123456789012:role/deploy",
            ]
        },
        "pingvas-infra:cluster.deployerPrincipalArns[1]",
        "each principal once (also deployerPrincipalArns[0])",
    ),
    (
        "deployer-arn-other-partition",
        {"deployerPrincipalArns": ["arn:aws-cn:iam::123456789012:role/deploy"]},
        "pingvas-infra:cluster.deployerPrincipalArns[0]",
        "an ARN of partition aws",
    ),
    (
        "public-cidr-private-range",
        {"publicAccessCidrs": ["203.0.113.0/24", "10.0.0.0/8"]},
        "pingvas-infra:cluster.publicAccessCidrs[1]",
        "a public range",
    ),
    (
        "public-cidr-garbage",
        {"publicAccessCidrs": ["office"]},
        "pingvas-infra:cluster.publicAccessCidrs[0]",
        "IPv4 CIDR",
    ),
    (
        "public-cidr-host-bits",
        {"publicAccessCidrs": ["198.51.100.7/24"]},
        "pingvas-infra:cluster.publicAccessCidrs[0]",
        "host bits",
    ),
    (
        "log-retention-not-allowed",
        {"logRetentionDays": 10},
        "pingvas-infra:cluster.logRetentionDays",
        "allowed: 1, 3, 5, 7, 14, 30",
    ),
    (
        "system-type-unknown",
        {"systemNodes": {"instanceTypes": ["t3.medium", "t3a.medium", "t3.mediun"]}},
        "pingvas-infra:cluster.systemNodes.instanceTypes[2]",
        "unknown instance type; allowed: t3.medium, t3a.medium",
    ),
    (
        "system-type-gpu",
        {"systemNodes": {"instanceTypes": ["t3.medium", "t3a.medium", "g4dn.xlarge"]}},
        "pingvas-infra:cluster.systemNodes.instanceTypes[2]",
        "unknown instance type",
    ),
    (
        "system-type-without-prefixes",
        {"systemNodes": {"instanceTypes": ["t3.medium", "t3a.medium", "t2.medium"]}},
        "pingvas-infra:cluster.systemNodes.instanceTypes[2]",
        "a Nitro type: the VPC CNI gives xen instances no /28 prefixes, so t2.medium would "
        "hold 17 pods, not the 40",
    ),
    (
        "system-too-few-types",
        {"systemNodes": {"instanceTypes": ["t3.medium", "t3a.medium"]}},
        "pingvas-infra:cluster.systemNodes.instanceTypes",
        "at least 3 instance types",
    ),
    (
        "system-mixed-size-classes",
        {"systemNodes": {"instanceTypes": ["t3.medium", "t3a.medium", "m5.large"]}},
        "pingvas-infra:cluster.systemNodes.instanceTypes",
        "one size class",
    ),
    (
        "system-min-one",
        {"systemNodes": {"minSize": 1, "desiredSize": 1}},
        "pingvas-infra:cluster.systemNodes.minSize",
        "below the minimum 2; allowed: a whole number from 2 to 450",
    ),
    (
        "system-desired-above-max",
        {"systemNodes": {"desiredSize": 5}},
        "pingvas-infra:cluster.systemNodes.desiredSize",
        "from minSize (2) to maxSize (4)",
    ),
    (
        "system-capacity-type",
        {"systemNodes": {"capacityType": "PREEMPTIBLE"}},
        "pingvas-infra:cluster.systemNodes.capacityType",
        "allowed: one of SPOT, ON_DEMAND",
    ),
    (
        "system-disk-too-small",
        {"systemNodes": {"diskSizeGib": 8}},
        "pingvas-infra:cluster.systemNodes.diskSizeGib",
        "from 20 to 200",
    ),
    (
        "system-unknown-key",
        {"systemNodes": {"instanceType": "t3.medium"}},
        "pingvas-infra:cluster.systemNodes.instanceType",
        "allowed keys: capacityType, desiredSize",
    ),
    (
        "cluster-unknown-key",
        {"endpointPublic": False},
        "pingvas-infra:cluster.endpointPublic",
        "allowed",
    ),
]


test_bad_cluster_config_names_key = refused_config_test(BAD_CLUSTER, "pingvas-infra:cluster")


def test_every_cluster_problem_is_reported_at_once(stack_file: StackFile) -> None:
    overrides = {
        "kubernetesVersion": "1.99",
        "publicAccessCidrs": ["192.168.0.0/16"],
        "systemNodes": {"minSize": 1, "instanceTypes": ["t3.medium"]},
    }
    message = config_refusal(stack_file, {"pingvas-infra:cluster": overrides})
    for key in (
        "kubernetesVersion",
        "publicAccessCidrs[0]",
        "systemNodes.minSize",
        "systemNodes.instanceTypes",
    ):
        assert f"pingvas-infra:cluster.{key} = " in message


def test_defaults_are_a_standard_support_version_with_standard_policy(
    stack_file: StackFile,
) -> None:
    config = config_with(stack_file, {}).cluster
    assert config.support_type == "STANDARD"
    version = eks_versions()[config.kubernetes_version]
    assert version.phase(TABLE_DAY) is SupportPhase.STANDARD
    assert config.kubernetes_version in offered_versions(TABLE_DAY)
    assert config.deletion_protection


def test_default_system_types_share_one_size_class(stack_file: StackFile) -> None:
    nodes = config_with(stack_file, {}).cluster.system_nodes
    shapes = [instance_shapes()[t] for t in nodes.instance_types]
    assert len(shapes) >= 3
    assert len({s.size_class for s in shapes}) == 1
    assert {s.gpus for s in shapes} == {0}
    assert (nodes.min_size, nodes.desired_size, nodes.max_size) == (2, 2, 4)


def test_extended_support_is_refused_with_the_policy_that_would_fail_the_plan(
    stack_file: StackFile,
) -> None:
    """EXTENDED would fail the mandatory policy control eks-upgrade-policy-standard on
    every plan: the config refuses it first, naming that control."""
    message = config_refusal(
        stack_file,
        {"pingvas-infra:cluster": {"kubernetesVersion": "1.32", "supportType": "EXTENDED"}},
    )
    assert "pingvas-infra:cluster.supportType = " in message
    assert "eks-upgrade-policy-standard" in message
    assert "pingvas-infra:cluster.kubernetesVersion = " in message
    assert "eks-supported-version" in message


def test_open_endpoint_warns_and_narrow_endpoint_does_not(stack_file: StackFile) -> None:
    default = config_with(stack_file, {})
    (warning,) = [w for w in default.warnings() if w.key.endswith("publicAccessCidrs")]
    assert warning.key == "pingvas-infra:cluster.publicAccessCidrs"
    assert "0.0.0.0/0" in warning.render("")
    narrowed = config_with(
        stack_file, {"pingvas-infra:cluster": {"publicAccessCidrs": ["203.0.113.0/24"]}}
    )
    assert not [w for w in narrowed.warnings() if w.key.endswith("publicAccessCidrs")]
    private_only = config_with(stack_file, {"pingvas-infra:cluster": {"publicAccessCidrs": []}})
    assert not private_only.cluster.public_endpoint
    assert not [w for w in private_only.warnings() if w.key.endswith("publicAccessCidrs")]


def test_unlisted_deployers_warn_and_listed_ones_do_not(stack_file: StackFile) -> None:
    """Unlisted, the Secrets key names whoever runs the program: the plan says so."""
    default = config_with(stack_file, {})
    (warning,) = [w for w in default.warnings() if w.key.endswith("deployerPrincipalArns")]
    assert warning.key == "pingvas-infra:cluster.deployerPrincipalArns"
    assert "preview" in warning.message
    assert "AWS_DEPLOY_ROLE_ARN" in warning.message
    listed = config_with(
        stack_file,
        {
            "pingvas-infra:cluster": {
                "deployerPrincipalArns": ["arn:aws:iam::123456789012:role/deploy"]
            }
        },
    )
    assert not [w for w in listed.warnings() if w.key.endswith("deployerPrincipalArns")]


def test_upgrade_reminder_near_end_of_standard_support(
    stack_file: StackFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cluster_config, "today", lambda: dt.date(2027, 1, 15))
    config = config_with(
        stack_file, {"pingvas-infra:cluster": {"publicAccessCidrs": ["8.8.8.0/24"]}}
    )
    (warning,) = [w for w in config.warnings() if w.key.endswith("kubernetesVersion")]
    assert warning.key == "pingvas-infra:cluster.kubernetesVersion"
    assert "2027-03-27 (71 days)" in warning.message


def test_support_phases_follow_the_table() -> None:
    v135 = eks_versions()["1.35"]
    assert v135.phase(dt.date(2027, 3, 26)) is SupportPhase.STANDARD
    assert v135.phase(dt.date(2027, 3, 27)) is SupportPhase.EXTENDED
    assert v135.phase(dt.date(2028, 3, 27)) is SupportPhase.ENDED
    # Every version: 14 months of standard support, then 12 of extended.
    for version in eks_versions().values():
        standard = (
            version.end_of_standard_support.year * 12 + version.end_of_standard_support.month
        ) - (version.eks_release.year * 12 + version.eks_release.month)
        extended = (
            version.end_of_extended_support.year * 12 + version.end_of_extended_support.month
        ) - (version.end_of_standard_support.year * 12 + version.end_of_standard_support.month)
        assert (standard, extended) == (14, 12), version


def test_pinned_gpu_software_covers_every_offered_version() -> None:
    for version in offered_versions(TABLE_DAY):
        assert kubernetes_version_problems(version) == [], version
    problems = kubernetes_version_problems("1.37")
    assert len(problems) == 2
    assert "Karpenter 1.14.1 supports Kubernetes 1.26 to 1.36" in problems[0].allowed
