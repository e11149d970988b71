"""Malformed network configuration is refused with the offending key named."""

from __future__ import annotations

from pingvas_infra.plan.stackfile import StackFile
from tests.support.config_cases import (
    BadConfigCase,
    config_refusal,
    config_with,
    refused_config_test,
)

AZS3 = ["us-east-1a", "us-east-1b", "us-east-1c"]
DEV_LB = ["10.0.4.0/26", "10.0.4.64/26", "10.0.4.128/26"]
PROD_LB = ["10.0.5.0/26", "10.0.5.64/26", "10.0.5.128/26"]

# (case id, pingvas-infra:network overrides, key the message must name, text it must contain)
BAD_NETWORK: list[BadConfigCase] = [
    ("cidr-not-parsable", {"vpcCidr": "10.0.0.0/33"}, "pingvas-infra:network.vpcCidr", "IPv4 CIDR"),
    ("cidr-garbage", {"vpcCidr": "ten.zero"}, "pingvas-infra:network.vpcCidr", "IPv4 CIDR"),
    ("cidr-host-bits", {"vpcCidr": "10.0.0.1/16"}, "pingvas-infra:network.vpcCidr", "host bits"),
    ("vpc-too-large", {"vpcCidr": "10.0.0.0/8"}, "pingvas-infra:network.vpcCidr", "/16 to /28"),
    (
        "subnet-outside-vpc",
        {"dataSubnetCidrs": ["10.0.16.0/24", "10.0.17.0/24", "10.1.18.0/24"]},
        "pingvas-infra:network.dataSubnetCidrs[2]",
        "inside vpcCidr",
    ),
    (
        "subnets-overlap-within-tier",
        {"publicSubnetCidrs": ["10.0.0.0/24", "10.0.0.128/25", "10.0.2.0/24"]},
        "pingvas-infra:network.publicSubnetCidrs[1]",
        "does not overlap",
    ),
    (
        "subnets-overlap-across-tiers",
        {"dataSubnetCidrs": ["10.0.32.0/24", "10.0.17.0/24", "10.0.18.0/24"]},
        "pingvas-infra:network.dataSubnetCidrs[0]",
        "does not overlap privateSubnetCidrs[0]",
    ),
    (
        "subnet-unparsable",
        {"privateSubnetCidrs": ["10.0.32.0/19", "10.0.64.0/19", "nope"]},
        "pingvas-infra:network.privateSubnetCidrs[2]",
        "IPv4 CIDR",
    ),
    (
        "subnet-too-small",
        {"publicSubnetCidrs": ["10.0.0.0/29", "10.0.1.0/24", "10.0.2.0/30"]},
        "pingvas-infra:network.publicSubnetCidrs[2]",
        "/16 to /28",
    ),
    (
        "private-subnet-too-small-for-pod-prefixes",
        {"privateSubnetCidrs": ["10.0.32.0/19", "10.0.64.0/25", "10.0.96.0/19"]},
        "pingvas-infra:network.privateSubnetCidrs[1]",
        "/16 to /24: pods take their addresses as /28 prefixes",
    ),
    (
        "one-az",
        {
            "availabilityZones": ["us-east-1a"],
            "publicSubnetCidrs": ["10.0.0.0/24"],
            "privateSubnetCidrs": ["10.0.32.0/19"],
            "dataSubnetCidrs": ["10.0.16.0/24"],
        },
        "pingvas-infra:network.availabilityZones",
        "at least 2",
    ),
    (
        "duplicate-az",
        {"availabilityZones": ["us-east-1a", "us-east-1a", "us-east-1c"]},
        "pingvas-infra:network.availabilityZones",
        "at most once",
    ),
    (
        "az-malformed",
        {"availabilityZones": ["us-east-1a", "east", "us-east-1c"]},
        "pingvas-infra:network.availabilityZones[1]",
        "a zone of region us-east-1 (aws:region): us-east-1a, us-east-1b",
    ),
    (
        "subnet-count-differs-from-azs",
        {"privateSubnetCidrs": ["10.0.32.0/19", "10.0.64.0/19"]},
        "pingvas-infra:network.privateSubnetCidrs",
        "one CIDR per availability zone (3)",
    ),
    ("nat-two-of-three", {"natGateways": 2}, "pingvas-infra:network.natGateways", "1 (one shared"),
    (
        "nat-zero",
        {"natGateways": 0},
        "pingvas-infra:network.natGateways",
        "below the minimum 1; allowed: 1, or the number of availability zones",
    ),
    (
        "nat-not-a-number",
        {"natGateways": "many"},
        "pingvas-infra:network.natGateways",
        "quoted text where a number is expected",
    ),
    (
        "flow-log-retention-not-allowed",
        {"flowLogRetentionDays": 10},
        "pingvas-infra:network.flowLogRetentionDays",
        "allowed: 1, 3, 5, 7, 14",
    ),
    ("unknown-key", {"vpcCider": "10.0.0.0/16"}, "pingvas-infra:network.vpcCider", "allowed keys"),
    (
        "load-balancer-subnet-too-small",
        {"loadBalancerSubnetCidrs": {"dev": ["10.0.4.0/28", *DEV_LB[1:]], "prod": PROD_LB}},
        "pingvas-infra:network.loadBalancerSubnetCidrs.dev[0]",
        "at least a /27",
    ),
    (
        "load-balancer-subnets-shared-by-environments",
        {"loadBalancerSubnetCidrs": {"dev": PROD_LB, "prod": PROD_LB}},
        "pingvas-infra:network.loadBalancerSubnetCidrs.prod[0]",
        "does not overlap loadBalancerSubnetCidrs.dev[0]",
    ),
    (
        "load-balancer-subnet-in-the-public-tier",
        {"loadBalancerSubnetCidrs": {"dev": ["10.0.0.0/26", *DEV_LB[1:]], "prod": PROD_LB}},
        "pingvas-infra:network.loadBalancerSubnetCidrs.dev[0]",
        "does not overlap publicSubnetCidrs[0]",
    ),
    (
        "load-balancer-subnets-of-one-environment-only",
        {"loadBalancerSubnetCidrs": {"dev": DEV_LB}},
        "pingvas-infra:network.loadBalancerSubnetCidrs",
        "one entry per environment: dev, prod",
    ),
    (
        "load-balancer-subnets-fewer-than-zones",
        {"loadBalancerSubnetCidrs": {"dev": DEV_LB[:2], "prod": PROD_LB}},
        "pingvas-infra:network.loadBalancerSubnetCidrs.dev",
        "one CIDR per availability zone (3)",
    ),
    (
        "load-balancer-subnet-outside-vpc",
        {"loadBalancerSubnetCidrs": {"dev": ["10.1.4.0/26", *DEV_LB[1:]], "prod": PROD_LB}},
        "pingvas-infra:network.loadBalancerSubnetCidrs.dev[0]",
        "inside vpcCidr",
    ),
    (
        "subnets-not-a-list",
        {"dataSubnetCidrs": "10.0.16.0/24"},
        "pingvas-infra:network.dataSubnetCidrs",
        "not a list",
    ),
]


test_bad_network_config_names_key = refused_config_test(BAD_NETWORK, "pingvas-infra:network")


def test_every_problem_is_reported_at_once(stack_file: StackFile) -> None:
    overrides = {
        "pingvas-infra:network": {
            "natGateways": 2,
            "dataSubnetCidrs": ["10.0.16.0/24", "10.0.16.0/25", "192.168.0.0/24"],
            "flowLogRetentionDays": 2,
        }
    }
    message = config_refusal(stack_file, overrides)
    assert "(4 problems)" in message
    for key in ("natGateways", "dataSubnetCidrs[1]", "dataSubnetCidrs[2]", "flowLogRetentionDays"):
        assert f"pingvas-infra:network.{key} = " in message


def test_nat_per_az_and_two_azs_are_accepted(stack_file: StackFile) -> None:
    per_az = config_with(stack_file, {"pingvas-infra:network": {"natGateways": 3}})
    assert per_az.network.nat_gateways == 3
    two = config_with(
        stack_file,
        {
            "pingvas-infra:network": {
                "availabilityZones": ["us-east-1a", "us-east-1b"],
                "publicSubnetCidrs": ["10.0.0.0/24", "10.0.1.0/24"],
                "privateSubnetCidrs": ["10.0.32.0/19", "10.0.64.0/19"],
                "dataSubnetCidrs": ["10.0.16.0/24", "10.0.17.0/24"],
                # The stack file spells out three per environment; unset, they follow the zones.
                "loadBalancerSubnetCidrs": None,
                "natGateways": 2,
            }
        },
    )
    assert two.availability_zones == ("us-east-1a", "us-east-1b")
    # The default load-balancer subnets follow the zones: one per zone and environment.
    assert two.network.load_balancer_subnets == {
        "dev": ("10.0.4.0/26", "10.0.4.64/26"),
        "prod": ("10.0.5.0/26", "10.0.5.64/26"),
    }
