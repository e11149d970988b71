"""Network layer configuration (`pingvas:network`)."""

from __future__ import annotations

import re

from pydantic import Field, model_validator

from pingvas_infra.configbase import (
    LOG_RETENTION_DAYS,
    Cidr,
    ConfigModel,
    Problem,
    network,
    not_one_of,
    overlapping_cidrs,
    raise_problems,
)

_AZ_NAME = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$")
# AWS limits for a VPC's primary CIDR and for subnets (VPC user guide, "VPC CIDR blocks").
_VPC_PREFIXES = range(16, 29)
_SUBNET_PREFIXES = range(16, 29)

TIERS = ("public", "private", "data")


class NetworkConfig(ConfigModel):
    """A VPC over several AZs with three subnet tiers.

    public: load balancers and the NAT gateway; private: nodes and pods (pods take VPC
    addresses through the VPC CNI, so these are large); data: Aurora, ElastiCache and the
    EFS mount targets, kept apart so security groups and NetworkPolicies can name them.
    """

    vpc_cidr: Cidr = "10.0.0.0/16"
    # None means "the first three AZs of the region" (resolved by the stack config).
    availability_zones: tuple[str, ...] | None = None
    public_subnet_cidrs: tuple[Cidr, ...] = ("10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24")
    private_subnet_cidrs: tuple[Cidr, ...] = ("10.0.32.0/19", "10.0.64.0/19", "10.0.96.0/19")
    data_subnet_cidrs: tuple[Cidr, ...] = ("10.0.16.0/24", "10.0.17.0/24", "10.0.18.0/24")
    # 1 (the design guide's cost choice) or one per AZ (zone-failure tolerant egress).
    nat_gateways: int = Field(default=1)
    # VPC flow logs of rejected traffic (FSBP EC2.6) go to CloudWatch Logs for this long.
    flow_log_retention_days: int = 14

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
            problems.extend(
                Problem(
                    f"availabilityZones[{i}]",
                    az,
                    "an AZ name such as us-east-1a",
                )
                for i, az in enumerate(azs)
                if not _AZ_NAME.match(az)
            )
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
        problems += not_one_of(
            "flowLogRetentionDays", self.flow_log_retention_days, LOG_RETENTION_DAYS
        )
        raise_problems(problems)
        return self
