"""The NetworkPolicies that depend on stack values, as plain Kubernetes documents.

They add to the static ones in k8s_manifests/network-policies.yaml (default deny, same
namespace, DNS). Every rule names addresses by CIDR, and on EKS that needs care: the VPC
CNI gives pods addresses from the VPC's private subnets, so an ipBlock that covers those
subnets (the design guide's `10.0.0.0/16`) opens every pod of every namespace. The rules here
never cover the private subnets:

- the data subnets hold only Aurora, ElastiCache and the EFS mount targets (no node is
  ever launched there), so egress to them on the database and cache ports reaches those
  and nothing else; NFS (2049) is not among them: the EFS CSI node plugin mounts on the
  host network, and pods reach the model store only through its volumes;
- "HTTPS out" excludes the VPC and every other non-internet range (RFC 1918, shared
  address space, link-local), so it reaches AWS APIs and the internet, never a pod, a node,
  a peered network or instance metadata;
- load-balancer ingress comes from the environment's own load-balancer subnets: with IP
  targets the Application Load Balancer connects to the pod from its addresses there,
  and each environment's load balancer lives in subnets of its own (network layer), so
  dev's load balancer is no source prod's pods admit, and the reverse; no node or pod
  lives in those subnets.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pingvas_infra.labels import INGRESS_LABEL, NAMESPACE_NAME_LABEL
from pingvas_infra.ports import HTTPS_PORT
from pingvas_infra.tables import load_table

API_VERSION = "networking.k8s.io/v1"
# Application pods that serve the load balancers carry this label; nothing else is
# reachable from outside its namespace.
INGRESS_POD_LABELS = {INGRESS_LABEL: "load-balancer"}
# Istio sidecars fetch configuration and certificates from istiod on 15012 (XDS over TLS).
ISTIOD_PORT = 15012
ISTIO_NAMESPACE = "istio-system"
ANYWHERE = "0.0.0.0/0"


@dataclass(frozen=True)
class PolicyAddresses:
    """The addresses the policies name; all config values (known before anything runs)."""

    vpc_cidr: str
    data_subnet_cidrs: tuple[str, ...]
    # Environment name -> the subnets its internet load balancer lives in.
    load_balancer_subnet_cidrs: Mapping[str, tuple[str, ...]]


def _table() -> Mapping[str, Any]:
    return load_table("tenancy")


def pod_identity_agent() -> tuple[str, int]:
    agent = _table()["podIdentityAgent"]
    return str(agent["cidr"]), int(agent["port"])


def internet_exceptions(vpc_cidr: str) -> list[str]:
    """What the HTTPS rule leaves out: the VPC and every non-internet range, merged."""
    ranges = [ipaddress.IPv4Network(vpc_cidr)]
    ranges += [ipaddress.IPv4Network(cidr) for cidr in _table()["nonInternetRanges"]]
    return [str(n) for n in ipaddress.collapse_addresses(ranges)]


def _tcp(ports: Iterable[int]) -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": port} for port in ports]


def _policy(
    name: str,
    namespace: str,
    *,
    name_prefix: str = "",
    pod_selector: Mapping[str, str] | None = None,
    ingress: list[dict[str, Any]] | None = None,
    egress: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "podSelector": {"matchLabels": dict(pod_selector)} if pod_selector else {},
        "policyTypes": [],
    }
    if ingress is not None:
        spec["policyTypes"].append("Ingress")
        spec["ingress"] = ingress
    if egress is not None:
        spec["policyTypes"].append("Egress")
        spec["egress"] = egress
    return {
        "apiVersion": API_VERSION,
        "kind": "NetworkPolicy",
        "metadata": {"name": f"{name_prefix}{name}", "namespace": namespace},
        "spec": spec,
    }


def data_tier_egress(
    namespace: str,
    addresses: PolicyAddresses,
    ports: Sequence[int],
    pod_selector: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Egress to the data subnets on the data ports only."""
    return _policy(
        "allow-data-tier",
        namespace,
        pod_selector=pod_selector,
        egress=[
            {
                "to": [{"ipBlock": {"cidr": cidr}} for cidr in addresses.data_subnet_cidrs],
                "ports": _tcp(ports),
            }
        ],
    )


def https_egress(
    namespace: str,
    addresses: PolicyAddresses,
    pod_selector: Mapping[str, str] | None = None,
    name_prefix: str = "",
) -> dict[str, Any]:
    """HTTPS to the internet (AWS APIs, S3, model hubs) and nowhere inside."""
    return _policy(
        "allow-https-internet",
        namespace,
        name_prefix=name_prefix,
        pod_selector=pod_selector,
        egress=[
            {
                "to": [
                    {
                        "ipBlock": {
                            "cidr": ANYWHERE,
                            "except": internet_exceptions(addresses.vpc_cidr),
                        }
                    }
                ],
                "ports": _tcp([HTTPS_PORT]),
            }
        ],
    )


def pod_identity_egress(
    namespace: str, pod_selector: Mapping[str, str] | None = None, name_prefix: str = ""
) -> dict[str, Any]:
    """The EKS Pod Identity Agent on the node: where AWS SDKs get the pod's role
    credentials. Only its /32 and port: instance metadata (169.254.169.254, the node's
    own role) stays unreachable."""
    cidr, port = pod_identity_agent()
    return _policy(
        "allow-pod-identity-agent",
        namespace,
        name_prefix=name_prefix,
        pod_selector=pod_selector,
        egress=[{"to": [{"ipBlock": {"cidr": cidr}}], "ports": _tcp([port])}],
    )


def load_balancer_ingress(
    namespace: str, load_balancer_cidrs: Sequence[str], ports: Sequence[int]
) -> dict[str, Any]:
    """The load-balancer path: from the environment's own load-balancer subnets, on the
    application ports, to the pods labelled for it."""
    return _policy(
        "allow-load-balancer",
        namespace,
        pod_selector=INGRESS_POD_LABELS,
        ingress=[
            {
                "from": [{"ipBlock": {"cidr": cidr}} for cidr in load_balancer_cidrs],
                "ports": _tcp(ports),
            }
        ],
    )


def istiod_egress(namespace: str) -> dict[str, Any]:
    return _policy(
        "allow-istiod",
        namespace,
        egress=[
            {
                "to": [
                    {
                        "namespaceSelector": {
                            "matchLabels": {NAMESPACE_NAME_LABEL: ISTIO_NAMESPACE}
                        },
                        "podSelector": {"matchLabels": {"app": "istiod"}},
                    }
                ],
                "ports": _tcp([ISTIOD_PORT]),
            }
        ],
    )


def environment_policies(
    environment: str,
    namespace: str,
    addresses: PolicyAddresses,
    *,
    data_ports: Sequence[int],
    load_balancer_ports: Sequence[int],
    service_mesh: str | None,
) -> list[dict[str, Any]]:
    """What an environment namespace (dev, prod) allows beyond the static policies."""
    policies = [
        data_tier_egress(namespace, addresses, data_ports),
        https_egress(namespace, addresses),
        pod_identity_egress(namespace),
    ]
    if load_balancer_ports:
        policies.append(
            load_balancer_ingress(
                namespace, addresses.load_balancer_subnet_cidrs[environment], load_balancer_ports
            )
        )
    if service_mesh == "istio":
        policies.append(istiod_egress(namespace))
    return policies


def platform_policies(
    namespace: str,
    addresses: PolicyAddresses,
    *,
    database_port: int,
    pod_selector: Mapping[str, str],
) -> list[dict[str, Any]]:
    """The schema-bootstrap pods: PostgreSQL in the data subnets, HTTPS to Secrets
    Manager, their credentials from the Pod Identity Agent. No ingress at all."""
    return [
        data_tier_egress(namespace, addresses, [database_port], pod_selector),
        https_egress(namespace, addresses, pod_selector),
        pod_identity_egress(namespace, pod_selector),
    ]


def model_sync_policies(
    namespace: str, addresses: PolicyAddresses, *, pod_selector: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The model-sync pods: HTTPS out (S3, reached through the gateway endpoint at S3's
    public addresses; a NetworkPolicy cannot name an AWS prefix list) and their role's
    credentials from the Pod Identity Agent. No data tier, no NFS (the model store is their
    volume, mounted by the node), no ingress."""
    prefix = "model-sync-"
    return [
        https_egress(namespace, addresses, pod_selector, name_prefix=prefix),
        pod_identity_egress(namespace, pod_selector, name_prefix=prefix),
    ]
