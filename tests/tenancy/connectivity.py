"""Run network-config-analyzer (nca) on NetworkPolicies and read back what it allows.

nca conflicts with the project's pins, so scripts/test.sh installs it into its own venv
(.venv-tools/nca) and it runs as a subprocess. Its `--connectivity ... -o txt_no_fw_rules`
report lists every allowed connection between endpoints, one per line:

    dev/api[Pod] => kube-system/coredns[Pod] : {protocols:TCP, UDP,dst_ports:53}
    dev/api[Pod] => 10.0.16.0-10.0.18.255 : {protocols:TCP,dst_ports:2049,5432,6379}
    10.0.0.0-10.0.2.255 => dev/web[Pod] : {protocols:TCP,dst_ports:8000}

A pair with no line has no connection at all. nca models pods and IP addresses as
disjoint endpoints; that pods on EKS hold VPC addresses is checked separately, by which
address ranges the pods may reach.
"""

from __future__ import annotations

import ipaddress
import re
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.support.tools import require_venv_tool

Address = ipaddress.IPv4Address


@dataclass(frozen=True)
class Pod:
    namespace: str
    name: str


@dataclass(frozen=True)
class AddressRange:
    first: Address
    last: Address

    def networks(self) -> list[ipaddress.IPv4Network]:
        return list(ipaddress.summarize_address_range(self.first, self.last))

    def contains(self, address: str) -> bool:
        return self.first <= Address(address) <= self.last

    def overlaps(self, cidr: str) -> bool:
        return any(n.overlaps(ipaddress.IPv4Network(cidr)) for n in self.networks())

    def within(self, cidrs: Iterable[str]) -> bool:
        """Every address of the range lies in ``cidrs`` (taken together)."""
        union = list(ipaddress.collapse_addresses(ipaddress.IPv4Network(c) for c in cidrs))
        return all(any(n.subnet_of(block) for block in union) for n in self.networks())


Endpoint = Pod | AddressRange


@dataclass(frozen=True)
class Connections:
    """What one line allows: everything, or ports by protocol (None: every port)."""

    everything: bool = False
    ports: Mapping[str, frozenset[int] | None] = field(default_factory=dict)

    def allows(self, protocol: str, port: int) -> bool:
        if self.everything:
            return True
        if protocol not in self.ports:
            return False
        allowed = self.ports[protocol]
        return allowed is None or port in allowed

    def only(self, allowed: Iterable[tuple[str, int]]) -> bool:
        """Nothing beyond the (protocol, port) pairs in ``allowed``."""
        wanted = set(allowed)
        if self.everything:
            return False
        for protocol, ports in self.ports.items():
            if ports is None or any((protocol, p) not in wanted for p in ports):
                return False
        return True

    def merge(self, other: Connections) -> Connections:
        if self.everything or other.everything:
            return Connections(everything=True)
        ports: dict[str, frozenset[int] | None] = dict(self.ports)
        for protocol, more in other.ports.items():
            have = ports.get(protocol, frozenset())
            ports[protocol] = None if have is None or more is None else have | more
        return Connections(ports=ports)

    def pairs(self) -> set[tuple[str, int]]:
        assert not self.everything and all(p is not None for p in self.ports.values())
        return {(proto, port) for proto, ports in self.ports.items() for port in ports or ()}


@dataclass(frozen=True)
class Flow:
    source: Endpoint
    destination: Endpoint
    connections: Connections


_LINE = re.compile(r"^(?P<src>\S+) => (?P<dst>\S+) : (?P<conn>.+)$")
_POD = re.compile(r"^(?P<ns>[^/]+)/(?P<name>[^\[]+)\[Pod\]$")
_GROUP = re.compile(r"\{([^}]*)\}")


def _endpoints(text: str) -> list[Endpoint]:
    pod = _POD.match(text)
    if pod:
        return [Pod(pod["ns"], pod["name"])]
    ranges: list[Endpoint] = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        ranges.append(AddressRange(Address(first), Address(last or first)))
    return ranges


def _ports(text: str) -> frozenset[int]:
    ports: set[int] = set()
    for part in text.split(","):
        low, _, high = part.partition("-")
        ports.update(range(int(low), int(high or low) + 1))
    return frozenset(ports)


def _connections(text: str) -> Connections:
    if text.strip() == "All connections":
        return Connections(everything=True)
    ports: dict[str, frozenset[int] | None] = {}
    for group in _GROUP.findall(text):
        # "protocols:TCP, UDP,dst_ports:53" -> protocols "TCP, UDP", dst_ports "53"
        fields = dict(re.findall(r"(\w+):([^:]*?)(?=,\w+:|$)", group))
        unknown = set(fields) - {"protocols", "dst_ports"}
        if unknown:
            raise ValueError(f"nca connection field(s) {sorted(unknown)} not understood: {text}")
        port_set = _ports(fields["dst_ports"]) if "dst_ports" in fields else None
        for protocol in (p.strip() for p in fields["protocols"].split(",")):
            previous = ports.get(protocol, frozenset())
            ports[protocol] = None if port_set is None or previous is None else previous | port_set
    if not ports:
        raise ValueError(f"nca connection not understood: {text}")
    return Connections(ports=ports)


def parse_report(report: str) -> list[Flow]:
    flows: list[Flow] = []
    for line in report.splitlines():
        match = _LINE.match(line.strip())
        if not match:
            continue
        connections = _connections(match["conn"])
        for source in _endpoints(match["src"]):
            for destination in _endpoints(match["dst"]):
                flows.append(Flow(source, destination, connections))
    return flows


@dataclass(frozen=True)
class Connectivity:
    flows: list[Flow]

    def between(self, source: Pod, destination: Pod) -> Connections | None:
        """Everything ``source`` may open to ``destination`` (None: nothing at all)."""
        found = [
            f.connections for f in self.flows if f.source == source and f.destination == destination
        ]
        return _merged(found)

    def egress_ranges(self, source: Pod) -> list[tuple[AddressRange, Connections]]:
        return [
            (f.destination, f.connections)
            for f in self.flows
            if f.source == source and isinstance(f.destination, AddressRange)
        ]

    def ingress_ranges(self, destination: Pod) -> list[tuple[AddressRange, Connections]]:
        return [
            (f.source, f.connections)
            for f in self.flows
            if f.destination == destination and isinstance(f.source, AddressRange)
        ]

    def to_address(self, source: Pod, address: str) -> Connections | None:
        """Everything ``source`` may open to ``address`` (None: nothing at all)."""
        return _merged([c for r, c in self.egress_ranges(source) if r.contains(address)])

    def from_address(self, address: str, destination: Pod) -> Connections | None:
        """Everything ``address`` may open to ``destination`` (None: nothing at all)."""
        return _merged([c for r, c in self.ingress_ranges(destination) if r.contains(address)])


def _merged(found: list[Connections]) -> Connections | None:
    if not found:
        return None
    merged = found[0]
    for more in found[1:]:
        merged = merged.merge(more)
    return merged


def pod(namespace: str, name: str, labels: Mapping[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": {"containers": [{"name": "main", "image": "example"}]},
    }


def namespace_list(namespaces: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Namespaces as the API server holds them: with kubernetes.io/metadata.name set."""
    items = []
    for document in namespaces:
        name = document["metadata"]["name"]
        labels = {**(document["metadata"].get("labels") or {}), "kubernetes.io/metadata.name": name}
        items.append(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}
        )
    return {"apiVersion": "v1", "kind": "NamespaceList", "items": items}


def analyse(
    policies: Sequence[Mapping[str, Any]] | Path,
    namespaces: Sequence[Mapping[str, Any]],
    pods: Sequence[Mapping[str, Any]],
    workdir: Path,
) -> Connectivity:
    """What ``policies`` allow between ``pods`` (and any address), according to nca."""
    binary = require_venv_tool("nca", "nca")
    if isinstance(policies, Path):
        policy_file = policies
    else:
        policy_file = workdir / "policies.yaml"
        policy_file.write_text(yaml.safe_dump_all(list(policies)), encoding="utf-8")
    namespace_file = workdir / "namespaces.yaml"
    namespace_file.write_text(yaml.safe_dump(namespace_list(namespaces)), encoding="utf-8")
    pod_file = workdir / "pods.yaml"
    pod_file.write_text(
        yaml.safe_dump({"apiVersion": "v1", "kind": "PodList", "items": list(pods)}),
        encoding="utf-8",
    )
    done = subprocess.run(
        [
            str(binary),
            "--connectivity",
            str(policy_file),
            "--ns_list",
            str(namespace_file),
            "--pod_list",
            str(pod_file),
            "--output_format",
            "txt_no_fw_rules",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if done.returncode != 0 or "Error" in done.stdout:
        raise AssertionError(f"nca failed ({done.returncode}): {done.stdout}\n{done.stderr}")
    flows = parse_report(done.stdout)
    if not flows:
        raise AssertionError(f"nca reported no connections at all: {done.stdout}")
    return Connectivity(flows)
