"""S3 lifecycle on a versioned bucket, as the S3 user guide describes it, for the rules a
bucket's lifecycle configuration renders:

- "Amazon S3 calculates the time by adding the number of days specified in the rule to the
  object creation time and rounding the resulting time to the next day midnight UTC"
  ("Lifecycle configuration elements"); modelled as the first midnight strictly after,
  which is also what happens to a time that is itself a midnight in the worst case.
- `Expiration.Days` on a versioned bucket removes nothing: the current version becomes
  noncurrent behind a new delete marker (examples 6 and 7).
- `NoncurrentVersionExpiration.NoncurrentDays` removes a version that many days after it
  became noncurrent; `NewerNoncurrentVersions` would keep some forever (refused here).
- `ExpiredObjectDeleteMarker` removes a delete marker with no version left behind it, at
  the next daily run; without it, a rule with `Days` removes such markers only once they
  are that many days old ("when the delete markers are old enough").

Asynchronous lag beyond the midnight (S3 may take longer to run an action it already
bills as done) is not modelled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

DAY = timedelta(days=1)


def next_midnight(moment: datetime) -> datetime:
    """The first midnight UTC strictly after ``moment``."""
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight + DAY


def due(start: datetime, days: int) -> datetime:
    return next_midnight(start + days * DAY)


@dataclass(frozen=True)
class Rules:
    """What the enabled whole-bucket rules say, merged."""

    expiration_days: int | None
    noncurrent_days: int | None
    expired_delete_markers: bool

    @classmethod
    def of(cls, rendered: Sequence[Mapping[str, Any]]) -> Rules:
        expiration = noncurrent = None
        markers = False
        for rule in rendered:
            if rule["status"] != "Enabled":
                continue
            scope = rule.get("filter") or {}
            if any(v not in (None, {}, "") for v in scope.values()):
                raise NotImplementedError(f"rule {rule['id']} has a filter: {scope}")
            current = rule.get("expiration") or {}
            if current.get("days") is not None:
                if current.get("expiredObjectDeleteMarker"):
                    raise ValueError(
                        f"{rule['id']}: S3 refuses Days with ExpiredObjectDeleteMarker"
                    )
                expiration = int(current["days"])
            if current.get("expiredObjectDeleteMarker"):
                markers = True
            versions = rule.get("noncurrentVersionExpiration") or {}
            if versions.get("newerNoncurrentVersions") is not None:
                raise ValueError(f"{rule['id']}: NewerNoncurrentVersions keeps versions forever")
            if versions.get("noncurrentDays") is not None:
                noncurrent = int(versions["noncurrentDays"])
        return cls(expiration, noncurrent, markers)


@dataclass(frozen=True)
class Fate:
    """When an object put at ``created`` loses its current version, its last version and
    its delete marker (None: never)."""

    created: datetime
    noncurrent_at: datetime | None
    version_gone_at: datetime | None
    marker_gone_at: datetime | None

    @property
    def gone_at(self) -> datetime | None:
        """When nothing of the object is left: no version, no delete marker."""
        if self.version_gone_at is None or self.marker_gone_at is None:
            return None
        return max(self.version_gone_at, self.marker_gone_at)

    def kept(self) -> timedelta | None:
        gone = self.gone_at
        return None if gone is None else gone - self.created


def fate(rules: Rules, created: datetime) -> Fate:
    if rules.expiration_days is None:
        return Fate(created, None, None, None)
    noncurrent_at = due(created, rules.expiration_days)
    version_gone = (
        due(noncurrent_at, rules.noncurrent_days) if rules.noncurrent_days is not None else None
    )
    marker_gone: datetime | None = None
    if version_gone is not None:
        candidates = [due(noncurrent_at, rules.expiration_days)]
        if rules.expired_delete_markers:
            candidates.append(next_midnight(version_gone))
        # A marker goes only once no version is left behind it.
        marker_gone = max(version_gone, min(candidates))
    return Fate(created, noncurrent_at, version_gone, marker_gone)


def fate_of_deletion(rules: Rules, deleted_at: datetime) -> Fate:
    """An object someone deletes at ``deleted_at`` on a versioned bucket: its version turns
    noncurrent behind a delete marker at once; the marker goes at the daily run after the
    last version is gone, and only with ExpiredObjectDeleteMarker (no Days rule here)."""
    version_gone = (
        due(deleted_at, rules.noncurrent_days) if rules.noncurrent_days is not None else None
    )
    marker_gone = (
        next_midnight(version_gone)
        if version_gone is not None and rules.expired_delete_markers
        else None
    )
    return Fate(deleted_at, deleted_at, version_gone, marker_gone)


def api_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    """A rendered rule as the PutBucketLifecycleConfiguration call carries it."""
    api: dict[str, Any] = {"ID": rule["id"], "Status": rule["status"], "Filter": {"Prefix": ""}}
    if "expiration" in rule:
        expiration = rule["expiration"]
        api["Expiration"] = (
            {"Days": expiration["days"]}
            if "days" in expiration
            else {"ExpiredObjectDeleteMarker": expiration["expiredObjectDeleteMarker"]}
        )
    if "noncurrentVersionExpiration" in rule:
        api["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": rule["noncurrentVersionExpiration"]["noncurrentDays"]
        }
    if "abortIncompleteMultipartUpload" in rule:
        api["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": rule["abortIncompleteMultipartUpload"]["daysAfterInitiation"]
        }
    return api


def longest_kept(rules: Rules, *, steps_per_day: int = 96) -> timedelta | None:
    """The longest any object survives, over upload times spread across one day (the
    rounding makes every day alike)."""
    start = datetime(2026, 1, 5, tzinfo=UTC)
    longest = timedelta(0)
    for step in range(steps_per_day):
        kept = fate(rules, start + step * DAY / steps_per_day).kept()
        if kept is None:
            return None
        longest = max(longest, kept)
    return longest
