"""Data layer configuration (`pingvas-infra:data`): Aurora Serverless v2 and ElastiCache."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, model_validator

from pingvas_infra.configbase import (
    ConfigModel,
    ConfigWarning,
    LogRetentionDays,
    Problem,
    aws_limit,
    not_one_of,
    raise_problems,
)
from pingvas_infra.kms_keys import DELETION_WINDOW_DAYS
from pingvas_infra.tables import load_table

# Aurora Serverless v2 limits (ServerlessV2ScalingConfiguration, RDS API reference):
# capacity in 0.5 ACU steps, maximum at least 1; auto-pause after 300-86400 s.
ACU_STEP = 0.5
MAX_ACU = float(aws_limit("aurora_serverless_v2_max_acu"))
MIN_MAX_ACU = 1.0
AUTO_PAUSE_SECONDS = range(
    aws_limit("aurora_seconds_until_auto_pause_min"),
    aws_limit("aurora_seconds_until_auto_pause_max") + 1,
)
# Aurora failover priorities (CreateDBInstance PromotionTier): 0 is promoted first.
PROMOTION_TIERS = range(16)
# Automated backups: the design guide keeps 7 days; RDS allows up to 35.
MIN_BACKUP_RETENTION_DAYS = 7
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

# The Aurora cluster's master user unless the stack names another (and the local
# environment's PostgreSQL superuser).
DEFAULT_MASTER_USERNAME = "pingvas_admin"
# PostgreSQL identifiers RDS refuses as the master user name.
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
    """Aurora PostgreSQL majors the stack accepts (tables/aurora_versions.yaml)."""
    return dict(load_table("aurora_versions")["versions"])


def cache_engine_versions() -> list[str]:
    return [str(v) for v in load_table("cache_engine_versions")["versions"]]


def _engine_version_refusal(given: str, versions: dict[str, Any]) -> str:
    majors = ", ".join(f'"{v}"' for v in versions)
    major = given.split(".", 1)[0]
    if "." in given and major in versions:
        return (
            f'write the major version alone, "{major}": automatic minor upgrades are on '
            "(mandatory policy control rds-auto-minor-upgrade), so AWS moves the minor, and a "
            f"pinned {given} would plan a downgrade RDS refuses once it had; allowed: {majors}"
        )
    return f"a major of tables/aurora_versions.yaml: {majors}"


class AuroraConfig(ConfigModel):
    """The one Aurora PostgreSQL Serverless v2 cluster (writer + reader) for dev and prod."""

    engine_version: str = Field(
        default="17",
        description=(
            "Aurora PostgreSQL major version. Only the major is pinned: automatic minor upgrades "
            "are on, so AWS moves the minor, and a pinned minor would plan a downgrade RDS "
            "refuses once it did."
        ),
        json_schema_extra={
            "allowed": "quoted text, a major of tables/aurora_versions.yaml: "
            + ", ".join(f'"{v}"' for v in aurora_versions())
        },
    )
    min_acu: float = Field(
        default=0,
        ge=0,
        le=MAX_ACU,
        multiple_of=ACU_STEP,
        description=(
            "Serverless v2 minimum; at most maxAcu. 0 lets an instance pause after "
            "secondsUntilAutoPause without connections (about 15 s to resume), on a version "
            "that can: the writer stays up while the services hold their connection pools, "
            "and the tier-2 reader, which nobody connects to, pauses. The design guide's 0.5 "
            "keeps both running (+$43.80 a month for the reader)."
        ),
    )
    max_acu: float = Field(
        default=4.0,
        ge=MIN_MAX_ACU,
        le=MAX_ACU,
        multiple_of=ACU_STEP,
        description="Serverless v2 maximum (the design guide's 4).",
    )
    seconds_until_auto_pause: int | None = Field(
        default=None,
        ge=AUTO_PAUSE_SECONDS.start,
        le=AUTO_PAUSE_SECONDS.stop - 1,
        description=(
            "Idle seconds before the instances pause; only with minAcu 0, where unset means "
            f"{AUTO_PAUSE_SECONDS.start}."
        ),
    )
    master_username: str = Field(
        default=DEFAULT_MASTER_USERNAME,
        pattern=r"^[a-zA-Z][a-zA-Z0-9_]{0,62}$",
        description="Master user; its password is generated and kept by RDS in Secrets Manager.",
        json_schema_extra={
            "allowed": "1-63 letters, digits or _, starting with a letter; not postgres, admin "
            "or a name starting with rds"
        },
    )
    backup_retention_days: int = Field(
        default=7,
        ge=MIN_BACKUP_RETENTION_DAYS,
        le=aws_limit("aurora_backup_retention_days_max"),
        description="Days of automated backups (point-in-time recovery).",
    )
    preferred_backup_window: str = Field(
        default="03:00-04:00",
        description="Daily UTC window of the automated backups, at least 30 minutes.",
        json_schema_extra={"allowed": "hh24:mi-hh24:mi (UTC), at least 30 minutes"},
    )
    preferred_maintenance_window: str = Field(
        default="sun:04:30-sun:05:30",
        description="Weekly UTC maintenance window, not overlapping the backup window.",
        json_schema_extra={
            "allowed": "ddd:hh24:mi-ddd:hh24:mi (UTC, ddd mon-sun), at least 30 minutes"
        },
    )
    deletion_protection: Literal[True] = Field(
        default=True,
        description=(
            "Prod data lives here: RDS refuses to delete the cluster. To delete it, unprotect "
            "it in Pulumi (`pulumi state unprotect`) and turn protection off in RDS, outside "
            "this stack."
        ),
        json_schema_extra={
            "why": "false is refused: the mandatory policy control rds-deletion-protection "
            "(FSBP RDS.7) fails every plan without it"
        },
    )
    log_retention_days: LogRetentionDays = Field(
        default=30, description="CloudWatch retention of the exported PostgreSQL log."
    )
    slow_statement_ms: int = Field(
        default=1000,
        ge=100,
        le=600_000,
        description=(
            "Statements running longer than this many milliseconds are logged with their "
            "duration (PostgreSQL's log_min_duration_statement), in both environments: the "
            "first place to look when the database slows down. The statement text lands in "
            "the exported log, encrypted with the logs key; bind parameters too."
        ),
        json_schema_extra={
            "why": "below 100 ms the log grows with ordinary traffic; above 10 minutes "
            "nothing slow enough to matter is left to log"
        },
    )
    reader: bool = Field(
        default=True,
        description=(
            "The reader in a second zone, the failover target. false gives up HA for no saving "
            "at the defaults (the tier-2 reader pauses): a writer or zone failure then waits "
            "minutes for RDS to create an instance; the plan warns."
        ),
    )
    reader_promotion_tier: int = Field(
        default=2,
        ge=PROMOTION_TIERS.start,
        le=PROMOTION_TIERS.stop - 1,
        description=(
            "Failover priority of the reader (0 highest). In tier 0 or 1 a Serverless v2 reader "
            "is kept at least as large as the writer and pauses only with it: a warm failover "
            "target that bills like a second writer. In tier 2-15 it scales with its own load "
            "and, with minAcu 0, pauses on its own when nobody connects: still the failover "
            "target in a second zone, but a failover first resumes it and it starts small and "
            'cold (README, "Aurora failover and cost").'
        ),
    )

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
        if version is None:
            problems.append(
                Problem(
                    "engineVersion",
                    self.engine_version,
                    _engine_version_refusal(self.engine_version, versions),
                )
            )
        if self.min_acu > self.max_acu:
            problems.append(Problem("minAcu", self.min_acu, f"at most maxAcu ({self.max_acu:g})"))
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
        if self.seconds_until_auto_pause is not None and self.min_acu != 0:
            problems.append(
                Problem(
                    "secondsUntilAutoPause",
                    self.seconds_until_auto_pause,
                    "only with minAcu 0 (instances pause only at 0 ACU)",
                )
            )
        if (
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
        problems.extend(
            window_problems(
                "preferredBackupWindow",
                self.preferred_backup_window,
                "preferredMaintenanceWindow",
                self.preferred_maintenance_window,
                "automated backups",
            )
        )
        raise_problems(problems)
        return self


class CacheConfig(ConfigModel):
    """The one Valkey replication group: primary + one replica in another AZ."""

    engine_version: str = Field(
        default="8.2",
        description="Valkey version, major.minor (the form the provider needs for Valkey).",
        json_schema_extra={
            "allowed": "quoted text, a version of tables/cache_engine_versions.yaml: "
            + ", ".join(f'"{v}"' for v in cache_engine_versions())
        },
    )
    node_type: str = Field(
        default="cache.t4g.micro",
        description='Node type of the primary and the replica (README: "Sizing the cache").',
        json_schema_extra={
            "allowed": "a node type of tables/cache_node_types.yaml, such as cache.t4g.small"
        },
    )
    snapshot_retention_days: int = Field(
        default=7,
        ge=1,
        le=aws_limit("elasticache_snapshot_retention_days_max"),
        description="Days of daily snapshots (0 would turn them off, so 1 at least).",
    )
    snapshot_window: str = Field(
        default="05:00-06:00",
        description="Daily UTC snapshot window, at least 30 minutes.",
        json_schema_extra={"allowed": "hh24:mi-hh24:mi (UTC), at least 30 minutes"},
    )
    maintenance_window: str = Field(
        default="sun:06:30-sun:07:30",
        description="Weekly UTC maintenance window, not overlapping the snapshot window.",
        json_schema_extra={
            "allowed": "ddd:hh24:mi-ddd:hh24:mi (UTC, ddd mon-sun), at least 30 minutes"
        },
    )

    @model_validator(mode="after")
    def _check(self) -> CacheConfig:
        problems: list[Problem] = []
        problems += not_one_of("engineVersion", self.engine_version, cache_engine_versions())
        node_types = load_table("cache_node_types")["node_types"]
        problems += not_one_of("nodeType", self.node_type, node_types)
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

    aurora: AuroraConfig = Field(
        default_factory=AuroraConfig,
        description="The one Aurora PostgreSQL Serverless v2 cluster for dev and prod.",
    )
    cache: CacheConfig = Field(
        default_factory=CacheConfig, description="The one Valkey replication group."
    )
    kms_deletion_window_days: int = Field(
        default=30,
        ge=DELETION_WINDOW_DAYS.start,
        le=DELETION_WINDOW_DAYS.stop - 1,
        description="Days before the data key (database, cache, master secret) is really deleted.",
    )

    def warnings(self) -> list[ConfigWarning]:
        return [
            ConfigWarning(f"aurora.{w.key}", w.value, w.message) for w in self.aurora.warnings()
        ]
