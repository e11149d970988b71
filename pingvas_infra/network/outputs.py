"""What the network layer hands to the others."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi


@dataclass(frozen=True)
class NetworkOutputs:
    """What other layers may use from the network. CIDRs are config values (known now)."""

    vpc_id: pulumi.Output[str]
    vpc_cidr: str
    availability_zones: tuple[str, ...]
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]
    data_subnet_ids: list[pulumi.Output[str]]
    public_subnet_cidrs: tuple[str, ...]
    private_subnet_cidrs: tuple[str, ...]
    data_subnet_cidrs: tuple[str, ...]
    # Environment name -> the public subnets its internet load balancer lives in (one per
    # zone), and their CIDRs: the only addresses its pods accept load-balancer traffic from.
    load_balancer_subnet_ids: Mapping[str, list[pulumi.Output[str]]]
    load_balancer_subnet_cidrs: Mapping[str, tuple[str, ...]]
    nat_gateway_ids: list[pulumi.Output[str]]
    s3_endpoint_id: pulumi.Output[str]
    # The tag key the private subnets carry with the cluster name as value: Karpenter finds
    # the subnets (and the security group) for its nodes by it.
    karpenter_discovery_tag: str
    # The customer-managed key every log group of the stack is encrypted with, resolved
    # once its policy admits CloudWatch Logs for those groups (tables: log_groups.py).
    logs_kms_key_arn: pulumi.Output[str]
