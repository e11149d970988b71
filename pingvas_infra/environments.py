"""The two environments that share the platform, and what separates them.

One definition of each separating fact (namespace, database, schema, database role, cache
user and key prefix, Redis DB number, GPU quota), used by every layer that needs it.
"""

from __future__ import annotations

from dataclasses import dataclass

from pingvas_infra.manifests import ManifestError, load_documents

QUOTA_FILE = "resource-quotas.yaml"
# The Aurora cluster's initial database (the design guide's one database). Only the master
# user connects to it; each environment's data lives in a database of its own.
INITIAL_DATABASE = "pingvas_saas"
GPU_QUOTA_KEY = "requests.nvidia.com/gpu"


@dataclass(frozen=True)
class Environment:
    name: str
    # The seed's Redis DB numbers (dev 0, prod 1); a convention. The boundary is the ACL
    # user confined to `key_prefix`.
    redis_db: int
    # The seed's default PriorityClass for the environment's workloads.
    priority_class: str

    @property
    def namespace(self) -> str:
        return self.name

    @property
    def schema(self) -> str:
        return f"{self.name}_pingvas"

    @property
    def database(self) -> str:
        """The environment's own database in the shared Aurora cluster."""
        return f"{INITIAL_DATABASE}_{self.name}"

    @property
    def db_user(self) -> str:
        return f"{self.name}_user"

    @property
    def cache_user(self) -> str:
        return f"{self.name}-app"

    @property
    def key_prefix(self) -> str:
        return f"{self.name}:"

    @property
    def app_service_account(self) -> str:
        """The ServiceAccount application pods run as (its Pod Identity role is per env)."""
        return "pingvas-app"

    @property
    def gpu_quota(self) -> int:
        """GPUs the namespace may request: also the cap of its Karpenter NodePool."""
        return gpu_quotas()[self.name]


DEV = Environment(name="dev", redis_db=0, priority_class="dev-low")
PROD = Environment(name="prod", redis_db=1, priority_class="prod-high")
ENVIRONMENTS: tuple[Environment, ...] = (DEV, PROD)


def gpu_quotas() -> dict[str, int]:
    """`requests.nvidia.com/gpu` of each namespace's ResourceQuota in k8s_manifests/."""
    quotas: dict[str, int] = {}
    for document in load_documents(QUOTA_FILE):
        if document["kind"] != "ResourceQuota":
            continue
        namespace = document["metadata"]["namespace"]
        hard = document["spec"]["hard"]
        if GPU_QUOTA_KEY not in hard:
            raise ManifestError(f"{QUOTA_FILE}: quota for {namespace} sets no {GPU_QUOTA_KEY}")
        quotas[namespace] = int(hard[GPU_QUOTA_KEY])
    missing = {e.name for e in (DEV, PROD)} - set(quotas)
    if missing:
        raise ManifestError(f"{QUOTA_FILE}: no ResourceQuota for {', '.join(sorted(missing))}")
    return quotas
