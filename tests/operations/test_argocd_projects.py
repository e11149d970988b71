"""What Argo CD would apply for each environment's Application, evaluated with Argo CD's
own project checks (pkg/apis/application/v1alpha1, AppProject.IsResourcePermitted,
IsGroupKindPermitted and isDestinationMatched, read at argoproj/argo-cd v3):

- a namespaced resource is permitted when its group/kind is not in the project's
  namespaceResourceBlacklist (and is in the whitelist, when one is set) and its namespace
  matches a destination (server and namespace globs; `!` patterns deny);
- a cluster-scoped resource only when its group/kind is in clusterResourceWhitelist;
- a namespaced manifest without a namespace is applied in the Application's destination
  namespace.

How faithful: the globs are matched with fnmatch (Argo CD uses gobwas/glob, which adds
`{a,b}` alternatives that these projects do not use); destinations by cluster name,
project-scoped clusters and sync windows are left out. The namespaced/cluster-scoped split
comes from the kinds listed below, as the API server's discovery would answer.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

import pytest

from pingvas_infra import resource_types as rt
from pingvas_infra.environments import ENVIRONMENTS
from pingvas_infra.operations.argocd import SERVICE_KINDS
from pingvas_infra.plan.model import PlanResult
from tests.operations.test_component import ARGOCD, render_applications
from tests.support.plan_graph import PlanRunner

CLUSTER_SCOPED = {
    ("", "Namespace"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("", "PersistentVolume"),
    ("karpenter.sh", "NodePool"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    ("networking.k8s.io", "IngressClass"),
    ("elbv2.k8s.aws", "IngressClassParams"),
}


def _glob(pattern: str, value: str) -> bool:
    if pattern.startswith("!"):
        return not fnmatchcase(value, pattern[1:])
    return pattern == "*" or fnmatchcase(value, pattern)


def _in_list(group: str, kind: str, entries: list[dict[str, str]]) -> bool:
    return any(_glob(e["group"], group) and _glob(e["kind"], kind) for e in entries)


def group_kind_permitted(project: dict[str, Any], group: str, kind: str, namespaced: bool) -> bool:
    if namespaced:
        whitelist = project.get("namespaceResourceWhitelist")
        blacklist = project.get("namespaceResourceBlacklist") or []
        white = whitelist is None or (len(whitelist) != 0 and _in_list(group, kind, whitelist))
        return white and not (blacklist and _in_list(group, kind, blacklist))
    whitelist = project.get("clusterResourceWhitelist") or []
    blacklist = project.get("clusterResourceBlacklist") or []
    return (
        bool(whitelist)
        and _in_list(group, kind, whitelist)
        and not (blacklist and _in_list(group, kind, blacklist))
    )


def destination_permitted(project: dict[str, Any], server: str, namespace: str) -> bool:
    matched_any, no_deny = False, True
    for item in project["destinations"]:
        server_ok = _glob(item.get("server", ""), server)
        namespace_ok = _glob(item["namespace"], namespace)
        if server_ok and namespace_ok:
            matched_any = True
        elif (not server_ok and item.get("server", "").startswith("!")) or (
            not namespace_ok and item["namespace"].startswith("!")
        ):
            no_deny = False
    return matched_any and no_deny


def permitted(
    project: dict[str, Any], application: dict[str, Any], manifest: dict[str, Any]
) -> bool:
    group = manifest["apiVersion"].rpartition("/")[0]
    kind = manifest["kind"]
    namespaced = (group, kind) not in CLUSTER_SCOPED
    destination = application["spec"]["destination"]
    if not group_kind_permitted(project, group, kind, namespaced):
        return False
    if not namespaced:
        return True
    namespace = manifest["metadata"].get("namespace") or destination["namespace"]
    return destination_permitted(project, destination["server"], namespace)


@pytest.fixture(scope="module")
def argocd(run_plan: PlanRunner) -> PlanResult:
    return run_plan(ARGOCD)


def applications_with_projects(
    graph: PlanResult,
) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    projects = {
        p.inputs["metadata"]["name"]: p.inputs["spec"] for p in graph.of_type(rt.ARGOCD_APP_PROJECT)
    }
    apps = render_applications(graph.one(rt.ARGOCD_APPLICATION_SET).inputs["spec"])
    return {env: (app, projects[app["spec"]["project"]]) for env, app in apps.items()}


def manifest(api_version: str, kind: str, namespace: str | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "example"}
    if namespace is not None:
        metadata["namespace"] = namespace
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata}


@pytest.mark.parametrize(
    ("path_of", "target"),
    [("dev", "prod"), ("prod", "dev")],
    ids=["dev-names-prod", "prod-names-dev"],
)
@pytest.mark.parametrize(
    ("api_version", "kind"),
    [("apps/v1", "Deployment"), ("v1", "Secret"), ("v1", "Service"), ("batch/v1", "CronJob")],
)
def test_a_manifest_naming_the_other_environment_is_refused(
    argocd: PlanResult, path_of: str, target: str, api_version: str, kind: str
) -> None:
    app, project = applications_with_projects(argocd)[path_of]
    assert not permitted(project, app, manifest(api_version, kind, target))
    # The same manifest in its own namespace, or with none, is applied.
    assert permitted(project, app, manifest(api_version, kind, path_of))
    assert permitted(project, app, manifest(api_version, kind))


@pytest.mark.parametrize("env", [e.name for e in ENVIRONMENTS])
@pytest.mark.parametrize(
    ("api_version", "kind", "namespaced"),
    [
        ("networking.k8s.io/v1", "NetworkPolicy", True),
        ("v1", "ResourceQuota", True),
        ("v1", "LimitRange", True),
        ("rbac.authorization.k8s.io/v1", "RoleBinding", True),
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", False),
        ("v1", "Namespace", False),
        ("scheduling.k8s.io/v1", "PriorityClass", False),
        ("karpenter.sh/v1", "NodePool", False),
        ("elbv2.k8s.aws/v1beta1", "TargetGroupBinding", True),
        ("networking.k8s.io/v1", "IngressClass", False),
        ("elbv2.k8s.aws/v1beta1", "IngressClassParams", False),
    ],
)
def test_neither_application_touches_the_platforms_objects(
    argocd: PlanResult, env: str, api_version: str, kind: str, namespaced: bool
) -> None:
    app, project = applications_with_projects(argocd)[env]
    assert not permitted(project, app, manifest(api_version, kind, env if namespaced else None))


@pytest.mark.parametrize("env", [e.name for e in ENVIRONMENTS])
@pytest.mark.parametrize(
    ("api_version", "kind"),
    [
        # What the VPC CNI's node agents enforce: firewall rules for any pod they list.
        ("networking.k8s.aws/v1alpha1", "PolicyEndpoint"),
        ("networking.k8s.aws/v1alpha1", "ApplicationNetworkPolicy"),
        # A Service pointed by hand at another namespace's addresses.
        ("discovery.k8s.io/v1", "EndpointSlice"),
        ("v1", "Endpoints"),
        # Registers pods into any target group, prod's included.
        ("elbv2.k8s.aws/v1beta1", "TargetGroupBinding"),
        ("apps/v1", "DaemonSet"),
        ("rbac.authorization.k8s.io/v1", "Role"),
        ("v1", "Pod"),
        # Any kind a CRD adds later.
        ("widgets.example.com/v1", "Widget"),
    ],
)
def test_an_application_applies_the_service_kinds_only(
    argocd: PlanResult, env: str, api_version: str, kind: str
) -> None:
    app, project = applications_with_projects(argocd)[env]
    assert not permitted(project, app, manifest(api_version, kind, env))


@pytest.mark.parametrize("env", [e.name for e in ENVIRONMENTS])
def test_every_service_kind_is_applied_in_its_own_namespace(argocd: PlanResult, env: str) -> None:
    app, project = applications_with_projects(argocd)[env]
    for group, kind in SERVICE_KINDS:
        api_version = f"{group}/v1" if group else "v1"
        assert permitted(project, app, manifest(api_version, kind, env)), kind
        assert permitted(project, app, manifest(api_version, kind)), kind


def test_an_environment_deploys_its_ingress_and_admission_keeps_it_to_its_class(
    argocd: PlanResult,
) -> None:
    """Ingresses are a service kind: the environment's way in. Argo CD applies them in their
    own namespace only, and the admission policy admits one only with its own environment's
    class (tests/tenancy/test_admission_policy.py)."""
    for env in [e.name for e in ENVIRONMENTS]:
        app, project = applications_with_projects(argocd)[env]
        other = "prod" if env == "dev" else "dev"
        assert permitted(project, app, manifest("networking.k8s.io/v1", "Ingress", env))
        assert not permitted(project, app, manifest("networking.k8s.io/v1", "Ingress", other))


def test_the_evaluation_would_catch_a_shared_project() -> None:
    """A single project (both namespaces as destinations) applies dev's manifest
    in prod: the evaluation tells the two shapes apart."""
    shared = {
        "destinations": [
            {"server": "https://kubernetes.default.svc", "namespace": ns} for ns in ("dev", "prod")
        ],
        "clusterResourceWhitelist": [],
    }
    dev_app = {
        "spec": {"destination": {"server": "https://kubernetes.default.svc", "namespace": "dev"}}
    }
    assert permitted(shared, dev_app, manifest("apps/v1", "Deployment", "prod"))
