"""Tenancy layer configuration (`pingvas:tenancy`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from pingvas_infra.configbase import ConfigModel, Problem, raise_problems

# Ports the NetworkPolicies already open for other reasons; a load-balancer port equal to
# one of them would read as if the data tier or DNS were exposed.
_RESERVED_PORTS = {53: "DNS", 2049: "NFS (EFS)", 5432: "PostgreSQL", 6379: "Redis"}


class TenancyConfig(ConfigModel):
    """Namespaces, quotas, network policies and per-environment credentials."""

    # "istio" labels dev and prod `istio-injection: enabled` (the design guide's label) and lets
    # their sidecars reach istiod. Unset: no mesh, no label.
    service_mesh: Literal["istio"] | None = None
    # TCP ports application pods labelled `pingvas.io/ingress: load-balancer` accept from
    # the load balancers in the public subnets (AWS Load Balancer Controller, IP targets).
    # Empty: nothing is reachable from outside the namespace.
    load_balancer_ports: tuple[int, ...] = (8000,)
    # Length of the generated dev_user / prod_user database passwords (letters and digits
    # only, so they need no escaping in a URL).
    db_password_length: int = Field(default=32, ge=24, le=64)
    # The schema-bootstrap Job: retries before it is marked failed, and how long a finished
    # Job (and its pod's logs) is kept.
    bootstrap_backoff_limit: int = Field(default=3, ge=0, le=10)
    bootstrap_ttl_seconds: int = Field(default=86400, ge=300, le=7 * 86400)

    @field_validator("load_balancer_ports")
    @classmethod
    def _check_ports(cls, ports: tuple[int, ...]) -> tuple[int, ...]:
        problems: list[Problem] = []
        seen: set[int] = set()
        for i, port in enumerate(ports):
            key = f"[{i}]"
            if not 1 <= port <= 65535:
                problems.append(Problem(key, port, "a TCP port from 1 to 65535"))
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
