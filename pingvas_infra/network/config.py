"""Network layer configuration (`pingvas-infra:network`)."""

from __future__ import annotations

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
from pingvas_infra.tables import load_table

# AWS limits for a VPC's primary CIDR and for subnets (VPC user guide, "VPC CIDR blocks").
_VPC_PREFIXES = range(16, 29)
_SUBNET_PREFIXES = range(16, 29)

TIERS = ("public", "private", "data")
# The most zones any region has (tables/availability_zones.yaml): at most one NAT gateway
# per zone.
MAX_ZONES = max(len(row["zones"]) for row in load_table("availability_zones")["regions"].values())


class NetworkConfig(ConfigModel):
    """A VPC over several AZs with three subnet tiers.

    public: load balancers and the NAT gateway; private: nodes and pods (pods take VPC
    addresses through the VPC CNI, so these are large); data: Aurora, ElastiCache and the
    EFS mount targets, kept apart so security groups and NetworkPolicies can name them.
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
        description="Public tier (load balancers, the NAT gateway): one per zone, inside vpcCidr.",
    )
    private_subnet_cidrs: tuple[Cidr, ...] = Field(
        default=("10.0.32.0/19", "10.0.64.0/19", "10.0.96.0/19"),
        description=(
            "Private tier (nodes and pods, which take VPC addresses through the VPC CNI, so "
            "large): one per zone, inside vpcCidr."
        ),
    )
    data_subnet_cidrs: tuple[Cidr, ...] = Field(
        default=("10.0.16.0/24", "10.0.17.0/24", "10.0.18.0/24"),
        description=(
            "Data tier (Aurora, ElastiCache, EFS mount targets; no route to the internet): "
            "one per zone, inside vpcCidr. No two subnets of any tier overlap."
        ),
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
                named.append((f"{key}[{i}]", cidr))
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
