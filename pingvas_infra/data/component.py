"""The data layer as one ComponentResource: Aurora Serverless v2 and Valkey, one KMS key."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from pingvas_infra.aws_parts import cluster_only_security_group
from pingvas_infra.cluster.outputs import ClusterOutputs
from pingvas_infra.data.cache_acl import (
    DEFAULT_USER_ACCESS_STRING,
    DEFAULT_USER_NAME,
    cache_access_string,
)
from pingvas_infra.data.config import AuroraConfig, CacheConfig, DataConfig
from pingvas_infra.data.outputs import CacheUser, DataOutputs
from pingvas_infra.environments import ENVIRONMENTS, INITIAL_DATABASE
from pingvas_infra.kms_keys import KeyUsers, customer_managed_key, key_policy
from pingvas_infra.log_groups import POSTGRESQL_LOG, StackLogGroups, aurora_cluster_identifier
from pingvas_infra.network.outputs import NetworkOutputs
from pingvas_infra.ports import POSTGRESQL_PORT, REDIS_PORT

# The cluster's initial database: the master user's; environments have their own.
DATABASE_NAME = INITIAL_DATABASE
DATABASE_PORT = POSTGRESQL_PORT
CACHE_PORT = REDIS_PORT
AURORA_ENGINE = aws.rds.EngineType.AURORA_POSTGRESQL
SERVERLESS_INSTANCE_CLASS = "db.serverless"
CACHE_ENGINE = "valkey"
# Performance Insights keeps 7 days for free; longer retention is billed per vCPU.
PERFORMANCE_INSIGHTS_RETENTION_DAYS = 7
# The design guide's audit parameters, plus TLS for every connection.
CLUSTER_PARAMETERS = (
    ("log_statement", "ddl", "immediate"),
    ("log_connections", "1", "immediate"),
    ("rds.force_ssl", "1", "pending-reboot"),
)
# Logs statements slower than aurora.slowStatementMs (milliseconds).
SLOW_STATEMENT_PARAMETER = "log_min_duration_statement"
# What the data key serves: Aurora (and Performance Insights), the master secret, the cache.
DATA_KEY_SERVICES = ("rds", "secretsmanager", "elasticache")


def cluster_parameters(config: AuroraConfig) -> list[tuple[str, str, str]]:
    """The cluster parameter group: (name, value, apply method)."""
    return [
        *CLUSTER_PARAMETERS,
        (SLOW_STATEMENT_PARAMETER, str(config.slow_statement_ms), "immediate"),
    ]


# Cache passwords go into redis:// URLs; letters, digits, "-" and "_" need no escaping.
CACHE_PASSWORD_LENGTH = 32
CACHE_PASSWORD_SPECIALS = "-_"


def _master_secret_arn(secrets: Sequence[aws.rds.outputs.ClusterMasterUserSecret]) -> str:
    """The Secrets Manager secret RDS keeps the master password in (exactly one)."""
    (secret,) = secrets
    if not secret.secret_arn:
        raise ValueError("RDS manages the master password but returned no secret ARN")
    return secret.secret_arn


class Data(pulumi.ComponentResource):
    """The shared Aurora PostgreSQL cluster and Valkey cache, reachable only from the cluster."""

    outputs: DataOutputs

    def __init__(
        self,
        name: str,
        config: DataConfig,
        *,
        project: str,
        region: str,
        network: NetworkOutputs,
        cluster: ClusterOutputs,
        log_groups: StackLogGroups,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("pingvas:data:Data", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        # One key for everything the data tier stores: cluster storage, Performance
        # Insights, the RDS-managed master secret and the cache's disk and snapshots.
        data_key = customer_managed_key(
            f"{name}-key",
            alias=f"{project}-data",
            description="pingvas data tier: Aurora, its master secret, ElastiCache",
            deletion_window_days=config.kms_deletion_window_days,
            opts=child,
        )
        # Only its services may use it, through themselves; its ARN resolves once the
        # policy is in place, so nothing is encrypted under KMS's default policy.
        identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        policy = key_policy(
            f"{name}-key",
            data_key,
            account_id=identity.account_id,
            region=region,
            users=KeyUsers(services=DATA_KEY_SERVICES),
            opts=child,
        )
        data_key_arn = pulumi.Output.all(data_key.arn, policy.id).apply(lambda v: str(v[0]))

        database_sg = cluster_only_security_group(
            f"{name}-aurora",
            network,
            cluster,
            port=DATABASE_PORT,
            service="PostgreSQL",
            parent=self,
        )
        cache_sg = cluster_only_security_group(
            f"{name}-cache", network, cluster, port=CACHE_PORT, service="Valkey", parent=self
        )
        database = self._aurora(
            name,
            config.aurora,
            project=project,
            network=network,
            key=data_key_arn,
            group=database_sg,
            log_group_name=log_groups.aurora_postgresql,
            logs_key_arn=network.logs_kms_key_arn,
        )
        primary_endpoint, users = self._cache(
            name, config.cache, project=project, network=network, key=data_key_arn, group=cache_sg
        )

        self.outputs = DataOutputs(
            database_name=DATABASE_NAME,
            writer_endpoint=database.endpoint,
            reader_endpoint=database.reader_endpoint,
            database_port=DATABASE_PORT,
            master_username=config.aurora.master_username,
            master_user_secret_arn=database.master_user_secrets.apply(_master_secret_arn),
            data_kms_key_arn=data_key_arn,
            cache_primary_endpoint=primary_endpoint,
            cache_port=CACHE_PORT,
            cache_users=users,
        )
        self.register_outputs(
            {
                "databaseWriterEndpoint": database.endpoint,
                "databaseReaderEndpoint": database.reader_endpoint,
                "masterUserSecretArn": self.outputs.master_user_secret_arn,
                "cachePrimaryEndpoint": primary_endpoint,
                "dataKmsKeyArn": data_key_arn,
            }
        )

    def _aurora(
        self,
        name: str,
        config: AuroraConfig,
        *,
        project: str,
        network: NetworkOutputs,
        key: pulumi.Output[str],
        group: aws.ec2.SecurityGroup,
        log_group_name: str,
        logs_key_arn: pulumi.Output[str],
    ) -> aws.rds.Cluster:
        child = pulumi.ResourceOptions(parent=self)
        cluster_id = aurora_cluster_identifier(project)
        subnet_group = aws.rds.SubnetGroup(
            f"{name}-aurora",
            subnet_ids=network.data_subnet_ids,
            description="Aurora in the data subnets (no route to the internet)",
            tags={"Name": f"{name}-aurora"},
            opts=child,
        )
        parameters = aws.rds.ClusterParameterGroup(
            f"{name}-aurora",
            family=config.parameter_group_family,
            description="pingvas: DDL, connection and slow statement logging, TLS required",
            parameters=[
                aws.rds.ClusterParameterGroupParameterArgs(
                    name=parameter, value=value, apply_method=apply_method
                )
                for parameter, value, apply_method in cluster_parameters(config)
            ],
            opts=child,
        )
        # Created before the cluster so RDS writes into a group with bounded retention
        # instead of creating one that keeps logs forever.
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-aurora-postgresql",
            name=log_group_name,
            retention_in_days=config.log_retention_days,
            kms_key_id=logs_key_arn,
            opts=child,
        )
        database = aws.rds.Cluster(
            f"{name}-aurora",
            cluster_identifier=cluster_id,
            engine=AURORA_ENGINE,
            engine_mode="provisioned",
            # The major alone: AWS moves the minor (automatic minor upgrades), and the
            # provider keeps "17" while the cluster runs 17.x (tables/aurora_versions.yaml).
            # The instances take the cluster's version; they set none of their own.
            engine_version=config.engine_version,
            database_name=DATABASE_NAME,
            port=DATABASE_PORT,
            master_username=config.master_username,
            # RDS generates the password, keeps it in Secrets Manager and rotates it:
            # no password in config, code or Pulumi state.
            manage_master_user_password=True,
            master_user_secret_kms_key_id=key,
            iam_database_authentication_enabled=True,
            storage_encrypted=True,
            kms_key_id=key,
            serverlessv2_scaling_configuration=aws.rds.ClusterServerlessv2ScalingConfigurationArgs(
                min_capacity=config.min_acu,
                max_capacity=config.max_acu,
                seconds_until_auto_pause=config.auto_pause_seconds,
            ),
            db_subnet_group_name=subnet_group.name,
            vpc_security_group_ids=[group.id],
            db_cluster_parameter_group_name=parameters.name,
            enabled_cloudwatch_logs_exports=[POSTGRESQL_LOG],
            backup_retention_period=config.backup_retention_days,
            preferred_backup_window=config.preferred_backup_window,
            preferred_maintenance_window=config.preferred_maintenance_window,
            copy_tags_to_snapshot=True,
            deletion_protection=config.deletion_protection,
            skip_final_snapshot=False,
            # A fixed name: the design guide's timestamp() changed it on every plan.
            final_snapshot_identifier=f"{cluster_id}-final",
            auto_minor_version_upgrade=True,
            tags={"Name": cluster_id, "Purpose": "dev-and-prod"},
            opts=pulumi.ResourceOptions(parent=self, protect=True, depends_on=[log_group]),
        )
        # Writer and reader in different AZs. The reader's promotion tier decides what it
        # costs: tiers 0-1 follow the writer's capacity (a warm failover target billed like
        # a second writer), tiers 2-15 scale with their own load and pause on their own.
        instances = [("writer", network.availability_zones[0], 0)]
        if config.reader:
            instances.append(
                ("reader", network.availability_zones[1], config.reader_promotion_tier)
            )
        for role, az, tier in instances:
            aws.rds.ClusterInstance(
                f"{name}-aurora-{role}",
                identifier=f"{project}-shared-{role}",
                cluster_identifier=database.cluster_identifier,
                instance_class=SERVERLESS_INSTANCE_CLASS,
                engine=AURORA_ENGINE,
                availability_zone=az,
                promotion_tier=tier,
                db_subnet_group_name=subnet_group.name,
                publicly_accessible=False,
                auto_minor_version_upgrade=True,
                performance_insights_enabled=True,
                performance_insights_kms_key_id=key,
                performance_insights_retention_period=PERFORMANCE_INSIGHTS_RETENTION_DAYS,
                tags={"Name": f"{project}-shared-{role}", "Role": role},
                opts=child,
            )
        return database

    def _cache(
        self,
        name: str,
        config: CacheConfig,
        *,
        project: str,
        network: NetworkOutputs,
        key: pulumi.Output[str],
        group: aws.ec2.SecurityGroup,
    ) -> tuple[pulumi.Output[str], dict[str, CacheUser]]:
        child = pulumi.ResourceOptions(parent=self)
        subnet_group = aws.elasticache.SubnetGroup(
            f"{name}-cache",
            subnet_ids=network.data_subnet_ids,
            description="Valkey in the data subnets (no route to the internet)",
            opts=child,
        )

        def password(user: str) -> random.RandomPassword:
            return random.RandomPassword(
                f"{name}-cache-{user}",
                length=CACHE_PASSWORD_LENGTH,
                special=True,
                override_special=CACHE_PASSWORD_SPECIALS,
                min_lower=1,
                min_upper=1,
                min_numeric=1,
                opts=child,
            )

        def cache_user(
            user: str, user_name: str, access: str
        ) -> tuple[aws.elasticache.User, random.RandomPassword]:
            secret = password(user)
            created = aws.elasticache.User(
                f"{name}-cache-{user}",
                user_id=f"{project}-{user}",
                user_name=user_name,
                engine=CACHE_ENGINE,
                access_string=access,
                authentication_mode=aws.elasticache.UserAuthenticationModeArgs(
                    type="password", passwords=[secret.result]
                ),
                opts=pulumi.ResourceOptions(
                    parent=self, additional_secret_outputs=["authenticationMode", "passwords"]
                ),
            )
            return created, secret

        # Valkey user groups admit only users with a password, the disabled default too.
        default_user, _ = cache_user("default", DEFAULT_USER_NAME, DEFAULT_USER_ACCESS_STRING)
        users: dict[str, CacheUser] = {}
        members = [default_user]
        for env in ENVIRONMENTS:
            access = cache_access_string(env)
            user, secret = cache_user(env.cache_user, env.cache_user, access)
            members.append(user)
            users[env.name] = CacheUser(
                user_name=env.cache_user, password=secret.result, access_string=access
            )
        user_group = aws.elasticache.UserGroup(
            f"{name}-cache",
            user_group_id=f"{project}-cache-users",
            engine=CACHE_ENGINE,
            user_ids=[u.user_id for u in members],
            opts=child,
        )

        primary_az, replica_az = network.availability_zones[0], network.availability_zones[1]
        replication_group = aws.elasticache.ReplicationGroup(
            f"{name}-cache",
            replication_group_id=f"{project}-shared-cache",
            description="pingvas sessions and queues (dev and prod, separated by ACL user)",
            engine=CACHE_ENGINE,
            engine_version=config.engine_version,
            node_type=config.node_type,
            # Cluster mode disabled: the design guide's DB 0 / DB 1 need SELECT, which cluster
            # mode (before Valkey 9) does not offer.
            cluster_mode="disabled",
            num_cache_clusters=2,
            preferred_cache_cluster_azs=[primary_az, replica_az],
            automatic_failover_enabled=True,
            multi_az_enabled=True,
            port=CACHE_PORT,
            subnet_group_name=subnet_group.name,
            security_group_ids=[group.id],
            at_rest_encryption_enabled=True,
            kms_key_id=key,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            user_group_ids=[user_group.user_group_id],
            snapshot_retention_limit=config.snapshot_retention_days,
            snapshot_window=config.snapshot_window,
            maintenance_window=config.maintenance_window,
            auto_minor_version_upgrade=True,
            tags={"Name": f"{project}-shared-cache"},
            opts=child,
        )
        return replication_group.primary_endpoint_address, users
