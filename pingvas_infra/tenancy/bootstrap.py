"""The schema-bootstrap Job: bootstrap.sql, run inside the cluster (Aurora is private).

An init container reads the RDS-managed master secret through Pod Identity (a role allowed
to read that one secret) into a memory-backed emptyDir; the main container runs psql over
the SQL, once per environment. Both run as the same non-root user with a read-only root
filesystem and no capabilities, which the platform namespace's `restricted` Pod Security
level demands.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pingvas_infra.environments import Environment
from pingvas_infra.kube import (
    ALWAYS_PULL,
    env_vars,
    restricted_container_security,
    restricted_pod_security,
)
from pingvas_infra.labels import app_labels
from pingvas_infra.tables import load_table

SQL_DIR = Path(__file__).resolve().parent / "sql"
DATABASE_SQL_FILE = SQL_DIR / "database.sql"
SQL_FILE = SQL_DIR / "bootstrap.sql"
SCRIPT_FILE = SQL_DIR / "bootstrap.sh"

NAME = "schema-bootstrap"
SERVICE_ACCOUNT = NAME
CONFIG_MAP = NAME
ROLE_PASSWORDS_SECRET = f"{NAME}-roles"
POD_LABELS = app_labels(NAME)

# One unprivileged user for both containers: the init container's 0600 secret file must be
# readable by the main one. No passwd entry is needed (HOME and PGUSER are set).
RUN_AS = 65532
_SCRIPT_DIR = "/bootstrap"
_MASTER_DIR = "/run/master"
_ROLES_DIR = "/run/role-passwords"
_MASTER_FILE = f"{_MASTER_DIR}/secret.json"


def images() -> Mapping[str, str]:
    return load_table("tenancy")["images"]


def sql_text() -> str:
    return SQL_FILE.read_text(encoding="utf-8")


def database_sql_text() -> str:
    return DATABASE_SQL_FILE.read_text(encoding="utf-8")


def script_text() -> str:
    return SCRIPT_FILE.read_text(encoding="utf-8")


def limits(environment: Environment) -> tuple[int, str, str]:
    """(connection limit, statement timeout, idle-in-transaction timeout) of the
    environment's database role (tables/tenancy.yaml)."""
    row = load_table("tenancy")["databaseLimits"][environment.name]
    return (
        int(row["connectionLimit"]),
        str(row["statementTimeout"]),
        str(row["idleInTransactionSessionTimeout"]),
    )


def target(environment: Environment) -> str:
    """One BOOTSTRAP_TARGETS entry:
    role:schema:database:connection_limit:statement_timeout:idle_timeout."""
    fields = (environment.db_user, environment.schema, environment.database, *limits(environment))
    return ":".join(str(f) for f in fields)


def targets(environments: Sequence[Environment]) -> str:
    """BOOTSTRAP_TARGETS: what bootstrap.sh iterates over, one entry per environment."""
    return " ".join(target(env) for env in environments)


@dataclass(frozen=True)
class Database:
    """Where the Job connects, as plain values (resolved inside `Output.apply`)."""

    host: str
    port: int
    name: str
    master_username: str
    master_secret_arn: str

    @property
    def region(self) -> str:
        # arn:aws:secretsmanager:<region>:<account>:secret:<name>
        return self.master_secret_arn.split(":")[3]


def job_name(database: Database, environments: Sequence[Environment], verifiers: str) -> str:
    """`schema-bootstrap-<hash>`: a Job's pod template cannot change, so every change of
    what it runs (SQL, script, images, targets, database, role passwords) makes a new Job
    under a new name, which runs again; the SQL is idempotent."""
    content = json.dumps(
        {
            "sql": sql_text(),
            "database_sql": database_sql_text(),
            "script": script_text(),
            "images": dict(images()),
            "targets": targets(environments),
            "database": [database.host, database.port, database.name, database.master_username],
            "secret": database.master_secret_arn,
            "verifiers": verifiers,
        },
        sort_keys=True,
    )
    return f"{NAME}-{hashlib.sha256(content.encode()).hexdigest()[:10]}"


def job_spec(
    database: Database,
    environments: Sequence[Environment],
    *,
    backoff_limit: int,
    ttl_seconds: int,
) -> dict[str, Any]:
    """The Job's `spec`."""
    tmp = {"name": "tmp", "mountPath": "/tmp"}
    master = {"name": "master-secret", "mountPath": _MASTER_DIR}
    fetch_secret = {
        "name": "fetch-master-secret",
        "image": images()["awsCli"],
        "imagePullPolicy": ALWAYS_PULL,
        "command": [
            "/bin/sh",
            "-c",
            'umask 077 && aws secretsmanager get-secret-value --secret-id "$MASTER_SECRET_ARN"'
            ' --query SecretString --output text > "$MASTER_SECRET_FILE"',
        ],
        "env": env_vars(
            {
                "MASTER_SECRET_ARN": database.master_secret_arn,
                "MASTER_SECRET_FILE": _MASTER_FILE,
                "AWS_REGION": database.region,
                "HOME": "/tmp",
            }
        ),
        "volumeMounts": [master, tmp],
        "securityContext": restricted_container_security(),
        "resources": {
            "requests": {"cpu": "50m", "memory": "128Mi"},
            "limits": {"cpu": "500m", "memory": "256Mi"},
        },
    }
    run_sql = {
        "name": "psql",
        "image": images()["postgresClient"],
        "imagePullPolicy": ALWAYS_PULL,
        "command": ["/bin/sh", f"{_SCRIPT_DIR}/bootstrap.sh"],
        "env": env_vars(
            {
                "PGHOST": database.host,
                "PGPORT": str(database.port),
                "PGDATABASE": database.name,
                "PGUSER": database.master_username,
                # Aurora forces TLS (rds.force_ssl); the client refuses to talk without it.
                "PGSSLMODE": "require",
                "PGCONNECT_TIMEOUT": "10",
                "PGAPPNAME": NAME,
                "MASTER_SECRET_FILE": _MASTER_FILE,
                "ROLE_PASSWORDS_DIR": _ROLES_DIR,
                "BOOTSTRAP_DATABASE_SQL": f"{_SCRIPT_DIR}/database.sql",
                "BOOTSTRAP_SQL": f"{_SCRIPT_DIR}/bootstrap.sql",
                "BOOTSTRAP_TARGETS": targets(environments),
                "HOME": "/tmp",
            }
        ),
        "volumeMounts": [
            {"name": "bootstrap", "mountPath": _SCRIPT_DIR, "readOnly": True},
            {**master, "readOnly": True},
            {"name": "role-passwords", "mountPath": _ROLES_DIR, "readOnly": True},
            tmp,
        ],
        "securityContext": restricted_container_security(),
        "resources": {
            "requests": {"cpu": "50m", "memory": "64Mi"},
            "limits": {"cpu": "500m", "memory": "128Mi"},
        },
    }
    return {
        "backoffLimit": backoff_limit,
        # A run that hangs (database unreachable) ends instead of holding the Job open.
        "activeDeadlineSeconds": 900,
        "ttlSecondsAfterFinished": ttl_seconds,
        "template": {
            "metadata": {"labels": dict(POD_LABELS)},
            "spec": {
                "serviceAccountName": SERVICE_ACCOUNT,
                # Pod Identity mounts its own token; the pod never talks to the API server.
                "automountServiceAccountToken": False,
                "restartPolicy": "Never",
                # fsGroup: group-readable Pod Identity token and role-password files.
                "securityContext": restricted_pod_security(RUN_AS),
                "initContainers": [fetch_secret],
                "containers": [run_sql],
                "volumes": [
                    {
                        "name": "bootstrap",
                        "configMap": {"name": CONFIG_MAP, "defaultMode": 0o444},
                    },
                    {
                        "name": "role-passwords",
                        "secret": {"secretName": ROLE_PASSWORDS_SECRET, "defaultMode": 0o440},
                    },
                    # The master password only ever lives in memory, for this pod's life.
                    {"name": "master-secret", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}},
                    {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
                ],
            },
        },
    }
