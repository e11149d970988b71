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
import re
import shlex
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
from tests.support.iam import Decision
from tests.support.plan_graph import PlanRunner
from tests.support.servers import MotoServer, PostgresServer
from tests.support.storage_access import ACCOUNT, LISTED_ROLES, RESTORE, Stack
from tests.support.tools import aws_cli, require_tool, shellcheck_findings

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
    script: str, env: dict[str, str], tools: list[str], args: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join([*tools, os.environ.get("PATH", "")])
    return subprocess.run(
        ["bash", script, *(args or [])],
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
        self, user: str, password: str, schema: str | None = None, database: str = DATABASE
    ) -> subprocess.CompletedProcess[str]:
        env = self.containers["dump"]
        # The URL stands in for the prod db-credentials Secret; this server has no TLS,
        # and the URL's sslmode wins over the container's PGSSLMODE floor.
        url = self.server.url(database, user=user, password=password) + "?sslmode=disable"
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


# --- the restore runbook: scripts/restore-check.sh, run as the README shows it ------------------

RESTORE_CHECK = Path(__file__).resolve().parents[2] / "scripts" / "restore-check.sh"
README = RESTORE_CHECK.parents[1] / "README.md"
# The roles of a dump made on Aurora, here only while the dump is made: the master user
# owns the schema and grants prod's role its use, prod's role owns the tables.
GONE_ADMIN, GONE_PROD = "restore_test_admin", "restore_test_prod"
GONE_DATABASE = "restore_test_source"
GONE_ROWS = {"images": 4, "users": 3, "jobs": 1}
RESTORER, RESTORER_PASSWORD = "restore_test_restorer", "restorer-pw"
RESTORED = ("restore_test_newest", "restore_test_deleted", "restore_test_plain")


def _drop_restore_test_objects(server: PostgresServer) -> None:
    with psycopg.connect(server.dsn(), autocommit=True) as admin:
        for database in (GONE_DATABASE, *RESTORED):
            admin.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        for role in (GONE_PROD, GONE_ADMIN, RESTORER):
            admin.execute(f"DROP ROLE IF EXISTS {role}")


@pytest.fixture
def departed_dump(
    postgres_server: PostgresServer, s3: FakeS3, containers: dict[str, ContainerEnv], tmp_path: Path
) -> Iterator[BackupPod]:
    """A dump the backup pod made and uploaded, of a schema whose roles and database are
    gone since: a scratch server knows nothing of Aurora's roles."""
    _drop_restore_test_objects(postgres_server)
    with psycopg.connect(postgres_server.dsn(), autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {GONE_ADMIN}")
        admin.execute(f"CREATE ROLE {GONE_PROD} LOGIN PASSWORD '{PROD_PASSWORD}'")
        admin.execute(f"CREATE DATABASE {GONE_DATABASE}")
        admin.execute(f"CREATE ROLE {RESTORER} LOGIN CREATEDB PASSWORD '{RESTORER_PASSWORD}'")
    with psycopg.connect(postgres_server.dsn(GONE_DATABASE), autocommit=True) as connection:
        cursor = connection.cursor()
        cursor.execute(f"CREATE SCHEMA {PROD_SCHEMA} AUTHORIZATION {GONE_ADMIN}")
        cursor.execute(f"GRANT USAGE, CREATE ON SCHEMA {PROD_SCHEMA} TO {GONE_PROD}")
        cursor.execute(
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {GONE_ADMIN} IN SCHEMA {PROD_SCHEMA}"
            f" GRANT SELECT ON TABLES TO {GONE_PROD}"
        )
        for table, count in GONE_ROWS.items():
            cursor.execute(
                f"CREATE TABLE {PROD_SCHEMA}.{table} (id bigserial PRIMARY KEY, payload text)"
            )
            cursor.execute(f"ALTER TABLE {PROD_SCHEMA}.{table} OWNER TO {GONE_PROD}")
            cursor.execute(
                f"INSERT INTO {PROD_SCHEMA}.{table} (payload) SELECT 'p' || g"
                f" FROM generate_series(1, {count}) g"
            )
    assert row_counts(postgres_server, GONE_DATABASE, PROD_SCHEMA) == GONE_ROWS
    s3.client().put_bucket_versioning(
        Bucket=s3.bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    scratch, home = tmp_path / "backup", tmp_path / "home"
    scratch.mkdir()
    home.mkdir()
    pod = BackupPod(postgres_server, s3, containers, scratch, home)
    dumped = pod.dump(GONE_PROD, PROD_PASSWORD, database=GONE_DATABASE)
    assert dumped.returncode == 0, dumped.stderr
    uploaded = pod.upload()
    assert uploaded.returncode == 0, uploaded.stderr
    with psycopg.connect(postgres_server.dsn(), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {GONE_DATABASE} WITH (FORCE)")
        admin.execute(f"DROP ROLE {GONE_PROD}")
        admin.execute(f"DROP ROLE {GONE_ADMIN}")
    try:
        yield pod
    finally:
        _drop_restore_test_objects(postgres_server)


def readme_restore_profile() -> str:
    """The README's ~/.aws/config block for the restore role."""
    blocks = re.findall(
        r"```ini\n(# ~/\.aws/config\n\[profile pingvas-restore\].*?)```", README.read_text(), re.S
    )
    (block,) = blocks
    return block


@dataclass(frozen=True)
class Restorer:
    """A person at a workstation: the README's profile pointing at moto, a scratch
    PostgreSQL user without superuser, and a log of every `aws` command they run."""

    pod: BackupPod
    home: Path
    tools: Path
    calls_log: Path

    def restore(self, *args: str, database: str) -> subprocess.CompletedProcess[str]:
        server = self.pod.server
        env = {
            "HOME": str(self.home),
            "AWS_CALL_LOG": str(self.calls_log),
            "AWS_ENDPOINT_URL": self.pod.s3.server.endpoint,
            "AWS_DEFAULT_REGION": self.pod.s3.server.region,
            "AWS_EC2_METADATA_DISABLED": "true",
            "PGHOST": server.host,
            "PGPORT": str(server.port),
            "PGUSER": RESTORER,
            "PGPASSWORD": RESTORER_PASSWORD,
            "RESTORE_DATABASE": database,
        }
        return run_script(
            str(RESTORE_CHECK), env, [str(self.tools), str(server.bindir)], args=list(args)
        )

    def s3_calls(self) -> list[list[str]]:
        """Every `aws` command line run, without the `aws`."""
        return [shlex.split(line) for line in self.calls_log.read_text().splitlines()]


@pytest.fixture
def restorer(departed_dump: BackupPod, tmp_path: Path) -> Restorer:
    home, tools = tmp_path / "workstation", tmp_path / "workstation-bin"
    (home / ".aws").mkdir(parents=True)
    tools.mkdir()
    profile = (
        readme_restore_profile()
        .replace("<account>", ACCOUNT)
        .replace("<your profile>", "oncall")
        .replace("<your name>", "test")
    )
    (home / ".aws" / "config").write_text(profile + "[profile oncall]\nregion = us-east-1\n")
    (home / ".aws" / "credentials").write_text(
        "[oncall]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
    )
    calls_log = tmp_path / "aws-calls"
    calls_log.touch()
    # `aws` as the person runs it, each command line written down first.
    wrapper = tools / "aws"
    wrapper.write_text(
        '#!/bin/bash\nprintf "%q " "$@" >>"$AWS_CALL_LOG"\necho >>"$AWS_CALL_LOG"\n'
        f'exec {shlex.quote(aws_cli())} "$@"\n'
    )
    wrapper.chmod(0o755)
    return Restorer(departed_dump, home, tools, calls_log)


def restored_counts(output: str) -> dict[str, int]:
    """The script's row counts ("schema.table count" lines)."""
    counts = {}
    for line in output.splitlines():
        table, count = line.rsplit(" ", 1)
        schema, name = table.split(".")
        assert schema == PROD_SCHEMA, line
        counts[name] = int(count)
    return counts


def test_the_runbook_restores_a_dump_whose_roles_the_scratch_server_lacks(
    restorer: Restorer, tmp_path: Path
) -> None:
    s3 = restorer.pod.s3
    (key,) = s3.keys()
    newest = restorer.restore(s3.bucket, database=RESTORED[0])
    assert newest.returncode == 0, newest.stderr
    assert key in newest.stderr  # the listing the person chooses from
    assert restored_counts(newest.stdout) == GONE_ROWS
    assert row_counts(restorer.pod.server, RESTORED[0], PROD_SCHEMA) == GONE_ROWS

    # A dump deleted by mistake: a delete marker on top, the version still readable.
    (version,) = s3.client().list_object_versions(Bucket=s3.bucket, Prefix=key)["Versions"]
    s3.client().delete_object(Bucket=s3.bucket, Key=key)
    assert s3.keys() == []
    nothing_current = restorer.restore(s3.bucket, database=RESTORED[1])
    assert nothing_current.returncode != 0
    assert "no dump under" in nothing_current.stderr
    deleted = restorer.restore(s3.bucket, key, version["VersionId"], database=RESTORED[1])
    assert deleted.returncode == 0, deleted.stderr
    assert restored_counts(deleted.stdout) == GONE_ROWS

    # Without the runbook's two flags, the same dump does not restore here.
    archive = tmp_path / "plain.dump"
    s3.client().download_file(
        s3.bucket, key, str(archive), ExtraArgs={"VersionId": version["VersionId"]}
    )
    server = restorer.pod.server
    with psycopg.connect(server.dsn(), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {RESTORED[2]} OWNER {RESTORER}")
    plain = subprocess.run(
        [
            server.tool("pg_restore"),
            "--exit-on-error",
            f"--dbname={server.url(RESTORED[2], user=RESTORER, password=RESTORER_PASSWORD)}",
            str(archive),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert plain.returncode != 0
    assert f'role "{GONE_ADMIN}" does not exist' in plain.stderr


def test_the_runbook_refuses_a_pg_restore_older_than_the_dump(
    restorer: Restorer, tmp_path: Path
) -> None:
    """A dump of a newer pg_dump (Aurora's 17 against a workstation's 16, here the header of
    this server's dump claiming a major it lacks): refused by name, no database left."""
    s3 = restorer.pod.s3
    (key,) = s3.keys()
    archive = tmp_path / "real.dump"
    s3.client().download_file(s3.bucket, key, str(archive))
    server = restorer.pod.server
    version = subprocess.run(
        [server.tool("pg_restore"), "--version"], capture_output=True, text=True, check=True
    ).stdout.split()[2]  # "pg_restore (PostgreSQL) 15.18 (...)"
    major, rest = version.split(".", 1)
    newer = str(int(major) + 50)
    header = archive.read_bytes().replace(version.encode(), f"{newer}.{rest}".encode())
    s3.client().put_object(Bucket=s3.bucket, Key="prod/from-a-newer-pg-dump.dump", Body=header)
    refused = restorer.restore(s3.bucket, "prod/from-a-newer-pg-dump.dump", database=RESTORED[0])
    assert refused.returncode != 0
    assert f"the dump was made by pg_dump {newer} and pg_restore is {major}" in refused.stderr
    with psycopg.connect(server.dsn()) as admin:
        assert admin.execute(
            "SELECT count(*) FROM pg_database WHERE datname = %s", (RESTORED[0],)
        ).fetchone() == (0,)


def _iam_request(call: list[str]) -> tuple[str, str, dict[str, str]]:
    """(IAM action, object key or "" for the bucket, condition keys) of one s3api call."""
    service, command, *rest = call
    assert service == "s3api", f"not an s3api call, which maps to one IAM action: {call}"
    options = dict(zip(rest[::2], rest[1::2], strict=False))
    if command == "list-object-versions":
        return "s3:ListBucketVersions", "", {"s3:prefix": options.get("--prefix", "")}
    if command == "get-object":
        action = "s3:GetObjectVersion" if "--version-id" in options else "s3:GetObject"
        return action, options["--key"], {}
    raise AssertionError(f"an S3 call the restore role is not checked for: {call}")


def test_every_s3_call_of_the_runbook_is_allowed_to_the_restore_role(
    restorer: Restorer, run_plan: PlanRunner
) -> None:
    s3 = restorer.pod.s3
    (key,) = s3.keys()
    (version,) = s3.client().list_object_versions(Bucket=s3.bucket, Prefix=key)["Versions"]
    assert restorer.restore(s3.bucket, database=RESTORED[0]).returncode == 0
    assert (
        restorer.restore(s3.bucket, key, version["VersionId"], database=RESTORED[1]).returncode == 0
    )
    # The overrides of the storage tests' stack: one plan for both.
    stack = Stack(run_plan(LISTED_ROLES))
    principal, policies = stack.identity(RESTORE)
    requests = {_iam_request(call)[:2] for call in restorer.s3_calls()}
    assert {action for action, _ in requests} == {
        "s3:ListBucketVersions",
        "s3:GetObject",
        "s3:GetObjectVersion",
    }
    for call in restorer.s3_calls():
        action, path, context = _iam_request(call)
        assert stack.s3(principal, policies, action, "backups", path, context) is (
            Decision.ALLOW
        ), call
    assert stack.kms(principal, policies, "kms:Decrypt", "backups") is Decision.ALLOW
    # What the runbook does not do: the same listing without the prefix is refused.
    assert (
        stack.s3(principal, policies, "s3:ListBucketVersions", "backups", context={})
        is not Decision.ALLOW
    )


def test_the_readme_names_the_restore_flags_the_script_runs() -> None:
    (flags,) = re.findall(r"^pg_restore (--[^\n]*?) \\$", RESTORE_CHECK.read_text(), re.M)
    assert f"`pg_restore {flags}`" in README.read_text()


def test_the_restore_check_passes_shellcheck() -> None:
    assert shellcheck_findings(RESTORE_CHECK) == ""
