"""The stack configuration: one pydantic model with a sub-model per layer.

Read from Pulumi config under the project's own namespace, ``pingvas-infra`` (the one
`pulumi config set` writes to by default; structured values, one key per layer:
``pingvas-infra:network``, ``pingvas-infra:cluster`` ...), plus the AWS provider keys the
program passes on (``aws:region``, ``aws:allowedAccountIds``). Every other key of the stack
file is refused, never ignored: a key of another namespace, an AWS provider key the program
does not pass on, a secret where none belongs. Values are validated strictly (no true where
a number is expected, no 4.5 where a whole number is), before any resource is registered;
every problem in every layer is collected into one message, raised as :class:`ConfigError`
(a ``pulumi.RunError``, so `pulumi up` prints the message without a Python traceback).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
from pydantic import Field, ValidationError, field_validator, model_validator

from pingvas_infra import sdk_internals
from pingvas_infra.cluster.config import ClusterConfig
from pingvas_infra.cluster.people import Principal, creator_problem, partition_of
from pingvas_infra.configbase import (
    CONFIG_NAMESPACE,
    FORMER_NAMESPACE,
    ConfigError,
    ConfigModel,
    ConfigProblems,
    ConfigWarning,
    Offence,
    Problem,
    aws_limit,
    offences_from,
    raise_problems,
    render_offences,
    show,
)
from pingvas_infra.data.config import DataConfig
from pingvas_infra.environments import DEV, PROD
from pingvas_infra.gpu.config import GpuConfig, kubernetes_version_problems
from pingvas_infra.ingress.config import IngressConfig
from pingvas_infra.instances import (
    general_purpose_types,
    gpu_families,
    instance_shapes,
    types_of_family,
)
from pingvas_infra.network.config import NetworkConfig
from pingvas_infra.node_disk import (
    LIMIT_RANGE_FILE,
    pod_disk_budget_gib,
    pod_disk_maximums,
    reserve_text,
    smallest_disk_gib,
)
from pingvas_infra.operations.config import DUMP_DISK_HEADROOM_GI, OperationsConfig
from pingvas_infra.price_tables import load_price_table, priced_regions, region_gaps
from pingvas_infra.stack_secrets import SECRET_KEYS, UNREAD, secret_value_refusal
from pingvas_infra.storage.config import StorageConfig
from pingvas_infra.tables import load_table
from pingvas_infra.tenancy.config import TenancyConfig

AWS_NAMESPACE = "aws"
# Keys of the `pulumi` namespace are read by the Pulumi engine itself, not the program.
ENGINE_KEYS = ("autonaming", "disable-default-providers", "tags", "template")
# Tags the stack sets on every resource; a user tag of the same key would be overwritten.
STACK_TAG_KEYS = ("Project", "Environment", "ManagedBy")
# Tags the program itself puts on one resource at most (Name, Purpose, Role, ...): a test
# measures the largest set in the plan and keeps it within this.
OWN_TAGS_PER_RESOURCE = 7
_TAG_KEY_RESERVED_PREFIX = "aws:"


def regions() -> list[str]:
    return list(load_table("regions")["regions"])


def zone_table(region: str) -> dict[str, Any]:
    """tables/availability_zones.yaml: the zones of ``region`` and its default three."""
    return dict(load_table("availability_zones")["regions"][region])


def zone_names(region: str) -> list[str]:
    return [f"{region}{letter}" for letter in zone_table(region)["zones"]]


def default_zones(region: str) -> tuple[str, ...] | None:
    default = zone_table(region)["default"]
    return tuple(f"{region}{letter}" for letter in default) if default else None


class StackConfig(ConfigModel):
    """Everything the stack reads from configuration, one sub-model per layer."""

    project: str = Field(
        default="pingvas",
        pattern=r"^[a-z][a-z0-9-]{1,20}$",
        description="`Project` tag and the prefix of named resources (buckets, database).",
        json_schema_extra={
            "allowed": "2-21 lower-case letters, digits and hyphens, starting with a letter"
        },
    )
    region: str = Field(
        default="us-east-1",
        description=(
            "Region of every resource; one whose price table gives every figure "
            "(tables/prices/), so the plan never prices it at another region's rates."
        ),
        json_schema_extra={"allowed": "a priced region: " + ", ".join(priced_regions())},
    )
    allowed_account_ids: tuple[str, ...] = Field(
        default=(),
        description=(
            "AWS accounts the AWS provider may work in: credentials of any other account stop "
            "`pulumi up` before anything is created. Empty: any."
        ),
        json_schema_extra={"allowed": "a list of 12-digit AWS account ids, as quoted text"},
    )
    tags: dict[str, str] = Field(
        default_factory=dict,
        max_length=aws_limit("tags_per_resource") - len(STACK_TAG_KEYS) - OWN_TAGS_PER_RESOURCE,
        description=(
            "Extra tags on every taggable resource, beside Project, Environment and ManagedBy "
            "(which the stack sets)."
        ),
        json_schema_extra={
            "allowed": "a map of tag key to value, at most "
            f"{aws_limit('tags_per_resource') - len(STACK_TAG_KEYS) - OWN_TAGS_PER_RESOURCE} "
            f"(AWS: {aws_limit('tags_per_resource')} per resource, "
            f"{len(STACK_TAG_KEYS) + OWN_TAGS_PER_RESOURCE} kept for the stack's own); keys of "
            f"1-{aws_limit('tag_key_length')} characters, not starting with aws: and not "
            f"{', '.join(STACK_TAG_KEYS)}; values of at most {aws_limit('tag_value_length')}"
        },
    )
    network: NetworkConfig = Field(
        default_factory=NetworkConfig, description="The VPC, its three subnet tiers and NAT."
    )
    cluster: ClusterConfig = Field(
        default_factory=ClusterConfig, description="The one EKS cluster for dev and prod."
    )
    gpu: GpuConfig = Field(default_factory=GpuConfig, description="Karpenter GPU pools.")
    data: DataConfig = Field(default_factory=DataConfig, description="Aurora and the cache.")
    storage: StorageConfig = Field(
        default_factory=StorageConfig, description="S3 buckets and the EFS model store."
    )
    ingress: IngressConfig = Field(
        default_factory=IngressConfig,
        description=(
            "The AWS Load Balancer Controller and each environment's internet entry "
            "(certificate, web ACL, client ranges, TLS policy)."
        ),
    )
    operations: OperationsConfig = Field(
        default_factory=OperationsConfig, description="Backups, monitoring, Argo CD."
    )
    tenancy: TenancyConfig = Field(
        default_factory=TenancyConfig, description="Namespaces, ingress ports, credentials."
    )

    @field_validator("region")
    @classmethod
    def _priced_region(cls, value: str) -> str:
        # Only a region whose price table gives every figure: a stack the plan cannot
        # price is refused before anything is created, never priced at another region's
        # rates or with a hole read as $0.
        priced = priced_regions()
        if value not in regions():
            raise ValueError(f"unknown region; allowed (priced): {', '.join(priced)}")
        if value not in priced:
            gaps = ", ".join(region_gaps(value))
            raise ValueError(
                f"a priced region: {', '.join(priced)} ({value} lacks prices: {gaps}; "
                f"see pingvas_infra/tables/prices/)"
            )
        return value

    @model_validator(mode="after")
    def _cross_layer(self) -> StackConfig:
        problems: list[Problem] = []
        azs = self.network.availability_zones
        if azs is None:
            azs = default_zones(self.region)
            if azs is None:
                problems.append(
                    Problem(
                        "network.availabilityZones",
                        None,
                        f"required in {self.region}: {zone_table(self.region)['note']}",
                    )
                )
                azs = ()
            # Unset: the region's default zones (tables/availability_zones.yaml).
            object.__setattr__(
                self, "network", self.network.model_copy(update={"availability_zones": azs})
            )
        known = zone_names(self.region)
        problems.extend(
            Problem(
                f"network.availabilityZones[{i}]",
                az,
                f"a zone of region {self.region} (aws:region): {', '.join(known)}",
            )
            for i, az in enumerate(azs)
            if az not in known
        )
        problems.extend(self._tag_problems())
        problems.extend(self._unpriced_settings())
        problems.extend(
            Problem(f"allowedAccountIds[{i}]", account, "a 12-digit AWS account id, quoted")
            for i, account in enumerate(self.allowed_account_ids)
            if not (len(account) == 12 and account.isdigit())
        )
        problems.extend(kubernetes_version_problems(self.cluster.kubernetes_version))
        copy = self.storage.backup_copy
        copy_regions = [r for r in load_table("regions")["regions"] if r != self.region]
        if copy.enabled and copy.region not in copy_regions:
            problems.append(
                Problem(
                    "storage.backupCopy.region",
                    copy.region,
                    f"another region than {self.region} (aws:region): one of "
                    + ", ".join(copy_regions),
                )
            )
        partition = partition_of(self.region)
        for key, arn in {**self.cluster.people(), **self.cluster.deployers()}.items():
            principal = Principal.parse(arn)
            if principal is not None:
                problems.extend(self._partition_problems(f"cluster.{key}", principal, partition))
        problems.extend(self._assuming_principal_problems(partition))
        problems.extend(self._system_disk_problems())
        problems.extend(
            Problem(f"ingress.{p.key}", p.value, p.allowed)
            for p in self.ingress.arn_region_problems(self.region, partition)
        )
        raise_problems(problems)
        return self

    def _partition_problems(self, key: str, principal: Principal, partition: str) -> list[Problem]:
        """An IAM principal of another partition than the stack's region: IAM refuses it."""
        if principal.partition == partition:
            return []
        return [
            Problem(
                key,
                principal.arn,
                f"an ARN of partition {partition}, the partition of region {self.region} "
                "(aws:region)",
            )
        ]

    def _assuming_principal_problems(self, partition: str) -> list[Problem]:
        """Who may assume the models publisher and the backup restore roles: IAM roles or
        users of the stack's partition, each once per list, and no dev person (publishing
        models changes what prod serves; restoring reads prod's data)."""
        problems: list[Problem] = []
        dev_people = {
            principal.identity
            for arn in self.cluster.environment_principal_arns.get(DEV.name, ())
            if (principal := Principal.parse(arn)) is not None
        }
        seen: dict[tuple[str, str], str] = {}
        for key, arn in self.storage.assuming_principals().items():
            full_key = f"storage.{key}"
            principal = Principal.parse(arn)
            if principal is None:
                problems.append(
                    Problem(
                        full_key,
                        arn,
                        "an IAM role or user ARN, such as "
                        "arn:aws:iam::123456789012:role/platform-oncall (paths allowed)",
                    )
                )
                continue
            problems.extend(self._partition_problems(full_key, principal, partition))
            if principal.identity in dev_people:
                problems.append(
                    Problem(
                        full_key,
                        arn,
                        "not a dev person (cluster.environmentPrincipalArns.dev): the role "
                        "reaches prod's data",
                    )
                )
            listing = key.split("[", 1)[0]
            earlier = seen.get((listing, arn))
            if earlier is not None:
                problems.append(Problem(full_key, arn, f"each principal once (also {earlier})"))
            seen.setdefault((listing, arn), full_key)
        return problems

    def _system_disk_problems(self) -> list[Problem]:
        """Every pod that may land on a system node writes at most what its disk leaves
        one pod: the environments' per-pod maximum and the prod backup's scratch.
        The scheduler places by request, so a pod may write up to its limit wherever it
        lands; past the budget, the kubelet deletes prod's and the platform's cached images
        and then taints the node DiskPressure."""
        disk = self.cluster.system_nodes.disk_size_gib
        budget = pod_disk_budget_gib(disk)
        problems: list[Problem] = []
        maximums = pod_disk_maximums()
        for namespace, (written, gib) in sorted(maximums.items()):
            if gib > budget:
                problems.append(
                    Problem(
                        "cluster.systemNodes.diskSizeGib",
                        disk,
                        f"at least {smallest_disk_gib(gib)} (up to 200), so a {namespace} "
                        f"pod at its ephemeral-storage maximum ({written}, "
                        f"k8s_manifests/{LIMIT_RANGE_FILE}) fits: {reserve_text()}; "
                        f"{disk} GiB leaves one pod {budget} GiB. Or lower that maximum "
                        f"to {budget}Gi or less",
                    )
                )
        backup = self.operations.backup
        ceiling = min(budget, maximums.get(PROD.namespace, ("", budget))[1])
        if backup.disk_limit_gi > ceiling:
            problems.append(
                Problem(
                    "operations.backup.scratchSizeGi",
                    backup.scratch_size_gi,
                    f"1 to {ceiling - DUMP_DISK_HEADROOM_GI}: the dump's disk limit (scratch "
                    f"plus {DUMP_DISK_HEADROOM_GI} GiB) must fit what a "
                    f"{disk} GiB system node leaves one pod ({budget} GiB; {reserve_text()}) "
                    f"and prod's per-pod maximum "
                    f"({maximums.get(PROD.namespace, ('none', 0))[0]}, "
                    f"k8s_manifests/{LIMIT_RANGE_FILE})",
                )
            )
        return problems

    def _tag_problems(self) -> list[Problem]:
        problems = []
        for key, value in self.tags.items():
            if key.lower().startswith(_TAG_KEY_RESERVED_PREFIX):
                problems.append(Problem(f"tags.{key}", value, "tag keys may not start with 'aws:'"))
            elif key in STACK_TAG_KEYS:
                problems.append(
                    Problem(
                        f"tags.{key}",
                        value,
                        f"a key other than {', '.join(STACK_TAG_KEYS)}, which the stack sets "
                        "on every resource (Project comes from project)",
                    )
                )
            elif not 1 <= len(key) <= aws_limit("tag_key_length"):
                problems.append(
                    Problem(f"tags.{key}", value, "a key of 1-128 characters (AWS tag limit)")
                )
            if len(value) > aws_limit("tag_value_length"):
                problems.append(
                    Problem(f"tags.{key}", value, "a value of at most 256 characters (AWS)")
                )
        return problems

    def _unpriced_settings(self) -> list[Problem]:
        """Settings the region's price table cannot price (a type not offered there, or
        with no sourced price): refused, naming what the region prices instead."""
        table = load_price_table(self.region)
        problems: list[Problem] = []
        node_types = self.cluster.system_nodes.instance_types
        priced_types = [t for t in general_purpose_types() if table.ec2_hourly(t) is not None]
        problems.extend(
            Problem(
                f"cluster.systemNodes.instanceTypes[{i}]",
                name,
                f"a type priced in {self.region}: {', '.join(priced_types)}",
            )
            for i, name in enumerate(node_types)
            if name in instance_shapes() and table.ec2_hourly(name) is None
        )
        priced_families = [
            f for f in gpu_families() if all(table.ec2_hourly(s.name) for s in types_of_family(f))
        ]
        problems.extend(
            Problem(
                f"gpu.instanceFamilies[{i}]",
                family,
                f"a family priced in {self.region}: {', '.join(priced_families)}",
            )
            for i, family in enumerate(self.gpu.instance_families)
            if family in gpu_families() and family not in priced_families
        )
        node_type = self.data.cache.node_type
        cache_nodes = load_table("cache_node_types")["node_types"]
        if node_type in cache_nodes and table.cache_hourly(node_type) is None:
            priced_nodes = [n for n in cache_nodes if table.cache_hourly(n) is not None]
            problems.append(
                Problem(
                    "data.cache.nodeType",
                    node_type,
                    f"a node type priced in {self.region}: {', '.join(priced_nodes)}",
                )
            )
        return problems

    def warnings(self) -> list[ConfigWarning]:
        """Every section's warnings, keyed by full stack-file key."""
        found: list[ConfigWarning] = []
        for name, field in type(self).model_fields.items():
            section = getattr(self, name)
            if isinstance(section, ConfigModel):
                key = f"{CONFIG_NAMESPACE}:{field.alias or name}"
                found.extend(
                    ConfigWarning(f"{key}.{w.key}", w.value, w.message) for w in section.warnings()
                )
        return found

    @model_validator(mode="after")
    def _bucket_names(self) -> StackConfig:
        # Bucket names include the project name, so they are checked here.
        raise_problems(self.storage.bucket_name_problems(self.project))
        return self

    @property
    def availability_zones(self) -> tuple[str, ...]:
        azs = self.network.availability_zones
        assert azs is not None  # resolved by _cross_layer
        return azs

    def default_tags(self) -> dict[str, str]:
        """Tags the AWS provider puts on every taggable resource."""
        return {
            **self.tags,
            "Project": self.project,
            "Environment": "shared",
            "ManagedBy": "pulumi",
        }


def _aws_refusal(name: str) -> str:
    table = load_table("aws_provider_config")
    row = table["keys"].get(name)
    read = ", ".join(f"aws:{k}" for k, v in table["keys"].items() if v["handling"] == "read")
    if row is None:
        return f"not a key of the AWS provider; the program reads {read}"
    return f"not passed on by this program: {' '.join(table['reasons'][row['reason']].split())}"


# Model fields that live in the `aws` namespace: field name -> stack-file key.
AWS_FIELDS = {"region": "aws:region", "allowed_account_ids": "aws:allowedAccountIds"}
# Top-level keys of the program's namespace, as written in the stack file.
SECTION_KEYS = tuple(
    f.alias or name for name, f in StackConfig.model_fields.items() if name not in AWS_FIELDS
)
_AWS_ALIASES = {
    StackConfig.model_fields[name].alias or name: key for name, key in AWS_FIELDS.items()
}


def _stack_key(path: str) -> str:
    """Map a model path ("network.vpcCidr", "region") to the stack-file key."""
    base = path.split(".", 1)[0].split("[", 1)[0]
    if base in _AWS_ALIASES:
        return _AWS_ALIASES[base] + path[len(base) :]
    return f"{CONFIG_NAMESPACE}:{path}"


@dataclass(frozen=True)
class RawConfig:
    """Pulumi config as the engine hands it over: ``ns:key`` -> string, plus secret keys."""

    values: Mapping[str, str]
    secret_keys: frozenset[str]

    @classmethod
    def from_runtime(cls) -> RawConfig:
        values, secret_keys = sdk_internals.engine_config()
        return cls(values=values, secret_keys=secret_keys)


def _unknown_key(name: str) -> str:
    section = re.split(r"[.\[]", name, maxsplit=1)[0]
    if section in SECTION_KEYS:
        # What `pulumi config set cluster.name x` writes: without --path, the dotted name is
        # one flat key, which no section reads.
        return (
            f"a flat key named '{name}', which `pulumi config set` writes without --path; "
            f"write it inside {CONFIG_NAMESPACE}:{section} instead: `pulumi config rm {name}` "
            f"then `pulumi config set --path {name} <value>`"
        )
    own = ", ".join(f"{CONFIG_NAMESPACE}:{k}" for k in (*SECTION_KEYS, *SECRET_KEYS))
    return f"unknown key; allowed keys: {own}"


def _namespace_offence(key: str, value: str, raw: RawConfig) -> Offence | None:
    """The offence of a key outside the program's namespace, or None when it is fine."""
    namespace, _, name = key.partition(":")
    if namespace == AWS_NAMESPACE:
        if key in AWS_FIELDS.values():
            return None
        return Offence(key, _shown(key, value, raw), _aws_refusal(name))
    if namespace == "pulumi":
        if name in ENGINE_KEYS:
            return None
        return Offence(
            key,
            _shown(key, value, raw),
            "not a key of the Pulumi engine; allowed: "
            + ", ".join(f"pulumi:{k}" for k in ENGINE_KEYS),
        )
    if namespace == FORMER_NAMESPACE:
        return Offence(
            key,
            _shown(key, value, raw),
            f"the program reads its settings under the project's name: write "
            f"{CONFIG_NAMESPACE}:{name} (rename the key in the stack file; a secure value "
            "keeps its ciphertext)",
        )
    return Offence(
        key,
        _shown(key, value, raw),
        f"unknown namespace '{namespace}'; the program reads {CONFIG_NAMESPACE}: (the default "
        "namespace of `pulumi config set`), "
        + ", ".join(AWS_FIELDS.values())
        + " and the engine's pulumi: keys",
    )


def _shown(key: str, value: str, raw: RawConfig) -> str:
    return UNREAD if key in raw.secret_keys else show(value)[:60]


def _decode(value: Any) -> Any:
    """Structured config arrives as a JSON string; top-level scalars arrive as text and stay
    text (Pulumi passes `project: 123` as "123"), so only a JSON list or map is decoded."""
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except json.JSONDecodeError:
            return value
        return decoded if isinstance(decoded, dict | list) or decoded is None else value
    return value


def parse_stack_config(
    raw: RawConfig, stack: str, file_offences: Sequence[Offence] = ()
) -> StackConfig:
    """Validate ``raw`` into a StackConfig or raise ConfigError naming every bad key.

    ``file_offences`` are problems the stack file reader found (a key given twice, a
    malformed secret): they join the same message.
    """
    offences: list[Offence] = list(file_offences)
    document: dict[str, Any] = {}
    aws_names = {key: field for field, key in AWS_FIELDS.items()}
    for key, value in sorted(raw.values.items()):
        namespace, _, name = key.partition(":")
        if namespace != CONFIG_NAMESPACE:
            offence = _namespace_offence(key, value, raw)
            if offence is not None:
                offences.append(offence)
            elif key in aws_names:
                alias = StackConfig.model_fields[aws_names[key]].alias or aws_names[key]
                document[alias] = _decode(value)
            continue
        if name in SECRET_KEYS:
            if key not in raw.secret_keys:
                offences.append(
                    Offence(
                        key,
                        "(plain text)",
                        f"a secret: set it with `pulumi config set --secret {name}`",
                    )
                )
                continue
            refusal = secret_value_refusal(name, value)
            if refusal is not None:
                offences.append(Offence(key, *refusal))
            continue
        if name not in SECTION_KEYS:
            offences.append(Offence(key, _shown(key, value, raw), _unknown_key(name)))
            continue
        if key in raw.secret_keys:
            offences.append(
                Offence(
                    key,
                    UNREAD,
                    "not a secret setting: write it in plain text (only "
                    + ", ".join(f"{CONFIG_NAMESPACE}:{k}" for k in SECRET_KEYS)
                    + " are secrets)",
                )
            )
            continue
        document[name] = _decode(value)
    config, found = _validate(document)
    offences.extend(Offence(_stack_key(o.key), o.value, o.allowed) for o in found)
    if offences or config is None:
        raise ConfigError(render_offences(offences, stack))
    return config


# A bad value hides the checks across keys of its model (pydantic runs them only on valid
# fields); each further pass sets the bad keys aside and runs them again.
_MAX_PASSES = 4


def _validate(document: dict[str, Any]) -> tuple[StackConfig | None, list[Offence]]:
    """Strict validation (JSON types as written: no true for 1, no 4.5 or "4" for 4) that
    reports every problem at once: the values that fail, then what the checks across keys
    find in the rest, with the failing keys left at their defaults."""
    offences: list[Offence] = []
    current = copy.deepcopy(document)
    aside: set[str] = set()
    for _ in range(_MAX_PASSES):
        try:
            config = StackConfig.model_validate_json(json.dumps(current), strict=True)
        except ValidationError as exc:
            reported = {o.key for o in offences}
            offences.extend(
                o
                for o in offences_from(exc, StackConfig, "")
                if o.key not in reported and not _leans_on(o, aside)
            )
            failed = [
                tuple(err["loc"])
                for err in exc.errors(include_url=False)
                if not isinstance((err.get("ctx") or {}).get("error"), ConfigProblems)
            ]
            if not failed:
                return None, offences
            aside.update(_set_aside(current, loc) for loc in failed)
            continue
        return (None if offences else config), offences
    return None, offences


def _leans_on(offence: Offence, aside: set[str]) -> bool:
    """Whether a check across keys judged ``offence`` against a key set aside: its default
    stood in for the value the user wrote, so the verdict would mislead."""
    return any(re.search(rf"\b{re.escape(name)}\b", offence.allowed) for name in aside if name)


def _set_aside(document: dict[str, Any], loc: tuple[int | str, ...]) -> str:
    """Remove the key a failing value sits under (its nearest named key), so its default
    stands in for it in the next pass; returns that key's name."""
    named = [i for i, part in enumerate(loc) if isinstance(part, str)]
    if not named:
        return ""
    *path, key = loc[: named[-1] + 1]
    target: Any = document
    for part in path:
        if not isinstance(target, dict) or part not in target:
            return str(key)
        target = target[part]
    if isinstance(target, dict):
        target.pop(key, None)
    return str(key)


def account_offences(config: StackConfig, caller_arn: str, zones: Sequence[str]) -> list[Offence]:
    """What only the account can tell: a listed principal that is the identity running the
    program, and zones the account is not offered (zone letters differ per account in
    the oldest regions)."""
    offences: list[Offence] = []
    listed = {f"{CONFIG_NAMESPACE}:cluster.{k}": arn for k, arn in config.cluster.people().items()}
    found = creator_problem(caller_arn, listed)
    if found is not None:
        key, arn = found
        offences.append(
            Offence(
                key,
                show(arn),
                f"not the identity running this program ({caller_arn}), which EKS already "
                "makes cluster admin as the cluster's creator; listing it again makes EKS "
                "refuse the second access entry (409 ResourceInUseException) half-way through "
                "the update. Remove it from the list",
            )
        )
    offences.extend(
        Offence(
            f"{CONFIG_NAMESPACE}:network.availabilityZones[{i}]",
            show(az),
            f"a zone this account is offered in {config.region}: {', '.join(zones)}",
        )
        for i, az in enumerate(config.availability_zones)
        if az not in zones
    )
    return offences


def check_against_account(config: StackConfig, stack: str, provider: aws.Provider) -> None:
    """Refuse, before any resource, what the account makes wrong (see account_offences)."""
    options = pulumi.InvokeOptions(provider=provider)
    caller = aws.get_caller_identity(opts=options)
    zones = aws.get_availability_zones(state="available", opts=options)
    offences = account_offences(config, caller.arn, list(zones.names))
    if offences:
        raise ConfigError(render_offences(offences, stack))


def load_stack_config() -> StackConfig:
    """The program's entry point to configuration (reads the running stack's config).

    Risky but valid settings are printed as warnings by `pulumi preview` and `pulumi up`.
    """
    config = parse_stack_config(RawConfig.from_runtime(), pulumi.get_stack())
    for warning in config.warnings():
        pulumi.log.warn(warning.render(""))
    return config
