"""Cluster layer configuration (`pingvas:cluster`)."""

from __future__ import annotations

import ipaddress
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from pingvas_infra.cluster.people import Principal
from pingvas_infra.configbase import (
    LOG_RETENTION_DAYS,
    Cidr,
    ConfigModel,
    ConfigWarning,
    Problem,
    network,
    not_one_of,
    raise_problems,
)
from pingvas_infra.eks_versions import SupportPhase, eks_versions, offered_versions, today
from pingvas_infra.environments import ENVIRONMENTS
from pingvas_infra.instances import general_purpose_types, instance_shapes

# EKS refuses private and loopback ranges for its public endpoint.
_NON_PUBLIC = tuple(
    ipaddress.IPv4Network(c)
    for c in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16")
)
OPEN_TO_THE_INTERNET = "0.0.0.0/0"
# The system tier needs at least this many nodes so a single spot interruption (or a
# node replacement) never leaves the cluster without CoreDNS, Karpenter and the add-ons.
MIN_SYSTEM_NODES = 2
MIN_SYSTEM_INSTANCE_TYPES = 3
# Days before the end of standard support from which the plan reminds to upgrade.
UPGRADE_REMINDER_DAYS = 90
# EKS extended support: $0.60 instead of $0.10 per cluster-hour (730 h/month).
EXTENDED_SUPPORT_EXTRA_PER_MONTH = 365


class SystemNodeGroupConfig(ConfigModel):
    """The managed node group every system component and light workload runs on."""

    # One size class (same vCPUs and memory) spread over several spot pools, so one pool
    # running dry cannot take both nodes. All Nitro, so the same AL2023 x86_64 AMI fits.
    instance_types: tuple[str, ...] = ("t3.medium", "t3a.medium", "c5a.large")
    capacity_type: Literal["SPOT", "ON_DEMAND"] = "SPOT"
    # The design guide's 2 desired / 2 min / 4 max.
    desired_size: int = 2
    min_size: int = 2
    max_size: int = 4
    disk_size_gib: int = 30

    def problems(self) -> list[Problem]:
        """Cross-field problems (checked by ClusterConfig, so they are reported together
        with the cluster's own)."""
        problems: list[Problem] = []
        known = general_purpose_types()
        shapes = instance_shapes()
        problems.extend(
            Problem(
                f"instanceTypes[{i}]",
                t,
                f"unknown instance type; allowed: {', '.join(known)}",
            )
            for i, t in enumerate(self.instance_types)
            if t not in known
        )
        if len(set(self.instance_types)) != len(self.instance_types):
            problems.append(
                Problem("instanceTypes", list(self.instance_types), "each type at most once")
            )
        if len(set(self.instance_types)) < MIN_SYSTEM_INSTANCE_TYPES:
            problems.append(
                Problem(
                    "instanceTypes",
                    list(self.instance_types),
                    f"at least {MIN_SYSTEM_INSTANCE_TYPES} instance types, so one spot pool "
                    "running dry cannot take the whole system tier",
                )
            )
        classes = {shapes[t].size_class for t in self.instance_types if t in known}
        if len(classes) > 1:
            described = ", ".join(
                f"{t} ({shapes[t].vcpu} vCPU, {shapes[t].memory_gib:g} GiB)"
                for t in self.instance_types
                if t in known
            )
            problems.append(
                Problem(
                    "instanceTypes",
                    list(self.instance_types),
                    f"one size class (same vCPUs and memory); got {described}",
                )
            )
        if self.min_size < MIN_SYSTEM_NODES:
            problems.append(
                Problem(
                    "minSize",
                    self.min_size,
                    f"at least {MIN_SYSTEM_NODES}, so a single spot interruption never "
                    "empties the system tier",
                )
            )
        if not self.min_size <= self.desired_size <= self.max_size:
            problems.append(
                Problem(
                    "desiredSize",
                    self.desired_size,
                    f"between minSize ({self.min_size}) and maxSize ({self.max_size})",
                )
            )
        if not 20 <= self.disk_size_gib <= 200:
            problems.append(
                Problem("diskSizeGib", self.disk_size_gib, "from 20 to 200 GiB (gp3 root volume)")
            )
        return problems


class ClusterConfig(ConfigModel):
    """The one EKS cluster that holds both environments."""

    # Also the value of the `karpenter.sh/discovery` tag on subnets and security groups.
    name: str = Field(default="pingvas-shared-eks", pattern=r"^[a-zA-Z][a-zA-Z0-9-]{0,99}$")
    # A version in standard support. The design guide's 1.28 left extended support in 2025.
    kubernetes_version: str = "1.35"
    # STANDARD: at the end of standard support EKS upgrades the control plane instead of
    # silently billing extended support (the API default, EXTENDED, adds ~$365/month).
    support_type: Literal["STANDARD", "EXTENDED"] = "STANDARD"
    # IAM roles/users given cluster-admin through access entries (the identity running
    # `pulumi up` gets it at creation regardless, and may not be listed again).
    admin_principal_arns: tuple[str, ...] = ()
    # Environment name -> IAM roles/users who work in that environment: edit rights in
    # its namespace only, nothing in any other (see cluster/people.py).
    environment_principal_arns: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    # IAM roles/users who may read (not change) most objects in every namespace, prod's
    # ConfigMaps and pod specs included, but no Secrets.
    viewer_principal_arns: tuple[str, ...] = ()
    # Who may reach the public API endpoint; an empty list turns the public endpoint off
    # (then `pulumi up` must run from inside the VPC). 0.0.0.0/0 lets a laptop anywhere in,
    # and the plan warns about it.
    public_access_cidrs: tuple[Cidr, ...] = (OPEN_TO_THE_INTERNET,)
    # CloudWatch retention of the control-plane logs (api, audit, authenticator).
    log_retention_days: int = 30
    # EKS refuses to delete the cluster while this is on (turn it off first to destroy).
    deletion_protection: bool = True
    system_nodes: SystemNodeGroupConfig = Field(default_factory=SystemNodeGroupConfig)

    @field_validator("kubernetes_version", mode="before")
    @classmethod
    def _version_is_text(cls, value: Any) -> Any:
        if isinstance(value, int | float):
            raise ValueError(
                f'write the version as quoted text, such as "1.35" (YAML reads {value} as a '
                "number and 1.30 as 1.3)"
            )
        return value

    @property
    def public_endpoint(self) -> bool:
        return bool(self.public_access_cidrs)

    @model_validator(mode="after")
    def _check(self) -> ClusterConfig:
        problems: list[Problem] = []
        problems.extend(self._version_problems())
        problems.extend(
            Problem(f"systemNodes.{p.key}", p.value, p.allowed)
            for p in self.system_nodes.problems()
        )
        problems.extend(self._people_problems())
        for i, cidr in enumerate(self.public_access_cidrs):
            block = network(cidr)
            if any(block.subnet_of(private) for private in _NON_PUBLIC):
                problems.append(
                    Problem(
                        f"publicAccessCidrs[{i}]",
                        cidr,
                        "a public range (EKS refuses private and loopback ranges for the "
                        "public endpoint; the private endpoint already serves the VPC)",
                    )
                )
        if len(set(self.public_access_cidrs)) != len(self.public_access_cidrs):
            problems.append(
                Problem("publicAccessCidrs", list(self.public_access_cidrs), "each CIDR once")
            )
        problems += not_one_of("logRetentionDays", self.log_retention_days, LOG_RETENTION_DAYS)
        raise_problems(problems)
        return self

    def people(self) -> dict[str, str]:
        """Every listed principal: stack-file key (relative to the section) -> ARN."""
        listed = {f"adminPrincipalArns[{i}]": a for i, a in enumerate(self.admin_principal_arns)}
        for environment, arns in self.environment_principal_arns.items():
            listed.update(
                {f"environmentPrincipalArns.{environment}[{i}]": a for i, a in enumerate(arns)}
            )
        listed.update(
            {f"viewerPrincipalArns[{i}]": a for i, a in enumerate(self.viewer_principal_arns)}
        )
        return listed

    def _people_problems(self) -> list[Problem]:
        problems: list[Problem] = []
        known = {env.name for env in ENVIRONMENTS}
        problems.extend(
            Problem(
                f"environmentPrincipalArns.{name}",
                list(arns),
                f"an environment: {', '.join(sorted(known))}",
            )
            for name, arns in self.environment_principal_arns.items()
            if name not in known
        )
        first_key: dict[str, str] = {}
        first_identity: dict[tuple[str, str, str], tuple[str, str]] = {}
        for key, arn in self.people().items():
            principal = Principal.parse(arn)
            if principal is None:
                problems.append(
                    Problem(
                        key,
                        arn,
                        "an IAM role or user ARN, such as arn:aws:iam::123456789012:role/admin "
                        "(paths allowed)",
                    )
                )
                continue
            if arn in first_key:
                problems.append(
                    Problem(
                        key,
                        arn,
                        f"each principal in one list only (also {first_key[arn]}): EKS keeps "
                        "one access entry per principal, and a principal in two lists would "
                        "hold both environments' rights",
                    )
                )
                continue
            first_key[arn] = key
            earlier = first_identity.get(principal.identity)
            if earlier is not None:
                problems.append(
                    Problem(
                        key,
                        arn,
                        f"another path of the same {principal.kind} as {earlier[0]} "
                        f"({earlier[1]}): IAM names a {principal.kind} once per account, "
                        "whatever its path",
                    )
                )
                continue
            first_identity[principal.identity] = (key, arn)
        return problems

    def _version_problems(self) -> list[Problem]:
        on = today()
        offered = offered_versions(on)
        allowed = f"allowed on {on.isoformat()}: {', '.join(offered)}"
        known = eks_versions().get(self.kubernetes_version)
        if known is None:
            return [
                Problem("kubernetesVersion", self.kubernetes_version, f"unknown to EKS; {allowed}")
            ]
        phase = known.phase(on)
        if phase is SupportPhase.ENDED:
            return [
                Problem(
                    "kubernetesVersion",
                    self.kubernetes_version,
                    f"EKS stopped offering it on {known.end_of_extended_support.isoformat()} "
                    f"(end of extended support); {allowed}",
                )
            ]
        if phase is SupportPhase.NOT_YET_RELEASED:
            return [
                Problem(
                    "kubernetesVersion",
                    self.kubernetes_version,
                    f"not released on EKS before {known.eks_release.isoformat()}; {allowed}",
                )
            ]
        if phase is SupportPhase.EXTENDED and self.support_type == "STANDARD":
            return [
                Problem(
                    "kubernetesVersion",
                    self.kubernetes_version,
                    f"past end of standard support ({known.end_of_standard_support.isoformat()}): "
                    "choose a version in standard support, or supportType EXTENDED "
                    f"(about ${EXTENDED_SUPPORT_EXTRA_PER_MONTH}/month more)",
                )
            ]
        return []

    def warnings(self) -> list[ConfigWarning]:
        found: list[ConfigWarning] = []
        if OPEN_TO_THE_INTERNET in self.public_access_cidrs:
            found.append(
                ConfigWarning(
                    "publicAccessCidrs",
                    list(self.public_access_cidrs),
                    "the Kubernetes API endpoint is reachable from the whole internet (IAM "
                    "still authenticates every call); list your office/VPN ranges instead",
                )
            )
        version = eks_versions().get(self.kubernetes_version)
        on = today()
        if self.support_type == "EXTENDED":
            found.append(
                ConfigWarning(
                    "supportType",
                    self.support_type,
                    "once the version leaves standard support EKS bills extended support "
                    f"(about ${EXTENDED_SUPPORT_EXTRA_PER_MONTH}/month more) instead of "
                    "upgrading",
                )
            )
        if version is not None and version.phase(on) is SupportPhase.STANDARD:
            days_left = (version.end_of_standard_support - on).days
            if days_left <= UPGRADE_REMINDER_DAYS:
                found.append(
                    ConfigWarning(
                        "kubernetesVersion",
                        self.kubernetes_version,
                        f"standard support ends on {version.end_of_standard_support.isoformat()}"
                        f" ({days_left} days): plan the upgrade",
                    )
                )
        return found
