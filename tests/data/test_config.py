"""Malformed data configuration is refused with the offending key named."""

from __future__ import annotations

import pytest

from pingvas_infra.plan.stackfile import StackFile
from tests.support.config_cases import (
    BadConfigCase,
    config_refusal,
    config_with,
    refused_config_test,
)

# (case id, pingvas-infra:data overrides, key the message must name, text it must contain)
BAD_DATA: list[BadConfigCase] = [
    (
        "unknown-engine-version",
        {"aurora": {"engineVersion": "12"}},
        "pingvas-infra:data.aurora.engineVersion",
        'a major of tables/aurora_versions.yaml: "17", "16"',
    ),
    (
        "exact-minor-pinned",
        {"aurora": {"engineVersion": "17.9"}},
        "pingvas-infra:data.aurora.engineVersion",
        'write the major version alone, "17": automatic minor upgrades are on',
    ),
    (
        "engine-version-as-yaml-number",
        {"aurora": {"engineVersion": 17.9}},
        "pingvas-infra:data.aurora.engineVersion",
        'a number where text is expected: write it in quotes, "17.9"',
    ),
    (
        "cache-version-as-yaml-number",
        {"cache": {"engineVersion": 8.1}},
        "pingvas-infra:data.cache.engineVersion",
        "8.10 as 8.1",
    ),
    (
        "zero-acu-on-a-version-that-cannot-pause",
        {"aurora": {"engineVersion": "14", "minAcu": 0}},
        "pingvas-infra:data.aurora.minAcu",
        "cannot pause",
    ),
    (
        "min-above-max",
        {"aurora": {"minAcu": 8, "maxAcu": 4}},
        "pingvas-infra:data.aurora.minAcu",
        "at most maxAcu",
    ),
    (
        "max-below-one",
        {"aurora": {"minAcu": 0.5, "maxAcu": 0.5}},
        "pingvas-infra:data.aurora.maxAcu",
        "below the minimum 1; allowed: a number from 1 to 256, in steps of 0.5",
    ),
    (
        "not-a-half-step",
        {"aurora": {"maxAcu": 4.2}},
        "pingvas-infra:data.aurora.maxAcu",
        "steps of 0.5",
    ),
    (
        "above-256",
        {"aurora": {"maxAcu": 300}},
        "pingvas-infra:data.aurora.maxAcu",
        "above the maximum 256",
    ),
    (
        "auto-pause-too-short",
        {"aurora": {"minAcu": 0, "secondsUntilAutoPause": 60}},
        "pingvas-infra:data.aurora.secondsUntilAutoPause",
        "300 to 86400",
    ),
    (
        "auto-pause-without-zero-minimum",
        {"aurora": {"minAcu": 0.5, "secondsUntilAutoPause": 600}},
        "pingvas-infra:data.aurora.secondsUntilAutoPause",
        "only with minAcu 0",
    ),
    (
        "backups-shorter-than-a-week",
        {"aurora": {"backupRetentionDays": 3}},
        "pingvas-infra:data.aurora.backupRetentionDays",
        "7 to 35",
    ),
    (
        "backup-window-malformed",
        {"aurora": {"preferredBackupWindow": "3am-4am"}},
        "pingvas-infra:data.aurora.preferredBackupWindow",
        "hh24:mi-hh24:mi",
    ),
    (
        "backup-window-too-short",
        {"aurora": {"preferredBackupWindow": "03:00-03:10"}},
        "pingvas-infra:data.aurora.preferredBackupWindow",
        "at least 30 min",
    ),
    (
        "maintenance-overlaps-backups",
        {"aurora": {"preferredMaintenanceWindow": "tue:03:30-tue:04:30"}},
        "pingvas-infra:data.aurora.preferredMaintenanceWindow",
        "does not overlap 03:00-04:00",
    ),
    (
        "reserved-master-username",
        {"aurora": {"masterUsername": "rdsadmin"}},
        "pingvas-infra:data.aurora.masterUsername",
        "not postgres",
    ),
    (
        "log-retention-not-allowed",
        {"aurora": {"logRetentionDays": 10}},
        "pingvas-infra:data.aurora.logRetentionDays",
        "allowed: 1, 3, 5",
    ),
    (
        "unknown-node-type",
        {"cache": {"nodeType": "cache.t2.micro"}},
        "pingvas-infra:data.cache.nodeType",
        "cache.t4g.micro",
    ),
    (
        "unknown-cache-engine-version",
        {"cache": {"engineVersion": "6.2"}},
        "pingvas-infra:data.cache.engineVersion",
        "one of 7.2",
    ),
    (
        "snapshots-off",
        {"cache": {"snapshotRetentionDays": 0}},
        "pingvas-infra:data.cache.snapshotRetentionDays",
        "below the minimum 1; allowed: a whole number from 1 to 35",
    ),
    (
        "cache-maintenance-overlaps-snapshot",
        {"cache": {"maintenanceWindow": "mon:05:30-mon:06:30"}},
        "pingvas-infra:data.cache.maintenanceWindow",
        "does not overlap",
    ),
    (
        "kms-window-too-short",
        {"kmsDeletionWindowDays": 3},
        "pingvas-infra:data.kmsDeletionWindowDays",
        "7 to 30",
    ),
    ("unknown-key", {"auroraa": {}}, "pingvas-infra:data.auroraa", "allowed keys"),
    (
        "unknown-nested-key",
        {"cache": {"nodeTypes": "cache.t4g.small"}},
        "pingvas-infra:data.cache.nodeTypes",
        "allowed keys",
    ),
]


test_bad_data_config_names_key = refused_config_test(BAD_DATA, "pingvas-infra:data")


def test_every_problem_is_reported_at_once(stack_file: StackFile) -> None:
    overrides = {
        "pingvas-infra:data": {
            "aurora": {"minAcu": 5, "maxAcu": 4, "backupRetentionDays": 1},
            "cache": {"nodeType": "cache.r5.large"},
        }
    }
    message = config_refusal(stack_file, overrides)
    assert "(3 problems)" in message
    for key in ("aurora.minAcu", "aurora.backupRetentionDays", "cache.nodeType"):
        assert f"pingvas-infra:data.{key} = " in message


def test_defaults_validate_and_follow_the_design_guide(stack_file: StackFile) -> None:
    config = config_with(stack_file, {"pingvas-infra:data": None})
    aurora = config.data.aurora
    # The design guide's maximum; a 0 minimum and a tier-2 reader for cost (README).
    assert (aurora.min_acu, aurora.max_acu) == (0, 4.0)
    assert aurora.reader_promotion_tier == 2
    assert aurora.backup_retention_days == 7
    assert aurora.deletion_protection is True
    assert aurora.master_username == "pingvas_admin"
    assert aurora.auto_pause_seconds == 300
    assert config.data.cache.node_type == "cache.t4g.micro"


@pytest.mark.parametrize("tier", [-1, 16])
def test_the_reader_promotion_tier_is_one_aws_accepts(stack_file: StackFile, tier: int) -> None:
    message = config_refusal(
        stack_file, {"pingvas-infra:data": {"aurora": {"readerPromotionTier": tier}}}
    )
    assert "pingvas-infra:data.aurora.readerPromotionTier" in message
    assert "a whole number from 0 to 15" in message


def test_zero_acu_on_a_pausing_version_defaults_the_delay(stack_file: StackFile) -> None:
    config = config_with(stack_file, {"pingvas-infra:data": {"aurora": {"minAcu": 0}}})
    assert config.data.aurora.auto_pause_seconds == 300
    assert config.data.aurora.parameter_group_family == "aurora-postgresql17"


def test_a_maintenance_window_across_midnight_is_checked_against_backups(
    stack_file: StackFile,
) -> None:
    message = config_refusal(
        stack_file,
        {
            "pingvas-infra:data": {
                "aurora": {
                    "preferredBackupWindow": "23:30-00:30",
                    "preferredMaintenanceWindow": "sat:23:45-sun:00:45",
                }
            }
        },
    )
    assert "pingvas-infra:data.aurora.preferredMaintenanceWindow = " in message
    fine = config_with(
        stack_file,
        {
            "pingvas-infra:data": {
                "aurora": {
                    "preferredBackupWindow": "23:30-00:30",
                    "preferredMaintenanceWindow": "sat:01:00-sat:02:00",
                }
            }
        },
    )
    assert fine.data.aurora.preferred_backup_window == "23:30-00:30"
