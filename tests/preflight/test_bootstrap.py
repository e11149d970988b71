"""`pingvas-infra bootstrap-state` against moto: what it creates, and that a second run
changes nothing (no write call at all)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from botocore.stub import Stubber

from pingvas_infra.preflight.bootstrap import (
    BootstrapError,
    StateBackend,
    bootstrap_state,
    key_alias,
)

_WRITES = ("Create", "Put", "Enable", "Delete", "Update", "Tag")


class CallLog:
    """Every AWS operation a session's clients make."""

    def __init__(self, session: boto3.session.Session) -> None:
        self.calls: list[str] = []
        session.events.register("before-call.*.*", self._record)

    def _record(self, model: object, **_: object) -> None:
        self.calls.append(str(model.name))  # type: ignore[attr-defined]

    def writes(self) -> list[str]:
        return [c for c in self.calls if c.startswith(_WRITES)]


@pytest.fixture
def log(session: boto3.session.Session) -> Iterator[CallLog]:
    yield CallLog(session)


def test_first_run_creates_a_hardened_bucket_and_key(
    session: boto3.session.Session, log: CallLog
) -> None:
    backend = bootstrap_state(session, project="pingvas", region="us-east-1")

    assert backend.bucket == "pingvas-pulumi-state-123456789012-us-east-1"
    assert backend.changes
    s3 = session.client("s3")
    assert s3.get_bucket_versioning(Bucket=backend.bucket)["Status"] == "Enabled"
    (rule,) = s3.get_bucket_encryption(Bucket=backend.bucket)["ServerSideEncryptionConfiguration"][
        "Rules"
    ]
    assert rule["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": backend.key_arn,
    }
    block = s3.get_public_access_block(Bucket=backend.bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    owner = s3.get_bucket_ownership_controls(Bucket=backend.bucket)["OwnershipControls"]
    assert owner["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    (statement,) = json.loads(s3.get_bucket_policy(Bucket=backend.bucket)["Policy"])["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}

    kms = session.client("kms")
    key = kms.describe_key(KeyId=key_alias("pingvas"))["KeyMetadata"]
    assert key["Arn"] == backend.key_arn
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"]
    assert "CreateBucket" in log.writes()


def test_second_run_changes_nothing(session: boto3.session.Session, log: CallLog) -> None:
    first = bootstrap_state(session, project="pingvas", region="us-east-1")
    log.calls.clear()

    second = bootstrap_state(session, project="pingvas", region="us-east-1")

    assert second.changes == []
    assert log.writes() == []
    assert (second.bucket, second.key_arn) == (first.bucket, first.key_arn)


def test_an_existing_bucket_is_completed_not_recreated(
    session: boto3.session.Session, log: CallLog
) -> None:
    s3 = session.client("s3", region_name="eu-west-1")
    s3.create_bucket(
        Bucket="team-state", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    s3.put_bucket_versioning(Bucket="team-state", VersioningConfiguration={"Status": "Suspended"})
    log.calls.clear()

    backend = bootstrap_state(session, project="pingvas", region="eu-west-1", bucket="team-state")

    assert "CreateBucket" not in log.writes()
    assert "enabled versioning" in backend.changes
    assert s3.get_bucket_versioning(Bucket="team-state")["Status"] == "Enabled"


def test_a_bucket_of_another_account_is_refused(session: boto3.session.Session) -> None:
    # Stubber: moto lets any account see a bucket, so a 403 has to be stubbed.
    real_client = session.client

    def client(name: str, **kwargs: object) -> object:
        made = real_client(name, **kwargs)  # type: ignore[call-overload]
        if name == "s3":
            stubber = Stubber(made)
            stubber.add_client_error("head_bucket", "403", http_status_code=403)
            stubber.activate()
        return made

    session.client = client  # type: ignore[method-assign]
    with pytest.raises(BootstrapError, match="another account"):
        bootstrap_state(session, project="pingvas", region="us-east-1", bucket="taken")


def test_printed_urls() -> None:
    backend = StateBackend("b", "eu-west-1", "alias/pingvas-pulumi-secrets", "arn")
    assert backend.backend_url() == "s3://b?region=eu-west-1&awssdk=v2"
    assert backend.backend_url("team") == "s3://b?region=eu-west-1&awssdk=v2&profile=team"
    assert backend.secrets_provider == "awskms://alias/pingvas-pulumi-secrets?region=eu-west-1"
