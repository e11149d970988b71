"""What a deletion leaves behind in the versioned prod-images and models buckets, derived
from the lifecycle rules each bucket really renders (S3's documented lifecycle behaviour,
tests/storage/lifecycle.py): the deleted version is kept `noncurrentVersionExpirationDays`,
and then nothing is left, not even the delete marker."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pingvas_infra import resource_types as rt
from pingvas_infra.plan.model import PlanResult
from tests.storage.lifecycle import DAY, Rules, api_rule, fate_of_deletion
from tests.storage.test_component import buckets, one_attached
from tests.support.servers import MotoServer

DELETED_AT = datetime(2026, 3, 1, 14, 30, tzinfo=UTC)
NONCURRENT_DAYS = 30


def rules_of(graph: PlanResult, purpose: str) -> list[dict]:
    bucket = buckets(graph)[purpose]
    return list(one_attached(graph, rt.BUCKET_LIFECYCLE, bucket).inputs["rules"])


@pytest.mark.parametrize("purpose", ["prod-images", "models"])
def test_a_deleted_object_leaves_no_version_and_no_delete_marker(
    graph: PlanResult, purpose: str
) -> None:
    rules = Rules.of(rules_of(graph, purpose))
    assert rules.noncurrent_days == NONCURRENT_DAYS
    steps = fate_of_deletion(rules, DELETED_AT)
    assert steps.version_gone_at == datetime(2026, 4, 1, tzinfo=UTC)
    # Without ExpiredObjectDeleteMarker the marker would stay for ever (gone_at None).
    assert steps.marker_gone_at == datetime(2026, 4, 2, tzinfo=UTC)
    assert steps.gone_at is not None and steps.gone_at - DELETED_AT < (NONCURRENT_DAYS + 2) * DAY


@pytest.mark.parametrize("purpose", ["prod-images", "models", "backups"])
def test_the_marker_rule_stands_alone(graph: PlanResult, purpose: str) -> None:
    """S3 refuses ExpiredObjectDeleteMarker beside Days in one Expiration."""
    (marker_rule,) = [
        r
        for r in rules_of(graph, purpose)
        if r.get("expiration", {}).get("expiredObjectDeleteMarker")
    ]
    assert set(marker_rule["expiration"]) == {"expiredObjectDeleteMarker"}
    assert "noncurrentVersionExpiration" not in marker_rule


@pytest.mark.parametrize("purpose", ["prod-images", "models"])
def test_s3_accepts_the_rendered_rules(
    graph: PlanResult, moto_server: MotoServer, purpose: str
) -> None:
    s3 = moto_server.client("s3")
    s3.create_bucket(Bucket=purpose)
    s3.put_bucket_versioning(Bucket=purpose, VersioningConfiguration={"Status": "Enabled"})
    api_rules = [api_rule(rule) for rule in rules_of(graph, purpose)]
    s3.put_bucket_lifecycle_configuration(
        Bucket=purpose, LifecycleConfiguration={"Rules": api_rules}
    )
    stored = s3.get_bucket_lifecycle_configuration(Bucket=purpose)["Rules"]
    assert {r["ID"] for r in stored} == {
        "abort-incomplete-multipart-uploads",
        "expire-noncurrent-versions",
        "remove-expired-delete-markers",
    }
