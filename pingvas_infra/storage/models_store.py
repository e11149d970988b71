"""The shared model store: EFS, its /models access points, and the Kubernetes volumes.

Inference pods in dev and prod mount the models read-only; one writable claim, in the
platform namespace, is the only path that changes what both environments serve. Dev
therefore cannot alter prod's models, and neither can prod's own application pods: a
model update is a deliberate platform job (the `model-sync` ServiceAccount), not a side
effect of serving.

EFS enforces that itself, not only Kubernetes. Every volume mounts with `tls` and `iam`:
the EFS CSI node plugin (on the host network) authenticates with its Pod Identity role
(efs-utils 2.3 and later take Pod Identity credentials before instance metadata). The
file system policy admits that one role, only through the two access points, and lets it
write only through the writer's. An NFS client without those credentials (a pod speaking
NFS itself, any other role of the account) is refused by EFS, whatever reaches port 2049.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from pingvas_infra import iam
from pingvas_infra.aws_parts import cluster_only_security_group
from pingvas_infra.cluster.outputs import ClusterOutputs
from pingvas_infra.environments import ENVIRONMENTS
from pingvas_infra.labels import VOLUME_LABEL
from pingvas_infra.network.outputs import NetworkOutputs
from pingvas_infra.ports import NFS_PORT
from pingvas_infra.storage.config import EfsConfig
from pingvas_infra.tenancy.outputs import TenancyOutputs

MODELS_PATH = "/models"
# Owner rwx, everyone else r-x: the writer's uid changes files, readers only read.
MODELS_DIRECTORY_MODE = "0755"
EFS_CSI_DRIVER = "efs.csi.aws.com"
STORAGE_CLASS = "efs-models"
# The API requires a capacity; EFS grows with its files and the CSI driver ignores it.
NOMINAL_CAPACITY = "100Gi"
READ_CLAIM = "models"
WRITE_CLAIM = "models-writer"
# Every model volume mounts over TLS and with the CSI driver's IAM identity. With `iam`,
# efs-utils (which the driver runs on the node) takes credentials in this order: an
# explicit credentials URI or profile mount option (none here), ECS, then EKS Pod Identity
# (AWS_CONTAINER_CREDENTIALS_FULL_URI, set in efs-csi-node-sa's pods by its association),
# IRSA, and last the instance role (aws/efs-utils v3.2.0,
# src/efs_utils_common/aws_credentials.py, get_aws_security_credentials; the driver
# supports Pod Identity since v2.0.5). A fall back to the node role fails closed: the file
# system policy admits the CSI driver's role only.
MOUNT_OPTIONS = ("tls", "iam")
MODEL_SYNC_SERVICE_ACCOUNT = "model-sync"


@dataclass(frozen=True)
class ModelsStore:
    file_system: aws.efs.FileSystem
    # dev and prod mount through the reader; the platform's model sync through the writer.
    reader: aws.efs.AccessPoint
    writer: aws.efs.AccessPoint


@dataclass(frozen=True)
class _Claim:
    """One PersistentVolumeClaim and the PersistentVolume reserved for it."""

    volume: str
    namespace: pulumi.Output[str]
    name: str
    read_only: bool

    @property
    def access_mode(self) -> str:
        return "ReadOnlyMany" if self.read_only else "ReadWriteMany"


def create_models_store(
    name: str,
    config: EfsConfig,
    *,
    project: str,
    key: aws.kms.Key,
    network: NetworkOutputs,
    cluster: ClusterOutputs,
    parent: pulumi.Resource,
) -> tuple[ModelsStore, list[aws.efs.MountTarget]]:
    """The file system, its access points, policy, backups and mount targets."""
    child = pulumi.ResourceOptions(parent=parent)
    file_system = aws.efs.FileSystem(
        f"{name}-models",
        encrypted=True,
        kms_key_id=key.arn,
        performance_mode="generalPurpose",
        # Bursting unless configured otherwise (see EfsConfig.throughput_mode).
        throughput_mode=config.throughput_mode,
        lifecycle_policies=[
            aws.efs.FileSystemLifecyclePolicyArgs(transition_to_ia=config.transition_to_ia),
            aws.efs.FileSystemLifecyclePolicyArgs(
                transition_to_primary_storage_class="AFTER_1_ACCESS"
            ),
        ],
        tags={"Name": f"{project}-models-shared-efs"},
        opts=child,
    )
    aws.efs.BackupPolicy(
        f"{name}-models",
        file_system_id=file_system.id,
        backup_policy=aws.efs.BackupPolicyBackupPolicyArgs(status="ENABLED"),
        opts=child,
    )
    security_group = cluster_only_security_group(
        f"{name}-efs", network, cluster, port=NFS_PORT, service="NFS", parent=parent
    )
    mount_targets = [
        aws.efs.MountTarget(
            f"{name}-models-{az}",
            file_system_id=file_system.id,
            subnet_id=subnet_id,
            security_groups=[security_group.id],
            opts=child,
        )
        for az, subnet_id in zip(network.availability_zones, network.data_subnet_ids, strict=True)
    ]
    reader, writer = (
        _access_point(
            f"{name}-models{suffix}", file_system, config, f"{project}-models{suffix}", child
        )
        for suffix in ("", "-writer")
    )
    aws.efs.FileSystemPolicy(
        f"{name}-models",
        file_system_id=file_system.id,
        policy=file_system_policy(
            file_system.arn,
            mounter_role_arn=cluster.efs_csi_role_arn,
            reader_arn=reader.arn,
            writer_arn=writer.arn,
        ),
        opts=child,
    )
    return ModelsStore(file_system, reader, writer), mount_targets


def _access_point(
    name: str,
    file_system: aws.efs.FileSystem,
    config: EfsConfig,
    tag: str,
    opts: pulumi.ResourceOptions,
) -> aws.efs.AccessPoint:
    """An access point on /models: every NFS call through it runs as the configured user."""
    return aws.efs.AccessPoint(
        name,
        file_system_id=file_system.id,
        root_directory=aws.efs.AccessPointRootDirectoryArgs(
            path=MODELS_PATH,
            creation_info=aws.efs.AccessPointRootDirectoryCreationInfoArgs(
                owner_uid=config.posix_uid,
                owner_gid=config.posix_gid,
                permissions=MODELS_DIRECTORY_MODE,
            ),
        ),
        posix_user=aws.efs.AccessPointPosixUserArgs(uid=config.posix_uid, gid=config.posix_gid),
        tags={"Name": tag},
        opts=opts,
    )


CLIENT_MOUNT = "elasticfilesystem:ClientMount"
CLIENT_WRITE = "elasticfilesystem:ClientWrite"
CLIENT_ROOT_ACCESS = "elasticfilesystem:ClientRootAccess"
ACCESS_POINT_KEY = "elasticfilesystem:AccessPointArn"


def file_system_policy(
    file_system_arn: pulumi.Input[str],
    *,
    mounter_role_arn: pulumi.Input[str],
    reader_arn: pulumi.Input[str],
    writer_arn: pulumi.Input[str],
) -> pulumi.Output[str]:
    """Who may mount and write, enforced by EFS for every NFS client.

    Allows name the CSI driver's role and the access points; the denies hold even against
    an identity policy that grants more (AmazonEFSCSIDriverPolicy, or a broad admin role):
    no other principal (an anonymous NFS client has none) mounts or writes, nothing is
    written except through the writer access point, nobody gets root, nothing without TLS.
    """
    through_mount_target = {"Bool": {"elasticfilesystem:AccessedViaMountTarget": "true"}}
    return iam.document(
        [
            {
                "Sid": "CsiDriverMountsThroughTheAccessPoints",
                "Effect": "Allow",
                "Principal": {"AWS": mounter_role_arn},
                "Action": [CLIENT_MOUNT],
                "Resource": file_system_arn,
                "Condition": {
                    **through_mount_target,
                    "StringEquals": {ACCESS_POINT_KEY: [reader_arn, writer_arn]},
                },
            },
            {
                "Sid": "CsiDriverWritesThroughTheWriterOnly",
                "Effect": "Allow",
                "Principal": {"AWS": mounter_role_arn},
                "Action": [CLIENT_WRITE],
                "Resource": file_system_arn,
                "Condition": {
                    **through_mount_target,
                    "StringEquals": {ACCESS_POINT_KEY: writer_arn},
                },
            },
            {
                "Sid": "NoOtherPrincipal",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": [CLIENT_MOUNT, CLIENT_WRITE, CLIENT_ROOT_ACCESS],
                "Resource": file_system_arn,
                "Condition": {"ArnNotEquals": {"aws:PrincipalArn": mounter_role_arn}},
            },
            {
                "Sid": "NoWriteButThroughTheWriter",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": [CLIENT_WRITE],
                "Resource": file_system_arn,
                "Condition": {"StringNotEquals": {ACCESS_POINT_KEY: writer_arn}},
            },
            {
                "Sid": "NoRootAccess",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": [CLIENT_ROOT_ACCESS],
                "Resource": file_system_arn,
            },
            iam.deny_insecure_transport([file_system_arn], principal={"AWS": "*"}),
        ]
    )


def create_model_volumes(
    name: str,
    store: ModelsStore,
    *,
    mount_targets: Sequence[aws.efs.MountTarget],
    tenancy: TenancyOutputs,
    parent: pulumi.Resource,
) -> k8s.core.v1.ServiceAccount:
    """StorageClass, one PersistentVolume per claim, the claims, and the sync account."""
    # Kubernetes children get the explicit provider through the layer's `providers`.
    kube = pulumi.ResourceOptions(parent=parent)
    # Static provisioning only: without provisioningMode/fileSystemId parameters the
    # driver creates nothing, so a claim naming this class binds only to the volumes
    # below, each reserved for one claim by claimRef.
    storage_class = k8s.storage.v1.StorageClass(
        f"{name}-{STORAGE_CLASS}",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=STORAGE_CLASS),
        provisioner=EFS_CSI_DRIVER,
        reclaim_policy="Retain",
        volume_binding_mode="Immediate",
        opts=kube,
    )
    claims = [
        _Claim(f"models-{env.name}", tenancy.namespaces[env.name], READ_CLAIM, read_only=True)
        for env in ENVIRONMENTS
    ]
    claims.append(_Claim("models-sync", tenancy.system_namespace, WRITE_CLAIM, read_only=False))
    for claim in claims:
        access_point = store.reader if claim.read_only else store.writer
        handle = pulumi.Output.concat(store.file_system.id, "::", access_point.id)
        volume = k8s.core.v1.PersistentVolume(
            f"{name}-{claim.volume}",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=claim.volume, labels={VOLUME_LABEL: "models"}),
            spec=k8s.core.v1.PersistentVolumeSpecArgs(
                capacity={"storage": NOMINAL_CAPACITY},
                volume_mode="Filesystem",
                access_modes=[claim.access_mode],
                persistent_volume_reclaim_policy="Retain",
                storage_class_name=storage_class.metadata.name,
                mount_options=list(MOUNT_OPTIONS),
                csi=k8s.core.v1.CSIPersistentVolumeSourceArgs(
                    driver=EFS_CSI_DRIVER, volume_handle=handle, read_only=claim.read_only
                ),
                # A PersistentVolume binds exactly one claim: reserve it for this one.
                claim_ref=k8s.core.v1.ObjectReferenceArgs(
                    namespace=claim.namespace, name=claim.name
                ),
            ),
            # Bound only once NFS is reachable in every zone.
            opts=pulumi.ResourceOptions(parent=parent, depends_on=list(mount_targets)),
        )
        k8s.core.v1.PersistentVolumeClaim(
            f"{name}-{claim.volume}",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=claim.name, namespace=claim.namespace),
            spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
                access_modes=[claim.access_mode],
                storage_class_name=storage_class.metadata.name,
                volume_name=volume.metadata.name,
                resources=k8s.core.v1.VolumeResourceRequirementsArgs(
                    requests={"storage": NOMINAL_CAPACITY}
                ),
            ),
            opts=kube,
        )
    return k8s.core.v1.ServiceAccount(
        f"{name}-{MODEL_SYNC_SERVICE_ACCOUNT}",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=MODEL_SYNC_SERVICE_ACCOUNT, namespace=tenancy.system_namespace
        ),
        opts=kube,
    )
