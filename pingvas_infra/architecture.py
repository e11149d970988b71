"""architecture.svg: the system as the recorded graph declares it, not as anyone drew it.

Every box comes from a resource (the VPC, each subnet by its zone and `Tier` tag, the NAT
gateway in its subnet, the EKS cluster with its node group and Karpenter NodePools, the
namespaces, Aurora instances and cache nodes in their zones, EFS mount targets, buckets),
and every arrow from what allows traffic:

- security group rules: a rule admitting another group (the EKS cluster security group, which
  the Karpenter discovery tag names) draws cluster -> each resource behind the group;
- NetworkPolicies: each allowed peer of a namespace (an ipBlock that is a subnet of the graph,
  the internet outside private ranges, CoreDNS in kube-system, the Pod Identity agent) draws
  an arrow with its ports; namespaces are default-deny, so no arrow means no traffic;
- route tables: private subnets -> the NAT gateway they route 0.0.0.0/0 to, public subnets
  -> the internet gateway, and the S3 gateway endpoint on the route tables it serves;
- NodePools: a pool -> the namespace whose environment label and taint it carries;
- internet entries: the internet -> each environment's load balancer (one per
  IngressClassParams, created by the AWS Load Balancer Controller) -> the subnets its class
  names (their route to the internet gateway is that path), whose NetworkPolicy arrows
  then reach that environment's namespace only.

The cost map (cost-map.svg) is a separate picture: dollars per layer.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import graphviz

from pingvas_infra import resource_types as rt
from pingvas_infra.kube import KUBE_SYSTEM
from pingvas_infra.labels import (
    CAPACITY_TYPE_LABEL,
    ENVIRONMENT_LABEL,
    GPU_RESOURCE,
    INSTANCE_FAMILY_LABEL,
    INSTANCE_TYPE_LABEL,
    KARPENTER_DISCOVERY_TAG,
    NAMESPACE_NAME_LABEL,
    POOL_PURPOSE_LABEL,
)
from pingvas_infra.mappings import dig
from pingvas_infra.plan.model import PlanResult, RecordedResource

DIAGRAM = "architecture.svg"
TIERS = ("public", "load-balancer", "private", "data")
# Where a flow that leaves the VPC ends.
INTERNET = "internet"
POD_IDENTITY_AGENT = "169.254.170.23/32"
_FONT = "DejaVu Sans"


def _inputs(resource: RecordedResource) -> dict[str, Any]:
    return resource.raw_inputs or resource.inputs


def _number(value: Any) -> str:
    """A port or tier as written (the engine may hand numbers over as floats)."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _ports(ports: Iterable[Mapping[str, Any]] | None) -> str:
    found = [f"{p.get('protocol', 'TCP')} {_number(p['port'])}" for p in ports or [] if "port" in p]
    return ", ".join(dict.fromkeys(found)) or "all ports"


class _Graph:
    """Resources of the plan indexed the ways the drawing follows references."""

    def __init__(self, resources: Sequence[RecordedResource]) -> None:
        self.resources = list(resources)
        self.by_id = {r.id: r for r in self.resources if r.id}

    def of_type(self, *types: str) -> list[RecordedResource]:
        return sorted((r for r in self.resources if r.type in types), key=lambda r: r.name)

    def subnets(self) -> list[RecordedResource]:
        return self.of_type(rt.SUBNET)

    def subnet_of_cidr(self, cidr: str) -> RecordedResource | None:
        for subnet in self.subnets():
            if _inputs(subnet).get("cidrBlock") == cidr:
                return subnet
        return None


def _node_id(resource: RecordedResource) -> str:
    """Unique per resource: two resources of different types may share a name."""
    kind = rt.short_name(resource.type).lower()
    return f"{kind}_{resource.name}".replace("-", "_").replace(".", "_")


def _label(*lines: str) -> str:
    return "\n".join(line for line in lines if line)


def architecture(plan: PlanResult) -> graphviz.Digraph:
    g = _Graph(plan.resources)
    dot = graphviz.Digraph(
        "architecture",
        graph_attr={
            "rankdir": "TB",
            "fontname": _FONT,
            "fontsize": "14",
            "labelloc": "t",
            "label": f"{plan.project} / {plan.stack}: the system, from the plan's graph",
            "nodesep": "0.3",
            "ranksep": "0.7",
            "newrank": "true",
            "compound": "true",
        },
        node_attr={"shape": "box", "style": "rounded,filled", "fontname": _FONT, "fontsize": "11"},
        edge_attr={"fontname": _FONT, "fontsize": "10", "color": "#555555"},
    )
    dot.node(INTERNET, "internet", shape="ellipse", fillcolor="#fff4d6")
    vpcs = g.of_type(rt.VPC)
    vpc_label = ", ".join(f"VPC {_inputs(v).get('cidrBlock')}" for v in vpcs) or "VPC"
    subnet_node: dict[str, str] = {}
    zone_of_subnet: dict[str, str] = {}
    with dot.subgraph(name="cluster_vpc") as vpc:
        vpc.attr(label=vpc_label, style="rounded", color="#4a6fa5")
        _zones(g, vpc, subnet_node, zone_of_subnet)
        _cluster(g, vpc)
    _regional(g, dot)
    _routes(g, dot, subnet_node)
    _security_group_flows(g, dot)
    _network_policy_flows(g, dot, subnet_node)
    _pool_edges(g, dot)
    _entries(g, dot, subnet_node)
    return dot


def _entries(g: _Graph, dot: graphviz.Digraph, subnet_node: Mapping[str, str]) -> None:
    """Each IngressClassParams is one Application Load Balancer in the subnets it names."""
    for params in g.of_type(rt.INGRESS_CLASS_PARAMS):
        spec = _inputs(params).get("spec") or {}
        name = spec.get("loadBalancerName") or dig(_inputs(params), "metadata", "name")
        environment = dig(_inputs(params), "metadata", "labels", "environment") or ""
        dot.node(
            _node_id(params),
            _label(
                f"ALB {name}",
                f"class {dig(_inputs(params), 'metadata', 'name')}"
                + (f", namespace {environment}" if environment else ""),
            ),
            fillcolor="#fff4d6",
        )
        listeners = "HTTPS 443 (HTTP 80 redirects)" if spec.get("certificateArn") else "HTTP 80"
        dot.edge(INTERNET, _node_id(params), label=listeners, color="#8a6d3b")
        for subnet in dig(spec, "subnets", "ids") or []:
            if str(subnet) in subnet_node:
                dot.edge(
                    _node_id(params), subnet_node[str(subnet)], style="dashed", arrowhead="none"
                )


def _zones(
    g: _Graph, vpc: graphviz.Digraph, subnet_node: dict[str, str], zone_of: dict[str, str]
) -> None:
    by_zone: dict[str, list[RecordedResource]] = defaultdict(list)
    for subnet in g.subnets():
        by_zone[str(_inputs(subnet).get("availabilityZone"))].append(subnet)
    aurora = g.of_type(rt.RDS_CLUSTER_INSTANCE)
    caches = g.of_type(rt.CACHE_REPLICATION_GROUP)
    mounts = g.of_type(rt.EFS_MOUNT_TARGET)
    nats = g.of_type(rt.NAT_GATEWAY)
    for zone, subnets in sorted(by_zone.items()):
        with vpc.subgraph(name=f"cluster_{zone}") as box:
            box.attr(label=f"zone {zone}", style="dashed", color="#7a7a7a")
            order = sorted(subnets, key=lambda s: TIERS.index(_tier(s)) if _tier(s) in TIERS else 9)
            for subnet in order:
                tier = _tier(subnet)
                node = _node_id(subnet)
                subnet_node[subnet.id or subnet.name] = node
                zone_of[subnet.id or subnet.name] = zone
                box.node(
                    node,
                    _label(f"{tier} subnet", str(_inputs(subnet).get("cidrBlock"))),
                    fillcolor={
                        "public": "#e3f0e3",
                        "load-balancer": "#e3f0e3",
                        "private": "#d6e6f7",
                    }.get(tier, "#f3e3f7"),
                )
            for nat in nats:
                home = g.by_id.get(str(_inputs(nat).get("subnetId")))
                if home is not None and _inputs(home).get("availabilityZone") == zone:
                    box.node(_node_id(nat), "NAT gateway", fillcolor="#fff4d6")
                    box.edge(_node_id(home), _node_id(nat), style="invis")
            for instance in aurora:
                if _inputs(instance).get("availabilityZone") == zone:
                    role = dig(_inputs(instance), "tags", "Role") or "instance"
                    box.node(
                        _node_id(instance),
                        _label(
                            f"Aurora {role}",
                            f"promotion tier {_number(_inputs(instance).get('promotionTier'))}",
                        ),
                        fillcolor="#f7e3d6",
                    )
            for cache in caches:
                zones = list(_inputs(cache).get("preferredCacheClusterAzs") or [])
                if zone in zones:
                    role = "primary" if zones.index(zone) == 0 else "replica"
                    box.node(_cache_node(cache, zone), f"Valkey {role}", fillcolor="#f7e3d6")
            for mount in mounts:
                home = g.by_id.get(str(_inputs(mount).get("subnetId")))
                if home is not None and _inputs(home).get("availabilityZone") == zone:
                    box.node(_node_id(mount), "EFS mount target", fillcolor="#f7e3d6")


def _cache_node(cache: RecordedResource, zone: str) -> str:
    return f"{_node_id(cache)}_{zone.replace('-', '_')}"


def _tier(subnet: RecordedResource) -> str:
    return str(dig(_inputs(subnet), "tags", "Tier") or "subnet")


def _cluster(g: _Graph, vpc: graphviz.Digraph) -> None:
    clusters = g.of_type(rt.EKS_CLUSTER_COMPONENT)
    if not clusters:
        return
    name = str(_inputs(clusters[0]).get("name") or clusters[0].name)
    with vpc.subgraph(name="cluster_eks") as eks:
        eks.attr(label=f"EKS {name} (private subnets)", style="rounded", color="#2e7d32")
        eks.node("eks_sg", _label("cluster security group", "nodes and pods"), fillcolor="#e3f0e3")
        for group in g.of_type(rt.EKS_NODE_GROUP_COMPONENT):
            inputs = _inputs(group)
            scaling = inputs.get("scalingConfig") or {}
            eks.node(
                _node_id(group),
                _label(
                    "system node group",
                    f"{scaling.get('minSize')}-{scaling.get('maxSize')} nodes, "
                    f"{str(inputs.get('capacityType', 'ON_DEMAND')).lower()}",
                    " | ".join(inputs.get("instanceTypes") or []),
                ),
                fillcolor="#d6e6f7",
            )
        for pool in g.of_type(rt.NODE_POOL):
            inputs = _inputs(pool)
            requirements = {
                r.get("key"): r.get("values")
                for r in dig(inputs, "spec", "template", "spec", "requirements") or []
            }
            if dig(inputs, "metadata", "labels", POOL_PURPOSE_LABEL):
                # The system tier's overflow: platform pods only, when no system node fits.
                eks.node(
                    _node_id(pool),
                    _label(
                        f"overflow NodePool {dig(inputs, 'metadata', 'name')}",
                        "/".join(requirements.get(CAPACITY_TYPE_LABEL) or []),
                        " | ".join(requirements.get(INSTANCE_TYPE_LABEL) or []),
                        f"max {dig(inputs, 'spec', 'limits', 'cpu')} vCPUs, platform pods only",
                    ),
                    fillcolor="#d6e6f7",
                )
                continue
            eks.node(
                _node_id(pool),
                _label(
                    f"GPU NodePool {dig(inputs, 'metadata', 'name')}",
                    "/".join(requirements.get(CAPACITY_TYPE_LABEL) or []),
                    ", ".join(requirements.get(INSTANCE_FAMILY_LABEL) or []),
                    f"max {dig(inputs, 'spec', 'limits', GPU_RESOURCE)} GPUs",
                ),
                fillcolor="#e8def8",
            )
        for namespace in g.of_type(rt.NAMESPACE):
            metadata = _inputs(namespace).get("metadata") or {}
            environment = (metadata.get("labels") or {}).get("environment")
            eks.node(
                _namespace_node(str(metadata.get("name"))),
                _label(
                    f"namespace {metadata.get('name')}",
                    f"environment {environment}" if environment else "",
                    _policy_note(g, str(metadata.get("name"))),
                ),
                fillcolor="#fdf6d8",
            )
        eks.node(
            "ns_kube_system", _label(f"namespace {KUBE_SYSTEM}", "CoreDNS"), fillcolor="#eeeeee"
        )
        eks.node(
            "pod_identity_agent",
            _label("Pod Identity agent", "169.254.170.23"),
            fillcolor="#eeeeee",
        )


def _namespace_node(name: str) -> str:
    return "ns_" + name.replace("-", "_")


def _policies(g: _Graph, namespace: str) -> list[dict[str, Any]]:
    return [
        _inputs(p)
        for p in g.of_type(rt.NETWORK_POLICY)
        if dig(_inputs(p), "metadata", "namespace") == namespace
    ]


def _policy_note(g: _Graph, namespace: str) -> str:
    policies = _policies(g, namespace)
    if not policies:
        return "no NetworkPolicy"
    deny = any(not p["spec"].get("ingress") and not p["spec"].get("egress") for p in policies)
    same = any(
        peer == {"podSelector": {}}
        for p in policies
        for rule in p["spec"].get("ingress") or []
        for peer in rule.get("from") or []
    )
    return ", ".join(x for x in ("default deny" if deny else "", "own pods" if same else "") if x)


def _regional(g: _Graph, dot: graphviz.Digraph) -> None:
    with dot.subgraph(name="cluster_regional") as region:
        region.attr(label="regional services (outside the VPC)", style="rounded", color="#8a6d3b")
        for bucket in g.of_type(*rt.BUCKET_TYPES):
            purpose = dig(_inputs(bucket), "tags", "Purpose") or bucket.name
            region.node(_node_id(bucket), f"S3 {purpose}", fillcolor="#fff4d6")
        for fs in g.of_type(rt.EFS_FILE_SYSTEM):
            region.node(_node_id(fs), _label("EFS model store", "encrypted"), fillcolor="#f7e3d6")
        for cluster in g.of_type(rt.RDS_CLUSTER):
            engine = _inputs(cluster).get("engine")
            region.node(
                _node_id(cluster),
                _label("Aurora cluster", f"{engine} {_inputs(cluster).get('engineVersion')}"),
                fillcolor="#f7e3d6",
            )
    for instance in g.of_type(rt.RDS_CLUSTER_INSTANCE):
        for cluster in g.of_type(rt.RDS_CLUSTER):
            if cluster.urn in instance.dependencies:
                dot.edge(_node_id(instance), _node_id(cluster), style="dotted", arrowhead="none")
    for mount in g.of_type(rt.EFS_MOUNT_TARGET):
        file_system = g.by_id.get(str(_inputs(mount).get("fileSystemId")))
        if file_system is not None:
            dot.edge(_node_id(mount), _node_id(file_system), style="dotted", arrowhead="none")


def _routes(g: _Graph, dot: graphviz.Digraph, subnet_node: Mapping[str, str]) -> None:
    tables = {t.id: t for t in g.of_type(rt.ROUTE_TABLE) if t.id}
    subnets_of: dict[str, list[str]] = defaultdict(list)
    for association in g.of_type(rt.ROUTE_TABLE_ASSOCIATION):
        inputs = _inputs(association)
        subnets_of[str(inputs.get("routeTableId"))].append(str(inputs.get("subnetId")))
    nat_by_id = {n.id: n for n in g.of_type(rt.NAT_GATEWAY) if n.id}
    # A load balancer's subnets reach the internet through it: drawn by _entries.
    entry_subnets = {
        str(subnet)
        for params in g.of_type(rt.INGRESS_CLASS_PARAMS)
        for subnet in dig(_inputs(params), "spec", "subnets", "ids") or []
    }
    for table_id, table in tables.items():
        for route in _inputs(table).get("routes") or []:
            if route.get("cidrBlock") != "0.0.0.0/0":
                continue
            nat = nat_by_id.get(str(route.get("natGatewayId")))
            for subnet_id in subnets_of.get(str(table_id), []):
                source = subnet_node.get(subnet_id)
                if source is None or subnet_id in entry_subnets:
                    continue
                if nat is not None:
                    dot.edge(source, _node_id(nat), label="0.0.0.0/0", color="#8a6d3b")
                elif route.get("gatewayId"):
                    dot.edge(source, INTERNET, label="internet gateway", color="#8a6d3b")
    for nat in g.of_type(rt.NAT_GATEWAY):
        dot.edge(_node_id(nat), INTERNET, color="#8a6d3b")
    for endpoint in g.of_type(rt.VPC_ENDPOINT):
        inputs = _inputs(endpoint)
        if str(inputs.get("vpcEndpointType") or "Gateway") != "Gateway":
            continue
        service = str(inputs.get("serviceName") or "").rsplit(".", 1)[-1]
        dot.node(_node_id(endpoint), f"{service.upper()} gateway endpoint", fillcolor="#fff4d6")
        served = {
            subnet_node[s]
            for t in inputs.get("routeTableIds") or []
            for s in subnets_of.get(str(t), [])
            if s in subnet_node
        }
        for source in sorted(served):
            dot.edge(source, _node_id(endpoint), color="#8a6d3b", style="dashed")
        if service == "s3":
            for bucket in g.of_type(*rt.BUCKET_TYPES):
                dot.edge(_node_id(endpoint), _node_id(bucket), color="#8a6d3b", style="dashed")


def _security_group_flows(g: _Graph, dot: graphviz.Digraph) -> None:
    groups = {s.id: s for s in g.of_type(rt.SECURITY_GROUP) if s.id}
    cluster_groups = {
        str(_inputs(t).get("resourceId"))
        for t in g.of_type(rt.EC2_TAG)
        if _inputs(t).get("key") == KARPENTER_DISCOVERY_TAG
    }
    members = _security_group_members(g)
    for rule in g.of_type(rt.SECURITY_GROUP_INGRESS_RULE):
        inputs = _inputs(rule)
        target = groups.get(str(inputs.get("securityGroupId")))
        source = str(inputs.get("referencedSecurityGroupId") or "")
        if target is None or source not in cluster_groups:
            continue
        low, high = _number(inputs.get("fromPort")), _number(inputs.get("toPort"))
        protocol = str(inputs.get("ipProtocol", "tcp")).upper()
        ports = f"{protocol} {low}" if low == high else f"{protocol} {low}-{high}"
        for member in members.get(str(target.id), []):
            dot.edge("eks_sg", member, label=ports, color="#c62828", fontcolor="#c62828")


def _security_group_members(g: _Graph) -> dict[str, list[str]]:
    """Security group id -> the drawn nodes behind it."""
    members: dict[str, list[str]] = defaultdict(list)
    for cluster in g.of_type(rt.RDS_CLUSTER):
        for group in _inputs(cluster).get("vpcSecurityGroupIds") or []:
            members[str(group)] += [
                _node_id(i)
                for i in g.of_type(rt.RDS_CLUSTER_INSTANCE)
                if cluster.urn in i.dependencies
            ]
    for cache in g.of_type(rt.CACHE_REPLICATION_GROUP):
        for group in _inputs(cache).get("securityGroupIds") or []:
            members[str(group)] += [
                _cache_node(cache, zone)
                for zone in _inputs(cache).get("preferredCacheClusterAzs") or []
            ]
    for mount in g.of_type(rt.EFS_MOUNT_TARGET):
        for group in _inputs(mount).get("securityGroups") or []:
            members[str(group)].append(_node_id(mount))
    return members


def _network_policy_flows(g: _Graph, dot: graphviz.Digraph, subnet_node: Mapping[str, str]) -> None:
    drawn: set[tuple[str, str, str]] = set()

    def edge(source: str, target: str, label: str) -> None:
        if (source, target, label) not in drawn:
            drawn.add((source, target, label))
            dot.edge(source, target, label=label, color="#1565c0", fontcolor="#1565c0")

    for policy in g.of_type(rt.NETWORK_POLICY):
        inputs = _inputs(policy)
        namespace = _namespace_node(str(dig(inputs, "metadata", "namespace")))
        spec = inputs.get("spec") or {}
        for rule in spec.get("egress") or []:
            ports = _ports(rule.get("ports"))
            for peer in rule.get("to") or []:
                for target in _peer_nodes(g, peer, subnet_node):
                    if target != namespace:
                        edge(namespace, target, ports)
        for rule in spec.get("ingress") or []:
            ports = _ports(rule.get("ports"))
            for peer in rule.get("from") or []:
                for source in _peer_nodes(g, peer, subnet_node):
                    if source != namespace:
                        edge(source, namespace, ports)


def _peer_nodes(g: _Graph, peer: Mapping[str, Any], subnet_node: Mapping[str, str]) -> list[str]:
    """The drawn nodes a NetworkPolicy peer admits (a bare podSelector: the own namespace,
    drawn as a note on it rather than an arrow)."""
    block = peer.get("ipBlock")
    if block:
        cidr = str(block.get("cidr"))
        if cidr == POD_IDENTITY_AGENT:
            return ["pod_identity_agent"]
        subnet = g.subnet_of_cidr(cidr)
        if subnet is not None:
            return [subnet_node[subnet.id or subnet.name]]
        if ipaddress.ip_network(cidr).prefixlen == 0:
            return [INTERNET]
        return []
    if "namespaceSelector" not in peer:
        return []
    wanted = dig(peer, "namespaceSelector", "matchLabels") or {}
    if wanted.get(NAMESPACE_NAME_LABEL) == KUBE_SYSTEM:
        return ["ns_kube_system"]
    found = []
    for namespace in g.of_type(rt.NAMESPACE):
        metadata = _inputs(namespace).get("metadata") or {}
        labels = {
            **(metadata.get("labels") or {}),
            NAMESPACE_NAME_LABEL: metadata.get("name"),
        }
        if all(labels.get(k) == v for k, v in wanted.items()):
            found.append(_namespace_node(str(metadata.get("name"))))
    return found


def _pool_edges(g: _Graph, dot: graphviz.Digraph) -> None:
    namespaces = {str(dig(_inputs(n), "metadata", "name")) for n in g.of_type(rt.NAMESPACE)}
    for pool in g.of_type(rt.NODE_POOL):
        environment = dig(_inputs(pool), "metadata", "labels", ENVIRONMENT_LABEL)
        if environment in namespaces:
            dot.edge(
                _node_id(pool),
                _namespace_node(str(environment)),
                label=f"taint {environment}",
                color="#6a1b9a",
                fontcolor="#6a1b9a",
                style="dashed",
            )


def render_architecture(plan: PlanResult) -> bytes:
    """The SVG (raises graphviz.ExecutableNotFound when `dot` is not installed)."""
    svg: bytes = architecture(plan).pipe(format="svg")
    return svg
