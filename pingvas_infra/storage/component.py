"""The storage layer as one ComponentResource: S3, the EFS model store, workload IAM."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from pingvas_infra import iam
from pingvas_infra.aws_parts import pod_identity_role
from pingvas_infra.cluster.outputs import ClusterOutputs
from pingvas_infra.environments import ENVIRONMENTS, PROD
from pingvas_infra.kms_keys import KeyUsers, RoleUse, customer_managed_key, key_policy
from pingvas_infra.network.outputs import NetworkOutputs
from pingvas_infra.storage.assumed_roles import (
    PUBLISH_KEY_ACTIONS,
    RESTORE_KEY_ACTIONS,
    assumed_role,
    backup_restore_role_name,
    backup_restore_statements,
    models_publisher_role_name,
    models_publisher_statements,
)
from pingvas_infra.storage.backup_copy import create_backup_copy
from pingvas_infra.storage.block_storage import create_block_storage_class
from pingvas_infra.storage.buckets import BACKUPS, LOGS, create_buckets
from pingvas_infra.storage.config import StorageConfig
from pingvas_infra.storage.models_store import (
    MODEL_SYNC_SERVICE_ACCOUNT,
    WRITE_CLAIM,
    create_model_volumes,
    create_models_store,
)
from pingvas_infra.storage.outputs import StorageOutputs
from pingvas_infra.storage.workload_iam import (
    READ_OBJECTS,
    READ_WRITE_OBJECTS,
    bucket_statements,
    key_statement,
)
from pingvas_infra.tenancy.outputs import TenancyOutputs

# Prod images are read and written by the prod app; dumps are written by the backup job,
# with multipart uploads, which also decrypt the data key.
PROD_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")


def backup_writer_role_name(project: str) -> str:
    """The role the prod backup job writes dumps with (created by the operations layer)."""
    return f"{project}-prod-db-backup"


class Storage(pulumi.ComponentResource):
    """Buckets, the shared model file system and the per-environment application roles."""

    outputs: StorageOutputs

    def __init__(
        self,
        name: str,
        config: StorageConfig,
        *,
        project: str,
        region: str,
        network: NetworkOutputs,
        cluster: ClusterOutputs,
        tenancy: TenancyOutputs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("pingvas:storage:Storage", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        # prod: prod images and database backups. models: the models bucket and EFS,
        # which both environments read. Dev images use SSE-S3, so no dev policy ever
        # names a key that also guards prod data.
        prod_key = customer_managed_key(
            f"{name}-prod-key",
            alias=f"{project}-prod",
            description="pingvas prod images and database backups",
            deletion_window_days=config.kms_deletion_window_days,
            opts=child,
        )
        models_key = customer_managed_key(
            f"{name}-models-key",
            alias=f"{project}-models",
            description="pingvas shared models (S3 bucket and EFS)",
            deletion_window_days=config.kms_deletion_window_days,
            opts=child,
        )

        identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        buckets = create_buckets(
            name,
            config,
            project=project,
            region=region,
            account_id=identity.account_id,
            keys={"prod": prod_key.arn, "models": models_key.arn},
            parent=self,
        )

        store, mount_targets = create_models_store(
            name,
            config.efs,
            project=project,
            key=models_key,
            network=network,
            cluster=cluster,
            parent=self,
        )
        sync_account = create_model_volumes(
            name,
            store,
            mount_targets=mount_targets,
            tenancy=tenancy,
            parent=self,
        )
        block_storage_class = create_block_storage_class(name, parent=self)

        models_read = [
            *bucket_statements("ModelsRead", buckets.arns["models"], READ_OBJECTS),
            key_statement("ModelsKeyDecrypt", models_key.arn, ["kms:Decrypt"], region),
        ]
        app_roles: dict[str, pulumi.Output[str]] = {}
        for env in ENVIRONMENTS:
            statements = [
                *bucket_statements(
                    "ImagesReadWrite", buckets.arns[f"{env.name}-images"], READ_WRITE_OBJECTS
                ),
                *models_read,
            ]
            if env.name == "prod":
                statements.append(
                    key_statement(
                        "ImagesKey", prod_key.arn, ["kms:Decrypt", "kms:GenerateDataKey"], region
                    )
                )
            app = pod_identity_role(
                f"{name}-{env.name}-app",
                description=f"pingvas {env.name} application pods ({env.app_service_account})",
                policy=iam.document(statements),
                cluster=cluster,
                namespace=tenancy.namespaces[env.name],
                service_account=tenancy.app_service_accounts[env.name],
                tags={"Environment": env.name},
                parent=self,
            )
            app_roles[env.name] = app.role.arn
        sync = pod_identity_role(
            f"{name}-{MODEL_SYNC_SERVICE_ACCOUNT}",
            description="pingvas model sync: copies model weights from S3 into EFS",
            policy=iam.document(models_read),
            cluster=cluster,
            namespace=tenancy.system_namespace,
            service_account=sync_account.metadata.name,
            tags={"Environment": "shared"},
            parent=self,
        )

        # What no workload does: publishing models, and restoring a prod dump by hand.
        publisher = assumed_role(
            f"{name}-models-publisher",
            role_name=models_publisher_role_name(project),
            description="pingvas models publisher: the only writer of the models bucket",
            principal_arns=config.model_publisher_principal_arns,
            account_id=identity.account_id,
            statements=models_publisher_statements(buckets.arns["models"], models_key.arn, region),
            tags={"Environment": "shared"},
            parent=self,
        )
        restore = assumed_role(
            f"{name}-prod-backup-restore",
            role_name=backup_restore_role_name(project),
            description="pingvas break-glass restore: reads the prod dumps",
            principal_arns=config.backup_restore_principal_arns,
            account_id=identity.account_id,
            statements=backup_restore_statements(buckets.arns[BACKUPS], prod_key.arn, region),
            tags={"Environment": "prod"},
            parent=self,
        )

        # The backup job (operations layer) runs as a role of this name: the prod key's
        # policy names it before it exists (a condition, not a principal).
        backup_role = backup_writer_role_name(project)
        backup_role_arn = pulumi.Output.concat(
            "arn:aws:iam::", identity.account_id, ":role/", backup_role
        )
        prod_key_users = [app_roles[PROD.name], backup_role_arn]
        if config.backup_copy.enabled:
            copy = create_backup_copy(
                name,
                config,
                project=project,
                region=region,
                account_id=identity.account_id,
                source=buckets.resources[BACKUPS],
                source_versioning=buckets.versionings[BACKUPS],
                source_key_arn=prod_key.arn,
                parent=self,
            )
            prod_key_users.append(copy.role.arn)
        # Each key's explicit policy: administered through IAM, used by the roles named
        # here (through S3 only) and by EFS for the file system; nobody else.
        key_policy(
            f"{name}-prod-key",
            prod_key,
            account_id=identity.account_id,
            region=region,
            users=KeyUsers(
                roles=[
                    RoleUse(
                        sid="ProdDataThroughS3",
                        roles=prod_key_users,
                        actions=PROD_KEY_ACTIONS,
                        through="s3",
                    ),
                    RoleUse(
                        sid="ProdDumpsRestoredThroughS3",
                        roles=[restore.arn],
                        actions=RESTORE_KEY_ACTIONS,
                        through="s3",
                    ),
                ]
            ),
            opts=child,
        )
        key_policy(
            f"{name}-models-key",
            models_key,
            account_id=identity.account_id,
            region=region,
            users=KeyUsers(
                services=("elasticfilesystem",),
                roles=[
                    RoleUse(
                        sid="ModelsReadThroughS3",
                        roles=[*app_roles.values(), sync.role.arn],
                        actions=["kms:Decrypt"],
                        through="s3",
                    ),
                    RoleUse(
                        sid="ModelsPublishedThroughS3",
                        roles=[publisher.arn],
                        actions=PUBLISH_KEY_ACTIONS,
                        through="s3",
                    ),
                ],
            ),
            opts=child,
        )

        self.outputs = StorageOutputs(
            bucket_names=buckets.names,
            bucket_arns=buckets.arns,
            logs_bucket=buckets.names[LOGS],
            load_balancer_log_prefixes=buckets.load_balancer_log_prefixes,
            prod_kms_key_arn=prod_key.arn,
            models_kms_key_arn=models_key.arn,
            efs_file_system_id=store.file_system.id,
            models_access_point_id=store.reader.id,
            app_role_arns=app_roles,
            block_storage_class=block_storage_class.metadata.name,
            model_sync_service_account=sync_account.metadata.name,
            models_writer_claim=WRITE_CLAIM,
            models_owner_uid=config.efs.posix_uid,
            backup_role_name=backup_role,
            models_publisher_role_arn=publisher.arn,
            backup_restore_role_arn=restore.arn,
        )
        self.register_outputs(
            {
                "bucketNames": buckets.names,
                "efsFileSystemId": store.file_system.id,
                "modelsAccessPointId": store.reader.id,
                "modelsWriterAccessPointId": store.writer.id,
                "appRoleArns": app_roles,
                "modelSyncRoleArn": sync.role.arn,
                "modelsPublisherRoleArn": publisher.arn,
                "backupRestoreRoleArn": restore.arn,
            }
        )
