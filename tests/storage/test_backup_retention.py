"""`backupRetentionDays` means what it says: derived from the lifecycle rules the backups
bucket really renders (S3's documented lifecycle behaviour, tests/storage/lifecycle.py), a
dump older than the retention has no version and no delete marker left."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pingvas_infra import resource_types as rt
from pingvas_infra.plan.model import PlanResult
from tests.storage.lifecycle import DAY, Rules, api_rule, fate, longest_kept
from tests.storage.test_component import buckets, one_attached
from tests.support.plan_graph import PlanRunner
from tests.support.servers import MotoServer


def backup_rules(graph: PlanResult) -> list[dict]:
    backups = buckets(graph)["backups"]
    return list(one_attached(graph, rt.BUCKET_LIFECYCLE, backups).inputs["rules"])


@pytest.mark.parametrize("retention", [7, 35, 400])
def test_a_dump_older_than_the_retention_has_no_version_left(
    run_plan: PlanRunner, retention: int
) -> None:
    overrides = (
        {} if retention == 35 else {"pingvas-infra:storage": {"backupRetentionDays": retention}}
    )
    rules = Rules.of(backup_rules(run_plan(overrides)))
    kept = longest_kept(rules)
    assert kept is not None, "some version or delete marker is kept forever"
    assert kept <= timedelta(days=retention)
    # Not shorter than it must be either: the last day of the retention is used.
    assert kept > timedelta(days=retention - 1)


def test_the_default_rules_walk_through(graph: PlanResult) -> None:
    """A dump uploaded by the 02:00 UTC run, step by step."""
    rules = Rules.of(backup_rules(graph))
    assert (rules.expiration_days, rules.noncurrent_days, rules.expired_delete_markers) == (
        31,
        1,
        True,
    )
    from datetime import UTC, datetime  # noqa: PLC0415

    uploaded = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
    steps = fate(rules, uploaded)
    assert steps.noncurrent_at == datetime(2026, 4, 2, tzinfo=UTC)
    assert steps.version_gone_at == datetime(2026, 4, 4, tzinfo=UTC)
    assert steps.marker_gone_at == datetime(2026, 4, 5, tzinfo=UTC)
    assert steps.gone_at is not None and steps.gone_at - uploaded < 35 * DAY


def test_versioning_alone_would_keep_dumps_twice_as_long() -> None:
    """What the rules replaced: expiration after the retention plus the bucket-wide 30
    noncurrent days, and no delete-marker rule: about 67 days of versions, then markers
    until day 71."""
    before = Rules(expiration_days=35, noncurrent_days=30, expired_delete_markers=False)
    kept = longest_kept(before)
    assert kept is not None and kept > 70 * DAY


def test_s3_accepts_the_rendered_rules(graph: PlanResult, moto_server: MotoServer) -> None:
    """moto's S3 takes the configuration as the API call would carry it."""
    s3 = moto_server.client("s3")
    s3.create_bucket(Bucket="backups")
    s3.put_bucket_versioning(Bucket="backups", VersioningConfiguration={"Status": "Enabled"})
    api_rules = [api_rule(rule) for rule in backup_rules(graph)]
    s3.put_bucket_lifecycle_configuration(
        Bucket="backups", LifecycleConfiguration={"Rules": api_rules}
    )
    stored = s3.get_bucket_lifecycle_configuration(Bucket="backups")["Rules"]
    assert {r["ID"] for r in stored} == {r["ID"] for r in api_rules}
