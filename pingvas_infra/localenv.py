"""`pingvas-infra local-env`: the files local/compose.yaml reads.

The local stack mirrors the cloud's separation: the same schema bootstrap SQL (mounted
from the tenancy layer) and the same cache ACLs, generated here from the data layer's
access strings, with local passwords. It writes two gitignored files into the local/
folder of the project it is run in (the folder of Pulumi.yaml, as for the plan):

- ``local/.env``: local passwords and the environments' connection URLs, in the shape the
  cluster's db-credentials and redis-config Secrets hold;
- ``local/generated/users.acl``: the Valkey ACL file, default user off, one user per
  environment confined to its key prefix, passwords stored as SHA-256 only.

Passwords already in ``local/.env`` are kept, so running it again changes nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from pingvas_infra.data.cache_acl import cache_access_string
from pingvas_infra.environments import ENVIRONMENTS, Environment
from pingvas_infra.ports import POSTGRESQL_PORT, REDIS_PORT
from pingvas_infra.storage.config import BUCKET_BASE_NAMES, bucket_name
from pingvas_infra.tenancy import bootstrap

# The folder of compose.yaml, beside Pulumi.yaml.
LOCAL_FOLDER = "local"
ENV_FILE = ".env"
ACL_FILE = Path("generated") / "users.acl"
# The stack's bucket names without prefix or account suffix (the design guide's names): moto has no
# global namespace to collide with.
BUCKETS = tuple(bucket_name("", "pingvas", purpose, "") for purpose in BUCKET_BASE_NAMES)
# moto's server port (its default).
MOTO_PORT = 5000
ENDPOINTS = {
    "postgres": f"localhost:{POSTGRESQL_PORT}",
    "valkey": f"localhost:{REDIS_PORT}",
    "moto": f"localhost:{MOTO_PORT}",
}

AccessStrings = Callable[[Environment], str]


def _variable(environment: Environment, what: str) -> str:
    return f"LOCAL_{environment.name.upper()}_{what}_PASSWORD"


def password_variables() -> list[str]:
    return ["LOCAL_DB_ADMIN_PASSWORD"] + [
        _variable(env, what) for env in ENVIRONMENTS for what in ("DB", "CACHE")
    ]


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#") and "=" in line:
                key, _, value = line.partition("=")
                values[key] = value
    return values


def acl_file(access_strings: Mapping[str, str], passwords: Mapping[str, str]) -> str:
    """Valkey ACL file: the default user off (as in the ElastiCache user group), then each
    environment's user with its rules and only the SHA-256 of its password."""
    lines = ["user default off"]
    for environment in ENVIRONMENTS:
        digest = hashlib.sha256(passwords[environment.name].encode()).hexdigest()
        lines.append(f"user {environment.cache_user} {access_strings[environment.name]} #{digest}")
    return "\n".join(lines) + "\n"


def database_url(environment: Environment, password: str) -> str:
    options = quote(f"-c search_path={environment.schema}", safe="")
    return (
        f"postgresql://{environment.db_user}:{quote(password, safe='')}@"
        f"{ENDPOINTS['postgres']}/{environment.database}?options={options}"
    )


def redis_url(environment: Environment, password: str) -> str:
    return (
        f"redis://{environment.cache_user}:{quote(password, safe='')}@"
        f"{ENDPOINTS['valkey']}/{environment.redis_db}"
    )


@dataclass(frozen=True)
class LocalEnvironment:
    env_file: Path
    acl_file: Path


def write_local_env(
    local_dir: Path, access_strings: AccessStrings | None = None
) -> LocalEnvironment:
    rules = access_strings or cache_access_string
    env_path = local_dir / ENV_FILE
    existing = read_env_file(env_path)
    passwords = {
        name: existing.get(name) or secrets.token_urlsafe(24) for name in password_variables()
    }
    values = dict(passwords)
    for env in ENVIRONMENTS:
        prefix = env.name.upper()
        values[f"{prefix}_DATABASE_URL"] = database_url(env, passwords[_variable(env, "DB")])
        values[f"{prefix}_DB_SCHEMA"] = env.schema
        values[f"{prefix}_REDIS_URL"] = redis_url(env, passwords[_variable(env, "CACHE")])
    # What local/initdb/ bootstraps: the cluster Job's target, then the name of the
    # variable holding the role's password, per environment.
    values["LOCAL_DB_TARGETS"] = " ".join(
        f"{bootstrap.target(env)}:{_variable(env, 'DB')}" for env in ENVIRONMENTS
    )
    values["LOCAL_BUCKETS"] = " ".join(BUCKETS)
    values["AWS_ENDPOINT_URL"] = f"http://{ENDPOINTS['moto']}"

    env_path.parent.mkdir(parents=True, exist_ok=True)
    env_path.write_text(
        "# Written by `pingvas-infra local-env` for local/compose.yaml; never commit it.\n"
        + "".join(f"{key}={value}\n" for key, value in values.items()),
        encoding="utf-8",
    )
    env_path.chmod(0o600)
    acl_path = local_dir / ACL_FILE
    acl_path.parent.mkdir(parents=True, exist_ok=True)
    acl_path.write_text(
        acl_file(
            {env.name: rules(env) for env in ENVIRONMENTS},
            {env.name: passwords[_variable(env, "CACHE")] for env in ENVIRONMENTS},
        ),
        encoding="utf-8",
    )
    return LocalEnvironment(env_path, acl_path)
