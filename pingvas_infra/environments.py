"""The two environments that share the platform, and what separates them.

One definition of each separating fact (namespace, database, schema, database role, cache
user and key prefix, Redis DB number), used by every layer that needs it. The GPU quota of
each is cluster policy (k8s_manifests/resource-quotas.yaml), read once by __main__.py.
"""

from __future__ import annotations

from dataclasses import dataclass

# The Aurora cluster's initial database (the design guide's one database). Only the master
# user connects to it; each environment's data lives in a database of its own.
INITIAL_DATABASE = "pingvas_saas"


@dataclass(frozen=True)
class Environment:
    name: str
    # The design guide's Redis DB numbers (dev 0, prod 1); a convention. The boundary is the
    # ACL user confined to `key_prefix`.
    redis_db: int
    # The design guide's default PriorityClass for the environment's workloads.
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


DEV = Environment(name="dev", redis_db=0, priority_class="dev-low")
PROD = Environment(name="prod", redis_db=1, priority_class="prod-high")
ENVIRONMENTS: tuple[Environment, ...] = (DEV, PROD)
