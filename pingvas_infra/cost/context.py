"""What a pricing rule may consult: the price table, the usage profile, and the graph.

Rules look other resources up through here (a node group's launch template, an Aurora
instance's cluster, a NodePool's EC2NodeClass, a log group's owner) and build their lines
with :meth:`PricingContext.line`, so the unit price always comes from the table.
"""

from __future__ import annotations

import copy
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pingvas_infra import resource_types as rt
from pingvas_infra.cost.data import GpuWorkload, UsageProfile
from pingvas_infra.cost.model import SHARED, CostLine, Kind
from pingvas_infra.environments import ENVIRONMENTS
from pingvas_infra.labels import (
    CAPACITY_TYPE_LABEL,
    NAMESPACE_NAME_LABEL,
    ON_DEMAND,
    POOL_PURPOSE_LABEL,
    SPOT,
)
from pingvas_infra.mappings import dig
from pingvas_infra.plan.model import RecordedResource, reveal
from pingvas_infra.price_tables import PriceTable, PriceTableNotFound, load_price_table
from pingvas_infra.quantities import GIBI, parse_quantity

ENVIRONMENT_NAMES = tuple(e.name for e in ENVIRONMENTS)

# CSI drivers (and the in-tree EBS plugin) as StorageClass provisioners and PV drivers.
EBS_PROVISIONERS = ("ebs.csi.aws.com", "kubernetes.io/aws-ebs")
EFS_PROVISIONERS = ("efs.csi.aws.com",)
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"

# EKS creates /aws/eks/<cluster>/cluster; RDS creates /aws/rds/cluster/<id>/<log type>.
_EKS_LOG_GROUP = re.compile(r"^/aws/eks/(?P<cluster>[^/]+)/cluster$")
_RDS_LOG_GROUP = re.compile(r"^/aws/rds/cluster/(?P<cluster>[^/]+)/(?P<log>[^/]+)$")


def quantity_gib(value: Any) -> float:
    """A Kubernetes storage quantity in GiB, the unit EBS sizes and bills in."""
    return float(parse_quantity(str(value).strip()) / GIBI)


def inputs_of(resource: RecordedResource) -> dict[str, Any]:
    """The inputs to price from. Sizes and counts are never secret, but a secret sibling
    can redact a whole map (Helm values): in memory, read the unredacted mock values."""
    if resource.raw_inputs:
        revealed: dict[str, Any] = reveal(resource.raw_inputs)
        return revealed
    return resource.inputs


def requirement_values(pool_inputs: Mapping[str, Any], key: str) -> list[str] | None:
    """Values of a NodePool requirement with operator In (None when the pool sets none)."""
    for requirement in dig(pool_inputs, "spec", "template", "spec", "requirements") or []:
        if requirement.get("key") == key and requirement.get("operator") == "In":
            return [str(v) for v in requirement.get("values") or []]
    return None


@dataclass(frozen=True)
class LogSink:
    """Where CloudWatch Logs ingestion lands: a log group in the graph, or one that EKS or
    RDS creates by itself (owned by the cluster that turns logging on)."""

    owner: str
    name: str
    kinds: tuple[str, ...]
    # None = never expire (what EKS and RDS create when the program does not).
    retention_days: int | None


@dataclass(frozen=True)
class PoolShare:
    """The spot share a GPU pool runs at: the profile's, within what the pool allows."""

    environment: str
    profile_share: float
    share: float
    capacity_types: tuple[str, ...]

    @property
    def basis(self) -> str:
        """Which assumption the pool's spot share comes from, for the plan's lines."""
        allowed = "/".join(self.capacity_types)
        if SPOT not in self.capacity_types:
            return f"{ON_DEMAND} only: the pool allows {allowed}"
        if ON_DEMAND not in self.capacity_types:
            return f"{SPOT} only: the pool allows {allowed}"
        return f"the profile's spot share {self.profile_share:g}: the pool allows {allowed}"

    @property
    def note(self) -> str | None:
        if self.share == self.profile_share:
            return None
        return (
            f"GPU pool {self.environment} allows {'/'.join(self.capacity_types)} only: priced at "
            f"spot share {self.share:g}, not the profile's {self.profile_share:g}"
        )


@dataclass(frozen=True)
class ClaimBacking:
    """What stores a persistent volume claim's data: an EBS volume of ``volume_type``
    (billed per GB provisioned), EFS (billed on the file system's stored GB), or neither
    known (``unknown``: a provisioner not in the table; ``missing``: no such class)."""

    kind: Literal["ebs", "efs", "unknown", "missing"]
    volume_type: str | None
    described: str


@dataclass
class RuleResult:
    """What a rule found for one resource."""

    lines: list[CostLine] = field(default_factory=list)
    # Components that could not be priced, each with the reason.
    unpriced: list[str] = field(default_factory=list)
    # Set when the resource costs nothing of its own.
    free: str | None = None
    warnings: list[str] = field(default_factory=list)


class MissingPrice(LookupError):
    """The price table has no entry a rule needs."""


def environment_of(inputs: Mapping[str, Any], fallback: str = SHARED) -> str:
    """dev/prod when the resource says so (tag, namespace), else ``fallback``."""
    tags = inputs.get("tags") or {}
    for key in ("Environment", "environment"):
        if tags.get(key) in ENVIRONMENT_NAMES:
            return str(tags[key])
    namespace = dig(inputs, "metadata", "namespace")
    if namespace in ENVIRONMENT_NAMES:
        return str(namespace)
    return fallback


class PricingContext:
    def __init__(
        self,
        resources: Sequence[RecordedResource],
        table: PriceTable,
        profile: UsageProfile,
        workload: GpuWorkload,
    ) -> None:
        self.resources = list(resources)
        self.table = table
        self.profile = profile
        self.workload = workload
        self.hours = table.hours_per_month
        self.by_urn = {r.urn: r for r in self.resources}
        self.by_id = {r.id: r for r in self.resources if r.id}
        self._inputs = {r.urn: inputs_of(r) for r in self.resources}
        # Usage keys some resource priced; the rest of the profile is reported as unpriced.
        self.consumed: set[str] = set()
        self.log_sinks = self._find_log_sinks()
        self.sharers = self._count_sharers()

    def in_region(self, region: str) -> PricingContext | None:
        """The same graph and usage priced at ``region``'s table; None without a table."""
        try:
            table = load_price_table(region)
        except PriceTableNotFound:
            return None
        regional = copy.copy(self)
        regional.table = table
        regional.hours = table.hours_per_month
        return regional

    # -- lookups -------------------------------------------------------------------------

    def inputs(self, resource: RecordedResource) -> dict[str, Any]:
        return self._inputs.get(resource.urn) or inputs_of(resource)

    def of_type(self, *types: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type in types]

    def referenced(self, resource: RecordedResource, type_token: str) -> list[RecordedResource]:
        """Resources of ``type_token`` that ``resource`` depends on."""
        found = [self.by_urn[u] for u in resource.dependencies if u in self.by_urn]
        return [r for r in found if r.type == type_token]

    def k8s_named(self, type_token: str, name: str) -> RecordedResource | None:
        for candidate in self.of_type(type_token):
            if dig(self.inputs(candidate), "metadata", "name") == name:
                return candidate
        return None

    def rds_cluster_of(self, instance: RecordedResource) -> RecordedResource | None:
        """An Aurora instance's cluster: by dependency, else by identifier or id."""
        via_dependency = self.referenced(instance, rt.RDS_CLUSTER)
        if via_dependency:
            return via_dependency[0]
        identifier = self.inputs(instance).get("clusterIdentifier")
        for cluster in self.of_type(rt.RDS_CLUSTER):
            if identifier in (cluster.id, self.inputs(cluster).get("clusterIdentifier")):
                return cluster
        return None

    def is_aurora_writer(self, instance: RecordedResource) -> bool:
        """The instance Aurora makes the writer: the one tagged or named so, else the
        cluster's instance with the lowest promotion tier (then the first by name)."""
        inputs = self.inputs(instance)
        role = str((inputs.get("tags") or {}).get("Role") or "")
        if role in ("writer", "reader"):
            return role == "writer"
        if "writer" in instance.name or "reader" in instance.name:
            return "writer" in instance.name
        cluster = self.rds_cluster_of(instance)
        siblings = [
            r for r in self.of_type(rt.RDS_CLUSTER_INSTANCE) if self.rds_cluster_of(r) is cluster
        ]
        first = min(siblings, key=lambda r: (int(self.inputs(r).get("promotionTier", 1)), r.name))
        return first.urn == instance.urn

    def default_storage_class(self) -> str | None:
        for candidate in self.of_type(rt.STORAGE_CLASS):
            annotations = dig(self.inputs(candidate), "metadata", "annotations") or {}
            if annotations.get(DEFAULT_CLASS_ANNOTATION) == "true":
                return str(dig(self.inputs(candidate), "metadata", "name"))
        return None

    def claim_backing(self, class_name: str | None) -> ClaimBacking:
        """What a claim on ``class_name`` (None: the default class) provisions, by the
        class's provisioner as the graph declares it."""
        name = class_name if class_name is not None else self.default_storage_class()
        if name is None:
            return ClaimBacking("missing", None, "no storage class named and no default class")
        storage_class = self.k8s_named(rt.STORAGE_CLASS, name)
        if storage_class is None:
            # EKS clusters ship an in-tree `gp2` class; other names must be in the graph.
            if name in ("gp2", "gp3"):
                return ClaimBacking("ebs", name, f"storage class {name}")
            return ClaimBacking("missing", None, f"storage class {name} is not in the graph")
        inputs = self.inputs(storage_class)
        provisioner = str(inputs.get("provisioner") or "")
        if provisioner in EBS_PROVISIONERS:
            # The EBS CSI driver provisions gp3 when the class names no type.
            volume_type = str(dig(inputs, "parameters", "type") or "gp3")
            return ClaimBacking("ebs", volume_type, f"storage class {name} ({provisioner})")
        if provisioner in EFS_PROVISIONERS:
            return ClaimBacking("efs", None, f"storage class {name} ({provisioner})")
        return ClaimBacking(
            "unknown", None, f"storage class {name}: provisioner {provisioner or 'unset'}"
        )

    # -- prices and lines ----------------------------------------------------------------

    def price(self, key: str) -> float:
        entry = self.table.prices.get(key)
        if entry is None or entry.usd is None:
            raise MissingPrice(f"no '{key}' price in the {self.table.region} price table")
        return entry.usd

    def instance_hourly(self, instance_type: str) -> float:
        hourly = self.table.ec2_hourly(instance_type)
        if hourly is None:
            raise MissingPrice(
                f"no on-demand price for {instance_type} in the {self.table.region} price table"
            )
        return hourly

    def line(
        self,
        resource: RecordedResource,
        component: str,
        *,
        quantity: float,
        kind: Kind,
        price_key: str,
        unit: str | None = None,
        unit_price: float | None = None,
        environment: str | None = None,
        basis: str = "",
    ) -> CostLine:
        """A cost line; the unit price comes from the table unless the rule derived it
        from table entries itself (spot, mean of instance types)."""
        if unit_price is None:
            unit_price = self.price(price_key)
        return CostLine(
            resource=resource.name,
            resource_type=resource.type,
            layer=resource.layer,
            environment=environment or environment_of(self.inputs(resource)),
            component=component,
            unit=unit or self.table.prices[price_key].unit,
            quantity=quantity,
            unit_price=unit_price,
            kind=kind,
            price_key=price_key,
            basis=basis,
        )

    def share_of(self, usage_key: str, total: float) -> float:
        """This resource's part of a usage total the profile states for the design."""
        self.consumed.add(usage_key)
        return total / max(self.sharers[usage_key], 1)

    # -- GPU pools -----------------------------------------------------------------------

    def pool_environment(self, pool: RecordedResource) -> str:
        inputs = self.inputs(pool)
        labels = dig(inputs, "spec", "template", "metadata", "labels") or {}
        for value in labels.values():
            if value in ENVIRONMENT_NAMES:
                return str(value)
        name = str(dig(inputs, "metadata", "name") or pool.name)
        for environment in ENVIRONMENT_NAMES:
            if name == environment or name.startswith(f"{environment}-"):
                return environment
        return SHARED

    def gpu_pools(self) -> list[RecordedResource]:
        """The NodePools that run GPU work (not the system tier's overflow pool)."""
        return [
            p
            for p in self.of_type(rt.NODE_POOL)
            if not dig(self.inputs(p), "metadata", "labels", POOL_PURPOSE_LABEL)
        ]

    def pool_share(self, pool: RecordedResource) -> PoolShare:
        environment = self.pool_environment(pool)
        usage = self.profile.gpu.pools.get(environment)
        profile_share = usage.spot_share if usage else 0.0
        # Karpenter launches on-demand only unless a pool allows spot explicitly.
        allowed = tuple(requirement_values(self.inputs(pool), CAPACITY_TYPE_LABEL) or [ON_DEMAND])
        share = profile_share
        if SPOT not in allowed:
            share = 0.0
        elif ON_DEMAND not in allowed:
            share = 1.0
        return PoolShare(environment, profile_share, share, allowed)

    # -- usage carriers ------------------------------------------------------------------

    def _find_log_sinks(self) -> dict[str, list[LogSink]]:
        sinks: dict[str, list[LogSink]] = defaultdict(list)
        flow_targets = {
            u for f in self.of_type(rt.FLOW_LOG) for u in f.dependencies if u in self.by_urn
        }
        eks_types = {
            str(self.inputs(c).get("name") or c.name): tuple(
                self.inputs(c).get("enabledClusterLogTypes") or []
            )
            for c in self.of_type(rt.EKS_CLUSTER_COMPONENT)
        }
        group_names = set()
        for group in self.of_type(rt.LOG_GROUP):
            inputs = self.inputs(group)
            name = str(inputs.get("name") or group.name)
            group_names.add(name)
            retention = inputs.get("retentionInDays") or None
            kinds: tuple[str, ...] = ()
            if group.urn in flow_targets:
                kinds = ("vpc-flow-logs",)
            elif eks := _EKS_LOG_GROUP.match(name):
                enabled = eks_types.get(eks["cluster"])
                if enabled is None and len(eks_types) == 1:
                    enabled = next(iter(eks_types.values()))
                kinds = tuple(f"eks:{t}" for t in enabled or ())
            elif rds := _RDS_LOG_GROUP.match(name):
                kinds = (f"rds:{rds['log']}",)
            sinks[group.urn].append(LogSink(group.urn, name, kinds, retention))
        # Clusters whose log groups the program does not create: EKS and RDS create them,
        # with no retention.
        for cluster in self.of_type(rt.EKS_CLUSTER_COMPONENT):
            cluster_name = str(self.inputs(cluster).get("name") or cluster.name)
            name = f"/aws/eks/{cluster_name}/cluster"
            enabled = eks_types.get(cluster_name) or ()
            if enabled and name not in group_names and not self._one_eks_group_paired():
                kinds = tuple(f"eks:{t}" for t in enabled)
                sinks[cluster.urn].append(LogSink(cluster.urn, name, kinds, None))
        for cluster in self.of_type(rt.RDS_CLUSTER):
            inputs = self.inputs(cluster)
            identifier = str(inputs.get("clusterIdentifier") or cluster.name)
            for log in inputs.get("enabledCloudwatchLogsExports") or []:
                name = f"/aws/rds/cluster/{identifier}/{log}"
                if name not in group_names:
                    sinks[cluster.urn].append(LogSink(cluster.urn, name, (f"rds:{log}",), None))
        return dict(sinks)

    def _one_eks_group_paired(self) -> bool:
        """One cluster and one EKS-style log group: they belong together even when the
        cluster's name is generated (unknown to the plan)."""
        groups = [
            g
            for g in self.of_type(rt.LOG_GROUP)
            if _EKS_LOG_GROUP.match(str(self.inputs(g).get("name") or ""))
        ]
        return len(groups) == 1 and len(self.of_type(rt.EKS_CLUSTER_COMPONENT)) == 1

    def s3_purpose(self, bucket: RecordedResource) -> str | None:
        """The bucket's purpose, as the profile names purposes (tag values, then name)."""
        inputs = self.inputs(bucket)
        candidates = [str(v) for v in (inputs.get("tags") or {}).values()]
        candidates += [
            str(inputs.get(key)) for key in ("bucket", "bucketPrefix") if inputs.get(key)
        ]
        candidates.append(bucket.name)
        purposes = sorted(self.profile.s3.stored_gb, key=len, reverse=True)
        for candidate in candidates:
            for purpose in purposes:
                if candidate == purpose or purpose in candidate:
                    return purpose
        return None

    def _count_sharers(self) -> Counter[str]:
        sharers: Counter[str] = Counter()
        sharers["nat"] = len(self.of_type(rt.NAT_GATEWAY))
        sharers["efs"] = len(self.of_type(rt.EFS_FILE_SYSTEM))
        sharers["aurora-storage"] = len(self.of_type(rt.RDS_CLUSTER))
        sharers["interface-endpoints"] = sum(
            1
            for e in self.of_type(rt.VPC_ENDPOINT)
            if self.inputs(e).get("vpcEndpointType") == "Interface"
        )
        for sink_list in self.log_sinks.values():
            for sink in sink_list:
                sharers.update(f"logs:{kind}" for kind in sink.kinds)
        for bucket in self.of_type(*rt.BUCKET_TYPES):
            purpose = self.s3_purpose(bucket)
            if purpose:
                sharers[f"s3:{purpose}"] += 1
        for pool in self.gpu_pools():
            sharers[f"gpu:{self.pool_environment(pool)}"] += 1
        for params in self.of_type(rt.INGRESS_CLASS_PARAMS):
            sharers[f"alb:{self.load_balancer_environment(params)}"] += 1
        sharers["system-tier:overflow"] = len(self.of_type(rt.NODE_POOL)) - len(self.gpu_pools())
        sharers["s3:replicated"] = len(self.of_type(rt.BUCKET_REPLICATION))
        return sharers

    def load_balancer_environment(self, params: RecordedResource) -> str:
        """The environment whose namespace an IngressClassParams admits (its load
        balancer serves that environment), else its tags' or the shared one."""
        inputs = self.inputs(params)
        selected = dig(inputs, "spec", "namespaceSelector", "matchLabels", NAMESPACE_NAME_LABEL)
        if selected in ENVIRONMENT_NAMES:
            return str(selected)
        for tag in dig(inputs, "spec", "tags") or []:
            if tag.get("key") == "Environment" and tag.get("value") in ENVIRONMENT_NAMES:
                return str(tag["value"])
        return SHARED

    def unconsumed_usage(self) -> Iterable[str]:
        """Profile usage no resource in the graph carries: it is not in the total."""
        profile = self.profile
        usage: dict[str, float] = {
            "nat": profile.nat.processed_gb,
            "efs": profile.efs.standard_gb + profile.efs.infrequent_access_gb,
            "aurora-storage": profile.aurora.storage_gb + profile.aurora.io_millions,
            "interface-endpoints": profile.interface_endpoints.processed_gb,
            **{f"gpu:{env}": pool.gpu_hours for env, pool in profile.gpu.pools.items()},
            **{f"s3:{purpose}": gb for purpose, gb in profile.s3.stored_gb.items()},
            **{f"logs:{kind}": gb for kind, gb in profile.logs.ingested_gb.items()},
            **{
                f"alb:{env}": entry.requests_millions + entry.processed_gb
                for env, entry in profile.load_balancers.environments.items()
            },
            "s3:replicated": profile.s3.replicated_gb,
            "system-tier:overflow": profile.system_tier.overflow_node_hours,
        }
        return sorted(key for key, amount in usage.items() if amount and key not in self.consumed)
