"""Cluster layer configuration (`pingvas-infra:cluster`)."""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import Field, model_validator

from pingvas_infra.cluster.people import Principal
from pingvas_infra.configbase import (
    Cidr,
    ConfigModel,
    ConfigWarning,
    LogRetentionDays,
    Problem,
    aws_limit,
    network,
    raise_problems,
)
from pingvas_infra.eks_versions import (
    SupportPhase,
    eks_versions,
    minor_key,
    supported_versions,
    today,
)
from pingvas_infra.environments import ENVIRONMENTS
from pingvas_infra.instances import general_purpose_types, instance_shapes
from pingvas_infra.pod_slots import network_limits, system_max_pods

# EKS refuses private and loopback ranges for its public endpoint.
_NON_PUBLIC = tuple(
    ipaddress.IPv4Network(c)
    for c in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16")
)
OPEN_TO_THE_INTERNET = "0.0.0.0/0"
# EKS refuses access entries for service-linked roles (EKS user guide, grant-k8s-access:
# "Access entries do not support service linked roles").
_SERVICE_LINKED_PATH = "aws-service-role/"
# The system tier needs at least this many nodes so a single spot interruption (or a
# node replacement) never leaves the cluster without CoreDNS, Karpenter and the add-ons.
MIN_SYSTEM_NODES = 2
MIN_SYSTEM_INSTANCE_TYPES = 3
# Overflow nodes for platform pods (see SystemNodeGroupConfig.overflow_nodes).
MAX_OVERFLOW_NODES = 2
# Days before the end of standard support from which the plan reminds to upgrade.
UPGRADE_REMINDER_DAYS = 90
# EKS extended support: $0.60 instead of $0.10 per cluster-hour (730 h/month).
EXTENDED_SUPPORT_EXTRA_PER_MONTH = 365
MAX_NODES = aws_limit("eks_nodes_per_managed_node_group")
_NODES_WHY = (
    f"EKS allows {MAX_NODES} nodes per managed node group (default quota L-BD136A63); "
    "the system tier needs two at least, so one spot interruption never empties it"
)
_ARN_LIST = (
    "a list of IAM role or user ARNs (paths allowed) of aws:region's partition, such as "
    "arn:aws:iam::123456789012:role/platform-admin"
)
_ARNS = f"{_ARN_LIST}; each principal in one list only"
NOT_A_PRINCIPAL = (
    "an IAM role or user ARN, such as arn:aws:iam::123456789012:role/admin (paths allowed)"
)


class SystemNodeGroupConfig(ConfigModel):
    """The managed node group every system component and light workload runs on."""

    instance_types: tuple[str, ...] = Field(
        default=("t3.medium", "t3a.medium", "c5a.large"),
        description=(
            "Instance types of the system nodes: one size class (same vCPUs and memory) over "
            f"at least {MIN_SYSTEM_INSTANCE_TYPES} spot pools, so one pool running dry "
            "cannot take the whole tier."
        ),
        json_schema_extra={
            "allowed": "at least 3 general-purpose types of tables/instance_types.yaml, "
            "each once, all of one size class"
        },
    )
    capacity_type: Literal["SPOT", "ON_DEMAND"] = Field(
        default="SPOT", description="Spot (the design guide's choice) or on-demand system nodes."
    )
    desired_size: int = Field(
        default=2,
        ge=MIN_SYSTEM_NODES,
        le=MAX_NODES,
        description="Nodes the group starts with; from minSize to maxSize.",
        json_schema_extra={"why": _NODES_WHY},
    )
    min_size: int = Field(
        default=2,
        ge=MIN_SYSTEM_NODES,
        le=MAX_NODES,
        description="Fewest system nodes; at most maxSize.",
        json_schema_extra={"why": _NODES_WHY},
    )
    max_size: int = Field(
        default=4,
        ge=MIN_SYSTEM_NODES,
        le=MAX_NODES,
        description="Most system nodes.",
        json_schema_extra={"why": _NODES_WHY},
    )
    disk_size_gib: int = Field(
        default=30,
        ge=20,
        le=200,
        description=(
            "Encrypted gp3 root volume of each system node. Environment pods land here too, "
            "so it must leave one pod the environments' per-pod disk maximum "
            "(k8s_manifests/limit-ranges.yaml) before the kubelet deletes cached images."
        ),
    )
    overflow_nodes: int = Field(
        default=1,
        ge=0,
        le=MAX_OVERFLOW_NODES,
        description=(
            "Nodes of the system types Karpenter may add for platform pods the group cannot "
            "place (Prometheus' volume lives in one zone; after a spot replacement the group's "
            "nodes may all sit elsewhere): spot first, then on-demand, consolidated away once "
            "a group node can take the pod. Nothing runs, or is billed, until then. 0: no such "
            "node; Prometheus waits for the group to come back to its zone."
        ),
        json_schema_extra={"why": "one node holds every pinned platform pod"},
    )

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
        limits = network_limits()
        problems.extend(
            Problem(
                f"instanceTypes[{i}]",
                t,
                f"a Nitro type: the VPC CNI gives {limits[t].hypervisor} instances no /28 "
                f"prefixes, so {t} would hold {limits[t].eni_limited_pods} pods, not the "
                f"{system_max_pods()} the system nodes are set to (tables/pod_slots.yaml)",
            )
            for i, t in enumerate(self.instance_types)
            if t in known and not limits[t].takes_prefixes
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
        if self.min_size > self.max_size:
            problems.append(Problem("minSize", self.min_size, f"at most maxSize ({self.max_size})"))
        elif not self.min_size <= self.desired_size <= self.max_size:
            problems.append(
                Problem(
                    "desiredSize",
                    self.desired_size,
                    f"from minSize ({self.min_size}) to maxSize ({self.max_size})",
                )
            )
        return problems


class ClusterConfig(ConfigModel):
    """The one EKS cluster that holds both environments."""

    name: str = Field(
        default="pingvas-shared-eks",
        pattern=r"^[a-zA-Z][a-zA-Z0-9-]{0,99}$",
        description="EKS cluster name; also the value of the `karpenter.sh/discovery` tag.",
        json_schema_extra={
            "allowed": "1-100 letters, digits and hyphens, starting with a letter (EKS)"
        },
    )
    kubernetes_version: str = Field(
        default="1.35",
        description=(
            "Kubernetes version of the cluster, in standard support (the design guide's 1.28 "
            "left extended support in 2025)."
        ),
        json_schema_extra={
            "allowed": "quoted text: a version EKS offers in standard support today "
            "(tables/eks_versions.yaml) that the pinned Karpenter and GPU node image support, "
            'such as "1.35"'
        },
    )
    support_type: Literal["STANDARD"] = Field(
        default="STANDARD",
        description=(
            "EKS upgrade policy: at the end of standard support EKS upgrades the control plane "
            "instead of silently billing extended support (the API default, EXTENDED, adds "
            f"about ${EXTENDED_SUPPORT_EXTRA_PER_MONTH}/month)."
        ),
        json_schema_extra={
            "why": "EXTENDED is refused: the mandatory policy control "
            "eks-upgrade-policy-standard (FSBP EKS.2) fails every plan with it"
        },
    )
    admin_principal_arns: tuple[str, ...] = Field(
        default=(),
        description=(
            "IAM roles/users given `AmazonEKSClusterAdminPolicy` (cluster scope) through access "
            "entries; never the identity running `pulumi up` (refused: EKS already made it "
            "admin, and a second entry fails with 409 ResourceInUseException)."
        ),
        json_schema_extra={"allowed": _ARNS},
    )
    environment_principal_arns: dict[str, tuple[str, ...]] = Field(
        default_factory=dict,
        description=(
            "Per environment (dev, prod), IAM roles/users given `AmazonEKSEditPolicy` in that "
            "namespace only, and the Kubernetes group `pingvas:people:<env>`."
        ),
        json_schema_extra={"allowed": "a map of environment (dev, prod) to " + _ARNS},
    )
    viewer_principal_arns: tuple[str, ...] = Field(
        default=(),
        description=(
            "IAM roles/users given `AmazonEKSViewPolicy` cluster-wide: read most objects in "
            "every namespace, prod's ConfigMaps and pod specs included, no Secrets."
        ),
        json_schema_extra={"allowed": _ARNS},
    )
    deployer_principal_arns: tuple[str, ...] = Field(
        default=(),
        description=(
            "IAM roles/users that run `pulumi up` (the deploy role, AWS_DEPLOY_ROLE_ARN of "
            "the workflows, and break-glass admins): the Kubernetes Secrets key lets them "
            "create the grant EKS encrypts Secrets under when it creates the cluster. Empty: "
            "whoever runs the program, so a preview under another role shows a key policy "
            "change (warned)."
        ),
        json_schema_extra={"allowed": f"{_ARN_LIST}; each once"},
    )
    public_access_cidrs: tuple[Cidr, ...] = Field(
        default=(OPEN_TO_THE_INTERNET,),
        max_length=aws_limit("eks_public_access_cidrs_per_cluster"),
        description=(
            "Who may reach the public API endpoint (public ranges only); `[]` turns the public "
            "endpoint off (then `pulumi up` must run inside the VPC); 0.0.0.0/0 is warned."
        ),
        json_schema_extra={
            "allowed": "a list of public IPv4 networks, each once, at most "
            f"{aws_limit('eks_public_access_cidrs_per_cluster')} (EKS quota L-93A74D60, "
            "not adjustable)"
        },
    )
    log_retention_days: LogRetentionDays = Field(
        default=30,
        description="CloudWatch retention of the control-plane logs (api, audit, authenticator).",
    )
    deletion_protection: bool = Field(
        default=True,
        description="EKS refuses to delete the cluster while on (turn it off first to destroy).",
    )
    system_nodes: SystemNodeGroupConfig = Field(
        default_factory=SystemNodeGroupConfig,
        description="The managed node group every system component and light workload runs on.",
    )

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
        problems.extend(self._deployer_problems())
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

    def deployers(self) -> dict[str, str]:
        """The principals that run `pulumi up`: stack-file key (relative to the section) ->
        ARN."""
        return {
            f"deployerPrincipalArns[{i}]": a for i, a in enumerate(self.deployer_principal_arns)
        }

    def _deployer_problems(self) -> list[Problem]:
        problems: list[Problem] = []
        first_key: dict[str, str] = {}
        for key, arn in self.deployers().items():
            if Principal.parse(arn) is None:
                problems.append(Problem(key, arn, NOT_A_PRINCIPAL))
            elif arn in first_key:
                problems.append(Problem(key, arn, f"each principal once (also {first_key[arn]})"))
            first_key.setdefault(arn, key)
        return problems

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
                problems.append(Problem(key, arn, NOT_A_PRINCIPAL))
                continue
            if principal.kind == "role" and principal.path.startswith(_SERVICE_LINKED_PATH):
                problems.append(
                    Problem(
                        key,
                        arn,
                        "a role people assume: EKS refuses an access entry for a "
                        "service-linked role (role/aws-service-role/...)",
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
        supported = supported_versions(on)
        allowed = f"allowed on {on.isoformat()} (standard support): {', '.join(supported)}"
        known = eks_versions().get(self.kubernetes_version)
        if known is None:
            oldest = min(eks_versions(), key=minor_key)
            older = bool(re.fullmatch(r"\d+\.\d+", self.kubernetes_version)) and (
                minor_key(self.kubernetes_version) < minor_key(oldest)
            )
            why = f"EKS no longer offers versions before {oldest}" if older else "unknown to EKS"
            return [Problem("kubernetesVersion", self.kubernetes_version, f"{why}; {allowed}")]
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
        if phase is SupportPhase.EXTENDED:
            return [
                Problem(
                    "kubernetesVersion",
                    self.kubernetes_version,
                    f"past end of standard support ({known.end_of_standard_support.isoformat()}):"
                    f" EKS would bill extended support (about ${EXTENDED_SUPPORT_EXTRA_PER_MONTH}"
                    "/month more) and the mandatory policy control eks-supported-version fails; "
                    f"{allowed}",
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
        if not self.deployer_principal_arns:
            found.append(
                ConfigWarning(
                    "deployerPrincipalArns",
                    [],
                    "the Kubernetes Secrets key lets whoever runs the program create EKS's "
                    "grant, so every preview under another role (the workflows' preview role) "
                    "shows a key policy change `pulumi up` will not make, and an `up` by "
                    "another principal rewrites the policy; list the deploy role "
                    "(AWS_DEPLOY_ROLE_ARN) and the break-glass admins (README, Deployment flow)",
                )
            )
        version = eks_versions().get(self.kubernetes_version)
        on = today()
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
