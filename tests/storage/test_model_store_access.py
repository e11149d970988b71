"""Who EFS lets mount and write the model store, evaluated on the stack's own file
system policy and roles (tests/support/iam.py; the request context keys are the ones EFS
documents for NFS clients: elasticfilesystem:AccessedViaMountTarget,
elasticfilesystem:AccessPointArn, aws:SecureTransport, aws:PrincipalArn).

An NFS client that has no IAM credentials (a pod speaking NFS itself) is anonymous to EFS:
no principal at all.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

from pingvas_infra import resource_types as rt
from pingvas_infra.plan.model import PlanResult
from pingvas_infra.storage.models_store import (
    CLIENT_MOUNT,
    CLIENT_ROOT_ACCESS,
    CLIENT_WRITE,
    MOUNT_OPTIONS,
)
from tests.support.iam import Decision, Request, evaluate, role_arn, role_policies
from tests.support.plan_graph import mock_outputs

# A role of the account whose own policy allows everything on EFS (an admin, or a role
# someone over-granted): only the file system policy's denies stop it.
EFS_ADMIN_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "elasticfilesystem:*", "Resource": "*"}],
    }
)


class ModelStore:
    def __init__(self, graph: PlanResult) -> None:
        (file_system,) = graph.of_type(rt.EFS_FILE_SYSTEM)
        self.arn = str(mock_outputs(file_system)["arn"])
        points = {a.name: str(mock_outputs(a)["arn"]) for a in graph.of_type(rt.EFS_ACCESS_POINT)}
        self.reader = points["storage-models"]
        # The model sync's volume mounts through the writer access point (a store with
        # only one access point would write through that one).
        self.writer = points.get("storage-models-writer", self.reader)
        (policy,) = graph.of_type(rt.EFS_FILE_SYSTEM_POLICY)
        self.policy = str(policy.inputs["policy"])
        self.graph = graph

    def decide(
        self,
        action: str,
        principal: str | None,
        access_point: str | None,
        *,
        identity: Sequence[str] = (),
        tls: bool = True,
    ) -> Decision:
        context = {
            "elasticfilesystem:AccessedViaMountTarget": "true",
            "aws:SecureTransport": str(tls).lower(),
        }
        if access_point is not None:
            context["elasticfilesystem:AccessPointArn"] = access_point
        request = Request(principal, action, self.arn, context)
        return evaluate(request, identity, self.policy)


@pytest.fixture(scope="module")
def store(graph: PlanResult) -> ModelStore:
    return ModelStore(graph)


def csi(graph: PlanResult) -> str:
    return role_arn(graph, "cluster-aws-efs-csi-driver")


def test_the_csi_driver_mounts_read_only_through_the_reader(store: ModelStore) -> None:
    driver = csi(store.graph)
    assert store.decide(CLIENT_MOUNT, driver, store.reader) is Decision.ALLOW
    assert store.decide(CLIENT_WRITE, driver, store.reader) is Decision.EXPLICIT_DENY
    assert store.decide(CLIENT_ROOT_ACCESS, driver, store.reader) is Decision.EXPLICIT_DENY


def test_the_csi_driver_writes_only_through_the_writer(store: ModelStore) -> None:
    driver = csi(store.graph)
    assert store.decide(CLIENT_MOUNT, driver, store.writer) is Decision.ALLOW
    assert store.decide(CLIENT_WRITE, driver, store.writer) is Decision.ALLOW


def test_nothing_mounts_the_file_system_root_or_without_tls(store: ModelStore) -> None:
    driver = csi(store.graph)
    assert store.decide(CLIENT_MOUNT, driver, None) is not Decision.ALLOW
    assert store.decide(CLIENT_WRITE, driver, None) is Decision.EXPLICIT_DENY
    assert store.decide(CLIENT_MOUNT, driver, store.reader, tls=False) is Decision.EXPLICIT_DENY


@pytest.mark.parametrize("access_point", ["reader", "writer", None])
@pytest.mark.parametrize("action", [CLIENT_MOUNT, CLIENT_WRITE])
def test_an_nfs_client_without_credentials_is_refused(
    store: ModelStore, access_point: str | None, action: str
) -> None:
    """A dev pod that speaks NFS itself (a user-space client over TLS, uid 1000)."""
    point = getattr(store, access_point) if access_point else None
    assert store.decide(action, None, point) is not Decision.ALLOW


@pytest.mark.parametrize(
    "role",
    [
        "storage-dev-app",
        "storage-prod-app",
        "cluster-system-node",
        "gpu-karpenter-node",
        "storage-model-sync",
    ],
)
@pytest.mark.parametrize("action", [CLIENT_MOUNT, CLIENT_WRITE])
def test_no_other_role_of_the_stack_mounts_or_writes(
    store: ModelStore, role: str, action: str
) -> None:
    """Application roles, and the node roles a host-network process would fall back to
    through instance metadata: denied even if their own policy allowed all of EFS."""
    principal = role_arn(store.graph, role)
    own = [*role_policies(store.graph, role), EFS_ADMIN_POLICY]
    for point in (store.reader, store.writer):
        assert store.decide(action, principal, point, identity=own) is Decision.EXPLICIT_DENY


def test_every_volume_mounts_with_iam_and_tls_through_its_access_point(
    store: ModelStore, graph: PlanResult
) -> None:
    (file_system,) = graph.of_type(rt.EFS_FILE_SYSTEM)
    ids = {a.id: a.name for a in graph.of_type(rt.EFS_ACCESS_POINT)}
    volumes = graph.of_type(rt.PERSISTENT_VOLUME)
    assert len(volumes) == 3
    for volume in volumes:
        spec = volume.inputs["spec"]
        assert set(MOUNT_OPTIONS) == {"tls", "iam"}
        assert set(spec["mountOptions"]) >= {"tls", "iam"}
        fs_id, _, point = spec["csi"]["volumeHandle"].partition("::")
        assert fs_id == file_system.id
        writer = ids[point] == "storage-models-writer"
        assert writer == (spec["accessModes"] == ["ReadWriteMany"])
        assert writer == (not spec["csi"].get("readOnly", False))
        assert writer == (spec["claimRef"]["name"] == "models-writer")
