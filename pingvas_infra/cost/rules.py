"""One pricing rule per resource type, looked up by type token.

A rule turns one recorded resource and the usage profile into cost lines. A type with no
rule is either known to be free (pingvas_infra/tables/free_resource_types.yaml, each with
the reason) or reported as *unpriced*: nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pingvas_infra import resource_types as rt
from pingvas_infra.cost.context import (
    EBS_PROVISIONERS,
    EFS_PROVISIONERS,
    ENVIRONMENT_NAMES,
    LogSink,
    MissingPrice,
    PricingContext,
    RuleResult,
    environment_of,
    quantity_gib,
    requirement_values,
)
from pingvas_infra.cost.data import AuroraUsage, load_free_types
from pingvas_infra.cost.model import SHARED, CostLine
from pingvas_infra.labels import (
    GPU_RESOURCE,
    INSTANCE_FAMILY_LABEL,
    INSTANCE_TYPE_LABEL,
    OVERFLOW_PURPOSE,
    POOL_PURPOSE_LABEL,
)
from pingvas_infra.mappings import dig
from pingvas_infra.plan.model import RecordedResource
from pingvas_infra.tables import load_table

Rule = Callable[[RecordedResource, PricingContext], RuleResult]
RULES: dict[str, Rule] = {}
# A persistent volume claim: (what, size, storage class, replicas).
Claim = tuple[str, Any, Any, int]
# Log storage is priced at most after this many days of accumulation.
MAX_LOG_DAYS = 365


def rule(*type_tokens: str) -> Callable[[Rule], Rule]:
    def register(function: Rule) -> Rule:
        for type_token in type_tokens:
            RULES[type_token] = function
        return function

    return register


def _fixed_monthly(
    ctx: PricingContext, resource: RecordedResource, component: str, key: str
) -> CostLine:
    """One unit of something billed by the month (a key, a secret, an alarm)."""
    return ctx.line(resource, component, quantity=1, kind="fixed", price_key=key)


def _hourly(ctx: PricingContext, resource: RecordedResource, component: str, key: str) -> CostLine:
    return ctx.line(resource, component, quantity=ctx.hours, kind="fixed", price_key=key)


def _log_lines(ctx: PricingContext, resource: RecordedResource) -> Iterator[CostLine]:
    """Ingestion and storage of the log sinks this resource owns."""
    for sink in ctx.log_sinks.get(resource.urn, []):
        yield from _sink_lines(ctx, resource, sink)


def _sink_lines(
    ctx: PricingContext, resource: RecordedResource, sink: LogSink
) -> Iterator[CostLine]:
    ingested = 0.0
    for kind in sink.kinds:
        gb = ctx.share_of(f"logs:{kind}", ctx.profile.logs.ingested_gb.get(kind, 0.0))
        ingested += gb
        yield ctx.line(
            resource,
            f"Log ingestion ({kind})",
            quantity=gb,
            kind="usage",
            price_key="cloudwatch-logs-ingest-gb",
            environment=SHARED,
        )
    # What is kept is `retention` days of ingestion; a group that keeps logs longer than
    # a year (or never expires) keeps growing, and is priced after its first year.
    days = min(sink.retention_days or MAX_LOG_DAYS, MAX_LOG_DAYS)
    yield ctx.line(
        resource,
        f"Log storage ({days} days kept)",
        quantity=ingested * days / ctx.table.days_per_month,
        kind="usage",
        price_key="cloudwatch-logs-storage-gb-month",
        environment=SHARED,
    )


def _never_expires(sinks: list[LogSink]) -> list[str]:
    return [
        f"log group {s.name} never expires: its storage grows every month"
        for s in sinks
        if s.retention_days is None
    ]


# -- network -----------------------------------------------------------------------------


@rule(rt.NAT_GATEWAY)
def nat_gateway(resource: RecordedResource, ctx: PricingContext) -> RuleResult:
    return RuleResult(
        lines=[
            _hourly(ctx, resource, "NAT gateway hours", "nat-gateway-hour"),
            ctx.line(
                resource,
                "Data processed",
                quantity=ctx.share_of("nat", ctx.profile.nat.processed_gb),
                kind="usage",
                price_key="nat-gateway-gb",
            ),
        ]
    )


@rule(rt.EIP)
def elastic_ip(resource: RecordedResource, ctx: PricingContext) -> RuleResult:
    # Every public IPv4 address bills by the hour since 2024-02, attached or not.
    return RuleResult(lines=[_hourly(ctx, resource, "Public IPv4 address", "public-ipv4-hour")])


@rule(rt.VPC_ENDPOINT)
def vpc_endpoint(resource: RecordedResource, ctx: PricingContext) -> RuleResult:
    inputs = ctx.inputs(resource)
    endpoint_type = str(inputs.get("vpcEndpointType") or "Gateway")
    if endpoint_type == "Gateway":
        return RuleResult(free="gateway endpoints (S3, DynamoDB) carry no charge")
    if endpoint_type != "Interface":
        return RuleResult(unpriced=[f"{endpoint_type} endpoints are not in the price table"])
    zones = len(inputs.get("subnetIds") or []) or 1
    return RuleResult(
        lines=[
            ctx.line(
                resource,
                f"Interface endpoint hours ({zones} AZ)",
                quantity=zones * ctx.hours,
                kind="fixed",
                price_key="interface-endpoint-az-hour",
            ),
            ctx.line(
                resource,
                "Data processed",
                quantity=ctx.share_of(
                    "interface-endpoints", ctx.profile.interface_endpoints.processed_gb
                ),
                kind="usage",
                price_key="interface-endpoint-gb",
            ),
        ]
    )


@rule(rt.LOG_GROUP)
def log_group(resource: RecordedResource, ctx: PricingContext) -> RuleResult:
    sinks = ctx.log_sinks.get(resource.urn, [])
    warnings = _never_expires(sinks)
    warnings += [
        f"log group {s.name}: no usage in the profile says what it ingests"
        for s in sinks
        if not s.kinds
    ]
    return RuleResult(lines=list(_log_lines(ctx, resource)), warnings=warnings)


# -- cluster -----------------------------------------------------------------------------


@rule(rt.EKS_CLUSTER_COMPONENT)
def eks_cluster(resource: RecordedResource, ctx: PricingContext) -> RuleResult:
    support = dig(ctx.inputs(resource), "upgradePolicy", "supportType")
    warnings = []
    if support != "STANDARD":
        extra = ctx.price("eks-cluster-hour-extended") - ctx.price("eks-cluster-hour-standard")
        warnings.append(
            f"EKS cluster {resource.name}: upgradePolicy.supportType is "
            f"{support or 'unset (EXTENDED)'}; once its version leaves standard support the "
            f"control plane bills ${extra * ctx.hours:,.2f} more a month (priced here at the "
            "standard rate)"
        )
    sinks = ctx.log_sinks.get(resource.urn, [])
    return RuleResult(
        lines=[
            _hourly(ctx, resource, "Control plane hours", "eks-cluster-hour-standard"),
            *_log_lines(ctx, resource),
        ],
        warnings=warnings + _never_expires(sinks),
    )


def _root_volumes(
    ctx: PricingContext, group: RecordedResource, inputs: Mapping[str, Any]
) -> list[tuple[float, str]]:
    """(GB, EBS type) of each volume a node of the group boots with."""
    reference = inputs.get("launchTemplate") or {}
    template = ctx.by_id.get(str(reference.get("id"))) if reference.get("id") else None
    if template is None:
        found = ctx.referenced(group, rt.LAUNCH_TEMPLATE)
        template = found[0] if found else None
    if template is None:
        # EKS's own launch template: diskSize GiB (20 unless set), gp3 on AL2023.
        return [(float(inputs.get("diskSize") or 20), "gp3")]
    volumes = []
    for mapping in ctx.inputs(template).get("blockDeviceMappings") or []:
        ebs = mapping.get("ebs") or {}
        if ebs.get("volumeSize"):
            # EC2 takes gp2 when a mapping names no type.
            volumes.append((float(ebs["volumeSize"]), str(ebs.get("volumeType") or "gp2")))
    return volumes


@rule(rt.EKS_NODE_GROUP_COMPONENT)
def managed_node_group(resource: RecordedResource, ctx: PricingContext) -> RuleResult:
    inputs = ctx.inputs(resource)
    # EKS's defaults when the group names none: t3.medium, on-demand.
    types = [str(t) for t in inputs.get("instanceTypes") or ["t3.medium"]]
    capacity = str(inputs.get("capacityType") or "ON_DEMAND").upper()
    scaling = inputs.get("scalingConfig") or {}
    nodes = float(scaling.get("desiredSize", scaling.get("minSize", 2)))
    # The group spreads its nodes over the listed types: the expected hourly price is their
    # mean (spot: each at the table's discount).
    hourly = sum(ctx.instance_hourly(t) for t in types) / len(types)
    factor = ctx.table.spot_factor if capacity == "SPOT" else 1.0
    lines = [
        ctx.line(
            resource,
            f"Instances ({capacity.lower().replace('_', '-')}: {', '.join(types)})",
            quantity=nodes * ctx.hours,
            kind="fixed",
            price_key=f"ec2:{'|'.join(types)}",
            unit="instance-hours",
            unit_price=hourly * factor,
        )
    ]
    lines += [
        ctx.line(
            resource,
            f"Node volumes ({volume_type})",
            quantity=nodes * size,
            kind="fixed",
            price_key=f"ebs-{volume_type}-gb-month",
        )
        for size, volume_type in _root_volumes(ctx, resource, inputs)
    ]
    return RuleResult(lines=lines)


def _overflow_pool(resource: RecordedResource, ctx: PricingContext) -> RuleResult:
    """The system tier's overflow nodes: the profile's overflow node-hours, at the pool's
    instance types' mean spot price (it launches spot first), plus their root volumes.
    Nothing at idle: it runs only when a platform pod finds no system node."""
    inputs = ctx.inputs(resource)
    types = [str(t) for t in requirement_values(inputs, INSTANCE_TYPE_LABEL) or []]
    if not types:
        return RuleResult(unpriced=["overflow pool: no instance types in its requirements"])
    hours = ctx.share_of("system-tier:overflow", ctx.profile.system_tier.overflow_node_hours)
    hourly = sum(ctx.instance_hourly(t) for t in types) / len(types)
    lines = [
        ctx.line(
            resource,
            f"Overflow node-hours, spot ({', '.join(types)})",
            quantity=hours,
            kind="usage",
            price_key=f"ec2:{'|'.join(types)}",
            unit="instance-hours",
            unit_price=hourly * ctx.table.spot_factor,
            environment=SHARED,
        )
    ]
    node_class_name = dig(inputs, "spec", "template", "spec", "nodeClassRef", "name")
    node_class = ctx.k8s_named(rt.EC2_NODE_CLASS, str(node_class_name)) if node_class_name else None
    for mapping in (
        dig(ctx.inputs(node_class), "spec", "blockDeviceMappings") or [] if node_class else []
    ):
        ebs = mapping.get("ebs") or {}
        if ebs.get("volumeSize"):
            volume_type = str(ebs.get("volumeType") or "gp3")
            lines.append(
                ctx.line(
                    resource,
                    f"Overflow node volumes ({volume_type})",
                    quantity=quantity_gib(ebs["volumeSize"]) * hours / ctx.hours,
                    kind="usage",
                    price_key=f"ebs-{volume_type}-gb-month",
                    environment=SHARED,
                )
            )
    return RuleResult(lines=lines)


@rule(rt.NODE_POOL)
def node_pool(resource: RecordedResource, ctx: PricingContext) -> RuleResult:
    inputs = ctx.inputs(resource)
    if dig(inputs, "metadata", "labels", POOL_PURPOSE_LABEL) == OVERFLOW_PURPOSE:
        return _overflow_pool(resource, ctx)
    share = ctx.pool_share(resource)
    usage = ctx.profile.gpu.pools.get(share.environment)
    warnings = [share.note] if share.note else []
    if usage is None:
        warnings.append(
            f"GPU pool {resource.name}: the profile has no usage for {share.environment}"
        )
    total_hours = usage.gpu_hours if usage else 0.0
    hours = ctx.share_of(f"gpu:{share.environment}", total_hours)
    reference = ctx.workload.reference_instance
    families = requirement_values(inputs, INSTANCE_FAMILY_LABEL)
    if families is not None and ctx.workload.reference_family not in families:
        warnings.append(
            f"GPU pool {resource.name} allows {', '.join(families)}; the profile's GPU-hours are "
            f"{reference}-hours and are priced as such"
        )
    limit = dig(inputs, "spec", "limits", GPU_RESOURCE)
    if limit is not None and hours > float(limit) * ctx.hours:
        warnings.append(
            f"GPU pool {resource.name}: {hours:g} GPU-hours exceed its limit of {limit} GPUs"
        )
    on_demand = ctx.instance_hourly(reference)
    lines = [
        ctx.line(
            resource,
            f"GPU instance-hours, spot ({reference})",
            quantity=hours * share.share,
            kind="usage",
            price_key=f"ec2:{reference}",
            unit="instance-hours",
            unit_price=on_demand * ctx.table.spot_factor,
            environment=share.environment,
            basis=share.basis,
        ),
        ctx.line(
            resource,
            f"GPU instance-hours, on-demand ({reference})",
            quantity=hours * (1 - share.share),
            kind="usage",
            price_key=f"ec2:{reference}",
            unit="instance-hours",
            unit_price=on_demand,
            environment=share.environment,
            basis=share.basis,
        ),
    ]
    node_class_name = dig(inputs, "spec", "template", "spec", "nodeClassRef", "name")
    node_class = ctx.k8s_named(rt.EC2_NODE_CLASS, str(node_class_name)) if node_class_name else None
    unpriced = []
    if node_class is None:
        unpriced.append(f"node volumes: EC2NodeClass {node_class_name} is not in the graph")
    else:
        for mapping in dig(ctx.inputs(node_class), "spec", "blockDeviceMappings") or []:
            ebs = mapping.get("ebs") or {}
            if not ebs.get("volumeSize"):
                continue
            volume_type = str(ebs.get("volumeType") or "gp3")
            # Volumes live as long as their node: GB-month = GB x node-hours / hours a month.
            lines.append(
                ctx.line(
                    resource,
                    f"Node volumes ({volume_type})",
                    quantity=quantity_gib(ebs["volumeSize"]) * hours / ctx.hours,
                    kind="usage",
                    price_key=f"ebs-{volume_type}-gb-month",
                    environment=share.environment,
                )
            )
    return RuleResult(lines=lines, unpriced=unpriced, warnings=warnings)


@rule(rt.EC2_NODE_CLASS)
def node_class(resource: RecordedResource, ctx: PricingContext) -> RuleResult:
    del ctx
    return RuleResult(free="its volumes are priced on the NodePools that launch nodes from it")


EFS_STORAGE = (
    "EFS bills the file system's stored GB (priced on the FileSystem), not a claimed or "
    "declared size"
)


def _claimed_volumes(
    ctx: PricingContext, resource: RecordedResource, claims: list[Claim]
) -> RuleResult:
    """EBS lines for (what, size, storage class, replicas) persistent volume claims.

    A claim is an EBS volume only when its class's provisioner is the EBS CSI driver; a
    claim on an EFS class is an access point on a file system billed by its stored GB
    (priced on the FileSystem), so it adds nothing here."""
    result = RuleResult()
    on_efs: list[str] = []
    for what, size, class_name, replicas in claims:
        backing = ctx.claim_backing(class_name)
        if backing.kind == "efs":
            on_efs.append(what)
            continue
        if backing.kind != "ebs" or backing.volume_type is None:
            result.unpriced.append(f"{what}: {backing.described}, not an EBS or EFS class")
            continue
        result.lines.append(
            ctx.line(
                resource,
                f"{what} ({backing.volume_type})",
                quantity=quantity_gib(size) * replicas,
                kind="fixed",
                price_key=f"ebs-{backing.volume_type}-gb-month",
            )
        )
    if on_efs and not result.lines and not result.unpriced:
        result.free = f"on EFS ({', '.join(on_efs)}): {EFS_STORAGE}"
    return result


@rule(rt.PERSISTENT_VOLUME_CLAIM)
def persistent_volume_claim(resource: RecordedResource, ctx: PricingContext) -> RuleResult:
    spec = ctx.inputs(resource).get("spec") or {}
    bound_to = spec.get("volumeName")
    volume = ctx.k8s_named(rt.PERSISTENT_VOLUME, str(bound_to)) if bound_to else None
    if volume is not None:
        # A claim reserved for a static volume provisions nothing: the storage is what
        # the volume points at, priced (or not) on that volume.
        return RuleResult(
            free="bound to a static PersistentVolume in the graph: provisions nothing itself"
        )
    size = dig(spec, "resources", "requests", "storage")
    if size is None:
        return RuleResult(unpriced=["the claim requests no storage size"])
    return _claimed_volumes(ctx, resource, [("Volume", size, spec.get("storageClassName"), 1)])


@rule(rt.PERSISTENT_VOLUME)
def persistent_volume(resource: RecordedResource, ctx: PricingContext) -> RuleResult:
    spec = ctx.inputs(resource).get("spec") or {}
    driver = dig(spec, "csi", "driver")
    if driver in EFS_PROVISIONERS:
        return RuleResult(free=f"static EFS volume: {EFS_STORAGE}")
    if driver in EBS_PROVISIONERS or spec.get("awsElasticBlockStore"):
        return RuleResult(
            free="static volume for an existing EBS volume: priced where that volume is created"
        )
    return RuleResult(unpriced=[f"a static volume of driver {driver or 'unknown'}: not priced"])


@rule(rt.STATEFUL_SET)
def stateful_set(resource: RecordedResource, ctx: PricingContext) -> RuleResult:
    spec = ctx.inputs(resource).get("spec") or {}
    replicas = int(spec.get("replicas", 1))
    claims = [
        (
            f"Volume {dig(t, 'metadata', 'name')}",
            dig(t, "spec", "resources", "requests", "storage"),
            dig(t, "spec", "storageClassName"),
            replicas,
        )
        for t in spec.get("volumeClaimTemplates") or []
    ]
    if not claims:
        return RuleResult(free="its pods run on nodes priced elsewhere")
    return _claimed_volumes(ctx, resource, claims)


def _chart_claims(values: Any, path: tuple[str, ...] = (), replicas: int = 1) -> Iterator[Claim]:
    """Persistent volumes a chart's values ask for: `volumeClaimTemplate` (Prometheus
    operator specs) and `persistence: {enabled, size}` (most charts), times the nearest
    `replicas` above them."""
    if not isinstance(values, Mapping):
        return
    if isinstance(values.get("replicas"), int):
        replicas = values["replicas"]
    template = values.get("volumeClaimTemplate")
    if isinstance(template, Mapping):
        size = dig(template, "spec", "resources", "requests", "storage")
        if size is not None:
            what = "Volume " + ".".join(path)
            yield (what, size, dig(template, "spec", "storageClassName"), replicas)
    persistence = values.get("persistence")
    if isinstance(persistence, Mapping) and persistence.get("enabled") and persistence.get("size"):
        what = "Volume " + ".".join((*path, "persistence"))
        yield (what, persistence["size"], persistence.get("storageClassName"), replicas)
    for key in sorted(values):
        if key not in ("volumeClaimTemplate", "persistence"):
            yield from _chart_claims(values[key], (*path, key), replicas)


@rule(rt.HELM_RELEASE)
def helm_release(resource: RecordedResource, ctx: PricingContext) -> RuleResult:
    claims = list(_chart_claims(ctx.inputs(resource).get("values") or {}))
    if not claims:
        return RuleResult(free="its pods run on the system nodes, priced on the node group")
    return _claimed_volumes(ctx, resource, claims)


@rule(rt.SERVICE)
def service(resource: RecordedResource, ctx: PricingContext) -> RuleResult:
    if dig(ctx.inputs(resource), "spec", "type") == "LoadBalancer":
        return RuleResult(
            unpriced=["a LoadBalancer Service creates a load balancer; no price in the table"]
        )
    return RuleResult(free="cluster-internal Service: no AWS resource")


def _public_ipv4_addresses(spec: Mapping[str, Any]) -> int | None:
    """Public IPv4 addresses an Application Load Balancer holds: an internet-facing one
    keeps at least one per zone it serves (one subnet per zone), each billed by the hour
    like an Elastic IP; an internal one, or `dualstack-without-public-ipv4`, holds none.
    The controller's defaults: scheme internal, ipAddressType ipv4. None when
    internet-facing without listed subnets (the controller discovers them)."""
    if spec.get("scheme", "internal") != "internet-facing":
        return 0
    if spec.get("ipAddressType", "ipv4") == "dualstack-without-public-ipv4":
        return 0
    subnet_ids = dig(spec, "subnets", "ids")
    return len(subnet_ids) if subnet_ids else None


@rule(rt.INGRESS_CLASS_PARAMS)
def application_load_balancer(resource: RecordedResource, ctx: PricingContext) -> RuleResult:
    """An IngressClassParams fixes one Ingress group, and so one Application Load Balancer,
    which the controller creates when the class's first Ingress appears: its hours, and
    its LCUs from the profile's traffic for the environment it serves."""
    environment = ctx.load_balancer_environment(resource)
    usage = ctx.profile.load_balancers.environments.get(environment)
    warnings = []
    if usage is None:
        warnings.append(
            f"load balancer {resource.name}: the profile has no traffic for {environment}"
        )
    requests = ctx.share_of(f"alb:{environment}", usage.requests_millions if usage else 0.0)
    processed_gb = ctx.share_of(f"alb:{environment}", usage.processed_gb if usage else 0.0)
    lcu = load_table("ingress")["lcu"]
    # Traffic spread evenly over the month: each hour bills the largest dimension.
    new_connections_per_second = requests * 1e6 / ctx.hours / 3600
    lcus_per_hour = max(
        new_connections_per_second / float(lcu["newConnectionsPerSecond"]),
        processed_gb / ctx.hours / float(lcu["processedGbPerHour"]),
    )
    result = RuleResult(warnings=warnings)
    addresses = _public_ipv4_addresses(ctx.inputs(resource).get("spec") or {})
    if addresses is None:
        result.unpriced.append(
            f"load balancer {resource.name}: internet-facing, but its class lists no subnets, "
            "so its public IPv4 addresses (one per zone) cannot be counted"
        )
    elif addresses:
        result.lines.append(
            ctx.line(
                resource,
                f"Public IPv4 addresses ({addresses} AZ)",
                quantity=addresses * ctx.hours,
                kind="fixed",
                price_key="public-ipv4-hour",
                environment=environment,
            )
        )
    result.lines += [
        ctx.line(
            resource,
            "Application Load Balancer hours",
            quantity=ctx.hours,
            kind="fixed",
            price_key="alb-hour",
            environment=environment,
        ),
        ctx.line(
            resource,
            "Load balancer capacity units",
            quantity=lcus_per_hour * ctx.hours,
            kind="usage",
            price_key="alb-lcu-hour",
            environment=environment,
        ),
    ]
    return result


# -- data --------------------------------------------------------------------------------


@rule(rt.RDS_CLUSTER)
def rds_cluster(resource: RecordedResource, ctx: PricingContext) -> RuleResult:
    inputs = ctx.inputs(resource)
    result = RuleResult()
    if not str(inputs.get("engine") or "").startswith("aurora"):
        result.unpriced.append(f"engine {inputs.get('engine')}: only Aurora is in the price table")
        return result
    aurora = ctx.profile.aurora
    storage_gb = ctx.share_of("aurora-storage", aurora.storage_gb)
    io_millions = ctx.share_of("aurora-storage", aurora.io_millions)
    if inputs.get("storageType") == "aurora-iopt1":
        result.unpriced.append("I/O-Optimized storage: no storage price in the table")
    else:
        result.lines += [
            ctx.line(
                resource,
                "Storage",
                quantity=storage_gb,
                kind="usage",
                price_key="aurora-storage-gb-month",
            ),
            ctx.line(
                resource,
                "I/O requests",
                quantity=io_millions,
                kind="usage",
                price_key="aurora-io-million",
            ),
        ]
    if inputs.get("manageMasterUserPassword"):
        # RDS keeps the master password in a Secrets Manager secret it creates and rotates.
        result.lines.append(
            _fixed_monthly(ctx, resource, "Master password secret", "secrets-manager-secret-month")
        )
    sinks = ctx.log_sinks.get(resource.urn, [])
    result.lines += _log_lines(ctx, resource)
    result.warnings += _never_expires(sinks)
    return result


@rule(rt.RDS_CLUSTER_INSTANCE)
def rds_cluster_instance(resource: RecordedResource, ctx: PricingContext) -> RuleResult:
    inputs = ctx.inputs(resource)
    instance_class = str(inputs.get("instanceClass"))
    result = RuleResult()
    retention = inputs.get("performanceInsightsRetentionPeriod")
    if inputs.get("performanceInsightsEnabled") and retention and int(retention) > 7:
        result.unpriced.append(
            f"Performance Insights kept {retention} days: beyond the free 7 days, not in the table"
        )
    if instance_class != "db.serverless":
        hourly = ctx.table.rds_instances.hourly.get(instance_class)
        if hourly is None:
            result.unpriced.append(f"no price for {instance_class} in the table")
            return result
        result.lines.append(
            ctx.line(
                resource,
                f"Instance hours ({instance_class})",
                quantity=ctx.hours,
                kind="fixed",
                price_key=f"rds:{instance_class}",
                unit="instance-hours",
                unit_price=hourly,
            )
        )
        return result
    cluster = ctx.rds_cluster_of(resource)
    scaling = dig(ctx.inputs(cluster), "serverlessv2ScalingConfiguration") if cluster else None
    if not scaling:
        result.unpriced.append("db.serverless instance whose cluster sets no Serverless v2 scaling")
        return result
    optimized = cluster is not None and ctx.inputs(cluster).get("storageType") == "aurora-iopt1"
    key = "aurora-iopt-acu-hour" if optimized else "aurora-acu-hour"
    capacity = serverless_capacity(
        ctx.profile.aurora,
        minimum=float(scaling.get("minCapacity") or 0),
        maximum=float(scaling.get("maxCapacity") or scaling.get("minCapacity") or 0),
        writer=ctx.is_aurora_writer(resource),
        # The RDS API's default promotion tier is 1.
        tier=int(inputs.get("promotionTier", 1)),
    )
    result.lines += [
        ctx.line(
            resource,
            f"ACU floor ({capacity.minimum:g} ACU minimum)",
            quantity=capacity.minimum * ctx.hours,
            kind="fixed",
            price_key=key,
        ),
        ctx.line(
            resource,
            "ACU above the floor",
            quantity=(capacity.running - capacity.minimum) * ctx.hours,
            kind="usage",
            price_key=key,
            basis=capacity.basis,
        ),
    ]
    return result


# The lowest capacity an Aurora Serverless v2 instance runs at while it is not paused.
ACTIVE_MINIMUM_ACU = 0.5


@dataclass(frozen=True)
class ServerlessCapacity:
    minimum: float
    # Average ACU over the month (0 while paused).
    running: float
    basis: str


def serverless_capacity(
    usage: AuroraUsage, *, minimum: float, maximum: float, writer: bool, tier: int
) -> ServerlessCapacity:
    """An instance's average capacity: never below its minimum (nor 0.5 ACU while it runs),
    never above its maximum, paused (0 ACU) only when the minimum is 0 and nobody connects."""
    floor = max(minimum, ACTIVE_MINIMUM_ACU)

    def clamp(load: float | None) -> float:
        return min(max(load if load is not None else floor, floor), maximum)

    can_pause = minimum == 0
    writer_paused = can_pause and not usage.writer_connected
    writer_acu = 0.0 if writer_paused else clamp(usage.writer_average_acu)
    writer_basis = (
        "paused: no client connections and a 0 ACU minimum"
        if writer_paused
        else f"writer at {writer_acu:g} ACU (the profile's writer load)"
    )
    if writer:
        return ServerlessCapacity(minimum, writer_acu, writer_basis)
    if tier <= 1:
        return ServerlessCapacity(
            minimum,
            writer_acu,
            f"reader in promotion tier {tier}: follows the writer ({writer_basis})",
        )
    if usage.reader_average_acu is None:
        running = 0.0 if can_pause else minimum
        state = "paused" if can_pause else f"at its {minimum:g} ACU minimum"
        return ServerlessCapacity(
            minimum,
            running,
            f"reader in promotion tier {tier}: scales on its own load; nobody connects to "
            f"the reader endpoint, so it is {state}",
        )
    running = clamp(usage.reader_average_acu)
    return ServerlessCapacity(
        minimum,
        running,
        f"reader in promotion tier {tier}: its own load of {running:g} ACU (the profile's)",
    )


@rule(rt.CACHE_REPLICATION_GROUP)
def replication_group(resource: RecordedResource, ctx: PricingContext) -> RuleResult:
    inputs = ctx.inputs(resource)
    engine = str(inputs.get("engine") or "redis")
    node_type = str(inputs.get("nodeType"))
    if inputs.get("numCacheClusters"):
        nodes = int(inputs["numCacheClusters"])
    elif inputs.get("numNodeGroups"):
        nodes = int(inputs["numNodeGroups"]) * (int(inputs.get("replicasPerNodeGroup") or 0) + 1)
    else:
        nodes = 1
    hourly = ctx.table.cache_hourly(node_type, engine)
    if hourly is None:
        return RuleResult(
            unpriced=[f"no price for {engine} {node_type} in the {ctx.table.region} price table"]
        )
    return RuleResult(
        lines=[
            ctx.line(
                resource,
                f"Cache nodes ({nodes} x {node_type}, {engine})",
                quantity=nodes * ctx.hours,
                kind="fixed",
                price_key=f"elasticache:{engine}:{node_type}",
                unit="node-hours",
                unit_price=hourly,
            )
        ]
    )


# -- storage, secrets, keys, alarms ------------------------------------------------------


# S3 storage classes a replication rule may write the copy in -> their price key.
_STORAGE_CLASS_PRICES = {
    "STANDARD": ("Standard", "s3-standard-gb-month"),
    "STANDARD_IA": ("Standard-IA", "s3-standard-ia-gb-month"),
    "GLACIER_IR": ("Glacier Instant Retrieval", "s3-glacier-ir-gb-month"),
}


def _replica_storage_class(resource: RecordedResource, ctx: PricingContext) -> str:
    """The class a replication rule writes into this bucket (Standard if none does)."""
    name = str(ctx.inputs(resource).get("bucket") or "")
    for replication in ctx.of_type(rt.BUCKET_REPLICATION):
        for rule_ in ctx.inputs(replication).get("rules") or []:
            destination = rule_.get("destination") or {}
            if name and str(destination.get("bucket", "")).endswith(f":::{name}"):
                return str(destination.get("storageClass") or "STANDARD")
    return "STANDARD"


@rule(rt.BUCKET_REPLICATION)
def bucket_replication(resource: RecordedResource, ctx: PricingContext) -> RuleResult:
    """Cross-region replication bills the source region's inter-region transfer for every
    GB it copies (the replica's storage is priced on its bucket)."""
    gb = ctx.share_of("s3:replicated", ctx.profile.s3.replicated_gb)
    return RuleResult(
        lines=[
            ctx.line(
                resource,
                "Replication transfer to another region",
                quantity=gb,
                kind="usage",
                price_key="data-transfer-inter-region-gb",
                environment=environment_of(ctx.inputs(resource)) or "prod",
            )
        ]
    )


@rule(*rt.BUCKET_TYPES)
def s3_bucket(resource: RecordedResource, ctx: PricingContext) -> RuleResult:
    purpose = ctx.s3_purpose(resource)
    warnings = []
    gb = 0.0
    if purpose is None:
        warnings.append(f"S3 bucket {resource.name}: no purpose the profile knows; priced at 0 GB")
    else:
        gb = ctx.share_of(f"s3:{purpose}", ctx.profile.s3.stored_gb[purpose])
    # A dev-/prod- purpose names its environment; else the bucket's Environment tag
    # (the backups bucket holds prod dumps).
    environment = next(
        (e for e in ENVIRONMENT_NAMES if purpose and purpose.startswith(f"{e}-")),
        environment_of(ctx.inputs(resource)),
    )
    label, price_key = _STORAGE_CLASS_PRICES[_replica_storage_class(resource, ctx)]
    return RuleResult(
        lines=[
            ctx.line(
                resource,
                f"Storage, {label} ({purpose or 'unknown purpose'})",
                quantity=gb,
                kind="usage",
                price_key=price_key,
                environment=environment,
            )
        ],
        warnings=warnings,
    )


@rule(rt.EFS_FILE_SYSTEM)
def efs_file_system(resource: RecordedResource, ctx: PricingContext) -> RuleResult:
    inputs = ctx.inputs(resource)
    efs = ctx.profile.efs
    one_zone = bool(inputs.get("availabilityZoneName"))
    result = RuleResult(
        lines=[
            ctx.line(
                resource,
                "Storage, One Zone" if one_zone else "Storage, Standard",
                quantity=ctx.share_of("efs", efs.standard_gb),
                kind="usage",
                price_key="efs-one-zone-gb-month" if one_zone else "efs-standard-gb-month",
            ),
            ctx.line(
                resource,
                "Storage, Infrequent Access",
                quantity=ctx.share_of("efs", efs.infrequent_access_gb),
                kind="usage",
                price_key="efs-ia-gb-month",
            ),
        ]
    )
    mode = str(inputs.get("throughputMode") or "bursting")
    if mode == "elastic":
        result.lines += [
            ctx.line(
                resource,
                "Elastic throughput, reads",
                quantity=ctx.share_of("efs", efs.elastic_read_gb),
                kind="usage",
                price_key="efs-elastic-read-gb",
            ),
            ctx.line(
                resource,
                "Elastic throughput, writes",
                quantity=ctx.share_of("efs", efs.elastic_write_gb),
                kind="usage",
                price_key="efs-elastic-write-gb",
            ),
        ]
    elif mode == "provisioned":
        result.unpriced.append("provisioned throughput: no price in the table")
    return result


@rule(rt.EFS_BACKUP_POLICY)
def efs_backup_policy(resource: RecordedResource, ctx: PricingContext) -> RuleResult:
    inputs = ctx.inputs(resource)
    if dig(inputs, "backupPolicy", "status") != "ENABLED":
        return RuleResult(free="backups off: no backup storage")
    efs = ctx.profile.efs
    # EFS automatic backups (AWS Backup, daily, kept 35 days) store one full copy and
    # then only what changed: the file system's stored GB is the floor priced here.
    return RuleResult(
        lines=[
            ctx.line(
                resource,
                "AWS Backup storage (daily, incremental)",
                quantity=ctx.share_of("efs", efs.standard_gb + efs.infrequent_access_gb),
                kind="usage",
                price_key="backup-efs-warm-gb-month",
            )
        ]
    )


@rule(rt.KMS_KEY)
def kms_key(resource: RecordedResource, ctx: PricingContext) -> RuleResult:
    return RuleResult(
        lines=[_fixed_monthly(ctx, resource, "Customer-managed key", "kms-key-month")]
    )


@rule(rt.SECRETS_MANAGER_SECRET)
def secret(resource: RecordedResource, ctx: PricingContext) -> RuleResult:
    return RuleResult(
        lines=[_fixed_monthly(ctx, resource, "Secret", "secrets-manager-secret-month")]
    )


@rule(rt.METRIC_ALARM)
def metric_alarm(resource: RecordedResource, ctx: PricingContext) -> RuleResult:
    return RuleResult(
        lines=[_fixed_monthly(ctx, resource, "Metric alarm", "cloudwatch-alarm-month")]
    )


def price_resource(resource: RecordedResource, ctx: PricingContext) -> RuleResult:
    """Apply the type's rule; a price the table lacks makes the resource unpriced."""
    rule_for_type = RULES.get(resource.type)
    if rule_for_type is None:
        reason = load_free_types().reason(resource.type)
        if reason is not None:
            return RuleResult(free=reason)
        return RuleResult(
            unpriced=["no pricing rule for this type, and it is not known to be free"]
        )
    region = ctx.inputs(resource).get("region")
    if region and region != ctx.table.region:
        # A resource placed in another region (the off-region backup copy) is priced at
        # that region's rates, or not at all: never at the stack region's.
        regional = ctx.in_region(str(region))
        if regional is None:
            return RuleResult(
                unpriced=[
                    f"it lives in {region}, which has no price table "
                    f"(pingvas_infra/tables/prices/{region}.yaml)"
                ]
            )
        ctx = regional
    try:
        return rule_for_type(resource, ctx)
    except MissingPrice as exc:
        return RuleResult(unpriced=[str(exc)])
