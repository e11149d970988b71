"""Malformed storage configuration is refused with the offending key named."""

from __future__ import annotations

from pingvas_infra.plan.stackfile import StackFile
from tests.support.config_cases import (
    BadConfigCase,
    config_refusal,
    config_with,
    refused_config_test,
)

DEV_PERSON = "arn:aws:iam::123456789012:role/dev-alice"

# (case id, overrides, key the message must name, text it must contain)
BAD_STORAGE: list[BadConfigCase] = [
    (
        "prefix-upper-case",
        {"pingvas-infra:storage": {"bucketPrefix": "Acme-"}},
        "pingvas-infra:storage.bucketPrefix",
        "lower-case letters",
    ),
    (
        "prefix-with-dots",
        {"pingvas-infra:storage": {"bucketPrefix": "acme.corp-"}},
        "pingvas-infra:storage.bucketPrefix",
        "lower-case letters",
    ),
    (
        "suffix-ends-with-hyphen",
        {"pingvas-infra:storage": {"bucketSuffix": "-eu-"}},
        "pingvas-infra:storage.bucketSuffix",
        "ending with a letter or digit",
    ),
    (
        "names-longer-than-63",
        {"pingvas-infra:storage": {"bucketPrefix": "a-very-long-organisation-name-that-goes-on-"}},
        "pingvas-infra:storage.bucketPrefix",
        "at most 63 characters",
    ),
    (
        "reserved-prefix",
        {"pingvas-infra:storage": {"bucketPrefix": "xn--"}},
        "pingvas-infra:storage.bucketPrefix",
        "may not start with xn--",
    ),
    (
        "reserved-suffix",
        {"pingvas-infra:storage": {"bucketSuffix": "-s3alias"}},
        "pingvas-infra:storage.bucketSuffix",
        "may not end with",
    ),
    (
        "long-project-with-suffix",
        {
            "pingvas-infra:project": "pingvas-imagegen-saas",
            "pingvas-infra:storage": {"bucketSuffix": "-production-eu-west-1-account-42"},
        },
        "pingvas-infra:storage.bucketSuffix",
        "at most 63 characters",
    ),
    (
        "backups-kept-zero-days",
        {"pingvas-infra:storage": {"backupRetentionDays": 0}},
        "pingvas-infra:storage.backupRetentionDays",
        "allowed: a whole number from 7 to 36500",
    ),
    (
        # The dump expires 4 days before the end of its retention: fewer than 7 would
        # leave too little.
        "backups-kept-less-than-a-week",
        {"pingvas-infra:storage": {"backupRetentionDays": 6}},
        "pingvas-infra:storage.backupRetentionDays",
        "allowed: a whole number from 7 to 36500",
    ),
    (
        "logs-expire-negative",
        {"pingvas-infra:storage": {"logExpirationDays": -1}},
        "pingvas-infra:storage.logExpirationDays",
        "allowed: a whole number from 1 to 36500",
    ),
    (
        "noncurrent-versions-zero",
        {"pingvas-infra:storage": {"noncurrentVersionExpirationDays": 0}},
        "pingvas-infra:storage.noncurrentVersionExpirationDays",
        "allowed: a whole number from 1 to 36500",
    ),
    (
        "kms-window-too-long",
        {"pingvas-infra:storage": {"kmsDeletionWindowDays": 60}},
        "pingvas-infra:storage.kmsDeletionWindowDays",
        "above the maximum 30; allowed: a whole number from 7 to 30",
    ),
    (
        "efs-transition-unknown",
        {"pingvas-infra:storage": {"efs": {"transitionToIa": "AFTER_2_DAYS"}}},
        "pingvas-infra:storage.efs.transitionToIa",
        "AFTER_1_DAY",
    ),
    (
        "efs-root-uid",
        {"pingvas-infra:storage": {"efs": {"posixUid": 0}}},
        "pingvas-infra:storage.efs.posixUid",
        "0 would be root",
    ),
    (
        "restorer-not-an-arn",
        {"pingvas-infra:storage": {"backupRestorePrincipalArns": ["platform-oncall"]}},
        "pingvas-infra:storage.backupRestorePrincipalArns[0]",
        "an IAM role or user ARN",
    ),
    (
        "publisher-of-another-partition",
        {
            "pingvas-infra:storage": {
                "modelPublisherPrincipalArns": ["arn:aws-cn:iam::123456789012:role/publisher"]
            }
        },
        "pingvas-infra:storage.modelPublisherPrincipalArns[0]",
        "an ARN of partition aws",
    ),
    (
        # A dev person who may restore reads prod's data; one who may publish changes
        # what prod serves.
        "dev-person-restores",
        {
            "pingvas-infra:cluster": {"environmentPrincipalArns": {"dev": [DEV_PERSON]}},
            "pingvas-infra:storage": {"backupRestorePrincipalArns": [DEV_PERSON]},
        },
        "pingvas-infra:storage.backupRestorePrincipalArns[0]",
        "not a dev person",
    ),
    (
        "dev-person-publishes-under-another-path",
        {
            "pingvas-infra:cluster": {"environmentPrincipalArns": {"dev": [DEV_PERSON]}},
            "pingvas-infra:storage": {
                "modelPublisherPrincipalArns": ["arn:aws:iam::123456789012:role/team/dev-alice"]
            },
        },
        "pingvas-infra:storage.modelPublisherPrincipalArns[0]",
        "not a dev person",
    ),
    (
        "restorer-twice",
        {
            "pingvas-infra:storage": {
                "backupRestorePrincipalArns": [
                    "arn:aws:iam::123456789012:role/oncall",
                    "arn:aws:iam::123456789012:role/oncall",
                ]
            }
        },
        "pingvas-infra:storage.backupRestorePrincipalArns[1]",
        "each principal once",
    ),
    (
        "unknown-key",
        {"pingvas-infra:storage": {"bucketPrefx": "acme-"}},
        "pingvas-infra:storage.bucketPrefx",
        "allowed keys",
    ),
]


test_bad_storage_config_names_key = refused_config_test(BAD_STORAGE)


def test_project_name_is_blamed_when_it_alone_makes_names_invalid(
    stack_file: StackFile,
) -> None:
    message = config_refusal(stack_file, {"pingvas-infra:project": "xn--pingvas"})
    assert "pingvas-infra:project = " in message


def test_defaults_validate(stack_file: StackFile) -> None:
    config = config_with(stack_file, {"pingvas-infra:storage": None})
    assert config.storage.bucket_prefix == ""
    assert config.storage.bucket_suffix is None
    assert config.storage.suffix_for("123456789012") == "-123456789012"
    assert config.storage.efs.transition_to_ia == "AFTER_30_DAYS"


def test_nobody_listed_is_warned(stack_file: StackFile) -> None:
    """The defaults: nobody may publish models or restore prod backups, and the plan says so."""
    warnings = {w.key: w.message for w in config_with(stack_file, {}).warnings()}
    assert (
        "nobody can restore prod backups"
        in warnings["pingvas-infra:storage.backupRestorePrincipalArns"]
    )
    assert (
        "nobody can publish models" in warnings["pingvas-infra:storage.modelPublisherPrincipalArns"]
    )
    listed = config_with(
        stack_file,
        {
            "pingvas-infra:storage": {
                "backupRestorePrincipalArns": ["arn:aws:iam::123456789012:role/oncall"],
                "modelPublisherPrincipalArns": ["arn:aws:iam::123456789012:role/ml-release"],
            }
        },
    )
    assert not [w for w in listed.warnings() if w.key.startswith("pingvas-infra:storage.")]
