"""Who may write the models bucket and who may read the prod dumps, evaluated on the stack's
own bucket, key and trust policies with each role's own IAM policies (AWS's documented
evaluation logic: `evaluate` and `evaluate_key` in tests/support/iam.py).

The request context each test assumes, as S3 documents it: a PutObject, CopyObject or
CreateMultipartUpload carries `s3:x-amz-server-side-encryption`,
`s3:x-amz-server-side-encryption-aws-kms-key-id` and
`s3:x-amz-server-side-encryption-customer-algorithm` when the request sends those headers,
and none of them when it does not (default encryption then applies); an UploadPart sends
no encryption header. S3 calls KMS with `kms:ViaService` s3.<region>.amazonaws.com and,
with S3 Bucket Keys, the bucket's ARN as encryption context.

An upload succeeds only when S3 allows the PutObject and KMS lets the caller generate the
data key; a download of an SSE-KMS object only when S3 allows the GetObject and KMS lets
the caller decrypt.
"""

from __future__ import annotations

import copy
import json

import pytest

from pingvas_infra import resource_types as rt
from pingvas_infra.plan.model import PlanResult
from tests.support.iam import (
    Decision,
    trust_policy,
)
from tests.support.plan_graph import PlanRunner
from tests.support.storage_access import (
    ACCOUNT,
    DEV_PERSON,
    KEY_OF,
    LISTED_ROLES,
    ML_RELEASE,
    ONCALL,
    PUBLISHER,
    RESTORE,
    WRITER_OF,
    Stack,
)

# The condition keys S3 fills from a request's encryption headers.
SSE_HEADER = "s3:x-amz-server-side-encryption"
SSE_KMS_KEY_HEADER = "s3:x-amz-server-side-encryption-aws-kms-key-id"
SSE_C_HEADER = "s3:x-amz-server-side-encryption-customer-algorithm"
# A principal of the account whose own IAM allows everything (an admin, a role someone
# over-granted): only the bucket and key policies stand in its way.
ADMIN = f"arn:aws:iam::{ACCOUNT}:role/someone-with-everything"
EVERYTHING = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:*", "kms:*", "sts:*"], "Resource": "*"}],
}
ASSUME_ANY_ROLE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
}


@pytest.fixture(scope="module")
def listed(run_plan: PlanRunner) -> Stack:
    return Stack(run_plan(LISTED_ROLES))


@pytest.fixture(scope="module")
def default(graph: PlanResult) -> Stack:
    return Stack(graph)


def kms_headers(key_arn: str) -> dict[str, str]:
    return {SSE_HEADER: "aws:kms", SSE_KMS_KEY_HEADER: key_arn}


# --- the models bucket has a writer ------------------------------------------------------------


def test_the_publisher_uploads_models_naming_the_key_or_nothing(listed: Stack) -> None:
    principal, policies = listed.identity(PUBLISHER)
    models_key = listed.key("storage-models-key")
    for headers in ({}, kms_headers(models_key)):
        assert listed.upload(principal, policies, "models", headers) == (
            Decision.ALLOW,
            Decision.ALLOW,
        ), headers
    # Every part of a multipart upload (UploadPart carries no encryption header) and the
    # decryption of its data key.
    assert listed.s3(principal, policies, "s3:PutObject", "models", "m/part") is Decision.ALLOW
    assert listed.kms(principal, policies, "kms:Decrypt", "models") is Decision.ALLOW
    assert listed.s3(principal, policies, "s3:ListBucket", "models") is Decision.ALLOW


@pytest.mark.parametrize("role", ["storage-dev-app", "storage-prod-app", "storage-model-sync"])
def test_no_application_role_writes_the_models(listed: Stack, role: str) -> None:
    principal, policies = listed.identity(role)
    s3, kms = listed.upload(principal, policies, "models", {})
    assert s3 is not Decision.ALLOW
    assert kms is not Decision.ALLOW


def test_only_the_publisher_holds_the_models_key_for_writing(listed: Stack) -> None:
    """An admin of the account may write objects (its IAM allows s3:*), but KMS lets it
    generate no data key under the models key: the write fails."""
    assert listed.upload(ADMIN, [EVERYTHING], "models", {}) == (
        Decision.ALLOW,
        Decision.IMPLICIT_DENY,
    )


def other_encryptions(stack: Stack, purpose: str) -> dict[str, dict[str, str]]:
    own = stack.key(KEY_OF[purpose])
    other = stack.key("storage-prod-key" if purpose == "models" else "storage-models-key")
    return {
        "sse-s3": {SSE_HEADER: "AES256"},
        "aws-managed-key": {SSE_HEADER: "aws:kms"},
        "another-key": kms_headers(other),
        "dsse-kms": {SSE_HEADER: "aws:kms:dsse", SSE_KMS_KEY_HEADER: own},
        "customer-key": {SSE_C_HEADER: "AES256"},
    }


@pytest.mark.parametrize("purpose", ["models", "prod-images", "backups"])
@pytest.mark.parametrize(
    "encryption", ["sse-s3", "aws-managed-key", "another-key", "dsse-kms", "customer-key"]
)
def test_a_write_naming_another_encryption_is_refused(
    listed: Stack, purpose: str, encryption: str
) -> None:
    """AES256 (SSE-S3) would bypass the key; aws:kms without a key id would use the
    account's aws/s3 key, which any principal with S3 rights may use. Refused even for the
    bucket's own writer and for an admin."""
    headers = other_encryptions(listed, purpose)[encryption]
    for principal, policies in (listed.identity(WRITER_OF[purpose]), (ADMIN, [EVERYTHING])):
        decision = listed.s3(principal, policies, "s3:PutObject", purpose, "x", headers)
        assert decision is Decision.EXPLICIT_DENY, (principal, headers)


@pytest.mark.parametrize("purpose", ["models", "prod-images", "backups"])
def test_the_writers_own_key_or_no_header_passes(listed: Stack, purpose: str) -> None:
    principal, policies = listed.identity(WRITER_OF[purpose])
    own = listed.key(KEY_OF[purpose])
    path = "prod/x.dump" if purpose == "backups" else "x.png"
    for headers in ({}, kms_headers(own)):
        s3 = listed.s3(principal, policies, "s3:PutObject", purpose, path, headers)
        assert s3 is Decision.ALLOW, headers
        assert listed.kms(principal, policies, "kms:GenerateDataKey", purpose) is Decision.ALLOW


def test_the_backup_jobs_own_upload_passes(listed: Stack) -> None:
    """What backup-upload.sh sends: --sse aws:kms --sse-kms-key-id "$KMS_KEY_ARN", with the
    ARN the CronJob hands it."""
    (cron,) = [c for c in listed.graph.of_type(rt.CRON_JOB) if "backup" in c.name]
    containers = cron.inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for c in containers for e in c.get("env", [])}
    assert env["KMS_KEY_ARN"] == listed.key("storage-prod-key")
    principal, policies = listed.identity("operations-prod-db-backup")
    headers = kms_headers(env["KMS_KEY_ARN"])
    assert listed.upload(principal, policies, "backups", headers, "prod/x.dump") == (
        Decision.ALLOW,
        Decision.ALLOW,
    )


def test_ifexists_alone_would_refuse_every_upload_relying_on_default_encryption(
    listed: Stack,
) -> None:
    """Why each Deny first asks that the header be there: a missing key makes a negated
    operator true, IfExists or not (IAM user guide, "Condition operators"). Without the
    Null check the publisher's upload without headers, and every UploadPart, is refused."""
    policy = json.loads(listed.bucket_policy("models"))
    ifexists = copy.deepcopy(policy)
    for statement in ifexists["Statement"]:
        condition = statement.get("Condition", {})
        if "Null" in condition and "StringNotEquals" in condition:
            del condition["Null"]
            condition["StringNotEqualsIfExists"] = condition.pop("StringNotEquals")
    principal, policies = listed.identity(PUBLISHER)
    assert (
        listed.s3(principal, policies, "s3:PutObject", "models", "x", {}, bucket_policy=ifexists)
        is Decision.EXPLICIT_DENY
    )
    assert (
        listed.s3(principal, policies, "s3:PutObject", "models", "x", {}, bucket_policy=policy)
        is Decision.ALLOW
    )


# --- the prod dumps have a reader ---------------------------------------------------------------


def test_the_restore_role_reads_a_dump(listed: Stack) -> None:
    principal, policies = listed.identity(RESTORE)
    assert listed.s3(principal, policies, "s3:GetObject", "backups") is Decision.ALLOW
    assert listed.s3(principal, policies, "s3:GetObjectVersion", "backups") is Decision.ALLOW
    listing = {"s3:prefix": "prod/"}
    assert listed.s3(principal, policies, "s3:ListBucket", "backups", context=listing) is (
        Decision.ALLOW
    )
    assert listed.kms(principal, policies, "kms:Decrypt", "backups") is Decision.ALLOW


def test_the_restore_role_reads_nothing_else_and_writes_nothing(listed: Stack) -> None:
    principal, policies = listed.identity(RESTORE)
    # Not prod's images, though the same key encrypts them: S3 refuses the read, and the
    # role's own policy lets it decrypt for the backups bucket only.
    assert listed.s3(principal, policies, "s3:GetObject", "prod-images", "x.png") is not (
        Decision.ALLOW
    )
    assert listed.kms(principal, policies, "kms:Decrypt", "prod-images") is not Decision.ALLOW
    for action in ("s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"):
        assert listed.s3(principal, policies, action, "backups") is not Decision.ALLOW
    assert listed.kms(principal, policies, "kms:GenerateDataKey", "backups") is not (Decision.ALLOW)
    assert listed.s3(
        principal, policies, "s3:ListBucket", "backups", context={"s3:prefix": ""}
    ) is not (Decision.ALLOW)


@pytest.mark.parametrize("role", ["storage-dev-app", "storage-prod-app"])
def test_no_application_role_reads_a_dump(listed: Stack, role: str) -> None:
    principal, policies = listed.identity(role)
    assert listed.s3(principal, policies, "s3:GetObject", "backups") is not Decision.ALLOW
    if role == "storage-dev-app":
        assert listed.kms(principal, policies, "kms:Decrypt", "backups") is not Decision.ALLOW


def test_an_admin_of_the_account_reads_no_dump(listed: Stack) -> None:
    """S3 hands the object over to IAM's s3:*, KMS refuses to decrypt it."""
    assert listed.s3(ADMIN, [EVERYTHING], "s3:GetObject", "backups") is Decision.ALLOW
    assert listed.kms(ADMIN, [EVERYTHING], "kms:Decrypt", "backups") is Decision.IMPLICIT_DENY


# --- who becomes them ---------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "member"), [(PUBLISHER, ML_RELEASE), (RESTORE, ONCALL)])
def test_only_the_listed_principals_assume_the_roles(listed: Stack, role: str, member: str) -> None:
    assert listed.assume(role, member, [ASSUME_ANY_ROLE]) is Decision.ALLOW
    for outsider in (DEV_PERSON, ADMIN, ONCALL if member == ML_RELEASE else ML_RELEASE):
        assert listed.assume(role, outsider, [ASSUME_ANY_ROLE]) is not Decision.ALLOW, outsider
    for app in ("storage-dev-app", "storage-prod-app"):
        principal, policies = listed.identity(app)
        assert listed.assume(role, principal, [*policies, ASSUME_ANY_ROLE]) is not Decision.ALLOW


@pytest.mark.parametrize("role", [PUBLISHER, RESTORE])
def test_nobody_assumes_them_until_listed(default: Stack, role: str) -> None:
    for principal in (ONCALL, ML_RELEASE, ADMIN):
        assert default.assume(role, principal, [EVERYTHING]) is Decision.EXPLICIT_DENY


def test_the_roles_have_the_names_a_profile_can_name(listed: Stack) -> None:
    names = {r.name: r.inputs.get("name") for r in listed.graph.of_type(rt.IAM_ROLE)}
    assert names[PUBLISHER] == "pingvas-models-publisher"
    assert names[RESTORE] == "pingvas-prod-backup-restore"
    assert json.loads(trust_policy(listed.graph, RESTORE))["Statement"][0]["Condition"] == {
        "ArnEquals": {"aws:PrincipalArn": [ONCALL]}
    }
