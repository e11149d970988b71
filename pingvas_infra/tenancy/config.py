"""Tenancy layer configuration (`pingvas-infra:tenancy`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from pingvas_infra.configbase import ConfigModel, Problem, raise_problems
from pingvas_infra.labels import INGRESS_LABEL
from pingvas_infra.ports import DNS_PORT, NFS_PORT, POSTGRESQL_PORT, REDIS_PORT
from pingvas_infra.tenancy.network_policies import INGRESS_POD_LABELS

# Ports the NetworkPolicies already open for other reasons; a load-balancer port equal to
# one of them would read as if the data tier or DNS were exposed.
_MAX_PORT = 65535
_RESERVED_PORTS = {
    DNS_PORT: "DNS",
    NFS_PORT: "NFS (EFS)",
    POSTGRESQL_PORT: "PostgreSQL",
    REDIS_PORT: "Redis",
}


class TenancyConfig(ConfigModel):
    """Namespaces, quotas, network policies and per-environment credentials."""

    service_mesh: Literal["istio"] | None = Field(
        default=None,
        description=(
            "istio labels dev and prod `istio-injection: enabled` (the design guide's label) "
            "and lets their sidecars reach istiod; unset: no mesh, no label."
        ),
    )
    load_balancer_ports: tuple[int, ...] = Field(
        default=(8000,),
        description=(
            f"TCP ports pods labelled `{INGRESS_LABEL}: {INGRESS_POD_LABELS[INGRESS_LABEL]}` "
            "accept from their "
            "environment's load balancer (its own load-balancer subnets); empty: nothing is "
            "reachable from outside."
        ),
        json_schema_extra={
            "allowed": "a list of TCP ports from 1 to 65535, each once; not "
            f"{DNS_PORT}, {NFS_PORT}, {POSTGRESQL_PORT} or {REDIS_PORT} (DNS and the data tier)"
        },
    )
    db_password_length: int = Field(
        default=32,
        ge=24,
        le=64,
        description="Generated dev_user / prod_user passwords (letters and digits: URL-safe).",
    )
    bootstrap_backoff_limit: int = Field(
        default=3, ge=0, le=10, description="Retries of the schema-bootstrap Job."
    )
    bootstrap_ttl_seconds: int = Field(
        default=86400,
        ge=300,
        le=7 * 86400,
        description="How long a finished bootstrap Job (and its pod's logs) is kept.",
    )

    @field_validator("load_balancer_ports")
    @classmethod
    def _check_ports(cls, ports: tuple[int, ...]) -> tuple[int, ...]:
        problems: list[Problem] = []
        seen: set[int] = set()
        for i, port in enumerate(ports):
            key = f"[{i}]"
            if not 1 <= port <= _MAX_PORT:
                problems.append(Problem(key, port, f"a TCP port from 1 to {_MAX_PORT}"))
            elif port in _RESERVED_PORTS:
                problems.append(
                    Problem(
                        key,
                        port,
                        f"not {port} ({_RESERVED_PORTS[port]}): an application port, such as 8000",
                    )
                )
            elif port in seen:
                problems.append(Problem(key, port, "each port at most once"))
            seen.add(port)
        raise_problems(problems)
        return ports
