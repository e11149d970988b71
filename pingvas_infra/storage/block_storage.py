"""The cluster's default StorageClass: encrypted gp3 EBS volumes (EBS CSI driver).

Block volumes for the few stateful pods the platform runs itself (Prometheus); application
data lives in Aurora, the cache, S3 and the EFS model store.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

BLOCK_STORAGE_CLASS = "gp3-encrypted"


def create_block_storage_class(
    name: str, *, parent: pulumi.Resource
) -> k8s.storage.v1.StorageClass:
    return k8s.storage.v1.StorageClass(
        f"{name}-{BLOCK_STORAGE_CLASS}",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=BLOCK_STORAGE_CLASS,
            # The default class, so a claim that names none still gets an encrypted volume.
            annotations={"storageclass.kubernetes.io/is-default-class": "true"},
        ),
        provisioner="ebs.csi.aws.com",
        parameters={"type": "gp3", "encrypted": "true", "csi.storage.k8s.io/fstype": "ext4"},
        # Bind where the pod lands: an EBS volume lives in one AZ.
        volume_binding_mode="WaitForFirstConsumer",
        reclaim_policy="Delete",
        allow_volume_expansion=True,
        opts=pulumi.ResourceOptions(parent=parent),
    )
