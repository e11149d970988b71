"""What one environment can take of the shared nodes, disks and object store, proven by
admitting pods, claims and objects one after another through Kubernetes' LimitRanger and
ResourceQuota logic (tests/tenancy/quota.py) over k8s_manifests/, until the namespace
refuses.
"""

from __future__ import annotations

from typing import Any

import pytest

from pingvas_infra import resource_types as rt
from pingvas_infra.manifests import load_documents
from pingvas_infra.operations import backup
from pingvas_infra.plan.model import PlanResult
from pingvas_infra.storage.block_storage import BLOCK_STORAGE_CLASS
from pingvas_infra.storage.models_store import NOMINAL_CAPACITY
from pingvas_infra.storage.models_store import STORAGE_CLASS as MODELS_STORAGE_CLASS
from tests.support.admission import container
from tests.support.plan_graph import PlanRunner
from tests.tenancy.quota import Namespace, Refused, hard_limits, quantity

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


def test_the_kinds_an_environment_deploys_are_all_counted() -> None:
    assert {
        "secrets",
        "configmaps",
        "serviceaccounts",
        "deployments.apps",
        "statefulsets.apps",
        "replicasets.apps",
        "controllerrevisions.apps",
        "jobs.batch",
        "cronjobs.batch",
        "horizontalpodautoscalers.autoscaling",
        "poddisruptionbudgets.policy",
    } <= set(_counted("dev"))


def test_prod_gets_at_least_what_dev_gets() -> None:
    """The same keys in both, prod's figures never below dev's."""
    dev, prod = quota("dev"), quota("prod")
    assert set(dev) == set(prod)
    for key, figure in dev.items():
        assert quantity(prod[key]) >= quantity(figure), key


# --- the stack's own pods ---------------------------------------------------------------------


@pytest.mark.parametrize("scratch_gi", [5, 50])
def test_the_backup_pod_is_admitted_and_its_scratch_fits_its_disk_limit(
    run_plan: PlanRunner, scratch_gi: int
) -> None:
    """The kubelet evicts a pod whose disk use, emptyDirs included, passes the sum of its
    containers' ephemeral-storage limits: the scratch volume must fit under it, at the
    largest scratch the config allows too."""
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
