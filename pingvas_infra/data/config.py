"""Data layer configuration (`pingvas:data`): Aurora Serverless v2 and ElastiCache."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import Field, model_validator

from pingvas_infra.configbase import (
    LOG_RETENTION_DAYS,
    ConfigModel,
    ConfigWarning,
    Problem,
    not_one_of,
    out_of_range,
    raise_problems,
    span,
)
from pingvas_infra.kms_keys import DELETION_WINDOW_DAYS
from pingvas_infra.tables import load_table

# Aurora Serverless v2 limits (ServerlessV2ScalingConfiguration, RDS API reference):
# capacity in 0.5 ACU steps up to 256, maximum at least 1; auto-pause after 300-86400 s.
ACU_STEP = 0.5
MAX_ACU = 256.0
MIN_MAX_ACU = 1.0
AUTO_PAUSE_SECONDS = range(300, 86_401)
# Aurora failover priorities (CreateDBInstance PromotionTier): 0 is promoted first.
PROMOTION_TIERS = range(16)
# Automated backups: the design guide keeps 7 days; RDS allows up to 35.
BACKUP_RETENTION_DAYS = range(7, 36)
# ElastiCache keeps automatic snapshots for up to 35 days; 0 would turn them off.
SNAPSHOT_RETENTION_DAYS = range(1, 36)
# RDS and ElastiCache both need windows of at least 30 minutes.
MIN_WINDOW_MINUTES = 30

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAILY_WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
_WEEKLY_WINDOW = re.compile(
    r"^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)"
    r"-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)$"
)
_WEEK_MINUTES = 7 * 24 * 60
_DAY_MINUTES = 24 * 60

# PostgreSQL identifiers RDS refuses as the master user name.
_MASTER_USERNAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]{0,62}$")
_RESERVED_USERNAMES = ("postgres", "rdsadmin", "rdsrepladmin", "rds_superuser", "admin")


@dataclass(frozen=True)
class _Interval:
    """[start, end) in minutes of the week; end may pass the week's end (wraps)."""

    start: int
    end: int

    def minutes(self) -> set[int]:
        return {m % _WEEK_MINUTES for m in range(self.start, self.end)}


def _daily(window: str) -> list[_Interval] | None:
    """A daily `hh24:mi-hh24:mi` window (UTC) as its seven weekly occurrences."""
    match = _DAILY_WINDOW.match(window)
    if not match:
        return None
    start = int(match[1]) * 60 + int(match[2])
    end = int(match[3]) * 60 + int(match[4])
    length = (end - start) % _DAY_MINUTES
    return [
        _Interval(day * _DAY_MINUTES + start, day * _DAY_MINUTES + start + length)
        for day in range(7)
    ]


def _weekly(window: str) -> _Interval | None:
    """A weekly `ddd:hh24:mi-ddd:hh24:mi` window (UTC)."""
    match = _WEEKLY_WINDOW.match(window)
    if not match:
        return None
    start = _DAYS.index(match[1]) * _DAY_MINUTES + int(match[2]) * 60 + int(match[3])
    end = _DAYS.index(match[4]) * _DAY_MINUTES + int(match[5]) * 60 + int(match[6])
    return _Interval(start, start + (end - start) % _WEEK_MINUTES)


def window_problems(
    daily_key: str, daily: str, weekly_key: str, weekly: str, what: str
) -> list[Problem]:
    """Format, minimum length and no overlap of a daily backup and a weekly maintenance
    window (both RDS and ElastiCache refuse overlapping ones)."""
    problems: list[Problem] = []
    daily_intervals = _daily(daily)
    weekly_interval = _weekly(weekly)
    if daily_intervals is None:
        problems.append(Problem(daily_key, daily, f"a daily UTC window hh24:mi-hh24:mi ({what})"))
    elif daily_intervals[0].end - daily_intervals[0].start < MIN_WINDOW_MINUTES:
        problems.append(Problem(daily_key, daily, f"a window of at least {MIN_WINDOW_MINUTES} min"))
    if weekly_interval is None:
        problems.append(
            Problem(weekly_key, weekly, "a weekly UTC window ddd:hh24:mi-ddd:hh24:mi, ddd mon-sun")
        )
    elif weekly_interval.end - weekly_interval.start < MIN_WINDOW_MINUTES:
        problems.append(
            Problem(weekly_key, weekly, f"a window of at least {MIN_WINDOW_MINUTES} min")
        )
    if daily_intervals and weekly_interval and not problems:
        busy = set().union(*(i.minutes() for i in daily_intervals))
        if busy & weekly_interval.minutes():
            problems.append(Problem(weekly_key, weekly, f"a window that does not overlap {daily}"))
    return problems


def aurora_versions() -> dict[str, dict[str, Any]]:
    return dict(load_table("aurora_versions")["versions"])


def _is_acu(value: float) -> bool:
    return (value / ACU_STEP).is_integer()


class AuroraConfig(ConfigModel):
    """The one Aurora PostgreSQL Serverless v2 cluster (writer + reader) for dev and prod."""

    # Must be a row of tables/aurora_versions.yaml (which also says whether it can pause).
    engine_version: str = "17.9"
    # 0 lets an instance pause after secondsUntilAutoPause without connections (about 15 s
    # to resume on the next connection): the writer stays up while the services hold their
    # connection pools, and the tier-2 reader, which nobody connects to, pauses. The design
    # guide's 0.5 keeps both running (+$43.80 a month for the reader).
    min_acu: float = 0
    max_acu: float = 4.0
    # Only with minAcu 0: idle seconds before pausing (AWS default 300).
    seconds_until_auto_pause: int | None = None
    master_username: str = "pingvas_admin"
    backup_retention_days: int = 7
    preferred_backup_window: str = "03:00-04:00"
    preferred_maintenance_window: str = "sun:04:30-sun:05:30"
    # Prod data lives here: deleting the cluster must be a deliberate two-step change.
    deletion_protection: bool = True
    # CloudWatch Logs retention of the exported PostgreSQL log.
    log_retention_days: int = 30
    # The reader in a second AZ is what makes the database highly available: Aurora fails
    # over to it in about 30 s. false drops it (about $88 a month at the design guide's 1 ACU per
    # instance): a writer or AZ failure then waits for RDS to create a new instance, and
    # the plan warns.
    reader: bool = True
    # Failover priority of the reader (0 highest). In tier 0 or 1 a Serverless v2 reader
    # is kept at least as large as the writer and pauses only with it: a warm failover
    # target that bills like a second writer. In tier 2-15 it scales with its own load
    # and, with minAcu 0, pauses on its own when nobody connects: still the failover
    # target in a second AZ, but a failover first resumes it and it starts small and cold
    # (README, "Aurora failover and cost").
    reader_promotion_tier: int = 2

    def warnings(self) -> list[ConfigWarning]:
        if self.reader:
            return []
        return [
            ConfigWarning(
                "reader",
                self.reader,
                "no Aurora reader: the database is not highly available; a writer or AZ "
                "failure means RDS creates a new instance (minutes of downtime) instead of "
                "failing over in about 30 s",
            )
        ]

    @property
    def parameter_group_family(self) -> str:
        return str(aurora_versions()[self.engine_version]["parameter_group_family"])

    @property
    def auto_pause_seconds(self) -> int | None:
        """The auto-pause delay sent to RDS: set exactly when the minimum is 0 ACU."""
        if self.min_acu != 0:
            return None
        return self.seconds_until_auto_pause or AUTO_PAUSE_SECONDS.start

    @model_validator(mode="after")
    def _check(self) -> AuroraConfig:
        problems: list[Problem] = []
        versions = aurora_versions()
        version = versions.get(self.engine_version)
        problems += not_one_of("engineVersion", self.engine_version, versions)
        for key, value in (("minAcu", self.min_acu), ("maxAcu", self.max_acu)):
            if not 0 <= value <= MAX_ACU or not _is_acu(value):
                problems.append(Problem(key, value, f"0 to {MAX_ACU:g} ACU in steps of {ACU_STEP}"))
        if self.max_acu < MIN_MAX_ACU:
            problems.append(Problem("maxAcu", self.max_acu, f"at least {MIN_MAX_ACU:g} ACU"))
        if self.min_acu > self.max_acu:
            problems.append(Problem("minAcu", self.min_acu, f"at most maxAcu ({self.max_acu})"))
        if self.min_acu == 0 and version is not None and not version["scale_to_zero"]:
            pausing = [v for v, row in versions.items() if row["scale_to_zero"]]
            problems.append(
                Problem(
                    "minAcu",
                    self.min_acu,
                    f"at least {ACU_STEP} on engine {self.engine_version}, which cannot pause; "
                    f"0 needs one of {', '.join(pausing)}",
                )
            )
        if self.seconds_until_auto_pause is not None:
            if self.min_acu != 0:
                problems.append(
                    Problem(
                        "secondsUntilAutoPause",
                        self.seconds_until_auto_pause,
                        "only with minAcu 0 (instances pause only at 0 ACU)",
                    )
                )
            else:
                problems += out_of_range(
                    "secondsUntilAutoPause",
                    self.seconds_until_auto_pause,
                    AUTO_PAUSE_SECONDS,
                    unit="seconds",
                )
        if not _MASTER_USERNAME.match(self.master_username) or (
            self.master_username.lower() in _RESERVED_USERNAMES
            or self.master_username.lower().startswith("rds")
        ):
            problems.append(
                Problem(
                    "masterUsername",
                    self.master_username,
                    "1-63 letters, digits or _, starting with a letter; not postgres, admin "
                    "or a name starting with rds",
                )
            )
        problems += out_of_range(
            "backupRetentionDays", self.backup_retention_days, BACKUP_RETENTION_DAYS
        )
        problems.extend(
            window_problems(
                "preferredBackupWindow",
                self.preferred_backup_window,
                "preferredMaintenanceWindow",
                self.preferred_maintenance_window,
                "automated backups",
            )
        )
        problems += not_one_of("logRetentionDays", self.log_retention_days, LOG_RETENTION_DAYS)
        problems += out_of_range(
            "readerPromotionTier", self.reader_promotion_tier, PROMOTION_TIERS, unit="(tier)"
        )
        raise_problems(problems)
        return self


class CacheConfig(ConfigModel):
    """The one Valkey replication group: primary + one replica in another AZ."""

    # Must be listed in tables/cache_engine_versions.yaml.
    engine_version: str = "8.2"
    # Sessions and queues need little memory; see README "Sizing the cache".
    node_type: str = "cache.t4g.micro"
    snapshot_retention_days: int = 7
    snapshot_window: str = "05:00-06:00"
    maintenance_window: str = "sun:06:30-sun:07:30"

    @model_validator(mode="after")
    def _check(self) -> CacheConfig:
        problems: list[Problem] = []
        versions = [str(v) for v in load_table("cache_engine_versions")["versions"]]
        problems += not_one_of("engineVersion", self.engine_version, versions)
        node_types = load_table("cache_node_types")["node_types"]
        problems += not_one_of("nodeType", self.node_type, node_types)
        if self.snapshot_retention_days not in SNAPSHOT_RETENTION_DAYS:
            problems.append(
                Problem(
                    "snapshotRetentionDays",
                    self.snapshot_retention_days,
                    f"{span(SNAPSHOT_RETENTION_DAYS)} (snapshots stay on)",
                )
            )
        problems.extend(
            window_problems(
                "snapshotWindow",
                self.snapshot_window,
                "maintenanceWindow",
                self.maintenance_window,
                "daily snapshot",
            )
        )
        raise_problems(problems)
        return self


class DataConfig(ConfigModel):
    """The shared data stores: one Aurora cluster, one cache, one KMS key for both."""

    aurora: AuroraConfig = Field(default_factory=AuroraConfig)
    cache: CacheConfig = Field(default_factory=CacheConfig)
    # Waiting period before the data key (database, cache, master secret) is deleted.
    kms_deletion_window_days: int = 30

    def warnings(self) -> list[ConfigWarning]:
        return [
            ConfigWarning(f"aurora.{w.key}", w.value, w.message) for w in self.aurora.warnings()
        ]

    @model_validator(mode="after")
    def _check(self) -> DataConfig:
        raise_problems(
            out_of_range(
                "kmsDeletionWindowDays", self.kms_deletion_window_days, DELETION_WINDOW_DAYS
            )
        )
        return self
