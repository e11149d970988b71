"""Malformed storage configuration is refused with the offending key named."""

from __future__ import annotations

from pingvas_infra.plan.stackfile import StackFile
from tests.support.config_cases import (
    BadConfigCase,
    config_refusal,
    config_with,
    refused_config_test,
)

# (case id, overrides, key the message must name, text it must contain)
BAD_STORAGE: list[BadConfigCase] = [
    (
        "prefix-upper-case",
        {"pingvas:storage": {"bucketPrefix": "Acme-"}},
        "pingvas:storage.bucketPrefix",
        "lower-case letters",
    ),
    (
        "prefix-with-dots",
        {"pingvas:storage": {"bucketPrefix": "acme.corp-"}},
        "pingvas:storage.bucketPrefix",
        "lower-case letters",
    ),
    (
        "suffix-ends-with-hyphen",
        {"pingvas:storage": {"bucketSuffix": "-eu-"}},
        "pingvas:storage.bucketSuffix",
        "ending with a letter or digit",
    ),
    (
        "names-longer-than-63",
        {"pingvas:storage": {"bucketPrefix": "a-very-long-organisation-name-that-goes-on-"}},
        "pingvas:storage.bucketPrefix",
        "at most 63 characters",
    ),
    (
        "reserved-prefix",
        {"pingvas:storage": {"bucketPrefix": "xn--"}},
        "pingvas:storage.bucketPrefix",
        "may not start with xn--",
    ),
    (
        "reserved-suffix",
        {"pingvas:storage": {"bucketSuffix": "-s3alias"}},
        "pingvas:storage.bucketSuffix",
        "may not end with",
    ),
    (
        "long-project-with-suffix",
        {
            "pingvas:project": "pingvas-imagegen-saas",
            "pingvas:storage": {"bucketSuffix": "-production-eu-west-1-account-42"},
        },
        "pingvas:storage.bucketSuffix",
        "at most 63 characters",
    ),
    (
        "backups-kept-zero-days",
        {"pingvas:storage": {"backupRetentionDays": 0}},
        "pingvas:storage.backupRetentionDays",
        "7 to 36500 days",
    ),
    (
        # The dump expires 4 days before the end of its retention: fewer than 7 would
        # leave too little.
        "backups-kept-less-than-a-week",
        {"pingvas:storage": {"backupRetentionDays": 6}},
        "pingvas:storage.backupRetentionDays",
        "7 to 36500 days",
    ),
    (
        "logs-expire-negative",
        {"pingvas:storage": {"logExpirationDays": -1}},
        "pingvas:storage.logExpirationDays",
        "1 to 36500 days",
    ),
    (
        "noncurrent-versions-zero",
        {"pingvas:storage": {"noncurrentVersionExpirationDays": 0}},
        "pingvas:storage.noncurrentVersionExpirationDays",
        "1 to 36500 days",
    ),
    (
        "kms-window-too-long",
        {"pingvas:storage": {"kmsDeletionWindowDays": 60}},
        "pingvas:storage.kmsDeletionWindowDays",
        "7 to 30 days",
    ),
    (
        "efs-transition-unknown",
        {"pingvas:storage": {"efs": {"transitionToIa": "AFTER_2_DAYS"}}},
        "pingvas:storage.efs.transitionToIa",
        "AFTER_1_DAY",
    ),
    (
        "efs-root-uid",
        {"pingvas:storage": {"efs": {"posixUid": 0}}},
        "pingvas:storage.efs.posixUid",
        "0 would be root",
    ),
    (
        "unknown-key",
        {"pingvas:storage": {"bucketPrefx": "acme-"}},
        "pingvas:storage.bucketPrefx",
        "allowed keys",
    ),
]


test_bad_storage_config_names_key = refused_config_test(BAD_STORAGE)


def test_project_name_is_blamed_when_it_alone_makes_names_invalid(
    stack_file: StackFile,
) -> None:
    message = config_refusal(stack_file, {"pingvas:project": "xn--pingvas"})
    assert "pingvas:project = " in message


def test_defaults_validate(stack_file: StackFile) -> None:
    config = config_with(stack_file, {"pingvas:storage": None})
    assert config.storage.bucket_prefix == ""
    assert config.storage.bucket_suffix is None
    assert config.storage.suffix_for("123456789012") == "-123456789012"
    assert config.storage.efs.transition_to_ia == "AFTER_30_DAYS"
