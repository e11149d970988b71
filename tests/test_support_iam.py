"""The IAM evaluator the boundary proofs use (tests/support/iam.py): AWS's documented
semantics on small cases, and agreement with moto's evaluator where moto is right
(statements without conditions)."""

from __future__ import annotations

import json

import pytest
from moto.iam.access_control import IAMPolicy, PermissionResult

from tests.support.iam import Decision, Request, evaluate

ROLE = "arn:aws:iam::123456789012:role/app"
BUCKET = "arn:aws:s3:::bucket"


def policy(*statements: dict[str, object]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


CONDITION_FREE = [
    policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BUCKET}/*"}),
    policy({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}),
    policy(
        {"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": f"{BUCKET}*"},
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": f"{BUCKET}/private/*"},
    ),
    policy({"Effect": "Allow", "NotAction": "s3:DeleteObject", "Resource": "*"}),
]
REQUESTS = [
    ("s3:GetObject", f"{BUCKET}/a.png"),
    ("s3:GetObject", f"{BUCKET}/private/a.png"),
    ("s3:PutObject", f"{BUCKET}/a.png"),
    ("s3:DeleteObject", f"{BUCKET}/a.png"),
    ("s3:ListBucket", BUCKET),
    ("kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:key/1"),
]
MOTO = {
    PermissionResult.PERMITTED: Decision.ALLOW,
    PermissionResult.DENIED: Decision.EXPLICIT_DENY,
    PermissionResult.NEUTRAL: Decision.IMPLICIT_DENY,
}


@pytest.mark.parametrize("document", CONDITION_FREE)
@pytest.mark.parametrize(("action", "resource"), REQUESTS)
def test_agrees_with_moto_without_conditions(document: str, action: str, resource: str) -> None:
    ours = evaluate(Request(ROLE, action, resource), [document])
    assert ours is MOTO[IAMPolicy(document).is_action_permitted(action, resource)]


def test_a_missing_key_fails_positive_operators_and_passes_negated_ones() -> None:
    allow_via_s3 = policy(
        {
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
        }
    )
    assert evaluate(Request(ROLE, "kms:Decrypt", "k"), [allow_via_s3]) is Decision.IMPLICIT_DENY
    via = {"kms:ViaService": "s3.us-east-1.amazonaws.com"}
    assert evaluate(Request(ROLE, "kms:Decrypt", "k", via), [allow_via_s3]) is Decision.ALLOW
    deny_unless = policy(
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"StringNotEquals": {"elasticfilesystem:AccessPointArn": "ap-1"}},
        },
    )
    assert evaluate(Request(ROLE, "x:Y", "r"), [deny_unless]) is Decision.EXPLICIT_DENY
    on_ap = {"elasticfilesystem:AccessPointArn": "ap-1"}
    assert evaluate(Request(ROLE, "x:Y", "r", on_ap), [deny_unless]) is Decision.ALLOW


def test_resource_policies_match_principals_and_the_tls_key() -> None:
    bucket_policy = policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": ROLE},
            "Action": "s3:GetObject",
            "Resource": f"{BUCKET}/*",
        },
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "*",
            "Resource": f"{BUCKET}/*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    )
    request = Request(ROLE, "s3:GetObject", f"{BUCKET}/a")
    assert evaluate(request, (), bucket_policy) is Decision.ALLOW
    other = Request("arn:aws:iam::123456789012:role/other", "s3:GetObject", f"{BUCKET}/a")
    assert evaluate(other, (), bucket_policy) is Decision.IMPLICIT_DENY
    plain = Request(ROLE, "s3:GetObject", f"{BUCKET}/a", {"aws:SecureTransport": "false"})
    assert evaluate(plain, (), bucket_policy) is Decision.EXPLICIT_DENY
    anonymous = Request(None, "s3:GetObject", f"{BUCKET}/a")
    assert evaluate(anonymous, (), bucket_policy) is Decision.IMPLICIT_DENY
