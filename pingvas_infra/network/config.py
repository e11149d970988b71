"""Network layer configuration (`pingvas-infra:network`)."""

from __future__ import annotations

import ipaddress

from pydantic import Field, model_validator

from pingvas_infra.configbase import (
    Cidr,
    ConfigModel,
    LogRetentionDays,
    Problem,
    network,
    overlapping_cidrs,
    raise_problems,
)
from pingvas_infra.environments import ENVIRONMENTS
from pingvas_infra.tables import load_table

# AWS limits for a VPC's primary CIDR and for subnets (VPC user guide, "VPC CIDR blocks").
_VPC_PREFIXES = range(16, 29)
_SUBNET_PREFIXES = range(16, 29)
# Pods take their addresses in /28 prefixes (VPC CNI prefix delegation, pod_slots.py), each
# a free aligned block of the node's subnet: a /24 holds 16, a /25 only 8 and a /28 none
# beside the 5 addresses AWS reserves, so a smaller private subnet starves pods.
_PRIVATE_SUBNET_PREFIXES = range(16, 25)

TIERS = ("public", "private", "data")
# AWS asks for at least a /27 with 8 free addresses in every subnet of a load balancer
# (Application Load Balancer guide, "Subnets for your load balancer"); it grows into them.
_LOAD_BALANCER_SUBNET_PREFIXES = range(16, 28)


def default_load_balancer_subnets(zone_count: int) -> dict[str, tuple[str, ...]]:
    """One /26 per zone and environment, after the public tier: dev in 10.0.4.0/24, prod
    in 10.0.5.0/24 (room for four zones)."""
    return {
        env.name: tuple(f"10.0.{4 + index}.{64 * zone}/26" for zone in range(zone_count))
        for index, env in enumerate(ENVIRONMENTS)
    }


# The most zones any region has (tables/availability_zones.yaml): at most one NAT gateway
# per zone.
MAX_ZONES = max(len(row["zones"]) for row in load_table("availability_zones")["regions"].values())


class NetworkConfig(ConfigModel):
    """A VPC over several AZs with three subnet tiers.

    public: the NAT gateway; private: nodes and pods (pods take VPC addresses through the
    VPC CNI, so these are large); data: Aurora, ElastiCache and the EFS mount targets; and
    per environment the public subnets its load balancer lives in, kept apart so security
    groups and NetworkPolicies can name each of them.
    """

    vpc_cidr: Cidr = Field(
        default="10.0.0.0/16",
        description="The VPC's range; a prefix from /16 to /28 (AWS limit).",
    )
    availability_zones: tuple[str, ...] | None = Field(
        default=None,
        description=(
            "The zones of the subnets, at least 2 (EKS and Aurora need two; 3 recommended). "
            "Unset: the region's default three (tables/availability_zones.yaml)."
        ),
        json_schema_extra={
            "allowed": "a list of zones of aws:region (tables/availability_zones.yaml), "
            "each once, at least 2",
            "default": "the region's default three, such as us-east-1a, us-east-1b, us-east-1c",
        },
    )
    public_subnet_cidrs: tuple[Cidr, ...] = Field(
        default=("10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"),
        description="Public tier (the NAT gateway): one per zone, inside vpcCidr.",
    )
    private_subnet_cidrs: tuple[Cidr, ...] = Field(
        default=("10.0.32.0/19", "10.0.64.0/19", "10.0.96.0/19"),
        description=(
            "Private tier (nodes and pods, which take VPC addresses through the VPC CNI, so "
            "large): one per zone, inside vpcCidr."
        ),
        json_schema_extra={
            "allowed": "one IPv4 CIDR per zone, /16 to /24 (pods take /28 prefixes), inside "
            "vpcCidr, overlapping no other subnet"
        },
    )
    data_subnet_cidrs: tuple[Cidr, ...] = Field(
        default=("10.0.16.0/24", "10.0.17.0/24", "10.0.18.0/24"),
        description=(
            "Data tier (Aurora, ElastiCache, EFS mount targets; no route to the internet): "
            "one per zone, inside vpcCidr. No two subnets of any tier overlap."
        ),
    )
    load_balancer_subnet_cidrs: dict[str, tuple[Cidr, ...]] | None = Field(
        default=None,
        description=(
            "Per environment (dev, prod), one public subnet per zone for that environment's "
            "internet load balancer and nothing else: its pods admit load-balancer traffic "
            "from these ranges only, so dev's load balancer reaches no prod pod and the "
            "reverse."
        ),
        json_schema_extra={
            "allowed": "dev and prod, each one CIDR per zone inside vpcCidr, /27 or larger, "
            "overlapping no other subnet",
            "default": "a /26 per zone: dev in 10.0.4.0/24, prod in 10.0.5.0/24",
        },
    )
    nat_gateways: int = Field(
        default=1,
        ge=1,
        le=MAX_ZONES,
        description=(
            "1 (the design guide's cost choice: one shared NAT gateway) or one per zone "
            "(egress survives a zone failure)."
        ),
        json_schema_extra={"allowed": "1, or the number of availability zones"},
    )
    flow_log_retention_days: LogRetentionDays = Field(
        default=14,
        description="How long CloudWatch keeps the VPC flow logs of rejected traffic (FSBP EC2.6).",
    )

    @property
    def load_balancer_subnets(self) -> dict[str, tuple[str, ...]]:
        """Environment name -> its load-balancer subnets (defaults resolved)."""
        assert self.load_balancer_subnet_cidrs is not None  # resolved by _check
        return dict(self.load_balancer_subnet_cidrs)

    def subnet_cidrs(self, tier: str) -> tuple[str, ...]:
        return {
            "public": self.public_subnet_cidrs,
            "private": self.private_subnet_cidrs,
            "data": self.data_subnet_cidrs,
        }[tier]

    @model_validator(mode="after")
    def _check(self) -> NetworkConfig:
        problems: list[Problem] = []
        vpc = network(self.vpc_cidr)
        if vpc.prefixlen not in _VPC_PREFIXES:
            problems.append(
                Problem("vpcCidr", self.vpc_cidr, "allowed: a prefix from /16 to /28 (AWS limit)")
            )

        azs = self.availability_zones
        if azs is not None:
            if len(azs) < 2:
                problems.append(
                    Problem(
                        "availabilityZones",
                        list(azs),
                        "at least 2 availability zones (EKS and Aurora need two); 3 recommended",
                    )
                )
            if len(set(azs)) != len(azs):
                problems.append(Problem("availabilityZones", list(azs), "each zone at most once"))
        zone_count = len(azs) if azs is not None else 3
        if self.load_balancer_subnet_cidrs is None:
            object.__setattr__(
                self, "load_balancer_subnet_cidrs", default_load_balancer_subnets(zone_count)
            )

        named: list[tuple[str, str]] = []
        for tier in TIERS:
            key = f"{tier}SubnetCidrs"
            cidrs = self.subnet_cidrs(tier)
            if len(cidrs) != zone_count:
                problems.append(
                    Problem(
                        key, list(cidrs), f"exactly one CIDR per availability zone ({zone_count})"
                    )
                )
            for i, cidr in enumerate(cidrs):
                subnet = network(cidr)
                if not subnet.subnet_of(vpc):
                    problems.append(
                        Problem(f"{key}[{i}]", cidr, f"a subnet inside vpcCidr {self.vpc_cidr}")
                    )
                elif subnet.prefixlen not in _SUBNET_PREFIXES:
                    problems.append(
                        Problem(f"{key}[{i}]", cidr, "a prefix from /16 to /28 (AWS limit)")
                    )
                elif tier == "private" and subnet.prefixlen not in _PRIVATE_SUBNET_PREFIXES:
                    problems.append(
                        Problem(
                            f"{key}[{i}]",
                            cidr,
                            "a prefix from /16 to /24: pods take their addresses as /28 "
                            "prefixes, each a free aligned block of the node's subnet",
                        )
                    )
                named.append((f"{key}[{i}]", cidr))
        problems += self._load_balancer_subnet_problems(vpc, zone_count, named)
        problems.extend(
            Problem(key, cidr, f"a CIDR that does not overlap {other}")
            for key, other, cidr in overlapping_cidrs(named)
        )

        if self.nat_gateways not in (1, zone_count):
            problems.append(
                Problem(
                    "natGateways",
                    self.nat_gateways,
                    f"1 (one shared NAT gateway) or {zone_count} (one per availability zone)",
                )
            )
        raise_problems(problems)
        return self

    def _load_balancer_subnet_problems(
        self, vpc: ipaddress.IPv4Network, zone_count: int, named: list[tuple[str, str]]
    ) -> list[Problem]:
        """Every environment has its own subnets, one per zone, inside the VPC; ``named``
        gathers them for the overlap check."""
        problems: list[Problem] = []
        key = "loadBalancerSubnetCidrs"
        environments = [env.name for env in ENVIRONMENTS]
        assert self.load_balancer_subnet_cidrs is not None  # resolved by _check
        if sorted(self.load_balancer_subnet_cidrs) != sorted(environments):
            problems.append(
                Problem(
                    key,
                    sorted(self.load_balancer_subnet_cidrs),
                    f"exactly one entry per environment: {', '.join(environments)}",
                )
            )
        for environment, cidrs in sorted(self.load_balancer_subnet_cidrs.items()):
            env_key = f"{key}.{environment}"
            if len(cidrs) != zone_count:
                problems.append(
                    Problem(
                        env_key,
                        list(cidrs),
                        f"exactly one CIDR per availability zone ({zone_count})",
                    )
                )
            for i, cidr in enumerate(cidrs):
                subnet = network(cidr)
                if not subnet.subnet_of(vpc):
                    problems.append(
                        Problem(f"{env_key}[{i}]", cidr, f"a subnet inside vpcCidr {self.vpc_cidr}")
                    )
                elif subnet.prefixlen not in _LOAD_BALANCER_SUBNET_PREFIXES:
                    problems.append(
                        Problem(
                            f"{env_key}[{i}]",
                            cidr,
                            "a prefix from /16 to /27 (a load balancer needs at least a /27)",
                        )
                    )
                named.append((f"{env_key}[{i}]", cidr))
        return problems
