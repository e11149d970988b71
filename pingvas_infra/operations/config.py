"""Operations layer configuration (`pingvas-infra:operations`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import cache
from itertools import pairwise
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import AfterValidator, Field, field_validator, model_validator
from pydantic.json_schema import JsonDict

from pingvas_infra.configbase import Allowed, ConfigModel, Problem, raise_problems
from pingvas_infra.environments import PROD
from pingvas_infra.node_disk import LIMIT_RANGE_FILE, pod_disk_maximums
from pingvas_infra.operations import sizing
from pingvas_infra.quantities import parse_quantity

# Kubernetes CronJobs take the standard five cron fields or one of these descriptors
# (robfig/cron's standard parser); seconds, L, W and # are refused by the API server.
_CRON_DESCRIPTORS = (
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
)
_CRON_FIELD = re.compile(r"^[0-9*/,\-?A-Za-z]+$")
_CRON_NAMES = re.compile(
    r"JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC|SUN|MON|TUE|WED|THU|FRI|SAT", re.IGNORECASE
)
_CRON_EXTENSIONS = re.compile(r"[LW#]", re.IGNORECASE)
# An S3 key prefix the model sync may mirror.
_PREFIX = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*/$")
# Where the repository's files are read: https, a host, a path; no query or fragment,
# since each alert's section is appended as /docs/runbooks.md#<alert>.
_RUNBOOK_BASE_URL = re.compile(r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^\s?#]*)?$")
_RUNBOOK_BASE_URL_ALLOWED = (
    "an https:// URL with a host and no query or fragment, under which docs/runbooks.md "
    "is read, such as https://github.com/acme/pingvas-infra/blob/main"
)
# Prometheus durations as the operator's `retention` field takes them, in whole units.
_RETENTION = re.compile(r"^[1-9][0-9]*(h|d|w)$")
# A fixed, arbitrary start for measuring the gaps between scheduled runs: the result does
# not depend on when the check runs. The probe covers a year of runs (monthly and yearly
# patterns), or at least two weeks of a frequent schedule (weekday patterns).
_SCHEDULE_PROBE_START = datetime(2026, 1, 5, tzinfo=UTC)
_SCHEDULE_PROBE_SPAN = timedelta(days=400)
_SCHEDULE_PROBE_MIN_SPAN = timedelta(days=15)
_SCHEDULE_PROBE_MAX_RUNS = 5000


def _quantity(value: str) -> str:
    parse_quantity(value)
    return value


Quantity = Annotated[
    str,
    AfterValidator(_quantity),
    Allowed('a Kubernetes quantity, such as "250m" (CPU) or "1Gi" (memory)'),
]


@cache
def run_intervals(schedule: str) -> tuple[timedelta, ...]:
    """The times between consecutive runs of ``schedule`` (see the probe span above).

    Measured in UTC: a time zone only moves runs by its daylight-saving hour twice a year,
    which the stale-backup alert allows for.
    """
    runs = croniter(schedule, _SCHEDULE_PROBE_START)
    times = [runs.get_next(datetime)]
    while times[-1] - _SCHEDULE_PROBE_START < _SCHEDULE_PROBE_SPAN and not (
        len(times) >= _SCHEDULE_PROBE_MAX_RUNS
        and times[-1] - _SCHEDULE_PROBE_START >= _SCHEDULE_PROBE_MIN_SPAN
    ):
        times.append(runs.get_next(datetime))
    return tuple(later - earlier for earlier, later in pairwise(times))


_SCHEDULE_ALLOWED: JsonDict = {
    "allowed": "five cron fields (minute hour day-of-month month day-of-week) or "
    "@daily-style; no seconds, no TZ= prefix, no L/W/#"
}


class ScheduledJobConfig(ConfigModel):
    """A CronJob of the operations layer: when it runs, how often it retries, how long a
    run may take."""

    schedule: str = Field(
        default="0 2 * * *",
        description="When the job runs, in timeZone.",
        json_schema_extra=_SCHEDULE_ALLOWED,
    )
    time_zone: str = Field(
        default="Etc/UTC",
        description="Time zone of schedule.",
        json_schema_extra={"allowed": "an IANA zone name, such as Etc/UTC or Europe/Berlin"},
    )
    backoff_limit: int = Field(
        default=2,
        ge=0,
        le=6,
        description="Retries of a failed run before the Job fails (and alerts).",
    )
    active_deadline_minutes: int = Field(
        default=60,
        ge=5,
        le=720,
        description=(
            "A run that takes longer is killed and counts as a failure; below the shortest "
            "interval between runs."
        ),
    )

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        fields = value.split()
        allowed = (
            "five cron fields (minute hour day-of-month month day-of-week) or one of "
            + ", ".join(_CRON_DESCRIPTORS)
            + "; no seconds, no TZ= prefix (use timeZone), no L/W/#"
        )
        if value in _CRON_DESCRIPTORS:
            return value
        if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
            raise ValueError(f"not a Kubernetes cron schedule; allowed: {allowed}")
        if _CRON_EXTENSIONS.search(_CRON_NAMES.sub("", value)) or not croniter.is_valid(value):
            raise ValueError(f"not a Kubernetes cron schedule; allowed: {allowed}")
        return value

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                "unknown time zone; allowed: an IANA zone name such as Etc/UTC or Europe/Berlin"
            ) from None
        return value

    @model_validator(mode="after")
    def _deadline_within_interval(self) -> ScheduledJobConfig:
        shortest = min(run_intervals(self.schedule))
        raise_problems(
            [
                Problem(
                    "activeDeadlineMinutes",
                    self.active_deadline_minutes,
                    "less than the shortest interval between scheduled runs "
                    f"({int(shortest.total_seconds() // 60)} minutes); with "
                    "concurrencyPolicy Forbid a longer run makes the next one be skipped",
                )
            ]
            if timedelta(minutes=self.active_deadline_minutes) >= shortest
            else []
        )
        return self

    @property
    def deadline(self) -> timedelta:
        return timedelta(minutes=self.active_deadline_minutes)

    @property
    def longest_interval(self) -> timedelta:
        return max(run_intervals(self.schedule))


# The dump's own disk beyond its scratch volume (logs, the writable layer).
DUMP_DISK_HEADROOM_GI = 1


def _scratch_allowed() -> str:
    written, gib = pod_disk_maximums()[PROD.namespace]
    return (
        f"a whole number from 1 to {gib - DUMP_DISK_HEADROOM_GI}: prod's per-pod disk maximum "
        f"({written}, k8s_manifests/{LIMIT_RANGE_FILE}) less {DUMP_DISK_HEADROOM_GI} GiB of "
        "headroom, and no more than what the system disk (cluster.systemNodes.diskSizeGib) "
        "leaves one pod, less the same"
    )


class BackupConfig(ScheduledJobConfig):
    """The daily dump of the prod schema to the backups bucket."""

    # The design guide's "daily at 2 AM", in `timeZone`: 02:00 UTC by default, an hour before the
    # design guide's Aurora backup window (03:00-04:00 UTC), so the two never overlap.
    schedule: str = Field(
        default="0 2 * * *",
        description="When the prod schema dump runs, in timeZone.",
        json_schema_extra=_SCHEDULE_ALLOWED,
    )
    scratch_size_gi: int = Field(
        default=5,
        ge=1,
        description=(
            "Node ephemeral storage the dump is written to first, on a system node: it and "
            "the dump's own headroom must fit what a system node's disk leaves one pod "
            "(cluster.systemNodes.diskSizeGib) and prod's per-pod maximum "
            "(k8s_manifests/limit-ranges.yaml)."
        ),
        json_schema_extra={"allowed": _scratch_allowed()},
    )

    @property
    def disk_limit_gi(self) -> int:
        """The dump container's ephemeral-storage limit: the scratch and its headroom."""
        return self.scratch_size_gi + DUMP_DISK_HEADROOM_GI


class ModelSyncConfig(ScheduledJobConfig):
    """The job that mirrors the models bucket into the EFS model store (the store's only
    writer). Run it at once with
    `kubectl -n pingvas-system create job --from=cronjob/model-sync model-sync-now`."""

    schedule: str = Field(
        default="17 * * * *",
        description=(
            "When the models bucket is mirrored into the model store, in timeZone. Hourly by "
            "default: a run that finds nothing new only lists the bucket (requests through the "
            "S3 gateway endpoint, cents a month) and writes nothing to EFS."
        ),
        json_schema_extra=_SCHEDULE_ALLOWED,
    )
    active_deadline_minutes: int = Field(
        default=50,
        ge=5,
        le=720,
        description=(
            "A run that takes longer is killed and counts as a failure; below the shortest "
            "interval between runs."
        ),
    )
    prefix: str = Field(
        default="",
        description='Only this part of the models bucket is mirrored ("" = all of it).',
        json_schema_extra={
            "allowed": "empty, or letters, digits and ._- in /-separated parts ending with /, "
            "without .. (such as sd15/)"
        },
    )

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if value and (
            not _PREFIX.match(value) or ".." in value.split("/") or not value.endswith("/")
        ):
            raise ValueError(
                "not a key prefix; allowed: empty, or letters, digits and ._- in /-separated "
                "parts ending with /, without .. (such as sd15/)"
            )
        return value


class GpuAlertsConfig(ConfigModel):
    """When the GPU and capacity alerts fire (each environment's pool, and spot overall)."""

    idle_minutes: int = Field(
        default=30,
        ge=10,
        le=720,
        description=(
            "A GPU node whose GPUs averaged less than idleUtilisationPercent over this many "
            "minutes (then 15 more) is reported: it is billed while it idles. Karpenter removes "
            "nodes without GPU pods after gpu.consolidateAfter; this catches the ones it keeps "
            "(a pod holding a GPU it does not use, a do-not-disrupt pod)."
        ),
    )
    idle_utilisation_percent: float = Field(
        default=5, gt=0, lt=100, description="GPU utilisation below which a GPU node is idle."
    )
    pending_minutes: int = Field(
        default=15,
        ge=5,
        le=240,
        description=(
            "A pod asking for GPUs that stays Pending this long alerts: a quota (the account's "
            "vCPU quota or the namespace's GPU quota), spot capacity gone, or the pool at its "
            "GPU limit."
        ),
    )
    spot_interruptions_per_hour: int = Field(
        default=3,
        ge=1,
        le=100,
        description=(
            "More spot interruption notices than this in an hour, over every node Karpenter "
            "manages, alert."
        ),
    )


class MonitoringConfig(ConfigModel):
    """kube-prometheus-stack on the system nodes, alert routing, dashboards."""

    enabled: bool = Field(
        default=True, description="kube-prometheus-stack, alert routing and dashboards."
    )
    retention: str = Field(
        default="15d",
        description="How long Prometheus keeps samples; the volume's size caps it as well.",
        json_schema_extra={"allowed": "a whole number of h, d or w, such as 15d"},
    )
    volume_size_gi: int = Field(
        default=20,
        ge=10,
        le=200,
        description="The Prometheus gp3 volume; Prometheus caps its data at 80% of it.",
    )
    prometheus_cpu: Quantity = Field(
        default="250m",
        description=(
            "Prometheus CPU request; the whole operations footprint must fit on the system "
            "nodes beside the cluster add-ons."
        ),
    )
    prometheus_memory: Quantity = Field(
        default="1Gi", description="Prometheus memory request (must fit, as prometheusCpu)."
    )
    prometheus_memory_limit: Quantity = Field(
        default="1536Mi", description="Prometheus memory limit; at least prometheusMemory."
    )
    quota_alert_ratio: float = Field(
        default=0.9,
        gt=0,
        le=1,
        description=(
            "The design guide's alert: a namespace using more than this share of a quota "
            "for 5 minutes."
        ),
    )
    gpu: GpuAlertsConfig = Field(
        default_factory=GpuAlertsConfig,
        description="The GPU and capacity alerts (DCGM exporter, Karpenter, kube-state-metrics).",
    )
    runbook_base_url: str | None = Field(
        default=None,
        description=(
            "Where the repository's files are read: each alert of the stack then carries "
            "runbook_url <runbookBaseUrl>/docs/runbooks.md#<alert>. Unset: only the "
            "repository path, in the runbook annotation."
        ),
        json_schema_extra={"allowed": _RUNBOOK_BASE_URL_ALLOWED},
    )

    @field_validator("runbook_base_url")
    @classmethod
    def _runbook_base_url(cls, value: str | None) -> str | None:
        if value is not None and not _RUNBOOK_BASE_URL.match(value):
            raise ValueError(f"not a runbook address; allowed: {_RUNBOOK_BASE_URL_ALLOWED}")
        return value

    @field_validator("retention")
    @classmethod
    def _duration(cls, value: str) -> str:
        if not _RETENTION.match(value):
            raise ValueError("not a retention; allowed: a whole number of h, d or w, such as 15d")
        return value

    @model_validator(mode="after")
    def _limits_cover_requests(self) -> MonitoringConfig:
        raise_problems(
            [
                Problem(
                    "prometheusMemoryLimit",
                    self.prometheus_memory_limit,
                    f"at least prometheusMemory ({self.prometheus_memory})",
                )
            ]
            if parse_quantity(self.prometheus_memory_limit) < parse_quantity(self.prometheus_memory)
            else []
        )
        return self

    @property
    def prometheus_resources(self) -> sizing.Resources:
        return sizing.Resources(
            cpu=self.prometheus_cpu,
            memory=self.prometheus_memory,
            cpu_limit=sizing.PROMETHEUS_CPU_LIMIT,
            memory_limit=self.prometheus_memory_limit,
        )

    @property
    def retention_size(self) -> str:
        """Prometheus' size cap: 80% of the volume, leaving room for WAL and compaction.

        Prometheus size units are powers of two, so "16GB" is 16 GiB.
        """
        return f"{self.volume_size_gi * 8 // 10}GB"


_REPO_URL = re.compile(r"^(https://[^\s/]+/\S+|ssh://\S+@\S+|git@[^\s:]+:\S+)$")
_PATH = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")


class ArgoCdConfig(ConfigModel):
    """Optional Argo CD for the application services (off by default)."""

    enabled: bool = Field(default=False, description="Argo CD for the application services.")
    repo_url: str | None = Field(
        default=None,
        description="The Git repository holding the services' manifests; required when enabled.",
        json_schema_extra={"allowed": "an https:// or SSH (git@host:org/repo, ssh://) Git URL"},
    )
    target_revision: str = Field(
        default="main", min_length=1, description="Branch, tag or commit Argo CD follows."
    )
    services_path: str = Field(
        default="deploy",
        description="Each environment syncs <servicesPath>/<env> (deploy/dev, deploy/prod).",
        json_schema_extra={"allowed": "a relative path inside the repository, without '..'"},
    )

    @model_validator(mode="after")
    def _repository(self) -> ArgoCdConfig:
        problems = []
        if self.enabled and self.repo_url is None:
            problems.append(
                Problem("repoUrl", None, "required when enabled: the services' Git repository")
            )
        if self.repo_url is not None and not _REPO_URL.match(self.repo_url):
            problems.append(
                Problem(
                    "repoUrl",
                    self.repo_url,
                    "an https:// or SSH (git@host:org/repo, ssh://) Git URL",
                )
            )
        if not _PATH.match(self.services_path) or ".." in self.services_path.split("/"):
            problems.append(
                Problem(
                    "servicesPath",
                    self.services_path,
                    "a relative path inside the repository, without '..'",
                )
            )
        raise_problems(problems)
        return self


class OperationsConfig(ConfigModel):
    """Backups, the model sync, monitoring and the optional Argo CD."""

    backup: BackupConfig = Field(
        default_factory=BackupConfig, description="The nightly dump of the prod schema."
    )
    model_sync: ModelSyncConfig = Field(
        default_factory=ModelSyncConfig,
        description="The hourly mirror of the models bucket into the EFS model store.",
    )
    monitoring: MonitoringConfig = Field(
        default_factory=MonitoringConfig, description="Monitoring and alert routing."
    )
    argocd: ArgoCdConfig = Field(default_factory=ArgoCdConfig, description="Optional Argo CD.")

    @model_validator(mode="after")
    def _fits_on_system_nodes(self) -> OperationsConfig:
        workloads: list[sizing.Workload] = []
        if self.monitoring.enabled:
            workloads += sizing.monitoring_workloads(self.monitoring.prometheus_resources)
        if self.argocd.enabled:
            workloads += sizing.argocd_workloads()
        cpu, memory = sizing.total_requests(workloads)
        budget = sizing.Budget.from_table()
        problems = []
        if cpu > budget.cpu_millicores:
            problems.append(
                Problem(
                    "monitoring.prometheusCpu",
                    self.monitoring.prometheus_cpu,
                    f"the operations workloads would request {cpu}m CPU; the system nodes "
                    f"have {budget.cpu_millicores}m left beside the cluster add-ons",
                )
            )
        if memory > budget.memory_mebibytes:
            problems.append(
                Problem(
                    "monitoring.prometheusMemory",
                    self.monitoring.prometheus_memory,
                    f"the operations workloads would request {memory}Mi memory; the system "
                    f"nodes have {budget.memory_mebibytes}Mi left beside the cluster add-ons",
                )
            )
        raise_problems(problems)
        return self
