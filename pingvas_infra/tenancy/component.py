"""The tenancy layer as one ComponentResource.

What separates dev from prod inside the shared cluster and the shared data stores:
namespaces with quotas, limit ranges and Pod Security levels; priority classes;
NetworkPolicies that deny by default; per-environment Secrets with generated credentials;
and the schema-bootstrap Job that creates each environment's database role and schema.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from pingvas_infra import iam
from pingvas_infra.aws_parts import pod_identity_role
from pingvas_infra.cluster.outputs import ClusterOutputs
from pingvas_infra.data.outputs import DataOutputs
from pingvas_infra.environments import ENVIRONMENTS, Environment
from pingvas_infra.labels import MANAGED_LABELS, TENANCY_ENVIRONMENT_LABEL, app_labels
from pingvas_infra.network.outputs import NetworkOutputs
from pingvas_infra.tenancy import bootstrap
from pingvas_infra.tenancy.config import TenancyConfig
from pingvas_infra.tenancy.credentials import (
    database_url,
    redis_url,
    scram_sha256_verifier,
)
from pingvas_infra.tenancy.network_policies import (
    PolicyAddresses,
    environment_policies,
    model_sync_policies,
    platform_policies,
)
from pingvas_infra.tenancy.outputs import TenancyOutputs
from pingvas_infra.tenancy.static import SYSTEM_NAMESPACE, StaticObject, is_platform_class

DB_CREDENTIALS_SECRET = "db-credentials"
REDIS_SECRET = "redis-config"
ISTIO_INJECTION_LABEL = "istio-injection"
# The pods of the model sync (operations layer) in the platform namespace: what its
# NetworkPolicies select, so the labels are decided here and handed on.
MODEL_SYNC_POD_LABELS = app_labels("model-sync")


class MissingKubernetesProvider(ValueError):
    """The layer was given no explicit Kubernetes provider."""


def _has_kubernetes_provider(opts: pulumi.ResourceOptions | None) -> bool:
    providers: Any = opts.providers if opts else None
    if isinstance(providers, Mapping):
        return "kubernetes" in providers
    if isinstance(providers, Sequence):
        return any(getattr(p, "package", None) == "kubernetes" for p in providers)
    return False


class Tenancy(pulumi.ComponentResource):
    """Namespaces, quotas, network policies, priority classes, per-environment Secrets,
    schema and cache separation.

    The Kubernetes provider must come explicitly through ``opts``
    (``providers={"aws": ..., "kubernetes": ...}``, built from the cluster's kubeconfig):
    without it the children would fall back to whatever cluster the ambient kubeconfig
    points at, so its absence is an error.
    """

    outputs: TenancyOutputs

    def __init__(
        self,
        name: str,
        config: TenancyConfig,
        *,
        cluster_policy: Sequence[StaticObject],
        network: NetworkOutputs,
        cluster: ClusterOutputs,
        data: DataOutputs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """``cluster_policy``: the objects of k8s_manifests/ (:func:`static_objects`, read and
        checked by __main__.py before anything is registered), applied one by one."""
        if not _has_kubernetes_provider(opts):
            raise MissingKubernetesProvider(
                "Tenancy needs the cluster's Kubernetes provider: "
                'opts=pulumi.ResourceOptions(providers={"aws": ..., "kubernetes": ...})'
            )
        super().__init__("pingvas:tenancy:Tenancy", name, None, opts)
        self._prefix = name

        namespaces = self._static(cluster_policy, config)
        addresses = PolicyAddresses(
            vpc_cidr=network.vpc_cidr,
            data_subnet_cidrs=network.data_subnet_cidrs,
            load_balancer_subnet_cidrs=network.load_balancer_subnet_cidrs,
        )
        policies = self._network_policies(config, addresses, data, namespaces)

        for env in ENVIRONMENTS:
            self._service_account(
                env.app_service_account, env.namespace, namespaces, {"environment": env.name}
            )

        passwords = {
            env.name: random.RandomPassword(
                f"{name}-{env.name}-db-password",
                length=config.db_password_length,
                # Letters and digits only: safe in a URL as they are, and SCRAM needs no
                # normalisation of them.
                special=False,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for env in ENVIRONMENTS
        }
        job = self._schema_bootstrap(
            config,
            cluster=cluster,
            data=data,
            namespaces=namespaces,
            policies=policies,
            passwords=passwords,
        )

        for env in ENVIRONMENTS:
            self._environment_secrets(
                env, data=data, password=passwords[env.name], namespaces=namespaces, job=job
            )

        self.outputs = TenancyOutputs(
            namespaces={
                env.name: namespaces[env.namespace].metadata.apply(lambda m: str(m.name))
                for env in ENVIRONMENTS
            },
            system_namespace=namespaces[SYSTEM_NAMESPACE].metadata.apply(lambda m: str(m.name)),
            app_service_accounts={env.name: env.app_service_account for env in ENVIRONMENTS},
            db_credentials_secret=DB_CREDENTIALS_SECRET,
            redis_secret=REDIS_SECRET,
            platform_priority_class=self._platform_class.metadata.apply(lambda m: str(m.name)),
            model_sync_pod_labels=dict(MODEL_SYNC_POD_LABELS),
        )
        self.register_outputs(
            {
                "namespaces": dict(self.outputs.namespaces),
                "systemNamespace": self.outputs.system_namespace,
                "schemaBootstrapJob": job.metadata.apply(lambda m: str(m.name)),
            }
        )

    # --- static manifests -------------------------------------------------------------

    def _static(
        self, objects: Sequence[StaticObject], config: TenancyConfig
    ) -> dict[str, k8s.core.v1.Namespace]:
        """Apply k8s_manifests/ object by object; return the Namespaces by name (and keep
        the platform's PriorityClass)."""
        namespaces: dict[str, k8s.core.v1.Namespace] = {}
        env_namespaces = {env.namespace for env in ENVIRONMENTS}
        for item in objects:
            arguments = item.arguments()
            if item.kind == "Namespace" and config.service_mesh and item.name in env_namespaces:
                # The design guide's sidecar injection, only when a mesh is configured, and never
                # in pingvas-system (a sidecar would keep the bootstrap Job from finishing).
                # Pod Security `baseline` refuses istio-init's NET_ADMIN: the mesh must
                # run its CNI node agent.
                metadata = dict(arguments["metadata"])
                metadata["labels"] = {
                    **(metadata.get("labels") or {}),
                    ISTIO_INJECTION_LABEL: "enabled",
                }
                arguments["metadata"] = metadata
            depends_on = [namespaces[item.namespace]] if item.namespace in namespaces else []
            resource = item.resource_class(
                self._resource_name(item.kind, item.namespace, item.name),
                **arguments,
                opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on),
            )
            if isinstance(resource, k8s.core.v1.Namespace):
                namespaces[item.name] = resource
            if is_platform_class(item):
                assert isinstance(resource, k8s.scheduling.v1.PriorityClass)
                self._platform_class = resource
        return namespaces

    def _resource_name(self, kind: str, namespace: str | None, object_name: str) -> str:
        scope = f"{namespace}-" if namespace else ""
        return f"{self._prefix}-{scope}{object_name}-{kind.lower()}"

    # --- network policies -------------------------------------------------------------

    def _network_policies(
        self,
        config: TenancyConfig,
        addresses: PolicyAddresses,
        data: DataOutputs,
        namespaces: Mapping[str, k8s.core.v1.Namespace],
    ) -> list[k8s.networking.v1.NetworkPolicy]:
        documents: list[dict[str, Any]] = []
        for env in ENVIRONMENTS:
            documents += environment_policies(
                env.name,
                env.namespace,
                addresses,
                # Not NFS: the EFS CSI node plugin mounts on the host network, so no pod
                # ever needs 2049, and a pod that spoke NFS itself would skip the volumes'
                # access points and read-only flag.
                data_ports=(data.database_port, data.cache_port),
                load_balancer_ports=config.load_balancer_ports,
                service_mesh=config.service_mesh,
            )
        documents += platform_policies(
            SYSTEM_NAMESPACE,
            addresses,
            database_port=data.database_port,
            pod_selector=bootstrap.POD_LABELS,
        )
        documents += model_sync_policies(
            SYSTEM_NAMESPACE, addresses, pod_selector=MODEL_SYNC_POD_LABELS
        )
        created = []
        for document in documents:
            metadata = document["metadata"]
            created.append(
                k8s.networking.v1.NetworkPolicy(
                    self._resource_name("NetworkPolicy", metadata["namespace"], metadata["name"]),
                    metadata=metadata,
                    spec=document["spec"],
                    opts=pulumi.ResourceOptions(
                        parent=self, depends_on=[namespaces[metadata["namespace"]]]
                    ),
                )
            )
        return created

    def _service_account(
        self,
        account: str,
        namespace: str,
        namespaces: Mapping[str, k8s.core.v1.Namespace],
        labels: Mapping[str, str],
    ) -> k8s.core.v1.ServiceAccount:
        return k8s.core.v1.ServiceAccount(
            self._resource_name("ServiceAccount", namespace, account),
            metadata={
                "name": account,
                "namespace": namespace,
                "labels": {**MANAGED_LABELS, **labels},
            },
            # Workloads reach AWS through Pod Identity, which mounts its own token; none of
            # them needs the Kubernetes API.
            automount_service_account_token=False,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespaces[namespace]]),
        )

    # --- schema separation ------------------------------------------------------------

    def _schema_bootstrap(
        self,
        config: TenancyConfig,
        *,
        cluster: ClusterOutputs,
        data: DataOutputs,
        namespaces: Mapping[str, k8s.core.v1.Namespace],
        policies: list[k8s.networking.v1.NetworkPolicy],
        passwords: Mapping[str, random.RandomPassword],
    ) -> k8s.batch.v1.Job:
        name = f"{self._prefix}-{bootstrap.NAME}"
        child = pulumi.ResourceOptions(parent=self)
        database = pulumi.Output.all(data.writer_endpoint, data.master_user_secret_arn).apply(
            lambda values: bootstrap.Database(
                host=values[0],
                port=data.database_port,
                name=data.database_name,
                master_username=data.master_username,
                master_secret_arn=values[1],
            )
        )

        # Pod Identity role: read the master secret, nothing else. The trust policy only
        # lets EKS hand it to the bootstrap ServiceAccount of the platform namespace.
        identity = pod_identity_role(
            name,
            description="Schema bootstrap Job: reads the Aurora master secret",
            cluster=cluster,
            namespace=SYSTEM_NAMESPACE,
            service_account=bootstrap.SERVICE_ACCOUNT,
            policy=iam.document(
                [
                    {
                        "Sid": "ReadMasterSecret",
                        "Effect": "Allow",
                        "Action": ["secretsmanager:GetSecretValue"],
                        "Resource": data.master_user_secret_arn,
                    },
                    {
                        # The secret is encrypted with the data layer's key; only Secrets
                        # Manager may use it on the role's behalf.
                        "Sid": "DecryptMasterSecret",
                        "Effect": "Allow",
                        "Action": ["kms:Decrypt"],
                        "Resource": data.data_kms_key_arn,
                        "Condition": {
                            "StringEquals": {
                                "kms:ViaService": database.apply(
                                    lambda d: f"secretsmanager.{d.region}.amazonaws.com"
                                )
                            }
                        },
                    },
                ]
            ),
            parent=self,
        )
        association = identity.association
        account = self._service_account(
            bootstrap.SERVICE_ACCOUNT, SYSTEM_NAMESPACE, namespaces, bootstrap.POD_LABELS
        )
        in_system = pulumi.ResourceOptions(parent=self, depends_on=[namespaces[SYSTEM_NAMESPACE]])
        script = k8s.core.v1.ConfigMap(
            name,
            metadata={
                "name": bootstrap.CONFIG_MAP,
                "namespace": SYSTEM_NAMESPACE,
                "labels": {**MANAGED_LABELS, **bootstrap.POD_LABELS},
            },
            data={
                "database.sql": bootstrap.database_sql_text(),
                "bootstrap.sql": bootstrap.sql_text(),
                "bootstrap.sh": bootstrap.script_text(),
            },
            opts=in_system,
        )

        # Each role's password reaches the database only as a SCRAM verifier, salted with
        # a random salt kept in state (a stable salt keeps the verifier, and the Job, from
        # changing on every run).
        verifiers: dict[str, pulumi.Output[str]] = {}
        for env in ENVIRONMENTS:
            salt = random.RandomId(
                f"{self._prefix}-{env.name}-db-scram-salt", byte_length=16, opts=child
            )
            verifiers[env.db_user] = pulumi.Output.all(
                passwords[env.name].result, salt.b64_std
            ).apply(lambda v: scram_sha256_verifier(v[0], base64.b64decode(v[1])))
        roles = k8s.core.v1.Secret(
            f"{name}-roles",
            metadata={
                "name": bootstrap.ROLE_PASSWORDS_SECRET,
                "namespace": SYSTEM_NAMESPACE,
                "labels": {**MANAGED_LABELS, **bootstrap.POD_LABELS},
            },
            type="Opaque",
            string_data=pulumi.Output.secret(verifiers),
            opts=in_system,
        )

        verifier_digest = pulumi.Output.all(**verifiers).apply(
            lambda v: json.dumps(v, sort_keys=True)
        )
        # The name hashes the verifiers among the rest; a hash reveals nothing of them, so
        # the name need not be secret (a secret name would hide the Job in the plan).
        job_name = pulumi.Output.unsecret(
            pulumi.Output.all(database, verifier_digest).apply(
                lambda v: bootstrap.job_name(v[0], ENVIRONMENTS, v[1])
            )
        )
        # A plain Kubernetes document (camelCase), which the SDK accepts as the spec.
        spec: pulumi.Output[Any] = database.apply(
            lambda d: bootstrap.job_spec(
                d,
                ENVIRONMENTS,
                backoff_limit=config.bootstrap_backoff_limit,
                ttl_seconds=config.bootstrap_ttl_seconds,
            )
        )
        return k8s.batch.v1.Job(
            name,
            metadata={
                "name": job_name,
                "namespace": SYSTEM_NAMESPACE,
                "labels": {**MANAGED_LABELS, **bootstrap.POD_LABELS},
            },
            spec=spec,
            # Everything the pod needs exists before it starts: credentials, script,
            # passwords, and the policies that let it out of default-deny.
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[
                    namespaces[SYSTEM_NAMESPACE],
                    association,
                    account,
                    script,
                    roles,
                    *policies,
                ],
            ),
        )

    # --- per-environment credentials --------------------------------------------------

    def _environment_secrets(
        self,
        env: Environment,
        *,
        data: DataOutputs,
        password: random.RandomPassword,
        namespaces: Mapping[str, k8s.core.v1.Namespace],
        job: k8s.batch.v1.Job,
    ) -> None:
        labels = {**MANAGED_LABELS, TENANCY_ENVIRONMENT_LABEL: env.name}
        url = pulumi.Output.all(data.writer_endpoint, password.result).apply(
            lambda v: database_url(
                user=env.db_user,
                password=v[1],
                host=v[0],
                port=data.database_port,
                database=env.database,
                schema=env.schema,
            )
        )
        # Secret whatever the inputs: the URL carries the password.
        secret_url: pulumi.Output[str] = pulumi.Output.secret(url)
        k8s.core.v1.Secret(
            self._resource_name("Secret", env.namespace, DB_CREDENTIALS_SECRET),
            metadata={"name": DB_CREDENTIALS_SECRET, "namespace": env.namespace, "labels": labels},
            type="Opaque",
            string_data={"DATABASE_URL": secret_url, "DB_SCHEMA": env.schema},
            # The role exists (the bootstrap Job ran) before an application can read this.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespaces[env.namespace], job]),
        )

        cache_user = data.cache_users[env.name]
        cache_url = pulumi.Output.all(data.cache_primary_endpoint, cache_user.password).apply(
            lambda v: redis_url(
                user=cache_user.user_name,
                password=v[1],
                host=v[0],
                port=data.cache_port,
                db=env.redis_db,
            )
        )
        secret_cache_url: pulumi.Output[str] = pulumi.Output.secret(cache_url)
        # The design guide kept this in a ConfigMap; it holds the cache user's password now.
        k8s.core.v1.Secret(
            self._resource_name("Secret", env.namespace, REDIS_SECRET),
            metadata={"name": REDIS_SECRET, "namespace": env.namespace, "labels": labels},
            type="Opaque",
            string_data={
                "REDIS_URL": secret_cache_url,
                "REDIS_DB": str(env.redis_db),
                # The cache user may touch only keys under this prefix (its ACL).
                "REDIS_KEY_PREFIX": env.key_prefix,
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespaces[env.namespace]]),
        )
