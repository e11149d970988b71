"""What one environment can take of the shared nodes, disks and object store, proven by
admitting pods, claims and objects one after another through Kubernetes' LimitRanger and
ResourceQuota logic (tests/tenancy/quota.py) over k8s_manifests/, until the namespace
refuses.
"""

from __future__ import annotations

from typing import Any

import pytest

from pingvas_infra import resource_types as rt
from pingvas_infra.cluster.people import Access, people_group
from pingvas_infra.config import pod_disk_maximums
from pingvas_infra.configbase import ConfigError
from pingvas_infra.manifests import load_documents
from pingvas_infra.node_disk import pod_disk_budget_gib
from pingvas_infra.operations import argocd, backup
from pingvas_infra.plan.model import PlanResult
from pingvas_infra.plan.stackfile import StackFile
from pingvas_infra.storage.block_storage import BLOCK_STORAGE_CLASS
from pingvas_infra.storage.models_store import NOMINAL_CAPACITY
from pingvas_infra.storage.models_store import STORAGE_CLASS as MODELS_STORAGE_CLASS
from tests.support.admission import Request, container, refused_whatever_the_object
from tests.support.api_resources import qualified, resource_of, served_resources
from tests.support.config_cases import config_with, leaf_settings
from tests.support.plan_graph import PlanRunner
from tests.support.rbac import Association, ResourceRequest, access_policy_rules
from tests.tenancy.quota import Namespace, Refused, hard_limits, limit_range_items, quantity

ENVS = ("dev", "prod")


def quota(namespace: str) -> dict[str, str]:
    (hard,) = hard_limits(namespace)
    return dict(hard)


def fill(admit: Any, *, at_most: int = 5000) -> tuple[int, str]:
    """Call ``admit`` until the namespace refuses: how many were admitted, and why not."""
    for admitted in range(at_most):
        try:
            admit()
        except Refused as refused:
            return admitted, str(refused)
    raise AssertionError(f"still admitting after {at_most}")


def resources(**kinds: dict[str, str]) -> dict[str, Any]:
    return {"resources": kinds}


# --- compute on the shared nodes -------------------------------------------------------------


@pytest.mark.parametrize("namespace", ENVS)
def test_a_container_naming_nothing_gets_requests_and_a_memory_and_disk_limit(
    namespace: str,
) -> None:
    (admitted,) = Namespace(namespace).pod({"containers": [container()]})["containers"]
    assert set(admitted["resources"]["requests"]) == {"cpu", "memory", "ephemeral-storage"}
    # Memory and disk: the resources a pod cannot be throttled on. No CPU limit.
    assert set(admitted["resources"]["limits"]) == {"memory", "ephemeral-storage"}


def test_dev_holds_no_more_memory_than_its_limits_quota() -> None:
    """Requests are capped at 50Gi, but a pod asking 1Gi may burst to its 8Gi limit: the
    sum of limits, what dev can actually take from a node, is capped too."""
    dev = Namespace("dev")
    burst = {
        "containers": [container(**resources(requests={"memory": "1Gi"}, limits={"memory": "8Gi"}))]
    }
    admitted, why = fill(lambda: dev.pod(burst))
    assert admitted == 12
    assert "limits.memory" in why


@pytest.mark.parametrize(
    ("namespace", "limits", "allowed"),
    [
        ("dev", {"memory": "32Gi"}, True),
        ("dev", {"memory": "64Gi"}, False),
        ("dev", {"ephemeral-storage": "40Gi"}, False),
        ("prod", {"memory": "64Gi"}, True),
        ("prod", {"memory": "200Gi"}, False),
    ],
)
def test_one_container_takes_at_most_the_namespaces_maximum(
    namespace: str, limits: dict[str, str], allowed: bool
) -> None:
    """In dev this also bounds the instance one pod makes Karpenter launch."""
    spec = {"containers": [container(**resources(limits=limits))]}
    try:
        Namespace(namespace).pod(spec)
    except Refused as refused:
        assert not allowed, refused
    else:
        assert allowed


@pytest.mark.parametrize("namespace", ENVS)
def test_a_gpu_worker_sets_its_memory_limit_and_is_admitted(namespace: str) -> None:
    worker = container(
        **resources(
            requests={"cpu": "3", "memory": "14Gi", "nvidia.com/gpu": "1"},
            limits={"memory": "14Gi", "nvidia.com/gpu": "1"},
        )
    )
    (admitted,) = Namespace(namespace).pod({"containers": [worker]})["containers"]
    assert admitted["resources"]["limits"]["memory"] == "14Gi"


def test_a_request_above_the_default_limit_needs_a_limit_of_its_own() -> None:
    """The default limit applies only to a container that sets none: 14Gi requested under
    a defaulted 512Mi limit is invalid, and the message says so."""
    worker = container(**resources(requests={"memory": "14Gi"}))
    with pytest.raises(Refused, match="must be less than or equal to its limit 512Mi"):
        Namespace("dev").pod({"containers": [worker]})


def test_dev_disk_on_the_nodes_is_capped() -> None:
    dev = Namespace("dev")
    scratch = {
        "containers": [
            container(
                **resources(
                    requests={"ephemeral-storage": "1Gi"}, limits={"ephemeral-storage": "10Gi"}
                )
            )
        ]
    }
    admitted, why = fill(lambda: dev.pod(scratch))
    assert admitted == 10
    assert "limits.ephemeral-storage" in why


# --- storage ------------------------------------------------------------------------------


def test_the_quotas_name_the_stacks_own_storage_classes() -> None:
    for namespace in ENVS:
        hard = quota(namespace)
        assert f"{BLOCK_STORAGE_CLASS}.storageclass.storage.k8s.io/requests.storage" in hard
        assert f"{MODELS_STORAGE_CLASS}.storageclass.storage.k8s.io/persistentvolumeclaims" in hard


@pytest.mark.parametrize("namespace", ENVS)
def test_the_platforms_model_claim_fits_and_no_second_one(namespace: str) -> None:
    space = Namespace(namespace)
    space.claim(NOMINAL_CAPACITY, MODELS_STORAGE_CLASS)
    with pytest.raises(Refused, match="persistentvolumeclaims"):
        space.claim("1Gi", MODELS_STORAGE_CLASS)


def test_dev_block_storage_is_capped_per_claim_per_class_and_in_total() -> None:
    dev = Namespace("dev")
    dev.claim(NOMINAL_CAPACITY, MODELS_STORAGE_CLASS)
    with pytest.raises(Refused, match="maximum storage per claim"):
        dev.claim("150Gi", BLOCK_STORAGE_CLASS)
    dev.claim("60Gi", BLOCK_STORAGE_CLASS)
    with pytest.raises(Refused, match=f"{BLOCK_STORAGE_CLASS}.storageclass"):
        dev.claim("60Gi", BLOCK_STORAGE_CLASS)
    # Any other class (one added later) still counts against the total.
    dev.claim("40Gi", "another-class")
    with pytest.raises(Refused, match=r"requests\.storage"):
        dev.claim("10Gi", "another-class")


# --- objects in the control plane's store ----------------------------------------------------


def _counted(namespace: str) -> list[str]:
    return sorted(k.removeprefix("count/") for k in quota(namespace) if k.startswith("count/"))


@pytest.mark.parametrize("resource", _counted("dev"))
def test_dev_cannot_fill_the_object_store(resource: str) -> None:
    """One etcd holds both environments' objects."""
    dev = Namespace("dev")
    admitted, why = fill(lambda: dev.create(resource))
    assert admitted == int(quota("dev")[f"count/{resource}"])
    assert f"count/{resource}" in why


# Kubernetes' legacy quota names that count every stored object of their kind; `pods` is
# not one of them: it counts only pods not yet finished, so finished pods pile up under it
# (https://kubernetes.io/docs/concepts/policy/resource-quotas/, object count quota).
LEGACY_OBJECT_COUNTS = {
    "configmaps",
    "persistentvolumeclaims",
    "replicationcontrollers",
    "secrets",
    "services",
}
ARGOCD_CONTROLLER = "system:serviceaccount:argocd:argocd-application-controller"


@pytest.fixture(scope="module")
def kubernetes_version(stack_file: StackFile) -> str:
    return config_with(stack_file, {}).cluster.kubernetes_version


def _counted_objects(namespace: str) -> set[str]:
    """The resources every stored object of which the namespace's quotas count."""
    keys = set(quota(namespace))
    return {k.removeprefix("count/") for k in keys if k.startswith("count/")} | (
        keys & LEGACY_OBJECT_COUNTS
    )


def _creatable(
    namespace: str, resources: set[tuple[str, str]], username: str, groups: tuple[str, ...]
) -> set[str]:
    """Of ``resources`` (group, resource), the ones this identity can create objects of:
    served by the cluster's version and not refused by admission whatever they say."""
    return {
        qualified(group, resource)
        for group, resource in resources
        if not refused_whatever_the_object(
            Request(
                operation="CREATE",
                resource=resource,
                group=group,
                namespace=namespace,
                object={"metadata": {"name": "x", "namespace": namespace}},
                username=username,
                groups=groups,
            )
        )
    }


def _person_creatable(namespace: str, kubernetes_version: str) -> set[str]:
    """What the environment's people (the edit access policy, in their namespace) create.
    Subresources are left out: none stores an object of its own (scale, rollback,
    eviction, token)."""
    person = Association(Access.ENVIRONMENT.value[1], [namespace])
    granted = {
        (group, resource)
        for rule in access_policy_rules(person.policy)
        for group in rule.get("apiGroups", [""])
        for resource in rule.get("resources", [])
        if "/" not in resource
        and qualified(group, resource) in served_resources(kubernetes_version)
        and person.allows(ResourceRequest("create", resource, namespace, group=group))
    }
    return _creatable(
        namespace,
        granted,
        "arn:aws:sts::123456789012:assumed-role/engineer/alice",
        (people_group(namespace), "system:authenticated"),
    )


def _argocd_deployable(namespace: str) -> set[str]:
    """What an environment's Argo CD project lets its Application apply there."""
    return _creatable(
        namespace,
        {(group, resource_of(kind)) for group, kind in argocd.SERVICE_KINDS},
        ARGOCD_CONTROLLER,
        ("system:serviceaccounts", "system:serviceaccounts:argocd", "system:authenticated"),
    )


@pytest.mark.parametrize("namespace", ENVS)
def test_every_kind_an_environments_people_create_is_counted(
    namespace: str, kubernetes_version: str
) -> None:
    """Each object lives in the one etcd, and kube-state-metrics, Prometheus and the load
    balancer controller hold the ones they watch in memory: an uncounted kind grows
    them all without bound."""
    creatable = _person_creatable(namespace, kubernetes_version)
    # The derivation itself: the edit policy's workload kinds are there, what admission
    # refuses and what the version no longer serves are not.
    assert {"deployments.apps", "ingresses.networking.k8s.io", "events"} <= creatable
    assert "networkpolicies.networking.k8s.io" not in creatable
    assert "ingresses.extensions" not in creatable
    uncounted = sorted(creatable - _counted_objects(namespace))
    assert uncounted == [], f"{namespace}'s people create these without limit: {uncounted}"


@pytest.mark.parametrize("namespace", ENVS)
def test_every_kind_an_environments_argo_cd_project_deploys_is_counted(namespace: str) -> None:
    deployable = _argocd_deployable(namespace)
    assert len(deployable) == len(argocd.SERVICE_KINDS)
    uncounted = sorted(deployable - _counted_objects(namespace))
    assert uncounted == [], f"{namespace}'s Argo CD project deploys without limit: {uncounted}"


def test_admission_refuses_the_platforms_objects_to_people_whatever_they_say() -> None:
    """The one subtraction the derivation makes from the people's rights."""
    platforms = [
        ("networking.k8s.io", "networkpolicies"),
        ("", "resourcequotas"),
        ("", "limitranges"),
    ]
    for group, resource in platforms:
        request = Request(
            operation="CREATE",
            resource=resource,
            group=group,
            namespace="dev",
            object={},
            groups=(people_group("dev"), "system:authenticated"),
        )
        assert refused_whatever_the_object(request), resource
    # An Ingress is checked on what it says (its class), so it is not refused outright.
    ingress = Request(
        operation="CREATE",
        resource="ingresses",
        group="networking.k8s.io",
        namespace="dev",
        object={},
        groups=(people_group("dev"), "system:authenticated"),
    )
    assert not refused_whatever_the_object(ingress)


def test_prod_gets_at_least_what_dev_gets() -> None:
    """The same keys in both, prod's figures never below dev's."""
    dev, prod = quota("dev"), quota("prod")
    assert set(dev) == set(prod)
    for key, figure in dev.items():
        assert quantity(prod[key]) >= quantity(figure), key


# --- the stack's own pods ---------------------------------------------------------------------


@pytest.mark.parametrize("namespace", ENVS)
def test_no_environment_container_writes_more_than_a_system_node_leaves(
    namespace: str, stack_file: StackFile
) -> None:
    """The scheduler places by request (256Mi by default), never by limit: a container
    lands on a shared system node and writes up to its limit there. Past the budget the
    kubelet deletes prod's cached images and then taints the node DiskPressure."""
    disk = config_with(stack_file, {}).cluster.system_nodes.disk_size_gib
    budget = pod_disk_budget_gib(disk)
    assert 0 < budget < disk
    scratch = {
        "containers": [
            container(
                **resources(
                    requests={"ephemeral-storage": "256Mi"},
                    limits={"ephemeral-storage": f"{budget + 1}Gi"},
                )
            )
        ]
    }
    with pytest.raises(Refused, match="maximum ephemeral-storage"):
        Namespace(namespace).pod(scratch)


def _disk(limit: str, name: str = "app", **more: Any) -> dict[str, Any]:
    return container(
        name=name,
        **resources(requests={"ephemeral-storage": "256Mi"}, limits={"ephemeral-storage": limit}),
        **more,
    )


@pytest.mark.parametrize("namespace", ENVS)
def test_no_environment_pod_writes_more_than_a_system_node_leaves_however_it_is_split(
    namespace: str, stack_file: StackFile
) -> None:
    """The kubelet evicts a pod only when its whole disk use, emptyDir included, passes
    the sum of its containers' limits: splitting the disk over containers (or sidecars)
    must not get a pod past what a system node leaves one pod."""
    budget = pod_disk_budget_gib(config_with(stack_file, {}).cluster.system_nodes.disk_size_gib)
    _, maximum = pod_disk_maximums()[namespace]
    assert maximum <= budget
    half = f"{maximum // 2 + 1}Gi"
    (defaults,) = [i for i in limit_range_items(namespace) if i["type"] == "Container"]
    default_limit = quantity(defaults["default"]["ephemeral-storage"])
    beside_default = str(maximum * 1024**3 - default_limit + 1)
    for spec in (
        {"containers": [_disk(half, "a"), _disk(half, "b")]},
        {
            "containers": [_disk(half)],
            "initContainers": [_disk(half, "proxy", restartPolicy="Always")],
        },
        # A container naming nothing gets the default limit: it counts in the sum.
        {"containers": [_disk(beside_default), container(name="b")]},
    ):
        with pytest.raises(Refused, match="maximum ephemeral-storage usage per Pod"):
            Namespace(namespace).pod(spec)
    # A plain init container runs before the others, alone: the larger of the two counts.
    Namespace(namespace).pod({"containers": [_disk(half)], "initContainers": [_disk(half, "i")]})


def _largest_backup_scratch_gi(stack_file: StackFile) -> int:
    """The largest scratch the stack's config accepts."""
    for scratch in range(50, 0, -1):
        try:
            config_with(
                stack_file, {"pingvas-infra:operations": {"backup": {"scratchSizeGi": scratch}}}
            )
        except ConfigError:
            continue
        return scratch
    raise AssertionError("no scratch size accepted")


def test_the_config_reference_states_the_largest_backup_scratch(stack_file: StackFile) -> None:
    """The README's allowed range for the scratch is the one the config enforces."""
    (allowed,) = [
        setting.allowed()
        for path, setting in leaf_settings()
        if path == ("operations", "backup", "scratchSizeGi")
    ]
    assert allowed.startswith(f"a whole number from 1 to {_largest_backup_scratch_gi(stack_file)}:")


@pytest.mark.parametrize("scratch_gi", [5, "largest"])
def test_the_backup_pod_is_admitted_and_its_scratch_fits_its_disk_limit(
    run_plan: PlanRunner, stack_file: StackFile, scratch_gi: int | str
) -> None:
    """The kubelet evicts a pod whose disk use, emptyDirs included, passes the sum of its
    containers' ephemeral-storage limits: the scratch volume must fit under it, at the
    largest scratch the config allows too."""
    if scratch_gi == "largest":
        scratch_gi = _largest_backup_scratch_gi(stack_file)
    assert isinstance(scratch_gi, int)
    graph: PlanResult = run_plan(
        {"pingvas-infra:operations": {"backup": {"scratchSizeGi": scratch_gi}}}
    )
    (cron_job,) = [
        r for r in graph.of_type(rt.CRON_JOB) if r.inputs["metadata"]["name"] == backup.NAME
    ]
    namespace = cron_job.inputs["metadata"]["namespace"]
    spec = cron_job.inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    admitted = Namespace(namespace).pod(spec)
    limit = sum(
        quantity(c["resources"]["limits"]["ephemeral-storage"])
        for c in admitted["containers"] + admitted.get("initContainers", [])
    )
    volumes = sum(
        quantity(v["emptyDir"]["sizeLimit"])
        for v in admitted["volumes"]
        if "emptyDir" in v and v["emptyDir"].get("medium") != "Memory"
    )
    assert volumes >= scratch_gi * 1024**3
    assert limit > volumes


def test_the_limit_ranges_are_the_only_ones() -> None:
    """One LimitRange per environment: two would both apply, the tightest winning."""
    found = [d["metadata"]["namespace"] for d in load_documents("limit-ranges.yaml")]
    assert sorted(found) == sorted(ENVS)
