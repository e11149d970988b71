"""The NetworkPolicies isolate dev from prod, proven by a connectivity analyser.

network-config-analyzer computes every connection the stack's rendered policies (every
layer's, from the default graph) allow between
sample pods (two per environment, the schema-bootstrap pod, CoreDNS and another
kube-system pod) and any IP address. The design guide's own policies go through the same
analysis and come out open, so the analysis can tell the difference.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import pytest

from pingvas_infra.config import StackConfig
from pingvas_infra.ingress.config import controller_pin
from pingvas_infra.plan.kubernetes import kubernetes_objects
from pingvas_infra.plan.model import PlanResult
from pingvas_infra.plan.stackfile import StackFile
from pingvas_infra.tables import load_table
from pingvas_infra.tenancy import bootstrap
from pingvas_infra.tenancy.component import MODEL_SYNC_POD_LABELS
from pingvas_infra.tenancy.network_policies import INGRESS_POD_LABELS, load_balancer_ingress
from tests.support.config_cases import config_with
from tests.support.plan_graph import PlanRunner
from tests.tenancy.connectivity import Connectivity, Pod, analyse, pod

FIXTURES = Path(__file__).parent / "fixtures"

ENVS = ("dev", "prod")
PLATFORM = "pingvas-system"
COREDNS = Pod("kube-system", "coredns")
METRICS = Pod("kube-system", "metrics-server")
# Platform pods in namespaces that have no NetworkPolicies of their own: only the
# environments' egress rules keep dev away from them.
ALERTMANAGER = Pod("monitoring", "alertmanager")
GRAFANA = Pod("monitoring", "grafana")
ARGOCD_REPO_SERVER = Pod("argocd", "argocd-repo-server")
# The AWS Load Balancer Controller: its webhook serves the API server on TCP 9443.
LOAD_BALANCER_CONTROLLER = Pod("kube-system", "aws-load-balancer-controller")
PLATFORM_PODS = (
    COREDNS,
    METRICS,
    ALERTMANAGER,
    GRAFANA,
    ARGOCD_REPO_SERVER,
    LOAD_BALANCER_CONTROLLER,
)
# An address of an AWS API endpoint on the internet, and one of a random host.
INTERNET_ADDRESSES = ("52.94.0.10", "203.0.113.20")
TABLE = load_table("tenancy")
AGENT = str(ipaddress.IPv4Network(TABLE["podIdentityAgent"]["cidr"]).network_address)
AGENT_PORT = int(TABLE["podIdentityAgent"]["port"])
IMDS = str(ipaddress.IPv4Network(TABLE["instanceMetadata"]).network_address)
DNS = {("UDP", 53), ("TCP", 53)}


def api(env: str) -> Pod:
    return Pod(env, "api")


def web(env: str) -> Pod:
    return Pod(env, "web")


BOOTSTRAP = Pod(PLATFORM, "schema-bootstrap")
MODEL_SYNC = Pod(PLATFORM, "model-sync")
SAMPLE_PODS = (
    [pod(env, "api", {"app": "api"}) for env in ENVS]
    + [pod(env, "web", {"app": "web", **INGRESS_POD_LABELS}) for env in ENVS]
    + [
        pod(PLATFORM, "schema-bootstrap", bootstrap.POD_LABELS),
        pod(PLATFORM, "model-sync", MODEL_SYNC_POD_LABELS),
        pod("kube-system", "coredns", {"k8s-app": "kube-dns"}),
        pod("kube-system", "metrics-server", {"k8s-app": "metrics-server"}),
        pod("monitoring", "alertmanager", {"app.kubernetes.io/name": "alertmanager"}),
        pod("monitoring", "grafana", {"app.kubernetes.io/name": "grafana"}),
        pod("argocd", "argocd-repo-server", {"app.kubernetes.io/name": "argocd-repo-server"}),
        pod(
            "kube-system",
            "aws-load-balancer-controller",
            {"app.kubernetes.io/name": "aws-load-balancer-controller"},
        ),
    ]
)
KUBE_SYSTEM = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system"}}
PLATFORM_NAMESPACES = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    for name in ("monitoring", "argocd")
]


def documents(graph: PlanResult, kind: str) -> list[dict[str, Any]]:
    return [o.document for o in kubernetes_objects(graph) if o.document["kind"] == kind]


def analyse_graph(graph: PlanResult, workdir: Path) -> Connectivity:
    return analyse(
        documents(graph, "NetworkPolicy"),
        [*_unique_namespaces(graph), KUBE_SYSTEM],
        SAMPLE_PODS,
        workdir,
    )


def _unique_namespaces(graph: PlanResult) -> list[dict[str, Any]]:
    """The graph's namespaces plus the platform ones the sample pods live in."""
    found = {d["metadata"]["name"]: d for d in documents(graph, "Namespace")}
    for namespace in PLATFORM_NAMESPACES:
        found.setdefault(namespace["metadata"]["name"], namespace)
    return list(found.values())


@pytest.fixture(scope="module")
def config(stack_file: StackFile) -> StackConfig:
    return config_with(stack_file, {})


@pytest.fixture(scope="module")
def connectivity(graph: PlanResult, tmp_path_factory: pytest.TempPathFactory) -> Connectivity:
    return analyse_graph(graph, tmp_path_factory.mktemp("nca"))


def env_pods(env: str) -> list[Pod]:
    return [api(env), web(env)]


def test_no_connection_of_any_kind_between_dev_and_prod(connectivity: Connectivity) -> None:
    for source_env, target_env in (("dev", "prod"), ("prod", "dev")):
        for source in env_pods(source_env):
            for target in env_pods(target_env):
                assert connectivity.between(source, target) is None, f"{source} -> {target}"


def test_environments_and_the_platform_namespace_do_not_talk(connectivity: Connectivity) -> None:
    for env in ENVS:
        for workload in env_pods(env):
            for platform in (BOOTSTRAP, MODEL_SYNC):
                assert connectivity.between(workload, platform) is None
                assert connectivity.between(platform, workload) is None


def test_pods_reach_their_own_namespace(connectivity: Connectivity) -> None:
    for env in ENVS:
        connections = connectivity.between(api(env), web(env))
        assert connections is not None
        assert connections.everything


def test_dns_goes_to_coredns_only_on_port_53(connectivity: Connectivity) -> None:
    for source in [*env_pods("dev"), *env_pods("prod"), BOOTSTRAP]:
        dns = connectivity.between(source, COREDNS)
        assert dns is not None
        assert dns.pairs() == DNS
        assert connectivity.between(source, METRICS) is None


def test_egress_into_the_vpc_is_the_data_tier_on_its_ports_only(
    connectivity: Connectivity, config: StackConfig
) -> None:
    network = config.network
    data_ports = {("TCP", 5432), ("TCP", 6379)}
    for env in ENVS:
        for source in env_pods(env):
            inside = [
                (r, c)
                for r, c in connectivity.egress_ranges(source)
                if r.overlaps(network.vpc_cidr)
            ]
            assert inside, f"{source} reaches nothing in the VPC"
            for address_range, connections in inside:
                assert address_range.within(network.data_subnet_cidrs), address_range
                assert connections.pairs() == data_ports
            for cidr in network.data_subnet_cidrs:
                address = str(ipaddress.IPv4Network(cidr).network_address + 10)
                connections = connectivity.to_address(source, address)
                assert connections is not None
                assert connections.pairs() == data_ports
    # The bootstrap pod gets PostgreSQL only.
    for address_range, connections in connectivity.egress_ranges(BOOTSTRAP):
        if address_range.overlaps(network.vpc_cidr):
            assert address_range.within(network.data_subnet_cidrs)
            assert connections.pairs() == {("TCP", 5432)}


def test_no_environment_pod_speaks_nfs_to_the_model_store(
    connectivity: Connectivity, config: StackConfig
) -> None:
    """The EFS CSI node plugin mounts on the host network; a pod that reached 2049 itself
    could run its own NFS client and skip the volumes' access points and read-only flag."""
    for env in ENVS:
        for source in env_pods(env):
            for cidr in config.network.data_subnet_cidrs:
                for offset in (4, 10, 200):
                    address = str(ipaddress.IPv4Network(cidr).network_address + offset)
                    connections = connectivity.to_address(source, address)
                    assert connections is not None
                    assert not connections.allows("TCP", 2049), (source, address)
    for address_range, connections in connectivity.egress_ranges(BOOTSTRAP):
        assert not connections.allows("TCP", 2049), address_range


def test_environments_reach_no_platform_pod_but_dns(connectivity: Connectivity) -> None:
    """Alertmanager takes silences and alerts from anyone who reaches it, Argo CD's repo
    server renders any repository it is asked to: those namespaces have no ingress policy,
    so the environments' own egress is what keeps dev away from them."""
    for env in ENVS:
        for source in env_pods(env):
            for target in PLATFORM_PODS:
                connections = connectivity.between(source, target)
                if target == COREDNS:
                    assert connections is not None
                    assert connections.pairs() == DNS
                else:
                    assert connections is None, (source, target)


def test_no_pod_address_is_reachable(connectivity: Connectivity, config: StackConfig) -> None:
    """Pods and nodes live in the private subnets (VPC CNI addresses): no rule may reach
    them by address, in either direction."""
    private = config.network.private_subnet_cidrs
    for source in [*env_pods("dev"), *env_pods("prod"), BOOTSTRAP, MODEL_SYNC]:
        for address_range, _ in connectivity.egress_ranges(source):
            assert not any(address_range.overlaps(cidr) for cidr in private), address_range
        for address_range, _ in connectivity.ingress_ranges(source):
            assert not any(address_range.overlaps(cidr) for cidr in private), address_range


def test_https_reaches_the_internet_and_nothing_else_does(connectivity: Connectivity) -> None:
    for source in [*env_pods("dev"), *env_pods("prod"), BOOTSTRAP]:
        for address in INTERNET_ADDRESSES:
            connections = connectivity.to_address(source, address)
            assert connections is not None
            assert connections.pairs() == {("TCP", 443)}


def test_pod_identity_agent_yes_instance_metadata_no(connectivity: Connectivity) -> None:
    for source in [*env_pods("dev"), *env_pods("prod"), BOOTSTRAP]:
        agent = connectivity.to_address(source, AGENT)
        assert agent is not None
        assert agent.pairs() == {("TCP", AGENT_PORT)}
        assert connectivity.to_address(source, IMDS) is None


def other(env: str) -> str:
    return "prod" if env == "dev" else "dev"


def subnet_addresses(cidrs: tuple[str, ...]) -> list[str]:
    """An address near each end of every subnet (where a load balancer node may sit)."""
    found = []
    for cidr in cidrs:
        network = ipaddress.IPv4Network(cidr)
        found += [str(network.network_address + 4), str(network.broadcast_address - 1)]
    return found


def test_only_labelled_pods_take_load_balancer_traffic_on_app_ports(
    connectivity: Connectivity, config: StackConfig
) -> None:
    """From outside the namespace, an environment admits its own load-balancer subnets
    only, on the configured ports only, and only to the pods labelled for it."""
    subnets = config.network.load_balancer_subnets
    app_ports = {("TCP", port) for port in config.tenancy.load_balancer_ports}
    for env in ENVS:
        sources = connectivity.ingress_ranges(web(env))
        assert sources
        for address_range, connections in sources:
            assert address_range.within(subnets[env]), address_range
            assert connections.pairs() == app_ports
        assert connectivity.ingress_ranges(api(env)) == []
    assert connectivity.ingress_ranges(BOOTSTRAP) == []


def test_each_entry_reaches_its_own_environment_only(
    connectivity: Connectivity, config: StackConfig
) -> None:
    """Dev's load balancer (any address of dev's load-balancer subnets) reaches dev's
    labelled pods on the application ports and no prod pod at all; prod's the reverse."""
    subnets = config.network.load_balancer_subnets
    app_ports = {("TCP", port) for port in config.tenancy.load_balancer_ports}
    for env in ENVS:
        for address in subnet_addresses(subnets[env]):
            own = connectivity.from_address(address, web(env))
            assert own is not None, (address, env)
            assert own.pairs() == app_ports
            assert connectivity.from_address(address, api(env)) is None
            for target in [*env_pods(other(env)), BOOTSTRAP]:
                assert connectivity.from_address(address, target) is None, (address, target)


def test_the_analysis_would_catch_one_entry_for_both_environments(
    graph: PlanResult, config: StackConfig, tmp_path: Path
) -> None:
    """With a looser rule (both environments admit every public load-balancer subnet),
    dev's load balancer reaches prod's labelled pods: the test above tells the shapes
    apart."""
    subnets = config.network.load_balancer_subnets
    both = tuple(cidr for env in ENVS for cidr in subnets[env])
    shared = [
        load_balancer_ingress(env, both, config.tenancy.load_balancer_ports)
        if d["metadata"]["name"] == "allow-load-balancer" and d["metadata"]["namespace"] == env
        else d
        for d in documents(graph, "NetworkPolicy")
        for env in [d["metadata"]["namespace"]]
    ]
    connectivity = analyse(shared, [*_unique_namespaces(graph), KUBE_SYSTEM], SAMPLE_PODS, tmp_path)
    dev_entry = subnet_addresses(subnets["dev"])[0]
    assert connectivity.from_address(dev_entry, web("prod")) is not None


def test_nothing_outside_the_entries_reaches_an_environment_pod(
    connectivity: Connectivity, config: StackConfig
) -> None:
    """The internet, the NAT's public subnets, the data tier and the nodes' own subnets
    are no source any dev or prod pod admits."""
    network = config.network
    elsewhere = [
        *INTERNET_ADDRESSES,
        *subnet_addresses(network.public_subnet_cidrs),
        *subnet_addresses(network.data_subnet_cidrs),
        *subnet_addresses(network.private_subnet_cidrs),
    ]
    for env in ENVS:
        for target in env_pods(env):
            for address in elsewhere:
                assert connectivity.from_address(address, target) is None, (address, target)


def test_the_api_server_reaches_the_load_balancer_controllers_webhook(
    connectivity: Connectivity, config: StackConfig
) -> None:
    """The EKS control plane calls the webhook from its network interfaces in the
    cluster's (private) subnets, on the pod's port 9443: kube-system has no NetworkPolicy
    in the way. No dev or prod pod reaches the controller (their egress stays home)."""
    webhook_port = controller_pin().webhook_port
    for address in subnet_addresses(config.network.private_subnet_cidrs):
        reached = connectivity.from_address(address, LOAD_BALANCER_CONTROLLER)
        assert reached is not None
        assert reached.allows("TCP", webhook_port)
    for env in ENVS:
        for source in env_pods(env):
            assert connectivity.between(source, LOAD_BALANCER_CONTROLLER) is None


def test_the_mesh_opens_istiod_and_nothing_between_environments(
    run_plan: PlanRunner, tmp_path: Path
) -> None:
    graph = run_plan({"pingvas-infra:tenancy": {"serviceMesh": "istio"}})
    istio = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "istio-system"}}
    istiod = Pod("istio-system", "istiod")
    connectivity = analyse(
        documents(graph, "NetworkPolicy"),
        [*_unique_namespaces(graph), KUBE_SYSTEM, istio],
        [*SAMPLE_PODS, pod("istio-system", "istiod", {"app": "istiod"})],
        tmp_path,
    )
    for env in ENVS:
        xds = connectivity.between(api(env), istiod)
        assert xds is not None
        assert xds.pairs() == {("TCP", 15012)}
        for target in env_pods("prod" if env == "dev" else "dev"):
            assert connectivity.between(api(env), target) is None
    assert connectivity.between(BOOTSTRAP, istiod) is None


def test_the_guides_policies_leave_dev_to_prod_open(tmp_path: Path) -> None:
    """The same analysis on the design guide's YAML: dev reaches prod pods on TCP 443 and UDP 53,
    and every address of 10.0.0.0/16 (every pod's, with the VPC CNI) on every port."""
    import yaml  # noqa: PLC0415

    namespaces = list(yaml.safe_load_all((FIXTURES / "guide-namespaces.yaml").read_text()))
    connectivity = analyse(
        FIXTURES / "guide-network-policies.yaml",
        [*namespaces, KUBE_SYSTEM, *PLATFORM_NAMESPACES],
        [p for p in SAMPLE_PODS if p["metadata"]["namespace"] != PLATFORM],
        tmp_path,
    )
    dev_to_prod = connectivity.between(api("dev"), api("prod"))
    assert dev_to_prod is not None
    assert dev_to_prod.allows("TCP", 443)
    assert dev_to_prod.allows("UDP", 53)
    prod_to_dev = connectivity.between(api("prod"), api("dev"))
    assert prod_to_dev is not None
    assert prod_to_dev.allows("TCP", 443)
    whole_vpc = connectivity.to_address(api("dev"), "10.0.64.10")
    assert whole_vpc is not None
    assert whole_vpc.everything


def test_the_model_sync_reaches_s3_and_its_credentials_and_nothing_else(
    connectivity: Connectivity, config: StackConfig
) -> None:
    """The model store's only writer: DNS to CoreDNS, HTTPS out (S3 through the gateway
    endpoint answers at S3's public addresses), its role's credentials from the Pod
    Identity Agent. Nothing in the VPC (no data tier, no NFS: the store is its volume), no
    pod, no instance metadata, and nothing reaches it."""
    assert connectivity.between(MODEL_SYNC, COREDNS).pairs() == DNS  # type: ignore[union-attr]
    for address in INTERNET_ADDRESSES:
        out = connectivity.to_address(MODEL_SYNC, address)
        assert out is not None
        assert out.pairs() == {("TCP", 443)}
    agent = connectivity.to_address(MODEL_SYNC, AGENT)
    assert agent is not None
    assert agent.pairs() == {("TCP", AGENT_PORT)}
    assert connectivity.to_address(MODEL_SYNC, IMDS) is None
    for address_range, _ in connectivity.egress_ranges(MODEL_SYNC):
        assert not address_range.overlaps(config.network.vpc_cidr), address_range
    for cidr in config.network.data_subnet_cidrs:
        address = str(ipaddress.IPv4Network(cidr).network_address + 10)
        assert connectivity.to_address(MODEL_SYNC, address) is None
    for target in [*env_pods("dev"), *env_pods("prod"), BOOTSTRAP, *PLATFORM_PODS[1:]]:
        assert connectivity.between(MODEL_SYNC, target) is None, target
    assert connectivity.ingress_ranges(MODEL_SYNC) == []
    # The bootstrap pod gains nothing from the model sync's rules.
    assert connectivity.between(BOOTSTRAP, MODEL_SYNC) is None
