"""Cluster layer configuration (`pingvas:cluster`)."""

from __future__ import annotations

from pydantic import Field

from pingvas_infra.configbase import ConfigModel


class ClusterConfig(ConfigModel):
    """The one EKS cluster that holds both environments."""

    # Also the value of the `karpenter.sh/discovery` tag on subnets and security groups.
    name: str = Field(default="pingvas-shared-eks", pattern=r"^[a-zA-Z][a-zA-Z0-9-]{0,99}$")
