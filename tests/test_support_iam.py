"""The IAM evaluator the boundary proofs use (tests/support/iam.py): AWS's documented
semantics on small cases, and agreement with moto's evaluator where moto is right
(statements without conditions)."""

from __future__ import annotations

import json

import pytest
from moto.iam.access_control import IAMPolicy, PermissionResult

from tests.support.iam import Decision, Request, evaluate, evaluate_key, evaluate_trust

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


# --- KMS: the key policy decides ------------------------------------------------------------

ACCOUNT_ROOT = "arn:aws:iam::123456789012:root"
ALLOW_ALL_KMS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}],
}


def key_policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": [{"Resource": "*", **s} for s in statements]}


def test_kms_iam_alone_grants_nothing_without_the_accounts_statement() -> None:
    """The KMS developer guide: without a key policy statement naming the account, IAM
    policies that allow access to the key are ineffective."""
    named_other = key_policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:role/other"},
            "Action": "kms:Decrypt",
        }
    )
    request = Request(ROLE, "kms:Decrypt", "k")
    assert evaluate_key(request, [ALLOW_ALL_KMS], named_other) is Decision.IMPLICIT_DENY
    # The same IAM policy under KMS's default policy (the account, kms:*) is enough.
    default = key_policy({"Effect": "Allow", "Principal": {"AWS": ACCOUNT_ROOT}, "Action": "kms:*"})
    assert evaluate_key(request, [ALLOW_ALL_KMS], default) is Decision.ALLOW
    # The generic evaluator would wrongly let IAM alone decide (same-account rule).
    assert evaluate(request, [ALLOW_ALL_KMS], named_other) is Decision.ALLOW


def test_kms_a_statement_naming_the_role_needs_no_iam_and_the_account_needs_iam() -> None:
    request = Request(ROLE, "kms:Decrypt", "k")
    direct = key_policy({"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "kms:Decrypt"})
    assert evaluate_key(request, [], direct) is Decision.ALLOW
    delegated = key_policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": ACCOUNT_ROOT},
            "Action": "kms:Decrypt",
            "Condition": {"ArnEquals": {"aws:PrincipalArn": [ROLE]}},
        }
    )
    assert evaluate_key(request, [], delegated) is Decision.IMPLICIT_DENY
    assert evaluate_key(request, [ALLOW_ALL_KMS], delegated) is Decision.ALLOW
    other = Request("arn:aws:iam::123456789012:role/other", "kms:Decrypt", "k")
    assert evaluate_key(other, [ALLOW_ALL_KMS], delegated) is Decision.IMPLICIT_DENY


def test_kms_service_principals_and_denies() -> None:
    logs = key_policy(
        {
            "Effect": "Allow",
            "Principal": {"Service": "logs.us-east-1.amazonaws.com"},
            "Action": "kms:GenerateDataKey*",
            "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": ["arn:g"]}},
        },
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "kms:GenerateDataKey*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    )
    context = {"kms:EncryptionContext:aws:logs:arn": "arn:g"}
    service = Request(
        None, "kms:GenerateDataKey", "k", context, service="logs.us-east-1.amazonaws.com"
    )
    assert evaluate_key(service, [], logs) is Decision.ALLOW
    other_group = Request(
        None,
        "kms:GenerateDataKey",
        "k",
        {"kms:EncryptionContext:aws:logs:arn": "arn:h"},
        service="logs.us-east-1.amazonaws.com",
    )
    assert evaluate_key(other_group, [], logs) is Decision.IMPLICIT_DENY
    plain = Request(
        None,
        "kms:GenerateDataKey",
        "k",
        {**context, "aws:SecureTransport": "false"},
        service="logs.us-east-1.amazonaws.com",
    )
    assert evaluate_key(plain, [], logs) is Decision.EXPLICIT_DENY


def test_a_trust_policy_must_allow_even_in_the_same_account() -> None:
    """IAM user guide, "Policy evaluation logic": a role's trust policy is required; naming
    the account defers to the caller's IAM, naming the caller suffices alone."""
    caller = "arn:aws:iam::123456789012:role/oncall"
    request = Request(caller, "sts:AssumeRole", "arn:aws:iam::123456789012:role/restore")
    assume = {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}
    only_lambda = {
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "*"}
        ]
    }
    the_account = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                "Action": "sts:AssumeRole",
            }
        ]
    }
    the_caller = {
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": caller}, "Action": "sts:AssumeRole"}]
    }
    assert evaluate_trust(request, [assume], only_lambda) is Decision.IMPLICIT_DENY
    assert evaluate_trust(request, [], the_account) is Decision.IMPLICIT_DENY
    assert evaluate_trust(request, [assume], the_account) is Decision.ALLOW
    assert evaluate_trust(request, [], the_caller) is Decision.ALLOW
