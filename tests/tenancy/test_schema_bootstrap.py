"""Schema separation, proven against a real PostgreSQL server.

The database is set up as RDS sets up Aurora: the admin (master) user is NOT a superuser,
has CREATEROLE and owns the application database. The schema-bootstrap Job's own script
(bootstrap.sh, which runs bootstrap.sql once per environment) runs twice as that admin,
reading the admin password out of an RDS-style secret file as the Job does, with the
environment the stack's Job gives its container (database, master user, targets: the
default graph), only where it connects replaced. Then each environment's role is tried
against the other's schema.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import errors, sql

from pingvas_infra import resource_types as rt
from pingvas_infra.environments import DEV, ENVIRONMENTS, PROD, Environment
from pingvas_infra.plan.model import PlanResult
from pingvas_infra.tenancy import bootstrap
from pingvas_infra.tenancy.credentials import database_url, scram_sha256_verifier
from tests.support.servers import PostgresServer

pytestmark = pytest.mark.postgres

# What the Job's JSON extraction must survive: a backslash (escaped in JSON), a quote,
# a colon and a percent sign. RDS passwords never hold '"', '/' or '@'.
ADMIN_PASSWORD = "adm\\in'pa:ss%w0rd"
INTRUDER = "pingvas_intruder"
# A database both roles may connect to: a shared layout (one database, two schemas), kept
# to show each sideways leak the per-environment databases close.
SHARED_LAYOUT = "pingvas_shared_layout_check"
INTRUDER_PASSWORD = "intruder-password"


@dataclass(frozen=True)
class JobEnvironment:
    """The plain environment of the stack's schema-bootstrap container."""

    values: dict[str, str]

    @property
    def database(self) -> str:
        return self.values["PGDATABASE"]

    @property
    def admin(self) -> str:
        return self.values["PGUSER"]


@pytest.fixture(scope="module")
def job_env(graph: PlanResult) -> JobEnvironment:
    (job,) = graph.of_type(rt.JOB)
    (container,) = job.inputs["spec"]["template"]["spec"]["containers"]
    values = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    # The data layer's database and master user.
    aurora = graph.one(rt.RDS_CLUSTER).inputs
    assert (values["PGDATABASE"], values["PGUSER"]) == (
        aurora["databaseName"],
        aurora["masterUsername"],
    )
    return JobEnvironment(values)


@dataclass
class Database:
    server: PostgresServer
    job: JobEnvironment
    workdir: Path
    passwords: dict[str, str]
    runs: list[subprocess.CompletedProcess[str]]

    def connect(
        self, env: Environment, password: str | None = None, database: str | None = None
    ) -> psycopg.Connection:
        """Connect as the environment's role with the DATABASE_URL its Secret carries
        (``database``: try another database with the same credentials)."""
        url = database_url(
            user=env.db_user,
            password=self.passwords[env.name] if password is None else password,
            host=self.server.host,
            port=self.server.port,
            database=database or env.database,
            schema=env.schema,
        )
        # The URL requires TLS (Aurora forces it); this local server speaks plain TCP.
        return psycopg.connect(url, sslmode="disable", autocommit=True)

    def admin(self, database: str | None = None) -> psycopg.Connection:
        # Keyword arguments: the admin password holds a quote and a backslash.
        return psycopg.connect(
            host=self.server.host,
            port=self.server.port,
            dbname=database or self.job.database,
            user=self.job.admin,
            password=ADMIN_PASSWORD,
            autocommit=True,
        )

    def dsn(self, user: str, password: str, database: str | None = None) -> str:
        return self.server.dsn(database or self.job.database, user, password)

    def bootstrap(
        self, passwords: Mapping[str, str], shell: list[str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return run_bootstrap(self.server, self.job, self.workdir, passwords, shell=shell)


def run_bootstrap(
    server: PostgresServer,
    job: JobEnvironment,
    workdir: Path,
    passwords: Mapping[str, str],
    *,
    shell: list[str] | None = None,
    path: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the Job's main container command (bootstrap.sh) as the Job would."""
    secret_file = workdir / "master-secret.json"
    secret_file.write_text(json.dumps({"username": job.admin, "password": ADMIN_PASSWORD}))
    roles_dir = workdir / "role-passwords"
    roles_dir.mkdir(exist_ok=True)
    for env in ENVIRONMENTS:
        verifier = scram_sha256_verifier(passwords[env.name], secrets.token_bytes(16))
        (roles_dir / env.db_user).write_text(verifier)
    environment = {
        **job.values,
        # Where the container connects and where its mounted files are, locally.
        "PATH": path or f"{Path(server.tool('psql')).parent}:{os.environ['PATH']}",
        "PGHOST": server.host,
        "PGPORT": str(server.port),
        "PGSSLMODE": "disable",
        "MASTER_SECRET_FILE": str(secret_file),
        "ROLE_PASSWORDS_DIR": str(roles_dir),
        "BOOTSTRAP_DATABASE_SQL": str(bootstrap.DATABASE_SQL_FILE),
        "BOOTSTRAP_SQL": str(bootstrap.SQL_FILE),
    }
    return subprocess.run(
        [*(shell or ["sh"]), str(bootstrap.SCRIPT_FILE)],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _drop_everything(superuser: psycopg.Connection, job: JobEnvironment) -> None:
    for database in (job.database, SHARED_LAYOUT, *(env.database for env in ENVIRONMENTS)):
        superuser.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
        )
    for role in (*(env.db_user for env in ENVIRONMENTS), job.admin, INTRUDER):
        superuser.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


@pytest.fixture(scope="module")
def database(
    postgres_server: PostgresServer,
    job_env: JobEnvironment,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Database]:
    with psycopg.connect(postgres_server.dsn(), autocommit=True) as superuser:
        _drop_everything(superuser, job_env)
        # The RDS master user: CREATEROLE and CREATEDB, owner of the database, no superuser.
        superuser.execute(
            sql.SQL("CREATE ROLE {} LOGIN CREATEROLE CREATEDB PASSWORD {}").format(
                sql.Identifier(job_env.admin), sql.Literal(ADMIN_PASSWORD)
            )
        )
        superuser.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(job_env.database), sql.Identifier(job_env.admin)
            )
        )
        superuser.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(INTRUDER), sql.Literal(INTRUDER_PASSWORD)
            )
        )
    with psycopg.connect(postgres_server.dsn(job_env.database), autocommit=True) as superuser:
        # A cluster upgraded from PostgreSQL 14 or older still lets PUBLIC create in public.
        superuser.execute("GRANT CREATE ON SCHEMA public TO PUBLIC")
    workdir = tmp_path_factory.mktemp("bootstrap")
    passwords = {env.name: secrets.token_urlsafe(24) for env in ENVIRONMENTS}
    runs = [run_bootstrap(postgres_server, job_env, workdir, passwords) for _ in range(2)]
    yield Database(postgres_server, job_env, workdir, passwords, runs)
    with psycopg.connect(postgres_server.dsn(), autocommit=True) as superuser:
        _drop_everything(superuser, job_env)


def test_the_job_bootstraps_every_environment(job_env: JobEnvironment) -> None:
    targets = [t.split(":") for t in job_env.values["BOOTSTRAP_TARGETS"].split()]
    assert [t[:3] for t in targets] == [
        [env.db_user, env.schema, env.database] for env in ENVIRONMENTS
    ]
    assert len({t[2] for t in targets} | {job_env.database}) == len(ENVIRONMENTS) + 1


def test_bootstrap_runs_twice_as_a_non_superuser(database: Database) -> None:
    for run in database.runs:
        assert run.returncode == 0, run.stderr
        assert "bootstrap: done" in run.stdout
    with database.admin() as admin:
        (is_super,) = admin.execute(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone()  # type: ignore[misc]
    assert is_super is False


@pytest.mark.parametrize("env", ENVIRONMENTS, ids=lambda e: e.name)
def test_each_role_lands_in_its_own_schema(database: Database, env: Environment) -> None:
    table = f"landing_{secrets.token_hex(4)}"
    with database.connect(env) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (env.db_user,)
        assert conn.execute("SELECT current_schema()").fetchone() == (env.schema,)
        conn.execute(sql.SQL("CREATE TABLE {} (id int)").format(sql.Identifier(table)))
        (schema,) = conn.execute(
            "SELECT relnamespace::regnamespace::text FROM pg_class WHERE relname = %s", (table,)
        ).fetchone()  # type: ignore[misc]
    assert schema == env.schema
    # The role's own default, without the URL's options, is its schema too.
    with psycopg.connect(
        database.dsn(env.db_user, database.passwords[env.name], env.database), autocommit=True
    ) as plain:
        assert plain.execute("SHOW search_path").fetchone() == (env.schema,)


@pytest.mark.parametrize(
    ("intruder", "owner"), [(DEV, PROD), (PROD, DEV)], ids=["dev-into-prod", "prod-into-dev"]
)
def test_a_role_cannot_reach_the_other_environments_database(
    database: Database, intruder: Environment, owner: Environment
) -> None:
    """Not even a connection: the other database is the owner's and the admin's only, and
    the initial database is the admin's alone."""
    table = sql.Identifier(owner.schema, f"private_{secrets.token_hex(4)}")
    with database.connect(owner) as conn:
        conn.execute(sql.SQL("CREATE TABLE {} (secret text)").format(table))
        conn.execute(sql.SQL("INSERT INTO {} VALUES ('owner only')").format(table))
    for target in (owner.database, database.job.database):
        with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
            database.connect(intruder, database=target).close()
    # In its own database the other schema does not exist at all.
    with database.connect(intruder) as conn:
        assert conn.execute(
            "SELECT count(*) FROM pg_namespace WHERE nspname = %s", (owner.schema,)
        ).fetchone() == (0,)
    with database.connect(owner) as conn:
        assert conn.execute(sql.SQL("SELECT secret FROM {}").format(table)).fetchall() == [
            ("owner only",)
        ]


@pytest.mark.parametrize("env", ENVIRONMENTS, ids=lambda e: e.name)
def test_no_role_creates_in_public(database: Database, env: Environment) -> None:
    with database.connect(env) as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute("CREATE TABLE public.planted (id int)")


def test_what_the_admin_creates_in_a_schema_is_its_roles_alone(database: Database) -> None:
    """Default privileges: a migration run as the master user yields tables the schema's
    role can use and the other role cannot."""
    table = sql.Identifier(PROD.schema, f"migrated_{secrets.token_hex(4)}")
    with database.admin(PROD.database) as admin:
        admin.execute(sql.SQL("CREATE TABLE {} (id serial, note text)").format(table))
    with database.connect(PROD) as prod:
        prod.execute(sql.SQL("INSERT INTO {} (note) VALUES ('ok')").format(table))
        assert prod.execute(sql.SQL("SELECT note FROM {}").format(table)).fetchall() == [("ok",)]
    with database.admin(PROD.database) as admin:
        # What the admin grants later, per table, stays with the schema's role too.
        admin.execute(sql.SQL("GRANT SELECT ON {} TO PUBLIC").format(table))
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        database.connect(DEV, database=PROD.database).close()


def test_only_granted_roles_connect(database: Database) -> None:
    for target in (database.job.database, *(env.database for env in ENVIRONMENTS)):
        with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
            psycopg.connect(database.dsn(INTRUDER, INTRUDER_PASSWORD, target)).close()


def test_a_rerun_keeps_the_data_and_applies_new_passwords(database: Database) -> None:
    table = sql.Identifier(DEV.schema, f"kept_{secrets.token_hex(4)}")
    with database.connect(DEV) as conn:
        conn.execute(sql.SQL("CREATE TABLE {} (id int)").format(table))
        conn.execute(sql.SQL("INSERT INTO {} VALUES (1)").format(table))
    old = dict(database.passwords)
    new = {env.name: secrets.token_urlsafe(24) for env in ENVIRONMENTS}
    run = database.bootstrap(new)
    assert run.returncode == 0, run.stderr
    database.passwords.update(new)
    try:
        with database.connect(DEV) as conn:
            assert conn.execute(sql.SQL("SELECT id FROM {}").format(table)).fetchall() == [(1,)]
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            database.connect(DEV, password=old["dev"]).close()
    finally:
        restored = database.bootstrap(old)
        assert restored.returncode == 0, restored.stderr
        database.passwords.update(old)


def test_a_missing_password_stops_the_run(database: Database) -> None:
    """Without the password variable psql fails instead of setting a wrong password."""
    connection_limit, statement_timeout, idle_timeout = bootstrap.limits(DEV)
    done = subprocess.run(
        [
            database.server.tool("psql"),
            "--no-psqlrc",
            "--set",
            "ON_ERROR_STOP=1",
            "--set",
            f"role={DEV.db_user}",
            "--set",
            f"database={DEV.database}",
            "--set",
            f"connection_limit={connection_limit}",
            "--set",
            f"statement_timeout={statement_timeout}",
            "--set",
            f"idle_timeout={idle_timeout}",
            "--file",
            str(bootstrap.DATABASE_SQL_FILE),
        ],
        env={
            "PGHOST": database.server.host,
            "PGPORT": str(database.server.port),
            "PGDATABASE": database.job.database,
            "PGUSER": database.job.admin,
            "PGPASSWORD": ADMIN_PASSWORD,
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode != 0
    assert "syntax error" in done.stderr
    with database.connect(DEV) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_the_job_script_runs_under_busybox_as_in_the_alpine_image(
    database: Database, tmp_path: Path
) -> None:
    """The postgres alpine image has busybox's sh and sed: run the script with those."""
    busybox = _busybox()
    applets = tmp_path / "bin"
    applets.mkdir()
    for applet in ("sh", "sed", "cat", "echo"):
        (applets / applet).symlink_to(busybox)
    (applets / "psql").symlink_to(database.server.tool("psql"))
    run = run_bootstrap(
        database.server,
        database.job,
        tmp_path,
        database.passwords,
        shell=[str(applets / "sh")],
        path=str(applets),
    )
    assert run.returncode == 0, run.stderr
    with database.connect(PROD) as conn:
        assert conn.execute("SELECT current_schema()").fetchone() == (PROD.schema,)


def _busybox() -> str:
    import shutil  # noqa: PLC0415

    found = shutil.which("busybox")
    if found:
        return found
    message = "busybox not found; scripts/test.sh installs it"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " (CI=true: a missing tool is a failure)")
    pytest.skip(message)


# --- what a shared server leaks sideways -------------------------------------------------
#
# Attacks dev_user can run from its own connection, each against the stack's layout (a
# database per environment) and, where the layout is what stops it, against a shared one
# (one database holding both schemas), where it works.


@pytest.fixture(scope="module")
def shared_layout(database: Database) -> str:
    """A database both roles connect to: the shared layout."""
    with psycopg.connect(database.server.dsn(), autocommit=True) as superuser:
        superuser.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(SHARED_LAYOUT)))
        for env in ENVIRONMENTS:
            superuser.execute(
                sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                    sql.Identifier(SHARED_LAYOUT), sql.Identifier(env.db_user)
                )
            )
    with psycopg.connect(database.server.dsn(SHARED_LAYOUT), autocommit=True) as superuser:
        for env in ENVIRONMENTS:
            superuser.execute(
                sql.SQL("CREATE SCHEMA {} AUTHORIZATION {}").format(
                    sql.Identifier(env.schema), sql.Identifier(env.db_user)
                )
            )
    return SHARED_LAYOUT


def _notified(
    listener: psycopg.Connection, notifier: psycopg.Connection, channel: str
) -> list[str]:
    """Payloads ``listener`` receives when ``notifier`` notifies ``channel``. The listener
    is idle when the NOTIFY commits, so the server has sent the notification before the
    listener's next query returns."""
    received: list[str] = []
    listener.add_notify_handler(lambda n: received.append(n.payload))
    listener.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
    notifier.execute("SELECT pg_notify(%s, %s)", (channel, "order 4711 paid"))
    listener.execute("SELECT 1")
    return received


def test_dev_hears_none_of_prods_notifications(database: Database, shared_layout: str) -> None:
    with database.connect(DEV) as dev, database.connect(PROD) as prod:
        assert _notified(dev, prod, "orders") == []
    with (
        database.connect(DEV, database=shared_layout) as dev,
        database.connect(PROD, database=shared_layout) as prod,
    ):
        assert _notified(dev, prod, "orders") == ["order 4711 paid"]


def _catalog_names(conn: psycopg.Connection, schema: str) -> list[tuple[str, str]]:
    return conn.execute(
        """SELECT c.relname, a.attname FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
           WHERE n.nspname = %s ORDER BY 1, 2""",
        (schema,),
    ).fetchall()


def test_dev_reads_none_of_prods_table_or_column_names(
    database: Database, shared_layout: str
) -> None:
    for target in (PROD.database, shared_layout):
        with database.connect(PROD, database=target) as prod:
            prod.execute(
                sql.SQL("CREATE TABLE IF NOT EXISTS {} (card_number text)").format(
                    sql.Identifier(PROD.schema, "customer_payments")
                )
            )
    with database.connect(DEV) as dev:
        assert _catalog_names(dev, PROD.schema) == []
    with database.connect(DEV, database=shared_layout) as dev:
        assert ("customer_payments", "card_number") in _catalog_names(dev, PROD.schema)


def test_large_objects_and_advisory_locks_stay_in_their_database(
    database: Database, shared_layout: str
) -> None:
    with database.connect(PROD) as prod:
        (oid,) = prod.execute("SELECT lo_from_bytea(0, 'prod invoice')").fetchone()  # type: ignore[misc]
        prod.execute("SELECT pg_advisory_lock(4711)")
        with database.connect(DEV) as dev:
            assert dev.execute(
                "SELECT count(*) FROM pg_largeobject_metadata WHERE oid = %s", (oid,)
            ).fetchone() == (0,)
            # A lock key prod holds is free in dev's database: dev cannot block prod's jobs.
            assert dev.execute("SELECT pg_try_advisory_lock(4711)").fetchone() == (True,)
    with (
        database.connect(PROD, database=shared_layout) as prod,
        database.connect(DEV, database=shared_layout) as dev,
    ):
        prod.execute("SELECT pg_advisory_lock(4711)")
        assert dev.execute("SELECT pg_try_advisory_lock(4711)").fetchone() == (False,)


def test_dev_sees_prods_sessions_but_not_their_queries(database: Database) -> None:
    """pg_stat_activity is cluster-wide: dev sees that prod_user is connected (and to which
    database), never what it runs (accepted in docs/boundary.md)."""
    with database.connect(PROD) as prod, database.connect(DEV) as dev:
        prod.execute("SELECT 'prod secret query'")
        rows = dev.execute(
            "SELECT usename, datname, query FROM pg_stat_activity WHERE usename = %s",
            (PROD.db_user,),
        ).fetchall()
    assert rows
    for user, database_name, query in rows:
        assert (user, database_name) == (PROD.db_user, PROD.database)
        assert query == "<insufficient privilege>"


def test_dev_installs_no_extension_that_reads_across_databases(database: Database) -> None:
    """pg_stat_statements would show every database's statement statistics; dblink and
    postgres_fdw would open connections from the server itself. None is trusted, so only
    the admin can install one."""
    with database.connect(DEV) as dev:
        for extension in ("pg_stat_statements", "dblink", "postgres_fdw"):
            with pytest.raises(errors.InsufficientPrivilege):
                dev.execute(sql.SQL("CREATE EXTENSION {}").format(sql.Identifier(extension)))


def test_dev_holds_at_most_its_connection_limit(database: Database) -> None:
    """The server refuses dev's connection past its role's limit while prod still
    connects. Run with the limit lowered to 2 for the test (the bootstrap sets the
    table's value, checked first) and restored by the bootstrap."""
    limit, statement_timeout, idle_timeout = bootstrap.limits(DEV)
    with database.admin() as admin:
        assert admin.execute(
            "SELECT rolconnlimit FROM pg_roles WHERE rolname = %s", (DEV.db_user,)
        ).fetchone() == (limit,)
        admin.execute(
            sql.SQL("ALTER ROLE {} CONNECTION LIMIT 2").format(sql.Identifier(DEV.db_user))
        )
    try:
        with database.connect(DEV), database.connect(DEV):
            with pytest.raises(psycopg.OperationalError, match="too many connections for role"):
                database.connect(DEV).close()
            with database.connect(PROD) as prod:
                assert prod.execute("SELECT 1").fetchone() == (1,)
    finally:
        restored = database.bootstrap(database.passwords)
        assert restored.returncode == 0, restored.stderr
    with database.connect(DEV) as dev:
        assert dev.execute("SHOW statement_timeout").fetchone() == (statement_timeout,)
        assert dev.execute("SHOW idle_in_transaction_session_timeout").fetchone() == (idle_timeout,)
        # The timeouts are the role's defaults, not a boundary: a session may lift them.
        dev.execute("SET statement_timeout = 0")
        # temp_file_limit is a superuser setting: dev cannot lift the server's.
        with pytest.raises(errors.InsufficientPrivilege):
            dev.execute("SET temp_file_limit = -1")


# --- the databases every cluster starts with --------------------------------------------------

CLUSTER_DATABASES = ("postgres", "template1")


def test_no_session_in_template1_blocks_creating_an_environments_database(
    database: Database,
) -> None:
    """CREATE DATABASE fails while anyone sits in its template, and template1 is open to
    every role where the master user cannot revoke it: the SQL copies template0, which no
    one can connect to. Run with a throwaway environment while a role sits in template1."""
    role, throwaway = "pingvas_throwaway_user", "pingvas_saas_throwaway"
    variables = {
        "role": role,
        "database": throwaway,
        "password": scram_sha256_verifier(secrets.token_urlsafe(16), secrets.token_bytes(16)),
        "connection_limit": "-1",
        "statement_timeout": "0",
        "idle_timeout": "0",
    }
    arguments = [f"--set={name}={value}" for name, value in variables.items()]
    with psycopg.connect(database.dsn(INTRUDER, INTRUDER_PASSWORD, "template1")) as squatter:
        assert squatter.execute("SELECT current_database()").fetchone() == ("template1",)
        done = subprocess.run(
            [
                database.server.tool("psql"), "--no-psqlrc", "--quiet",
                *arguments, "--file", str(bootstrap.DATABASE_SQL_FILE),
            ],
            env={
                **os.environ,
                "PGHOST": database.server.host, "PGPORT": str(database.server.port),
                "PGDATABASE": database.job.database, "PGUSER": database.job.admin,
                "PGPASSWORD": ADMIN_PASSWORD, "PGSSLMODE": "disable",
            },
            capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip
    try:
        assert done.returncode == 0, done.stderr
        with database.admin() as admin:
            assert admin.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (throwaway,)
            ).fetchone() == (1,)
    finally:
        with psycopg.connect(database.server.dsn(), autocommit=True) as superuser:
            superuser.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(throwaway))
            )
            superuser.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


@pytest.fixture
def cluster_databases_owned_by_the_admin(database: Database) -> Iterator[None]:
    """postgres and template1 handed to the master user, as where a managed service lets
    its master user own them; their owner and grants restored afterwards."""
    with database.server.cluster_databases_kept():
        with psycopg.connect(database.server.dsn(), autocommit=True) as superuser:
            for name in CLUSTER_DATABASES:
                superuser.execute(
                    sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                        sql.Identifier(name), sql.Identifier(database.job.admin)
                    )
                )
        yield


@pytest.mark.usefixtures("cluster_databases_owned_by_the_admin")
def test_where_the_master_user_owns_them_no_role_connects_to_the_cluster_databases(
    database: Database,
) -> None:
    assert database.bootstrap(database.passwords).returncode == 0
    for name in CLUSTER_DATABASES:
        for env in ENVIRONMENTS:
            with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
                database.connect(env, database=name).close()


def test_where_another_role_owns_them_the_bootstrap_leaves_them_and_goes_on(
    database: Database,
) -> None:
    """The accepted remainder (docs/boundary.md, dev_user): the master user may not take
    back PUBLIC's grant on databases it does not own, so the SQL leaves them (PostgreSQL
    would warn, or fail for a user without any privilege there) and the bootstrap
    completes; dev_user still connects to them."""
    for run in database.runs:
        assert run.returncode == 0, run.stderr
        assert "no privileges could be revoked" not in run.stderr
    with database.connect(DEV, database="postgres") as dev:
        assert dev.execute("SELECT current_database()").fetchone() == ("postgres",)
    # Even where the master user holds no privilege there at all.
    with database.server.cluster_databases_kept():
        with psycopg.connect(database.server.dsn(), autocommit=True) as superuser:
            for name in CLUSTER_DATABASES:
                superuser.execute(
                    sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(name))
                )
        rerun = database.bootstrap(database.passwords)
    assert rerun.returncode == 0, rerun.stderr


def test_dev_can_persist_its_own_timeouts_and_the_next_bootstrap_restores_them(
    database: Database,
) -> None:
    """Any role may change its own role-level defaults (ALTER ROLE ... SET): the timeouts
    are defaults, not a limit, and dev_user may drop them for every later session until
    the bootstrap runs again. Accepted (docs/boundary.md): PostgreSQL has no per-role
    ceiling for statement_timeout or work_mem."""
    _, statement_timeout, _ = bootstrap.limits(DEV)
    assert statement_timeout != "0"
    with database.connect(DEV) as dev:
        dev.execute(sql.SQL("ALTER ROLE {} SET statement_timeout = 0").format(
            sql.Identifier(DEV.db_user)
        ))  # fmt: skip
        dev.execute("SET work_mem = '2GB'")
    try:
        with database.connect(DEV) as fresh:
            assert fresh.execute("SHOW statement_timeout").fetchone() == ("0",)
    finally:
        assert database.bootstrap(database.passwords).returncode == 0
    with database.connect(DEV) as restored:
        assert restored.execute("SHOW statement_timeout").fetchone() == (statement_timeout,)
    # Nor can it touch prod_user's.
    with database.connect(DEV) as dev, pytest.raises(errors.InsufficientPrivilege):
        dev.execute(sql.SQL("ALTER ROLE {} SET statement_timeout = 1").format(
            sql.Identifier(PROD.db_user)
        ))  # fmt: skip
