"""The backup scripts the CronJob mounts, run here exactly as its pod runs them.

Each script gets its container's environment from the stack's CronJob (the default graph),
with only what points at the cloud replaced: backup-dump.sh runs against the session's
real PostgreSQL (its own pg_dump and pg_restore), backup-upload.sh against moto's S3
server through the AWS CLI from PyPI (`awscli`, the same `aws s3 cp` command line as the
amazon/aws-cli image in the pod). The pod runs them in sequence (init container, then main
container); so does each test.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pingvas_infra import resource_types as rt
from pingvas_infra.environments import PROD
from pingvas_infra.operations import backup
from pingvas_infra.plan.model import PlanResult
from tests.support.servers import MotoServer, PostgresServer
from tests.support.tools import aws_cli, require_tool

pytestmark = pytest.mark.postgres

SCRIPTS_DIR = Path(backup.__file__).parent / "scripts"
DUMP, UPLOAD = (str(SCRIPTS_DIR / name) for name in backup.SCRIPTS)

DATABASE = "backup_test_source"
PROD_SCHEMA = PROD.schema
DEV_SCHEMA = "dev_pingvas"
# Role names of this test only: the session server is shared with the tenancy tests,
# whose bootstrap owns dev_user and prod_user.
PROD_ROLE, DEV_ROLE = "backup_test_prod", "backup_test_dev"
PROD_PASSWORD, DEV_PASSWORD = "prod-role-pw", "dev-role-pw"
PROD_ROWS = {"images": 3, "users": 2}
DEV_ROWS = {"images": 5, "dev_only_marker": 1}
ContainerEnv = dict[str, str]


def _create_schema(cursor: psycopg.Cursor, schema: str, owner: str, rows: dict[str, int]) -> None:
    cursor.execute(f"CREATE SCHEMA {schema} AUTHORIZATION {owner}")
    for table, count in rows.items():
        cursor.execute(
            f"CREATE TABLE {schema}.{table} (id bigserial PRIMARY KEY, payload text NOT NULL)"
        )
        cursor.execute(f"ALTER TABLE {schema}.{table} OWNER TO {owner}")
        cursor.execute(
            f"INSERT INTO {schema}.{table} (payload) "
            f"SELECT '{schema}-' || g FROM generate_series(1, {count}) g"
        )


@pytest.fixture(scope="module")
def source_database(postgres_server: PostgresServer) -> Iterator[PostgresServer]:
    """One database, two schemas with rows, each owned by its environment's role."""
    with psycopg.connect(postgres_server.dsn(), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        for role, password in ((PROD_ROLE, PROD_PASSWORD), (DEV_ROLE, DEV_PASSWORD)):
            admin.execute(f"DROP ROLE IF EXISTS {role}")
            admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
        admin.execute(f"CREATE DATABASE {DATABASE}")
    with psycopg.connect(postgres_server.dsn(DATABASE), autocommit=True) as connection:
        cursor = connection.cursor()
        cursor.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        _create_schema(cursor, PROD_SCHEMA, PROD_ROLE, PROD_ROWS)
        _create_schema(cursor, DEV_SCHEMA, DEV_ROLE, DEV_ROWS)
    yield postgres_server
    with psycopg.connect(postgres_server.dsn(), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        admin.execute("DROP DATABASE IF EXISTS backup_test_restore WITH (FORCE)")
        admin.execute(f"DROP ROLE IF EXISTS {PROD_ROLE}")
        admin.execute(f"DROP ROLE IF EXISTS {DEV_ROLE}")


@pytest.fixture(scope="module")
def containers(graph: PlanResult) -> dict[str, ContainerEnv]:
    """Container name -> the plain environment the stack's backup CronJob gives it."""
    (cron_job,) = [
        c for c in graph.of_type(rt.CRON_JOB) if c.inputs["metadata"]["name"] == backup.NAME
    ]
    pod = cron_job.inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return {
        container["name"]: {e["name"]: e["value"] for e in container["env"] if "value" in e}
        for container in [*pod["initContainers"], *pod["containers"]]
    }


@dataclass(frozen=True)
class FakeS3:
    """moto with the stack's backups bucket and a stand-in for the prod KMS key."""

    server: MotoServer
    bucket: str
    kms_key_arn: str

    def client(self) -> Any:
        return self.server.client("s3")

    def keys(self) -> list[str]:
        listing = self.client().list_objects_v2(Bucket=self.bucket)
        return sorted(o["Key"] for o in listing.get("Contents", []))


@pytest.fixture
def s3(moto_server: MotoServer, containers: dict[str, ContainerEnv]) -> FakeS3:
    bucket = containers["upload"]["BACKUP_BUCKET"]
    moto_server.client("s3").create_bucket(Bucket=bucket)
    key = moto_server.client("kms").create_key(Description="prod backups")
    return FakeS3(moto_server, bucket, key["KeyMetadata"]["Arn"])


def run_script(
    script: str, env: dict[str, str], tools: list[str]
) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join([*tools, os.environ.get("PATH", "")])
    return subprocess.run(
        ["bash", script],
        env={"PATH": path, "LANG": "C.UTF-8", **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@dataclass(frozen=True)
class BackupPod:
    """The two containers of the backup pod, sharing one scratch directory."""

    server: PostgresServer
    s3: FakeS3
    containers: dict[str, ContainerEnv]
    scratch: Path
    home: Path

    def dump(
        self, user: str, password: str, schema: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = self.containers["dump"]
        # The URL stands in for the prod db-credentials Secret; this server has no TLS,
        # and the URL's sslmode wins over the container's PGSSLMODE floor.
        url = self.server.url(DATABASE, user=user, password=password) + "?sslmode=disable"
        return run_script(
            DUMP,
            {
                **env,
                "DATABASE_URL": url,
                "DB_SCHEMA": schema or env["DB_SCHEMA"],
                "BACKUP_DIR": str(self.scratch),
            },
            [str(self.server.bindir)],
        )

    def upload(self, bucket: str | None = None) -> subprocess.CompletedProcess[str]:
        return run_script(
            UPLOAD,
            {
                **self.containers["upload"],
                "BACKUP_DIR": str(self.scratch),
                "BACKUP_BUCKET": bucket or self.s3.bucket,
                "KMS_KEY_ARN": self.s3.kms_key_arn,
                **self.s3.server.cli_env(self.home),
            },
            [str(Path(aws_cli()).parent)],
        )


@pytest.fixture
def pod(
    source_database: PostgresServer,
    s3: FakeS3,
    containers: dict[str, ContainerEnv],
    tmp_path: Path,
) -> BackupPod:
    scratch, home = tmp_path / "backup", tmp_path / "home"
    scratch.mkdir()
    home.mkdir()
    return BackupPod(source_database, s3, containers, scratch, home)


def row_counts(server: PostgresServer, database: str, schema: str) -> dict[str, int]:
    with psycopg.connect(server.dsn(database)) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (schema,),
            )
        ]
        return {
            table: connection.execute(f"SELECT count(*) FROM {schema}.{table}").fetchone()[0]  # type: ignore[index]
            for table in tables
        }


def test_the_pod_dumps_the_prod_schema(containers: dict[str, ContainerEnv]) -> None:
    assert containers["dump"]["DB_SCHEMA"] == containers["upload"]["DB_SCHEMA"] == PROD_SCHEMA


def test_dump_lands_under_prod_only_encrypted_and_restores_with_the_same_rows(
    pod: BackupPod, tmp_path: Path
) -> None:
    dumped = pod.dump(PROD_ROLE, PROD_PASSWORD)
    assert dumped.returncode == 0, dumped.stderr
    uploaded = pod.upload()
    assert uploaded.returncode == 0, uploaded.stderr

    keys = pod.s3.keys()
    assert len(keys) == 1
    (key,) = keys
    assert key.startswith(f"{backup.PREFIX}/")
    assert key.endswith(".dump")
    head = pod.s3.client().head_object(Bucket=pod.s3.bucket, Key=key)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == pod.s3.kms_key_arn

    # What S3 holds, not the local file, is what gets checked and restored.
    archive = tmp_path / "downloaded.dump"
    pod.s3.client().download_file(pod.s3.bucket, key, str(archive))
    listing = subprocess.run(
        [pod.server.tool("pg_restore"), "--list", str(archive)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert PROD_SCHEMA in listing
    assert DEV_SCHEMA not in listing
    assert "dev_only_marker" not in listing

    with psycopg.connect(pod.server.dsn(), autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS backup_test_restore")
        admin.execute("CREATE DATABASE backup_test_restore")
    restored = subprocess.run(
        [
            pod.server.tool("pg_restore"),
            "--exit-on-error",
            f"--dbname={pod.server.url('backup_test_restore')}",
            str(archive),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert restored.returncode == 0, restored.stderr
    assert row_counts(pod.server, "backup_test_restore", PROD_SCHEMA) == PROD_ROWS
    assert row_counts(pod.server, "backup_test_restore", PROD_SCHEMA) == row_counts(
        pod.server, DATABASE, PROD_SCHEMA
    )
    assert row_counts(pod.server, "backup_test_restore", DEV_SCHEMA) == {}


def test_bad_credentials_fail_the_dump_and_nothing_is_uploaded(pod: BackupPod) -> None:
    dumped = pod.dump(PROD_ROLE, "not-the-password")
    assert dumped.returncode != 0
    assert "password authentication failed" in dumped.stderr
    # Nothing is left for the upload to pick up, half-written or whole.
    assert list(pod.scratch.iterdir()) == []

    uploaded = pod.upload()
    assert uploaded.returncode != 0
    assert "nothing uploaded" in uploaded.stderr
    assert pod.s3.keys() == []


def test_the_prod_role_cannot_dump_the_dev_schema(pod: BackupPod) -> None:
    """Even a misconfigured DB_SCHEMA cannot leak dev: prod's role has no rights there."""
    dumped = pod.dump(PROD_ROLE, PROD_PASSWORD, DEV_SCHEMA)
    assert dumped.returncode != 0
    assert "permission denied" in dumped.stderr
    assert list(pod.scratch.iterdir()) == []


def test_a_missing_schema_fails_instead_of_writing_an_empty_archive(pod: BackupPod) -> None:
    dumped = pod.dump(PROD_ROLE, PROD_PASSWORD, "prod_pingvas_typo")
    assert dumped.returncode != 0
    assert "no matching schemas" in dumped.stderr
    assert list(pod.scratch.iterdir()) == []


def test_a_failed_upload_exits_non_zero(pod: BackupPod) -> None:
    assert pod.dump(PROD_ROLE, PROD_PASSWORD).returncode == 0
    uploaded = pod.upload(bucket="no-such-bucket")
    assert uploaded.returncode != 0
    assert "NoSuchBucket" in uploaded.stderr
    assert pod.s3.keys() == []


def test_the_scripts_pass_shellcheck() -> None:
    shellcheck = require_tool("shellcheck")
    done = subprocess.run(
        [shellcheck, "--shell=bash", "--severity=style", DUMP, UPLOAD],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout
