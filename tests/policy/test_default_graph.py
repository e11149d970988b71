"""Every control judges the real default stack, not just hand-built resources.

The default graph passes every mandatory control (test_offline.py). That alone would also
hold for a control that never looks at what the layers really register (a wrong type
token, a property read from the wrong place, a bucket whose purpose is not recognised).
So for each control, one real resource of the default graph is made wrong in the way the
control forbids, and the control must report exactly that resource: proof that it reads
the inputs the layers send.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest

from pingvas_infra import resource_types as rt
from pingvas_infra.plan.model import PlanResult, RecordedResource
from pingvas_infra.policy.catalogue import controls, parameters
from pingvas_infra.policy.controls import bucket_purpose, policies
from pingvas_infra.policy.offline import ControlResult, evaluate

Inputs = dict[str, Any]
# (type, logical name or None for the only one of its type)
Target = tuple[str, str | None]

EKS = (rt.EKS_CLUSTER_COMPONENT, None)
NODE_GROUP = (rt.EKS_NODE_GROUP_COMPONENT, None)
LAUNCH_TEMPLATE = (rt.LAUNCH_TEMPLATE, None)
NODE_CLASS = (rt.EC2_NODE_CLASS, "gpu-gpu-node-class")
AURORA = (rt.RDS_CLUSTER, None)
WRITER = (rt.RDS_CLUSTER_INSTANCE, "data-aurora-writer")
READER = (rt.RDS_CLUSTER_INSTANCE, "data-aurora-reader")
PARAMETERS = (rt.RDS_CLUSTER_PARAMETER_GROUP, None)
CACHE = (rt.CACHE_REPLICATION_GROUP, None)
CACHE_DEFAULT_USER = (rt.CACHE_USER, "data-cache-default")
FILE_SYSTEM = (rt.EFS_FILE_SYSTEM, None)
EFS_BACKUP = (rt.EFS_BACKUP_POLICY, None)
QUEUE = (rt.SQS_QUEUE, None)
VPC = (rt.VPC, None)
FLOW_LOG = (rt.FLOW_LOG, None)
DEFAULT_SG = (rt.DEFAULT_SECURITY_GROUP, None)
AURORA_INGRESS = (
    rt.SECURITY_GROUP_INGRESS_RULE,
    "data-aurora-from-cluster",
)
PUBLIC_SUBNET = (rt.SUBNET, "network-public-us-east-1a")
DEV_ENTRY = (rt.INGRESS_CLASS_PARAMS, "ingress-alb-dev-params")
PROD_ENTRY = (rt.INGRESS_CLASS_PARAMS, "ingress-alb-prod-params")
CERTIFICATE_ARN = (
    "arn:aws:acm:us-east-1:123456789012:certificate/0e2bd4d0-4a3e-4f6e-9b5e-1c2d3e4f5a6b"
)
PROVIDER = (rt.AWS_PROVIDER, None)


def bucket(name: str) -> Target:
    return (rt.BUCKET, f"storage-{name}")


def bucket_setting(kind: str, name: str) -> Target:
    return (f"aws:s3/{kind}:{kind[0].upper()}{kind[1:]}", f"storage-{name}")


@dataclasses.dataclass(frozen=True)
class Case:
    control: str
    target: Target
    # Makes the target's inputs wrong in place; None: the target is removed or unprotected.
    change: Callable[[Inputs], None] | None = None
    unprotect: bool = False
    remove: bool = False
    # Where the violation is reported, when not on the target itself.
    reported_on: Target | None = None


def setter(*path_and_value: Any) -> Callable[[Inputs], None]:
    *path, value = path_and_value

    def change(inputs: Inputs) -> None:
        node: Any = inputs
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return change


def deleter(*path: Any) -> Callable[[Inputs], None]:
    def change(inputs: Inputs) -> None:
        node: Any = inputs
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return change


def _parameters_without_force_ssl(inputs: Inputs) -> None:
    inputs["parameters"] = [p for p in inputs["parameters"] if p["name"] != "rds.force_ssl"]


def _policy_without_tls_deny(inputs: Inputs) -> None:
    document = json.loads(inputs["policy"])
    document["Statement"] = [s for s in document["Statement"] if s["Effect"] != "Deny"]
    inputs["policy"] = json.dumps(document)


def _public_postgres(inputs: Inputs) -> None:
    del inputs["referencedSecurityGroupId"]
    inputs["cidrIpv4"] = "0.0.0.0/0"


def attribute(key: str, value: str | None) -> Callable[[Inputs], None]:
    """Set (or, with None, remove) one load balancer attribute of a class's params."""

    def change(inputs: Inputs) -> None:
        attributes = [a for a in inputs["spec"]["loadBalancerAttributes"] if a["key"] != key]
        if value is not None:
            attributes.append({"key": key, "value": value})
        inputs["spec"]["loadBalancerAttributes"] = attributes

    return change


def _certificate_under_the_api_default_policy(inputs: Inputs) -> None:
    """What the controller does with a certificate and no TLS policy of the class's own:
    ELBSecurityPolicy-2016-08, and no redirect of plain HTTP."""
    inputs["spec"]["certificateArn"] = [CERTIFICATE_ARN]
    inputs["spec"].pop("sslPolicy", None)


def _default_tags_without_managed_by(inputs: Inputs) -> None:
    tags = json.loads(inputs["defaultTags"])
    del tags["tags"]["ManagedBy"]
    inputs["defaultTags"] = json.dumps(tags)


def _key_policy_open_to_iam(inputs: Inputs) -> None:
    """KMS's default statement: the account, so any of its IAM policies, may use the key."""
    document = json.loads(inputs["policy"])
    document["Statement"].append(
        {
            "Sid": "EnableIamUserPermissions",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    )
    inputs["policy"] = json.dumps(document)


def _no_route_for_the_heartbeat(inputs: Inputs) -> None:
    """The default stack has no heartbeat URL (Watchdog goes to null, already reported):
    dropping the route itself is a new finding."""
    route = inputs["values"]["alertmanager"]["config"]["route"]
    route["routes"] = [r for r in route["routes"] if "Watchdog" not in str(r["matchers"])]


def _a_namespace_routed_to_null(inputs: Inputs) -> None:
    routes = inputs["values"]["alertmanager"]["config"]["route"]["routes"]
    routes.append({"receiver": "null", "matchers": ['namespace = "kube-system"']})


CASES = [
    Case("eks-supported-version", EKS, setter("version", "1.28")),
    Case("eks-upgrade-policy-standard", EKS, setter("upgradePolicy", "supportType", "EXTENDED")),
    Case("eks-secrets-encryption", EKS, deleter("encryptionConfigKeyArn")),
    Case("eks-control-plane-logging", EKS, setter("enabledClusterLogTypes", ["api"])),
    Case("eks-endpoint-restricted", EKS, setter("endpointPrivateAccess", False)),
    Case("eks-access-entries", EKS, setter("authenticationMode", "CONFIG_MAP")),
    Case("eks-private-nodes", EKS, setter("nodeAssociatePublicIpAddress", True)),
    Case("eks-node-group-launch-template", NODE_GROUP, deleter("launchTemplate")),
    Case(
        "launch-template-imdsv2",
        LAUNCH_TEMPLATE,
        setter("metadataOptions", "httpTokens", "optional"),
    ),
    Case(
        "launch-template-ebs-encrypted",
        LAUNCH_TEMPLATE,
        setter("blockDeviceMappings", 0, "ebs", "encrypted", "false"),
    ),
    Case(
        "launch-template-no-public-ip",
        LAUNCH_TEMPLATE,
        setter("networkInterfaces", [{"associatePublicIpAddress": "true"}]),
    ),
    Case(
        "karpenter-imdsv2", NODE_CLASS, setter("spec", "metadataOptions", "httpTokens", "optional")
    ),
    Case(
        "karpenter-ami-pinned",
        NODE_CLASS,
        setter("spec", "amiSelectorTerms", [{"alias": "al2023@latest"}]),
    ),
    Case(
        "karpenter-ebs-encrypted",
        NODE_CLASS,
        setter("spec", "blockDeviceMappings", 0, "ebs", "encrypted", False),
    ),
    Case("rds-encrypted", AURORA, setter("storageEncrypted", False)),
    Case("rds-deletion-protection", AURORA, setter("deletionProtection", False)),
    Case("rds-backup-retention", AURORA, setter("backupRetentionPeriod", 1)),
    Case("rds-iam-auth", AURORA, setter("iamDatabaseAuthenticationEnabled", False)),
    Case("rds-managed-master-password", AURORA, setter("manageMasterUserPassword", False)),
    Case("rds-log-exports", AURORA, setter("enabledCloudwatchLogsExports", [])),
    Case("rds-copy-tags-to-snapshots", AURORA, setter("copyTagsToSnapshot", False)),
    Case("rds-no-public-access", READER, setter("publiclyAccessible", True)),
    Case("rds-force-ssl", PARAMETERS, _parameters_without_force_ssl),
    Case("rds-auto-minor-upgrade", WRITER, setter("autoMinorVersionUpgrade", False)),
    Case("rds-performance-insights", READER, setter("performanceInsightsEnabled", False)),
    Case("elasticache-encrypted-at-rest", CACHE, setter("atRestEncryptionEnabled", False)),
    Case("elasticache-encrypted-in-transit", CACHE, setter("transitEncryptionMode", "preferred")),
    Case("elasticache-auth", CACHE, deleter("userGroupIds")),
    Case(
        "elasticache-users-authenticated", CACHE_DEFAULT_USER, setter("accessString", "on ~* +@all")
    ),
    Case("elasticache-failover", CACHE, setter("multiAzEnabled", False)),
    Case("elasticache-backups", CACHE, setter("snapshotRetentionLimit", 0)),
    Case("elasticache-auto-minor-upgrade", CACHE, setter("autoMinorVersionUpgrade", False)),
    Case(
        "s3-public-access-block",
        bucket_setting("bucketPublicAccessBlock", "models"),
        setter("blockPublicPolicy", False),
        reported_on=bucket("models"),
    ),
    Case(
        "s3-encryption",
        bucket_setting("bucketServerSideEncryptionConfiguration", "prod-images"),
        setter("rules", 0, "applyServerSideEncryptionByDefault", "sseAlgorithm", "AES256"),
        reported_on=bucket("prod-images"),
    ),
    Case(
        "s3-tls-only",
        bucket_setting("bucketPolicy", "dev-images"),
        _policy_without_tls_deny,
        reported_on=bucket("dev-images"),
    ),
    Case(
        "s3-versioning",
        bucket_setting("bucketVersioning", "backups"),
        setter("versioningConfiguration", "status", "Suspended"),
        reported_on=bucket("backups"),
    ),
    Case(
        "s3-access-logging",
        bucket_setting("bucketLogging", "prod-images"),
        remove=True,
        reported_on=bucket("prod-images"),
    ),
    Case(
        "s3-ownership-enforced",
        bucket_setting("bucketOwnershipControls", "logs"),
        setter("rule", "objectOwnership", "ObjectWriter"),
        reported_on=bucket("logs"),
    ),
    Case("efs-encrypted", FILE_SYSTEM, setter("encrypted", False)),
    Case(
        "efs-backups",
        EFS_BACKUP,
        setter("backupPolicy", "status", "DISABLED"),
        reported_on=FILE_SYSTEM,
    ),
    Case("kms-key-rotation", (rt.KMS_KEY, "data-key"), setter("enableKeyRotation", False)),
    Case("sqs-encrypted", QUEUE, setter("sqsManagedSseEnabled", False)),
    Case(
        "log-group-retention",
        (rt.LOG_GROUP, "data-aurora-postgresql"),
        deleter("retentionInDays"),
    ),
    Case("log-group-kms", (rt.LOG_GROUP, "network-flow-logs"), deleter("kmsKeyId")),
    Case(
        "kms-explicit-key-policy",
        (rt.KMS_KEY_POLICY, "storage-prod-key"),
        _key_policy_open_to_iam,
        reported_on=(rt.KMS_KEY, "storage-prod-key"),
    ),
    Case("subnet-no-auto-public-ip", PUBLIC_SUBNET, setter("mapPublicIpOnLaunch", True)),
    Case(
        "default-sg-closed",
        DEFAULT_SG,
        setter("ingress", [{"protocol": "-1", "fromPort": 0, "toPort": 0, "self": True}]),
    ),
    Case("vpc-flow-logs", FLOW_LOG, remove=True, reported_on=VPC),
    Case("sg-no-public-data-ports", AURORA_INGRESS, _public_postgres),
    Case("alb-class-scoped", DEV_ENTRY, deleter("spec", "namespaceSelector")),
    Case("alb-https-listener", PROD_ENTRY, _certificate_under_the_api_default_policy),
    Case(
        "alb-drop-invalid-headers",
        DEV_ENTRY,
        attribute("routing.http.drop_invalid_header_fields.enabled", "false"),
    ),
    Case("alb-deletion-protection", PROD_ENTRY, attribute("deletion_protection.enabled", "false")),
    Case("alb-access-logging", PROD_ENTRY, attribute("access_logs.s3.enabled", None)),
    Case(
        "alerts-reach-someone",
        (rt.HELM_RELEASE, "operations-kube-prometheus-stack"),
        _a_namespace_routed_to_null,
    ),
    Case(
        "heartbeat-reaches-a-switch",
        (rt.HELM_RELEASE, "operations-kube-prometheus-stack"),
        _no_route_for_the_heartbeat,
    ),
    Case("required-tags", PROVIDER, _default_tags_without_managed_by, reported_on=VPC),
    Case("stateful-protected", bucket("models"), unprotect=True),
]


def find(resources: list[RecordedResource], target: Target) -> RecordedResource:
    type_token, name = target
    (found,) = [r for r in resources if r.type == type_token and name in (None, r.name)]
    return found


def run(control_id: str, resources: list[RecordedResource]) -> ControlResult:
    (policy,) = [p for p in policies() if p.name == control_id]
    (result,) = evaluate(resources, pack=[policy])
    return result


def broken(graph: PlanResult, case: Case) -> list[RecordedResource]:
    target = find(graph.resources, case.target)
    if case.remove:
        return [r for r in graph.resources if r is not target]
    inputs = copy.deepcopy(target.inputs)
    if case.change is not None:
        case.change(inputs)
    changed = dataclasses.replace(
        target, inputs=inputs, protect=False if case.unprotect else target.protect
    )
    return [changed if r is target else r for r in graph.resources]


def test_every_control_has_a_case_on_the_real_graph() -> None:
    assert [case.control for case in CASES] == [c.id for c in controls()]


@pytest.mark.parametrize("case", CASES, ids=[case.control for case in CASES])
def test_the_control_reports_the_real_resource_made_wrong(graph: PlanResult, case: Case) -> None:
    before = run(case.control, graph.resources)
    after = run(case.control, broken(graph, case))
    expected = find(graph.resources, case.reported_on or case.target).urn
    assert not after.not_evaluated, after.not_evaluated
    # New findings only (the advisory endpoint control already reports the open endpoint).
    new = set(after.violations) - set(before.violations)
    assert expected in {v.urn for v in new}, (case.control, [v.message for v in after.violations])


def test_the_real_buckets_are_told_apart_by_purpose(graph: PlanResult) -> None:
    purposes = {
        bucket_purpose(b.inputs["bucket"], b.name): b.inputs["tags"]["Purpose"]
        for b in graph.of_type(rt.BUCKET)
    }
    # The off-region copy of the backups exists only with storage.backupCopy.enabled.
    assert purposes == {p: p for p in parameters().bucket_purposes if p != "backups-copy"}


def test_versioning_is_demanded_of_the_data_buckets_only(graph: PlanResult) -> None:
    """Prod images, models and backups are versioned; dev images and access
    logs need not be."""
    assert set(parameters().versioned_bucket_purposes) == {
        "prod-images",
        "models",
        "backups",
        "backups-copy",
    }
    for purpose in ("dev-images", "logs"):
        versioning = bucket_setting("bucketVersioning", purpose)
        assert not [r for r in graph.resources if (r.type, r.name) == versioning]
    assert run("s3-versioning", graph.resources).violations == []
