"""Every resource control: a deliberately bad resource is caught, a good one passes.

Each case runs one control through the offline runner (pulumi-policy's proxy, the same
``validate`` the CrossGuard server calls) on a hand-built resource.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from pingvas_infra import resource_types as rt
from pingvas_infra.policy import controls as policy_controls
from pingvas_infra.policy.controls import RESOURCE_CHECKS
from tests.policy.builders import DEFAULT_TAGS, aws_provider, messages, record

KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

EKS_COMPONENT_GOOD: dict[str, Any] = {
    "version": "1.35",
    "upgradePolicy": {"supportType": "STANDARD"},
    "encryptionConfigKeyArn": KEY_ARN,
    "enabledClusterLogTypes": ["api", "audit", "authenticator"],
    "endpointPublicAccess": True,
    "publicAccessCidrs": ["198.51.100.0/24"],
    "endpointPrivateAccess": True,
    "authenticationMode": "API",
    "nodeAssociatePublicIpAddress": False,
}
EKS_CLUSTER_GOOD: dict[str, Any] = {
    "version": "1.35",
    "upgradePolicy": {"supportType": "STANDARD"},
    "encryptionConfig": {"resources": ["secrets"], "provider": {"keyArn": KEY_ARN}},
    "enabledClusterLogTypes": ["api", "audit", "authenticator", "scheduler"],
    "vpcConfig": {"endpointPublicAccess": False, "endpointPrivateAccess": True},
    "accessConfig": {"authenticationMode": "API"},
}
LAUNCH_TEMPLATE_GOOD: dict[str, Any] = {
    "metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 1},
    "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true"}}],
    "networkInterfaces": [{"associatePublicIpAddress": "false"}],
}
NODE_CLASS_GOOD: dict[str, Any] = {
    "apiVersion": "karpenter.k8s.aws/v1",
    "kind": "EC2NodeClass",
    "metadata": {"name": "gpu"},
    "spec": {
        "amiSelectorTerms": [{"alias": "al2023@v20261101"}],
        "metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 1},
        "blockDeviceMappings": [
            {"deviceName": "/dev/xvda", "ebs": {"volumeSize": "200Gi", "encrypted": True}}
        ],
    },
}
AURORA_GOOD: dict[str, Any] = {
    "engine": "aurora-postgresql",
    "storageEncrypted": True,
    "deletionProtection": True,
    "backupRetentionPeriod": 7,
    "iamDatabaseAuthenticationEnabled": True,
    "manageMasterUserPassword": True,
    "enabledCloudwatchLogsExports": ["postgresql"],
    "copyTagsToSnapshot": True,
    "dbClusterParameterGroupName": "pingvas-aurora-pg17",
}
AURORA_INSTANCE_GOOD: dict[str, Any] = {
    "instanceClass": "db.serverless",
    "publiclyAccessible": False,
    "performanceInsightsEnabled": True,
    "autoMinorVersionUpgrade": True,
}
PARAMETER_GROUP_GOOD: dict[str, Any] = {
    "family": "aurora-postgresql17",
    "parameters": [{"name": "rds.force_ssl", "value": "1"}],
}
CACHE_GOOD: dict[str, Any] = {
    "atRestEncryptionEnabled": True,
    "transitEncryptionEnabled": True,
    "userGroupIds": ["pingvas-cache"],
    "automaticFailoverEnabled": True,
    "multiAzEnabled": True,
    "snapshotRetentionLimit": 1,
}

CERTIFICATE_ARN = (
    "arn:aws:acm:us-east-1:123456789012:certificate/0e2bd4d0-4a3e-4f6e-9b5e-1c2d3e4f5a6b"
)
LOAD_BALANCER_ATTRIBUTES = {
    "deletion_protection.enabled": "true",
    "routing.http.drop_invalid_header_fields.enabled": "true",
    "routing.http.desync_mitigation_mode": "defensive",
    "access_logs.s3.enabled": "true",
    "access_logs.s3.bucket": "pingvas-logs-shared-123456789012",
    "access_logs.s3.prefix": "elb/prod",
}
PARAMS_SPEC: dict[str, Any] = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "prod"}},
    "group": {"name": "pingvas-prod"},
    "scheme": "internet-facing",
    "subnets": {"ids": ["subnet-0a", "subnet-0b", "subnet-0c"]},
    "targetType": "ip",
    "certificateArn": [CERTIFICATE_ARN],
    "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
    "sslRedirectPort": "443",
    "tags": [{"key": "Environment", "value": "prod"}],
    "loadBalancerAttributes": [{"key": k, "value": v} for k, v in LOAD_BALANCER_ATTRIBUTES.items()],
}
PARAMS_GOOD: dict[str, Any] = {
    "apiVersion": "elbv2.k8s.aws/v1beta1",
    "kind": "IngressClassParams",
    "metadata": {"name": "alb-prod", "labels": {"environment": "prod"}},
    "spec": PARAMS_SPEC,
}


def params_spec(
    drop: tuple[str, ...] = (), attributes: dict[str, str | None] | None = None, **fields: Any
) -> dict[str, Any]:
    """`{"spec": ...}`: the good prod class's spec with fields replaced or dropped and
    load balancer attributes changed (None removes one)."""
    values = {**LOAD_BALANCER_ATTRIBUTES, **(attributes or {})}
    spec = {
        **{k: v for k, v in PARAMS_SPEC.items() if k not in drop},
        "loadBalancerAttributes": [
            {"key": k, "value": v} for k, v in values.items() if v is not None
        ],
        **fields,
    }
    return {"spec": spec}


def dev_params(**attributes: str | None) -> dict[str, Any]:
    """A dev class: no certificate (HTTP only), attributes as given."""
    return {
        **PARAMS_GOOD,
        "metadata": {"name": "alb-dev", "labels": {"environment": "dev"}},
        **params_spec(
            drop=("certificateArn", "sslPolicy", "sslRedirectPort"), attributes=attributes
        ),
    }


@dataclass(frozen=True)
class Case:
    control: str
    type: str
    good: dict[str, Any]
    bad: dict[str, Any]
    # Keys removed from `good` to make it bad (after `bad` is merged).
    drop: tuple[str, ...] = ()

    @property
    def bad_props(self) -> dict[str, Any]:
        merged = {**self.good, **self.bad}
        return {k: v for k, v in merged.items() if k not in self.drop}


HEARTBEAT_ROUTE = {"receiver": "heartbeat", "matchers": ['alertname = "Watchdog"']}
HEARTBEAT_RECEIVER = {
    "name": "heartbeat",
    "webhook_configs": [{"url_file": "/etc/am/heartbeat-url", "send_resolved": False}],
}


def alertmanager_release(route: dict[str, Any], *receivers: dict[str, Any]) -> dict[str, Any]:
    """A Helm release's values carrying an Alertmanager configuration with one child route."""
    config = {
        "route": {"receiver": "pagerduty-prod", "routes": [route]},
        "receivers": [{"name": "null"}, {"name": "pagerduty-prod"}, *receivers],
    }
    return {"values": {"alertmanager": {"config": config}}}


CASES = [
    Case(
        "eks-supported-version", rt.EKS_CLUSTER_COMPONENT, EKS_COMPONENT_GOOD, {"version": "1.31"}
    ),
    Case(
        "eks-supported-version", rt.EKS_CLUSTER_COMPONENT, EKS_COMPONENT_GOOD, {}, drop=("version",)
    ),
    Case(
        "eks-supported-version", rt.EKS_CLUSTER_COMPONENT, EKS_COMPONENT_GOOD, {"version": "1.99"}
    ),
    Case("eks-supported-version", rt.EKS_CLUSTER, EKS_CLUSTER_GOOD, {"version": "1.29"}),
    Case(
        "eks-upgrade-policy-standard",
        rt.EKS_CLUSTER_COMPONENT,
        EKS_COMPONENT_GOOD,
        {"upgradePolicy": {"supportType": "EXTENDED"}},
    ),
    Case(
        "eks-upgrade-policy-standard",
        rt.EKS_CLUSTER,
        EKS_CLUSTER_GOOD,
        {},
        drop=("upgradePolicy",),
    ),
    Case(
        "eks-secrets-encryption",
        rt.EKS_CLUSTER_COMPONENT,
        EKS_COMPONENT_GOOD,
        {},
        drop=("encryptionConfigKeyArn",),
    ),
    Case(
        "eks-secrets-encryption",
        rt.EKS_CLUSTER,
        EKS_CLUSTER_GOOD,
        {"encryptionConfig": {"resources": [], "provider": {"keyArn": KEY_ARN}}},
    ),
    Case(
        "eks-control-plane-logging",
        rt.EKS_CLUSTER_COMPONENT,
        EKS_COMPONENT_GOOD,
        {"enabledClusterLogTypes": ["api", "authenticator"]},
    ),
    Case(
        "eks-control-plane-logging",
        rt.EKS_CLUSTER,
        EKS_CLUSTER_GOOD,
        {},
        drop=("enabledClusterLogTypes",),
    ),
    Case(
        "eks-endpoint-restricted",
        rt.EKS_CLUSTER_COMPONENT,
        EKS_COMPONENT_GOOD,
        {"publicAccessCidrs": ["0.0.0.0/0"]},
    ),
    Case(
        "eks-endpoint-restricted",
        rt.EKS_CLUSTER_COMPONENT,
        EKS_COMPONENT_GOOD,
        {},
        drop=("publicAccessCidrs", "endpointPublicAccess"),
    ),
    Case(
        "eks-endpoint-restricted",
        rt.EKS_CLUSTER,
        EKS_CLUSTER_GOOD,
        {"vpcConfig": {"endpointPublicAccess": True}},
    ),
    Case(
        "eks-access-entries",
        rt.EKS_CLUSTER_COMPONENT,
        EKS_COMPONENT_GOOD,
        {"authenticationMode": "API_AND_CONFIG_MAP"},
    ),
    Case(
        "eks-access-entries",
        rt.EKS_CLUSTER,
        EKS_CLUSTER_GOOD,
        {"accessConfig": {"authenticationMode": "CONFIG_MAP"}},
    ),
    Case(
        "eks-private-nodes",
        rt.EKS_CLUSTER_COMPONENT,
        EKS_COMPONENT_GOOD,
        {},
        drop=("nodeAssociatePublicIpAddress",),
    ),
    Case(
        "eks-node-group-launch-template",
        rt.EKS_NODE_GROUP_COMPONENT,
        {"launchTemplate": {"id": "lt-0123", "version": "1"}},
        {},
        drop=("launchTemplate",),
    ),
    Case(
        "eks-node-group-launch-template",
        rt.EKS_NODE_GROUP_COMPONENT,
        {"enableIMDSv2": True},
        {"enableIMDSv2": False},
    ),
    Case(
        "eks-node-group-launch-template",
        rt.EKS_NODE_GROUP,
        {"launchTemplate": {"id": "lt-0123", "version": "1"}},
        {},
        drop=("launchTemplate",),
    ),
    Case(
        "launch-template-imdsv2",
        rt.LAUNCH_TEMPLATE,
        LAUNCH_TEMPLATE_GOOD,
        {"metadataOptions": {"httpTokens": "optional"}},
    ),
    Case(
        "launch-template-ebs-encrypted",
        rt.LAUNCH_TEMPLATE,
        LAUNCH_TEMPLATE_GOOD,
        {"blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"volumeSize": 100}}]},
    ),
    Case(
        "launch-template-no-public-ip",
        rt.LAUNCH_TEMPLATE,
        LAUNCH_TEMPLATE_GOOD,
        {"networkInterfaces": [{"associatePublicIpAddress": "true"}]},
    ),
    Case(
        "karpenter-imdsv2",
        rt.EC2_NODE_CLASS,
        NODE_CLASS_GOOD,
        {"spec": {**NODE_CLASS_GOOD["spec"], "metadataOptions": {"httpTokens": "optional"}}},
    ),
    Case(
        "karpenter-imdsv2",
        rt.EC2_NODE_CLASS,
        NODE_CLASS_GOOD,
        {
            "spec": {
                **NODE_CLASS_GOOD["spec"],
                "metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 2},
            }
        },
    ),
    Case(
        "karpenter-ami-pinned",
        rt.EC2_NODE_CLASS,
        NODE_CLASS_GOOD,
        {"spec": {**NODE_CLASS_GOOD["spec"], "amiSelectorTerms": [{"alias": "al2023@latest"}]}},
    ),
    Case(
        "karpenter-ebs-encrypted",
        rt.EC2_NODE_CLASS,
        NODE_CLASS_GOOD,
        {
            "spec": {
                **NODE_CLASS_GOOD["spec"],
                "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": False}}],
            }
        },
    ),
    Case("rds-encrypted", rt.RDS_CLUSTER, AURORA_GOOD, {"storageEncrypted": False}),
    Case("rds-deletion-protection", rt.RDS_CLUSTER, AURORA_GOOD, {"deletionProtection": False}),
    Case("rds-backup-retention", rt.RDS_CLUSTER, AURORA_GOOD, {"backupRetentionPeriod": 1}),
    Case("rds-backup-retention", rt.RDS_CLUSTER, AURORA_GOOD, {}, drop=("backupRetentionPeriod",)),
    Case(
        "rds-iam-auth",
        rt.RDS_CLUSTER,
        AURORA_GOOD,
        {},
        drop=("iamDatabaseAuthenticationEnabled",),
    ),
    Case(
        "rds-managed-master-password",
        rt.RDS_CLUSTER,
        AURORA_GOOD,
        {"masterPassword": "[secret]"},
    ),
    Case(
        "rds-managed-master-password",
        rt.RDS_CLUSTER,
        AURORA_GOOD,
        {},
        drop=("manageMasterUserPassword",),
    ),
    Case(
        "rds-log-exports",
        rt.RDS_CLUSTER,
        AURORA_GOOD,
        {"enabledCloudwatchLogsExports": ["iam-db-auth-error"]},
    ),
    Case("rds-copy-tags-to-snapshots", rt.RDS_CLUSTER, AURORA_GOOD, {"copyTagsToSnapshot": False}),
    Case("rds-no-public-access", rt.RDS_CLUSTER, AURORA_GOOD, {"publiclyAccessible": True}),
    Case(
        "rds-no-public-access",
        rt.RDS_CLUSTER_INSTANCE,
        AURORA_INSTANCE_GOOD,
        {},
        drop=("publiclyAccessible",),
    ),
    Case(
        "rds-force-ssl",
        rt.RDS_CLUSTER_PARAMETER_GROUP,
        PARAMETER_GROUP_GOOD,
        {"parameters": [{"name": "rds.force_ssl", "value": "0"}]},
    ),
    Case(
        "rds-force-ssl",
        rt.RDS_CLUSTER,
        AURORA_GOOD,
        {"dbClusterParameterGroupName": "default.aurora-postgresql17"},
    ),
    Case(
        "rds-auto-minor-upgrade",
        rt.RDS_CLUSTER_INSTANCE,
        AURORA_INSTANCE_GOOD,
        {"autoMinorVersionUpgrade": False},
    ),
    Case(
        "rds-performance-insights",
        rt.RDS_CLUSTER_INSTANCE,
        AURORA_INSTANCE_GOOD,
        {},
        drop=("performanceInsightsEnabled",),
    ),
    Case(
        "elasticache-encrypted-at-rest",
        rt.CACHE_REPLICATION_GROUP,
        CACHE_GOOD,
        {"atRestEncryptionEnabled": False},
    ),
    Case(
        "elasticache-encrypted-in-transit",
        rt.CACHE_REPLICATION_GROUP,
        CACHE_GOOD,
        {"transitEncryptionMode": "preferred"},
    ),
    Case(
        "elasticache-encrypted-in-transit",
        rt.CACHE_REPLICATION_GROUP,
        CACHE_GOOD,
        {},
        drop=("transitEncryptionEnabled",),
    ),
    Case("elasticache-auth", rt.CACHE_REPLICATION_GROUP, CACHE_GOOD, {}, drop=("userGroupIds",)),
    Case(
        "elasticache-auth",
        rt.CACHE_REPLICATION_GROUP,
        {**{k: v for k, v in CACHE_GOOD.items() if k != "userGroupIds"}, "authToken": "[secret]"},
        {},
        drop=("authToken",),
    ),
    Case(
        "elasticache-users-authenticated",
        rt.CACHE_USER,
        {"userName": "default", "userId": "pingvas-default", "accessString": "off -@all"},
        {"accessString": "on ~* +@all nopass"},
    ),
    Case(
        "elasticache-users-authenticated",
        rt.CACHE_USER,
        {"userName": "dev-app", "userId": "dev-app", "accessString": "on ~dev:* +@all"},
        {"noPasswordRequired": True},
    ),
    Case(
        "elasticache-users-authenticated",
        rt.CACHE_USER_GROUP,
        {"userGroupId": "pingvas-cache", "userIds": ["pingvas-default", "dev-app"]},
        {"userIds": ["default", "dev-app"]},
    ),
    Case(
        "elasticache-failover",
        rt.CACHE_REPLICATION_GROUP,
        CACHE_GOOD,
        {"automaticFailoverEnabled": False},
    ),
    Case(
        "elasticache-failover", rt.CACHE_REPLICATION_GROUP, CACHE_GOOD, {}, drop=("multiAzEnabled",)
    ),
    Case(
        "elasticache-backups", rt.CACHE_REPLICATION_GROUP, CACHE_GOOD, {"snapshotRetentionLimit": 0}
    ),
    Case(
        "elasticache-auto-minor-upgrade",
        rt.CACHE_REPLICATION_GROUP,
        CACHE_GOOD,
        {"autoMinorVersionUpgrade": False},
    ),
    Case("efs-encrypted", rt.EFS_FILE_SYSTEM, {"encrypted": True}, {"encrypted": False}),
    Case("kms-key-rotation", rt.KMS_KEY, {"enableKeyRotation": True}, {"enableKeyRotation": False}),
    Case(
        "log-group-kms",
        rt.LOG_GROUP,
        {"kmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/k"},
        {},
        drop=("kmsKeyId",),
    ),
    Case(
        "alerts-reach-someone",
        rt.HELM_RELEASE,
        {
            "values": {
                "alertmanager": {
                    "config": {
                        "route": {
                            "receiver": "pagerduty-prod",
                            "routes": [
                                {"receiver": "null", "matchers": ['alertname = "Watchdog"']},
                                {"receiver": "slack-dev", "matchers": ['namespace = "dev"']},
                            ],
                        }
                    }
                }
            }
        },
        {
            "values": {
                "alertmanager": {
                    "config": {
                        "route": {
                            "receiver": "pagerduty-prod",
                            "routes": [{"receiver": "null", "matchers": ['namespace = "dev"']}],
                        }
                    }
                }
            }
        },
    ),
    Case(
        "heartbeat-reaches-a-switch",
        rt.HELM_RELEASE,
        alertmanager_release(HEARTBEAT_ROUTE, HEARTBEAT_RECEIVER),
        alertmanager_release({**HEARTBEAT_ROUTE, "receiver": "null"}),
    ),
    Case(
        "heartbeat-reaches-a-switch",
        rt.HELM_RELEASE,
        alertmanager_release(HEARTBEAT_ROUTE, HEARTBEAT_RECEIVER),
        alertmanager_release({"receiver": "null", "matchers": ['alertname = "InfoInhibitor"']}),
    ),
    # A "resolved" post when the heartbeat stops would be one last ping.
    Case(
        "heartbeat-reaches-a-switch",
        rt.HELM_RELEASE,
        alertmanager_release(HEARTBEAT_ROUTE, HEARTBEAT_RECEIVER),
        alertmanager_release(
            HEARTBEAT_ROUTE,
            {"name": "heartbeat", "webhook_configs": [{"url_file": "/etc/am/heartbeat-url"}]},
        ),
    ),
    # The heartbeat sent to a receiver that posts nowhere (a Slack channel nobody watches
    # for silence) is no dead man's switch.
    Case(
        "heartbeat-reaches-a-switch",
        rt.HELM_RELEASE,
        alertmanager_release(HEARTBEAT_ROUTE, HEARTBEAT_RECEIVER),
        alertmanager_release(
            HEARTBEAT_ROUTE, {"name": "heartbeat", "slack_configs": [{"api_url_file": "/x"}]}
        ),
    ),
    Case(
        "sqs-encrypted",
        rt.SQS_QUEUE,
        {"sqsManagedSseEnabled": True},
        {"sqsManagedSseEnabled": False},
    ),
    Case("sqs-encrypted", rt.SQS_QUEUE, {"kmsMasterKeyId": KEY_ARN}, {}, drop=("kmsMasterKeyId",)),
    Case(
        "log-group-retention",
        rt.LOG_GROUP,
        {"retentionInDays": 14},
        {},
        drop=("retentionInDays",),
    ),
    Case(
        "subnet-no-auto-public-ip",
        rt.SUBNET,
        {"mapPublicIpOnLaunch": False},
        {"mapPublicIpOnLaunch": True},
    ),
    Case(
        "default-sg-closed",
        rt.DEFAULT_SECURITY_GROUP,
        {"vpcId": "vpc-1"},
        {"ingress": [{"protocol": "-1", "fromPort": 0, "toPort": 0, "self": True}]},
    ),
    Case(
        "sg-no-public-data-ports",
        rt.SECURITY_GROUP_INGRESS_RULE,
        {"cidrIpv4": "10.0.0.0/16", "ipProtocol": "tcp", "fromPort": 5432, "toPort": 5432},
        {"cidrIpv4": "0.0.0.0/0"},
    ),
    Case(
        "sg-no-public-data-ports",
        rt.SECURITY_GROUP_INGRESS_RULE,
        {"cidrIpv4": "0.0.0.0/0", "ipProtocol": "tcp", "fromPort": 443, "toPort": 443},
        {"fromPort": 6000, "toPort": 6400},
    ),
    Case(
        "sg-no-public-data-ports",
        rt.SECURITY_GROUP_RULE,
        {
            "type": "ingress",
            "cidrBlocks": ["0.0.0.0/0"],
            "protocol": "tcp",
            "fromPort": 443,
            "toPort": 443,
        },
        {"protocol": "-1", "fromPort": 0, "toPort": 0},
    ),
    Case(
        "sg-no-public-data-ports",
        rt.SECURITY_GROUP,
        {
            "ingress": [
                {"cidrBlocks": ["10.0.0.0/16"], "protocol": "tcp", "fromPort": 2049, "toPort": 2049}
            ]
        },
        {
            "ingress": [
                {"ipv6CidrBlocks": ["::/0"], "protocol": "tcp", "fromPort": 2049, "toPort": 2049}
            ]
        },
    ),
    # Load balancers: the environments' IngressClassParams.
    Case(
        "alb-class-scoped",
        rt.INGRESS_CLASS_PARAMS,
        PARAMS_GOOD,
        params_spec(drop=("namespaceSelector",)),
    ),
    Case("alb-class-scoped", rt.INGRESS_CLASS_PARAMS, PARAMS_GOOD, params_spec(drop=("group",))),
    Case("alb-class-scoped", rt.INGRESS_CLASS_PARAMS, PARAMS_GOOD, params_spec(scheme="internal")),
    Case(
        "alb-class-scoped",
        rt.INGRESS_CLASS_PARAMS,
        PARAMS_GOOD,
        params_spec(subnets={"ids": ["subnet-0a"]}),
    ),
    Case(
        "alb-class-scoped", rt.INGRESS_CLASS_PARAMS, PARAMS_GOOD, params_spec(targetType="instance")
    ),
    Case(
        "alb-https-listener",
        rt.INGRESS_CLASS_PARAMS,
        PARAMS_GOOD,
        params_spec(drop=("sslRedirectPort",)),
    ),
    Case(
        "alb-https-listener", rt.INGRESS_CLASS_PARAMS, PARAMS_GOOD, params_spec(drop=("sslPolicy",))
    ),
    Case(
        "alb-https-listener",
        rt.INGRESS_CLASS_PARAMS,
        PARAMS_GOOD,
        params_spec(sslPolicy="ELBSecurityPolicy-2016-08"),
    ),
    Case(
        "alb-https-listener",
        rt.INGRESS_CLASS_PARAMS,
        dev_params(),
        params_spec(drop=("sslRedirectPort",)),
    ),
    Case(
        "alb-drop-invalid-headers",
        rt.INGRESS_CLASS_PARAMS,
        PARAMS_GOOD,
        params_spec(attributes={"routing.http.drop_invalid_header_fields.enabled": "false"}),
    ),
    Case(
        "alb-drop-invalid-headers",
        rt.INGRESS_CLASS_PARAMS,
        dev_params(),
        params_spec(attributes={"routing.http.desync_mitigation_mode": None}),
    ),
    Case(
        "alb-drop-invalid-headers",
        rt.INGRESS_CLASS_PARAMS,
        PARAMS_GOOD,
        params_spec(attributes={"routing.http.desync_mitigation_mode": "monitor"}),
    ),
    Case(
        "alb-deletion-protection",
        rt.INGRESS_CLASS_PARAMS,
        dev_params(**{"deletion_protection.enabled": "false"}),
        {"metadata": {"name": "alb-prod", "labels": {"environment": "prod"}}},
    ),
    Case(
        "alb-deletion-protection",
        rt.INGRESS_CLASS_PARAMS,
        PARAMS_GOOD,
        params_spec(attributes={"deletion_protection.enabled": None}),
    ),
    Case(
        "alb-access-logging",
        rt.INGRESS_CLASS_PARAMS,
        PARAMS_GOOD,
        params_spec(attributes={"access_logs.s3.enabled": "false"}),
    ),
    Case(
        "alb-access-logging",
        rt.INGRESS_CLASS_PARAMS,
        dev_params(),
        params_spec(attributes={"access_logs.s3.bucket": None}),
    ),
]


@pytest.fixture(autouse=True)
def fixed_day(monkeypatch: pytest.MonkeyPatch) -> date:
    """Support windows are judged against a fixed day, not the wall clock."""
    day = date(2026, 11, 26)
    monkeypatch.setattr(policy_controls, "today", lambda: day)
    return day


def _run(case: Case, props: dict[str, Any]) -> list[str]:
    return messages(case.control, [aws_provider(DEFAULT_TAGS), record(case.type, "subject", props)])


def _case_id(case: Case) -> str:
    return (
        f"{case.control}:{case.type.rsplit(':', 1)[-1]}:{'+'.join(sorted(case.bad) or case.drop)}"
    )


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_bad_resource_is_caught(case: Case) -> None:
    assert _run(case, case.bad_props), f"{case.control} let {case.bad_props} through"


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_good_resource_passes(case: Case) -> None:
    assert _run(case, case.good) == []


def test_every_resource_control_has_a_case() -> None:
    assert {c.control for c in CASES} >= set(RESOURCE_CHECKS) - {
        "required-tags",
        "stateful-protected",
    }


def test_support_ends_on_the_table_date(monkeypatch: pytest.MonkeyPatch) -> None:
    """1.34 leaves standard support on 2026-12-02 (the cluster layer's reading of the EKS
    calendar, pingvas_infra/eks_versions.py): in the day before, out on that day."""
    props = {**EKS_COMPONENT_GOOD, "version": "1.34"}
    subject = [record(rt.EKS_CLUSTER_COMPONENT, "cluster", props)]
    monkeypatch.setattr(policy_controls, "today", lambda: date(2026, 12, 1))
    assert messages("eks-supported-version", subject) == []
    monkeypatch.setattr(policy_controls, "today", lambda: date(2026, 12, 2))
    (message,) = messages("eks-supported-version", subject)
    assert "2026-12-02" in message
    assert "1.35" in message


def test_controls_ignore_other_types() -> None:
    """A resource a control is not about never trips it."""
    subject = [record(rt.ROUTE_TABLE_ASSOCIATION, "rta", {})]
    for control in RESOURCE_CHECKS:
        assert messages(control, subject) == [], control


def test_a_computed_key_arn_counts_as_set() -> None:
    """During a preview the KMS key being created has no ARN yet; the cluster still
    encrypts its Secrets with it."""
    props = {**EKS_COMPONENT_GOOD, "encryptionConfigKeyArn": "[unknown]"}
    assert messages("eks-secrets-encryption", [record(rt.EKS_CLUSTER_COMPONENT, "c", props)]) == []
