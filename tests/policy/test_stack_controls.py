"""Controls that need the whole stack (S3 settings, EFS backups, flow logs), required tags
and protection: a bad graph is caught, a good one passes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pingvas_infra import iam
from pingvas_infra import resource_types as rt
from pingvas_infra.plan.model import RecordedResource
from pingvas_infra.plan.stackfile import StackFile
from pingvas_infra.policy import controls as c
from tests.policy.builders import (
    DEFAULT_TAGS,
    aws_provider,
    messages,
    record,
    run_control,
)
from tests.support.config_cases import config_with

KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
S3_CONTROLS = (
    "s3-public-access-block",
    "s3-encryption",
    "s3-tls-only",
    "s3-versioning",
    "s3-access-logging",
    "s3-ownership-enforced",
)


def bucket_with_settings(
    purpose: str,
    *,
    algorithm: str = "aws:kms",
    log_target: RecordedResource | None = None,
    without: tuple[str, ...] = (),
) -> list[RecordedResource]:
    """A bucket and its settings resources as the storage layer would declare them;
    ``without`` leaves out settings by type."""
    name = f"pingvas-{purpose}-123456789012"
    bucket = record(rt.BUCKET, f"storage-{purpose}", {"bucket": name}, resource_id=name)
    arn = f"arn:aws:s3:::{name}"
    tls_policy = {
        "Version": "2012-10-17",
        "Statement": [iam.deny_insecure_transport([arn, arn + "/*"])],
    }
    settings: dict[str, dict[str, Any]] = {
        rt.BUCKET_PUBLIC_ACCESS_BLOCK: {
            "blockPublicAcls": True,
            "blockPublicPolicy": True,
            "ignorePublicAcls": True,
            "restrictPublicBuckets": True,
        },
        rt.BUCKET_ENCRYPTION: {
            "rules": [
                {
                    "applyServerSideEncryptionByDefault": {
                        "sseAlgorithm": algorithm,
                        **({"kmsMasterKeyId": KEY_ARN} if algorithm != "AES256" else {}),
                    },
                    "bucketKeyEnabled": True,
                }
            ]
        },
        rt.BUCKET_POLICY: {"policy": json.dumps(tls_policy)},
        rt.BUCKET_VERSIONING: {"versioningConfiguration": {"status": "Enabled"}},
        rt.BUCKET_OWNERSHIP_CONTROLS: {"rule": {"objectOwnership": "BucketOwnerEnforced"}},
    }
    if log_target is not None:
        settings[rt.BUCKET_LOGGING] = {
            "targetBucket": log_target.id,
            "targetPrefix": f"{purpose}/",
        }
    resources = [bucket]
    for type_token, inputs in settings.items():
        if type_token in without:
            continue
        depends_on = (
            [bucket, log_target]
            if type_token in rt.BUCKET_LOGGING_TYPES and log_target
            else [bucket]
        )
        resources.append(
            record(
                type_token,
                f"storage-{purpose}-{type_token.rsplit(':', 1)[-1]}",
                {"bucket": bucket.id, **inputs},
                depends_on=depends_on,
            )
        )
    return resources


def storage_graph(**overrides: Any) -> list[RecordedResource]:
    logs = bucket_with_settings("logs", algorithm="AES256")
    graph = list(logs)
    for purpose in ("dev-images", "prod-images", "models", "backups"):
        options = {"log_target": logs[0], **overrides.get(purpose, {})}
        graph += bucket_with_settings(purpose, **options)
    return graph


def bucket_urn(graph: list[RecordedResource], purpose: str) -> str:
    (bucket,) = [r for r in graph if r.type == rt.BUCKET and purpose in r.name]
    return bucket.urn


@pytest.mark.parametrize("control", S3_CONTROLS)
def test_complete_buckets_pass(control: str) -> None:
    assert messages(control, storage_graph()) == []


@pytest.mark.parametrize(
    ("control", "missing"),
    [
        ("s3-public-access-block", rt.BUCKET_PUBLIC_ACCESS_BLOCK),
        ("s3-encryption", rt.BUCKET_ENCRYPTION),
        ("s3-tls-only", rt.BUCKET_POLICY),
        ("s3-versioning", rt.BUCKET_VERSIONING),
        ("s3-access-logging", rt.BUCKET_LOGGING),
        ("s3-ownership-enforced", rt.BUCKET_OWNERSHIP_CONTROLS),
    ],
)
def test_a_missing_setting_is_caught_on_its_bucket(control: str, missing: str) -> None:
    graph = storage_graph(**{"prod-images": {"without": (missing,)}})
    result = run_control(control, graph)
    assert [v.urn for v in result.violations] == [bucket_urn(graph, "prod-images")]


def test_prod_buckets_need_kms_but_the_log_bucket_keeps_sse_s3() -> None:
    assert messages("s3-encryption", storage_graph(**{"dev-images": {"algorithm": "AES256"}})) == []
    graph = storage_graph(**{"backups": {"algorithm": "AES256"}})
    result = run_control("s3-encryption", graph)
    assert [v.urn for v in result.violations] == [bucket_urn(graph, "backups")]


def test_a_policy_without_the_tls_condition_is_caught() -> None:
    graph = storage_graph()
    allow_only = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject"}],
    }
    graph = [
        record(r.type, r.name, {**r.inputs, "policy": json.dumps(allow_only)}, depends_on=[])
        if r.type == rt.BUCKET_POLICY and "models" in r.name
        else r
        for r in graph
    ]
    result = run_control("s3-tls-only", graph)
    assert [v.urn for v in result.violations] == [bucket_urn(graph, "models")]


def test_logs_bucket_needs_no_versioning_nor_logging_of_its_own() -> None:
    graph = [
        r
        for r in storage_graph()
        if not (
            "logs" in r.name and r.type in (*rt.BUCKET_VERSIONING_TYPES, *rt.BUCKET_LOGGING_TYPES)
        )
    ]
    assert messages("s3-versioning", graph) == []
    assert messages("s3-access-logging", graph) == []


def test_an_unknown_policy_skips_one_bucket_and_reports_the_others() -> None:
    graph = storage_graph(**{"dev-images": {"without": (rt.BUCKET_POLICY,)}})
    graph = [
        record(r.type, r.name, {**r.inputs, "policy": "[unknown]"}, depends_on=[])
        if r.type == rt.BUCKET_POLICY and "models" in r.name
        else r
        for r in graph
    ]
    result = run_control("s3-tls-only", graph)
    assert [v.urn for v in result.violations] == [bucket_urn(graph, "dev-images")]
    assert result.not_evaluated


def test_efs_needs_an_enabled_backup_policy() -> None:
    file_system = record(rt.EFS_FILE_SYSTEM, "models-efs", {"encrypted": True})

    def backup(status: str) -> RecordedResource:
        return record(
            rt.EFS_BACKUP_POLICY,
            "models-efs-backup",
            {"fileSystemId": file_system.id, "backupPolicy": {"status": status}},
            depends_on=[file_system],
        )

    assert messages("efs-backups", [file_system, backup("ENABLED")]) == []
    assert messages("efs-backups", [file_system, backup("DISABLED")])
    assert messages("efs-backups", [file_system])


def test_every_vpc_needs_a_flow_log() -> None:
    vpc = record(rt.VPC, "network-vpc", {"cidrBlock": "10.0.0.0/16"})
    flow_log = record(
        rt.FLOW_LOG,
        "network-flow-log",
        {"vpcId": vpc.id, "trafficType": "REJECT"},
        depends_on=[vpc],
    )
    assert messages("vpc-flow-logs", [vpc, flow_log]) == []
    result = run_control("vpc-flow-logs", [vpc])
    assert [v.urn for v in result.violations] == [vpc.urn]


# --- required tags -------------------------------------------------------------------------


def subnet(tags: dict[str, str] | None = None) -> RecordedResource:
    return record(
        rt.SUBNET, "subnet", {"cidrBlock": "10.0.0.0/24", **({"tags": tags} if tags else {})}
    )


def test_provider_default_tags_satisfy_the_tag_control() -> None:
    assert messages("required-tags", [aws_provider(DEFAULT_TAGS), subnet()]) == []


def test_an_untagged_resource_is_caught() -> None:
    (message,) = messages("required-tags", [aws_provider(None), subnet({"Name": "x"})])
    assert "Project" in message and "ManagedBy" in message


def test_own_tags_complete_what_the_provider_lacks() -> None:
    partial = {"Project": "pingvas"}
    own = {"Environment": "shared", "ManagedBy": "pulumi"}
    assert messages("required-tags", [aws_provider(partial), subnet(own)]) == []


def test_types_without_tags_are_not_judged() -> None:
    association = record(rt.ROUTE_TABLE_ASSOCIATION, "rta", {})
    assert messages("required-tags", [aws_provider(None), association]) == []


def test_the_provider_default_tags_are_the_required_ones(stack_file: StackFile) -> None:
    """The stack's provider tags (StackConfig.default_tags) cover what the control demands."""
    required = set(c.parameters().required_tags)
    assert required <= set(config_with(stack_file, {}).default_tags())


# --- protection ----------------------------------------------------------------------------


def test_the_aurora_cluster_must_be_protected() -> None:
    cluster = {"engine": "aurora-postgresql"}
    assert messages("stateful-protected", [record(rt.RDS_CLUSTER, "aurora", cluster)])
    assert (
        messages("stateful-protected", [record(rt.RDS_CLUSTER, "aurora", cluster, protect=True)])
        == []
    )


@pytest.mark.parametrize(
    ("bucket_name", "must_protect"),
    [
        ("pingvas-prod-images-123456789012", True),
        ("pingvas-models-123456789012", True),
        ("pingvas-backups", True),
        ("pingvas-dev-images-123456789012", False),
        ("pingvas-logs-123456789012", False),
    ],
)
def test_stateful_buckets_must_be_protected(bucket_name: str, must_protect: bool) -> None:
    bucket = record(rt.BUCKET, "storage-bucket", {"bucket": bucket_name})
    assert bool(messages("stateful-protected", [bucket])) is must_protect
    protected = record(rt.BUCKET, "storage-bucket", {"bucket": bucket_name}, protect=True)
    assert messages("stateful-protected", [protected]) == []


def test_a_bucket_without_a_fixed_name_is_known_by_its_logical_name() -> None:
    bucket = record(rt.BUCKET, "storage-models", {"bucketPrefix": "pingvas-"})
    assert messages("stateful-protected", [bucket])


def key(name: str = "key") -> RecordedResource:
    return record(rt.KMS_KEY, name, {"enableKeyRotation": True}, resource_id=f"{name}-id")


def key_policy(statements: list[dict[str, Any]], key_id: str = "key-id") -> RecordedResource:
    return record(
        rt.KMS_KEY_POLICY,
        "key-policy",
        {"keyId": key_id, "policy": json.dumps({"Version": "2012-10-17", "Statement": statements})},
    )


ADMINISTRATION = {
    "Sid": "KeyAdministrationThroughIam",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
    "Action": ["kms:Describe*", "kms:Put*", "kms:ScheduleKeyDeletion"],
    "Resource": "*",
}


@pytest.mark.parametrize(
    ("statement", "confined"),
    [
        # The stack's shapes: named roles, a service, CloudWatch Logs for its groups.
        (
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                "Action": ["kms:Decrypt"],
                "Condition": {"ArnEquals": {"aws:PrincipalArn": ["arn:aws:iam::1:role/a"]}},
            },
            True,
        ),
        (
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                "Action": ["kms:Encrypt", "kms:CreateGrant"],
                "Condition": {"StringEquals": {"kms:ViaService": "rds.us-east-1.amazonaws.com"}},
            },
            True,
        ),
        (
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::1:role/app"},
                "Action": "kms:Decrypt",
            },
            True,
        ),
        # KMS's default statement, and its look-alikes.
        (
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                "Action": "kms:*",
            },
            False,
        ),
        ({"Effect": "Allow", "Principal": {"AWS": "123456789012"}, "Action": "kms:Decrypt"}, False),
        ({"Effect": "Allow", "Principal": "*", "Action": ["kms:GenerateDataKey*"]}, False),
        (
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                "Action": "kms:Decrypt",
                "Condition": {"StringEquals": {"kms:CallerAccount": "123456789012"}},
            },
            False,
        ),
    ],
)
def test_a_key_policy_must_name_who_uses_the_key(statement: dict[str, Any], confined: bool) -> None:
    resources = [key(), key_policy([ADMINISTRATION, {"Resource": "*", **statement}])]
    assert (messages("kms-explicit-key-policy", resources) == []) is confined


def test_a_key_without_a_policy_keeps_the_default_one() -> None:
    (message,) = messages("kms-explicit-key-policy", [key()])
    assert "default key policy" in message
    assert messages("kms-explicit-key-policy", [key(), key_policy([ADMINISTRATION])]) == []


def test_every_stack_control_is_tested_here() -> None:
    assert set(c.STACK_CHECKS) == {
        *S3_CONTROLS,
        "efs-backups",
        "vpc-flow-logs",
        "kms-explicit-key-policy",
    }
