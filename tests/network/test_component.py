"""The network layer's resource graph, asserted on what the engine would receive."""

from __future__ import annotations

import pytest

from pingvas_infra import resource_types as rt
from pingvas_infra.labels import KARPENTER_DISCOVERY_TAG
from pingvas_infra.network.component import INTERNAL_ELB_TAG
from pingvas_infra.plan.model import PlanResult, RecordedResource
from pingvas_infra.plan.stackfile import StackFile
from tests.support.config_cases import config_with
from tests.support.plan_graph import PlanRunner, tags_of

# What the AWS Load Balancer Controller and the in-tree service controller discover
# internet-facing subnets by: no subnet of the stack carries it.
ELB_TAG = "kubernetes.io/role/elb"
ENVS = ("dev", "prod")


def tier_subnets(graph: PlanResult, tier: str) -> list[RecordedResource]:
    return [s for s in graph.of_type(rt.SUBNET) if tags_of(s.inputs).get("Tier") == tier]


def route_tables_of(graph: PlanResult, tier: str) -> set[str]:
    """Ids of the route tables associated with the tier's subnets."""
    subnet_ids = {s.id for s in tier_subnets(graph, tier)}
    return {
        a.inputs["routeTableId"]
        for a in graph.of_type(rt.ROUTE_TABLE_ASSOCIATION)
        if a.inputs["subnetId"] in subnet_ids
    }


@pytest.mark.parametrize("tier", ["public", "private", "data"])
def test_three_subnets_per_tier_in_three_distinct_azs(graph: PlanResult, tier: str) -> None:
    subnets = tier_subnets(graph, tier)
    assert len(subnets) == 3
    assert {s.inputs["availabilityZone"] for s in subnets} == {
        "us-east-1a",
        "us-east-1b",
        "us-east-1c",
    }


def test_one_nat_gateway_in_a_public_subnet_with_its_eip(graph: PlanResult) -> None:
    (nat,) = graph.of_type(rt.NAT_GATEWAY)
    public_ids = {s.id for s in tier_subnets(graph, "public")}
    assert nat.inputs["subnetId"] in public_ids
    eip = graph.by_id()[nat.inputs["allocationId"]]
    assert eip.type == rt.EIP
    assert eip.inputs["domain"] == "vpc"


def test_private_tables_route_to_the_nat_and_data_tier_has_no_internet(graph: PlanResult) -> None:
    (nat,) = graph.of_type(rt.NAT_GATEWAY)
    tables = graph.by_id()
    for table_id in route_tables_of(graph, "private"):
        routes = tables[table_id].inputs["routes"]
        assert routes == [{"cidrBlock": "0.0.0.0/0", "natGatewayId": nat.id}]
    for table_id in route_tables_of(graph, "data"):
        assert not tables[table_id].inputs.get("routes")
    (public_table,) = route_tables_of(graph, "public")
    (route,) = tables[public_table].inputs["routes"]
    assert tables[route["gatewayId"]].type == rt.INTERNET_GATEWAY


def test_s3_gateway_endpoint_on_exactly_private_and_data_route_tables(graph: PlanResult) -> None:
    (endpoint,) = graph.of_type(rt.VPC_ENDPOINT)
    assert endpoint.inputs["vpcEndpointType"] == "Gateway"
    assert endpoint.inputs["serviceName"] == "com.amazonaws.us-east-1.s3"
    expected = route_tables_of(graph, "private") | route_tables_of(graph, "data")
    assert set(endpoint.inputs["routeTableIds"]) == expected
    assert not set(endpoint.inputs["routeTableIds"]) & route_tables_of(graph, "public")


def test_load_balancer_and_discovery_tags_on_the_right_tiers(graph: PlanResult) -> None:
    """No subnet is discoverable for an internet-facing load balancer: the environments'
    load balancers name their subnets in their class, anything else finds none."""
    assert not [s.name for s in graph.of_type(rt.SUBNET) if ELB_TAG in tags_of(s.inputs)]
    for subnet in tier_subnets(graph, "public"):
        tags = tags_of(subnet.inputs)
        assert INTERNAL_ELB_TAG not in tags
        assert KARPENTER_DISCOVERY_TAG not in tags
    for subnet in tier_subnets(graph, "private"):
        tags = tags_of(subnet.inputs)
        assert tags[INTERNAL_ELB_TAG] == "1"
        assert tags[KARPENTER_DISCOVERY_TAG] == "pingvas-shared-eks"
        assert ELB_TAG not in tags
    for subnet in tier_subnets(graph, "data"):
        tags = tags_of(subnet.inputs)
        assert not {ELB_TAG, INTERNAL_ELB_TAG, KARPENTER_DISCOVERY_TAG} & set(tags)


def test_no_subnet_hands_out_public_ips(graph: PlanResult) -> None:
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in graph.of_type(rt.SUBNET))


def test_default_tags_on_the_provider_every_aws_resource_uses(graph: PlanResult) -> None:
    (provider,) = graph.of_type(rt.AWS_PROVIDER)
    # Provider inputs travel as JSON strings, as the engine passes them to the plugin.
    import json  # noqa: PLC0415

    default_tags = json.loads(provider.inputs["defaultTags"])["tags"]
    assert default_tags == {"Project": "pingvas", "Environment": "shared", "ManagedBy": "pulumi"}
    aws_resources = [r for r in graph.resources if r.type.startswith(rt.AWS_PREFIX)]
    assert aws_resources
    assert {r.provider for r in aws_resources} == {provider.urn}


def test_default_security_group_is_stripped(graph: PlanResult) -> None:
    (default_sg,) = graph.of_type(rt.DEFAULT_SECURITY_GROUP)
    assert not default_sg.inputs.get("ingress")
    assert not default_sg.inputs.get("egress")


def test_rejected_traffic_flow_logs(graph: PlanResult) -> None:
    (flow_log,) = graph.of_type(rt.FLOW_LOG)
    assert flow_log.inputs["trafficType"] == "REJECT"
    (group,) = [
        g for g in graph.of_type(rt.LOG_GROUP) if g.urn.split("::")[-1] == "network-flow-logs"
    ]
    assert group.inputs["retentionInDays"] == 14


def test_layer_resources_are_children_of_the_network_component(graph: PlanResult) -> None:
    (component,) = graph.of_type("pingvas:network:Network")
    assert not component.custom
    for resource in graph.of_type(rt.SUBNET) + graph.of_type(rt.NAT_GATEWAY):
        assert resource.parent == component.urn


def test_one_nat_per_az_when_configured(run_plan: PlanRunner) -> None:
    graph = run_plan({"pingvas-infra:network": {"natGateways": 3}})
    nats = graph.of_type(rt.NAT_GATEWAY)
    assert len(nats) == 3
    public = {s.id: s.inputs["availabilityZone"] for s in tier_subnets(graph, "public")}
    assert sorted(public[n.inputs["subnetId"]] for n in nats) == [
        "us-east-1a",
        "us-east-1b",
        "us-east-1c",
    ]
    # Each private subnet egresses through the NAT of its own zone.
    by_id = graph.by_id()
    for association in graph.of_type(rt.ROUTE_TABLE_ASSOCIATION):
        subnet = by_id[association.inputs["subnetId"]]
        if tags_of(subnet.inputs).get("Tier") != "private":
            continue
        (route,) = by_id[association.inputs["routeTableId"]].inputs["routes"]
        nat_subnet = by_id[by_id[route["natGatewayId"]].inputs["subnetId"]]
        assert nat_subnet.inputs["availabilityZone"] == subnet.inputs["availabilityZone"]


def load_balancer_subnets(graph: PlanResult, environment: str) -> list[RecordedResource]:
    return [
        s
        for s in tier_subnets(graph, "load-balancer")
        if tags_of(s.inputs).get("Environment") == environment
    ]


def test_each_environment_has_public_load_balancer_subnets_of_its_own(
    graph: PlanResult, stack_file: StackFile
) -> None:
    network = config_with(stack_file, {}).network
    (public_table,) = route_tables_of(graph, "public")
    seen: set[str] = set()
    for environment in ENVS:
        subnets = load_balancer_subnets(graph, environment)
        assert [s.inputs["cidrBlock"] for s in subnets] == list(
            network.load_balancer_subnets[environment]
        )
        assert {s.inputs["availabilityZone"] for s in subnets} == set(network.availability_zones)
        assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in subnets)
        # Routed to the internet gateway, like the NAT's subnets.
        ids = {s.id for s in subnets}
        tables = {
            a.inputs["routeTableId"]
            for a in graph.of_type(rt.ROUTE_TABLE_ASSOCIATION)
            if a.inputs["subnetId"] in ids
        }
        assert tables == {public_table}
        assert not ids & seen
        seen |= ids
    # Nothing else lives there: the NAT stays in the public tier, nodes in the private one.
    (nat,) = graph.of_type(rt.NAT_GATEWAY)
    assert nat.inputs["subnetId"] not in seen
