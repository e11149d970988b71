"""Ingress layer configuration (`pingvas:ingress`): one internet entry per environment."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import Field, model_validator

from pingvas_infra.configbase import Cidr, ConfigModel, ConfigWarning, Problem, raise_problems
from pingvas_infra.environments import ENVIRONMENTS
from pingvas_infra.tables import load_table

# An ACM certificate (its id is a UUID) and a regional WAFv2 web ACL. CloudFront's web
# ACLs are `global/webacl` in us-east-1 and cannot be associated with a load balancer.
_CERTIFICATE_ARN = re.compile(
    r"^arn:(?P<partition>aws|aws-cn|aws-us-gov):acm:(?P<region>[a-z0-9-]+):\d{12}:"
    r"certificate/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)
_WEB_ACL_ARN = re.compile(
    r"^arn:(?P<partition>aws|aws-cn|aws-us-gov):wafv2:(?P<region>[a-z0-9-]+):\d{12}:"
    r"regional/webacl/[\w-]{1,128}/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)
_CERTIFICATE_SHAPE = "arn:aws:acm:<region>:<account>:certificate/<uuid>"
_WEB_ACL_SHAPE = "arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<uuid>"


@dataclass(frozen=True)
class ControllerPin:
    """tables/ingress.yaml: the pinned AWS Load Balancer Controller."""

    chart: str
    version: str
    app_version: str
    repository: str
    namespace: str
    service_account: str
    webhook_port: int
    iam_policy_file: str
    replicas: int
    resources: dict[str, Any]


@cache
def controller_pin() -> ControllerPin:
    controller = load_table("ingress")["controller"]
    return ControllerPin(
        chart=controller["chart"],
        version=str(controller["version"]),
        app_version=str(controller["appVersion"]),
        repository=controller["repository"],
        namespace=controller["namespace"],
        service_account=controller["serviceAccount"],
        webhook_port=int(controller["webhookPort"]),
        iam_policy_file=controller["iamPolicy"]["file"],
        replicas=int(controller["replicas"]),
        resources=dict(controller["resources"]),
    )


def deletion_protected_environments() -> tuple[str, ...]:
    """Environments whose load balancer keeps ELB deletion protection on."""
    return tuple(load_table("ingress")["deletionProtectedEnvironments"])


def tls_policies() -> tuple[str, ...]:
    return tuple(load_table("ingress")["tlsPolicies"]["allowed"])


def _default_tls_policy() -> str:
    return str(load_table("ingress")["tlsPolicies"]["default"])


class EntryConfig(ConfigModel):
    """One environment's internet entry: its Application Load Balancer."""

    certificate_arn: str | None = Field(
        default=None,
        description=(
            "ACM certificate of the environment's host names, in the stack's region: HTTPS on "
            "443 with plain HTTP redirected to it. Unset: HTTP only (the plan warns). Set it "
            "for every environment or for none."
        ),
        json_schema_extra={
            "allowed": f"an ACM certificate ARN of aws:region ({_CERTIFICATE_SHAPE}), for every "
            "environment or for none"
        },
    )
    waf_acl_arn: str | None = Field(
        default=None,
        description=(
            "Regional WAFv2 web ACL associated with the environment's load balancer (unset: none)."
        ),
        json_schema_extra={
            "allowed": f"a regional WAFv2 web ACL ARN of aws:region ({_WEB_ACL_SHAPE})"
        },
    )
    inbound_cidrs: tuple[Cidr, ...] = Field(
        default=("0.0.0.0/0",),
        min_length=1,
        description=(
            "Client address ranges the load balancer's listeners admit (default: the "
            "internet); narrow dev's to the team's ranges to keep it private."
        ),
    )

    def format_problems(self) -> list[Problem]:
        """ARNs of the wrong service or shape (checked with the whole section, so every
        problem is reported at once)."""
        problems: list[Problem] = []
        if self.certificate_arn is not None and not _CERTIFICATE_ARN.match(self.certificate_arn):
            problems.append(
                Problem(
                    "certificateArn",
                    self.certificate_arn,
                    f"an ACM certificate ARN, {_CERTIFICATE_SHAPE}",
                )
            )
        if self.waf_acl_arn is not None and not _WEB_ACL_ARN.match(self.waf_acl_arn):
            problems.append(
                Problem(
                    "wafAclArn",
                    self.waf_acl_arn,
                    f"a regional WAFv2 web ACL ARN, {_WEB_ACL_SHAPE} (CloudFront's global "
                    "web ACLs cannot protect a load balancer)",
                )
            )
        return problems

    def protected(self, environment: str) -> bool:
        """Whether the environment's load balancer keeps ELB deletion protection on (prod's
        always: tables/ingress.yaml, checked by the mandatory policy control too)."""
        return environment in deletion_protected_environments()

    def arn_region_problems(self, region: str, partition: str) -> list[Problem]:
        """ARNs of another region or partition than the stack's: a load balancer uses only
        certificates and web ACLs of its own region."""
        problems: list[Problem] = []
        for key, value, pattern, service in (
            ("certificateArn", self.certificate_arn, _CERTIFICATE_ARN, "ACM certificate"),
            ("wafAclArn", self.waf_acl_arn, _WEB_ACL_ARN, "WAFv2 web ACL"),
        ):
            found = pattern.match(value) if value is not None else None
            if found is None:
                continue
            if (found["partition"], found["region"]) != (partition, region):
                problems.append(
                    Problem(
                        key,
                        value,
                        f"an {service} of region {region} (aws:region), partition "
                        f"{partition}: a load balancer uses those of its own region only",
                    )
                )
        return problems


def _default_entries() -> dict[str, EntryConfig]:
    return {env.name: EntryConfig() for env in ENVIRONMENTS}


class IngressConfig(ConfigModel):
    """The AWS Load Balancer Controller and one internet entry (an Application Load
    Balancer behind its own IngressClass) per environment."""

    environments: dict[str, EntryConfig] = Field(
        default_factory=_default_entries,
        description=(
            "Per environment (dev, prod), its entry's certificate, web ACL and client "
            "ranges; an environment left out takes the defaults. Prod's load balancer always "
            "keeps ELB deletion protection on, dev's never (tables/ingress.yaml)."
        ),
    )
    tls_policy: str = Field(
        default_factory=_default_tls_policy,
        description=(
            "TLS security policy of the HTTPS listeners; one of tables/ingress.yaml's "
            "TLS 1.2+ policies (default: the one AWS recommends)."
        ),
        json_schema_extra={"allowed": "one of " + ", ".join(tls_policies())},
    )
    idle_timeout_seconds: int = Field(
        default=60,
        ge=1,
        le=4000,
        description="Seconds a client connection may stay idle on the load balancer.",
    )

    @model_validator(mode="after")
    def _check(self) -> IngressConfig:
        problems: list[Problem] = []
        names = [env.name for env in ENVIRONMENTS]
        # An environment the stack file leaves out gets the defaults.
        missing = {name: EntryConfig() for name in names if name not in self.environments}
        if missing:
            object.__setattr__(self, "environments", {**self.environments, **missing})
        problems.extend(
            Problem(f"environments.{name}", "...", f"an environment: one of {', '.join(names)}")
            for name in sorted(self.environments)
            if name not in names
        )
        problems.extend(
            Problem(f"environments.{name}.{p.key}", p.value, p.allowed)
            for name, entry in sorted(self.environments.items())
            for p in entry.format_problems()
        )
        with_certificate = sorted(n for n, e in self.environments.items() if e.certificate_arn)
        if with_certificate and len(with_certificate) != len(self.environments):
            without = sorted(set(self.environments) - set(with_certificate))
            problems.extend(
                Problem(
                    f"environments.{name}.certificateArn",
                    None,
                    "a certificate here too, or none anywhere: dev must rehearse the HTTPS "
                    "path prod serves (redirect, secure cookies, HSTS), and a prod without "
                    f"one would serve plain HTTP ({', '.join(with_certificate)} has one)",
                )
                for name in without
            )
        if self.tls_policy not in tls_policies():
            problems.append(
                Problem("tlsPolicy", self.tls_policy, f"one of {', '.join(tls_policies())}")
            )
        raise_problems(problems)
        return self

    def entry(self, environment: str) -> EntryConfig:
        return self.environments[environment]

    def arn_region_problems(self, region: str, partition: str) -> list[Problem]:
        return [
            Problem(f"environments.{name}.{p.key}", p.value, p.allowed)
            for name, entry in sorted(self.environments.items())
            for p in entry.arn_region_problems(region, partition)
        ]

    def warnings(self) -> list[ConfigWarning]:
        found: list[ConfigWarning] = []
        for name, entry in sorted(self.environments.items()):
            if entry.certificate_arn is None:
                found.append(
                    ConfigWarning(
                        f"environments.{name}.certificateArn",
                        None,
                        f"{name}'s load balancer serves plain HTTP on port 80: set an ACM "
                        "certificate for every environment to serve HTTPS and redirect HTTP",
                    )
                )
        return found
