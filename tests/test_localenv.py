"""The local environment: local/compose.yaml and what `pingvas-infra local-env` writes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import jsonschema
import psycopg
import pytest
import redis
import yaml
from psycopg import sql
from redis.backoff import NoBackoff
from redis.retry import Retry

from pingvas_infra import localenv
from pingvas_infra.data.cache_acl import cache_access_string
from pingvas_infra.data.config import DEFAULT_MASTER_USERNAME, DataConfig
from pingvas_infra.environments import DEV, ENVIRONMENTS, INITIAL_DATABASE, PROD, Environment
from pingvas_infra.plan.stackfile import read_stack_file
from pingvas_infra.plan_run import load_config
from pingvas_infra.tables import load_table
from tests.support.cli import run_cli
from tests.support.project import PROJECT_DIR
from tests.support.servers import MotoServer, PostgresServer, start_redis
from tests.support.tools import aws_cli, require_tool, shellcheck_findings
from tests.support.valkey import server_version, valkey_binary

LOCAL = PROJECT_DIR / "local"
COMPOSE = LOCAL / "compose.yaml"
TENANCY_SQL_DIR = PROJECT_DIR / "pingvas_infra" / "tenancy" / "sql"
INITDB_SCRIPT = LOCAL / "initdb" / "10-pingvas-bootstrap.sh"
LONG_RUNNING = {"postgres", "valkey", "moto"}
COMPOSE_SCHEMA = Path(__file__).parent / "fixtures" / "compose" / "compose-spec.json"


def representative_access_string(environment: Environment) -> str:
    """The shape the data layer gives ElastiCache: its own key prefix, no admin commands."""
    return f"on ~{environment.key_prefix}* -@all +@read +@write +@connection"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return document


def mounts(service: dict[str, Any]) -> dict[str, Path]:
    """Container path -> host path of each bind mount (named volumes left out)."""
    found = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("."):
            found[target] = (LOCAL / source).resolve()
    return found


def test_services_and_no_obsolete_version_key(compose: dict[str, Any]) -> None:
    assert "version" not in compose
    assert set(compose["services"]) == {"postgres", "valkey", "moto", "moto-init"}


def test_no_service_pins_a_platform(compose: dict[str, Any]) -> None:
    """A pinned platform fails on every other machine ("exec format error" without
    emulation); the images are multi-arch, and DOCKER_DEFAULT_PLATFORM overrides."""
    for name, service in compose["services"].items():
        assert "platform" not in service, name
    assert "DOCKER_DEFAULT_PLATFORM" in COMPOSE.read_text()


def test_every_image_is_multi_arch_by_its_recorded_source() -> None:
    operations = load_table("operations")
    for name, image in operations["images"].items():
        (source,) = [s for s in operations["sources"] if image.split("@")[0] in s]
        assert "arm64" in source and "amd64" in source, (name, source)


def _version_of(image: str) -> tuple[int, ...]:
    tag = image.split("@", maxsplit=1)[0].rsplit(":", 1)[1]
    return tuple(int(part) for part in tag.split("-")[0].split("."))


def test_local_servers_are_the_clusters_versions(compose: dict[str, Any]) -> None:
    """PostgreSQL: Aurora's major. Valkey: the open-source line of the stack's ElastiCache
    engine version (the table records which line each ElastiCache version is)."""
    data = load_config(read_stack_file(PROJECT_DIR, "shared")).data
    services = compose["services"]
    aurora_major = int(data.aurora.engine_version.split(".")[0])
    assert _version_of(services["postgres"]["image"])[0] == aurora_major
    lines = load_table("operations")["cacheEngineLocalLines"]
    wanted = lines.get(data.cache.engine_version, data.cache.engine_version)
    assert _version_of(services["valkey"]["image"])[:2] == tuple(map(int, wanted.split(".")))


def test_the_version_check_notices_a_stale_local_server(compose: dict[str, Any]) -> None:
    """The comparison bites: the old local Valkey against a cluster on 9.0, and a
    PostgreSQL 16 image against Aurora 17, both differ."""
    assert _version_of("valkey/valkey:8.1.11")[:2] != (9, 0)
    assert _version_of("postgres:16.9-bookworm")[0] != 17
    assert _version_of(compose["services"]["postgres"]["image"])[0] == 17


def test_every_image_is_pinned_and_the_one_the_stack_pins(
    compose: dict[str, Any],
) -> None:
    images = load_table("operations")["images"]
    services = compose["services"]
    for service in services.values():
        image = service["image"]
        assert not image.endswith(":latest") and ":" in image, image
    assert services["postgres"]["image"] == images["postgres"]
    assert services["valkey"]["image"] == images["valkey"]
    assert services["moto"]["image"] == images["moto"]
    assert services["moto-init"]["image"] == images["awsCli"]
    # Digest-pinned where the digest is published (moto's release notes).
    assert "@sha256:" in services["moto"]["image"]
    assert "localstack" not in COMPOSE.read_text()


def test_long_running_services_have_healthchecks_and_listen_on_localhost_only(
    compose: dict[str, Any],
) -> None:
    for name in LONG_RUNNING:
        service = compose["services"][name]
        assert service["healthcheck"]["test"], name
        for port in service["ports"]:
            assert port.startswith("127.0.0.1:"), port
    init = compose["services"]["moto-init"]
    assert init["depends_on"] == {"moto": {"condition": "service_healthy"}}


def test_compose_creates_the_master_user_and_database_the_stack_names(
    compose: dict[str, Any],
) -> None:
    postgres = compose["services"]["postgres"]
    master = DataConfig().aurora.master_username
    assert master == DEFAULT_MASTER_USERNAME
    assert postgres["environment"]["POSTGRES_USER"] == master
    assert postgres["environment"]["POSTGRES_DB"] == INITIAL_DATABASE
    assert f"--username={master}" in postgres["healthcheck"]["test"]
    assert f"--dbname={INITIAL_DATABASE}" in postgres["healthcheck"]["test"]


def test_compose_publishes_the_ports_the_local_urls_name(compose: dict[str, Any]) -> None:
    for service, endpoint in localenv.ENDPOINTS.items():
        port = endpoint.rpartition(":")[2]
        assert compose["services"][service]["ports"] == [f"127.0.0.1:{port}:{port}"], service
    assert localenv.ENDPOINTS["postgres"].endswith(":5432")
    assert localenv.ENDPOINTS["valkey"].endswith(":6379")


def test_the_databases_bootstrap_is_the_clusters_own_sql(compose: dict[str, Any]) -> None:
    postgres = mounts(compose["services"]["postgres"])
    assert postgres["/pingvas/sql"] == TENANCY_SQL_DIR
    initdb = postgres["/docker-entrypoint-initdb.d"]
    (script,) = initdb.glob("*.sh")
    assert script == INITDB_SCRIPT
    assert "/pingvas/sql" in script.read_text()
    for name in ("database.sql", "bootstrap.sql"):
        assert (TENANCY_SQL_DIR / name).is_file()
        assert f"/{name}" in script.read_text()


def test_compose_hands_the_initdb_script_every_variable_it_reads(
    compose: dict[str, Any], tmp_path: Path
) -> None:
    environment = compose["services"]["postgres"]["environment"]
    values = localenv.read_env_file(localenv.write_local_env(tmp_path).env_file)
    targets = values["LOCAL_DB_TARGETS"].split()
    assert [t.split(":")[:3] for t in targets] == [
        [e.db_user, e.schema, e.database] for e in ENVIRONMENTS
    ]
    for name in ("LOCAL_DB_TARGETS", *(t.split(":")[-1] for t in targets)):
        assert environment[name] == f"${{{name}:?run pingvas-infra local-env first}}"
        assert values[name]


def _drop_local_database(server: PostgresServer) -> None:
    with psycopg.connect(server.dsn(), autocommit=True) as superuser:
        for database in (INITIAL_DATABASE, *(env.database for env in ENVIRONMENTS)):
            superuser.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )
        for env in ENVIRONMENTS:
            superuser.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(env.db_user)))


@pytest.fixture
def local_database(postgres_server: PostgresServer) -> Iterator[PostgresServer]:
    """The database compose's postgres service creates (POSTGRES_DB), still empty."""
    _drop_local_database(postgres_server)
    with psycopg.connect(postgres_server.dsn(), autocommit=True) as superuser:
        superuser.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(INITIAL_DATABASE)))
    # The initdb script runs the bootstrap as the superuser, which revokes PUBLIC's connect
    # to postgres and template1 (as in a local container): undone for the other tests.
    with postgres_server.cluster_databases_kept():
        try:
            yield postgres_server
        finally:
            _drop_local_database(postgres_server)


@pytest.mark.postgres
def test_the_initdb_script_bootstraps_what_the_local_urls_connect_to(
    local_database: PostgresServer, tmp_path: Path
) -> None:
    """The postgres image's initdb step, run here as the image runs it (bash, psql as
    POSTGRES_USER into POSTGRES_DB), then each environment connects with its URL."""
    values = localenv.read_env_file(localenv.write_local_env(tmp_path).env_file)
    done = subprocess.run(
        ["bash", str(INITDB_SCRIPT)],
        env={
            **local_database.client_env(),
            **values,
            "POSTGRES_USER": local_database.superuser,
            "POSTGRES_DB": INITIAL_DATABASE,
            "BOOTSTRAP_SQL_DIR": str(TENANCY_SQL_DIR),
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr

    def connect(env: Environment) -> psycopg.Connection:
        # The URL names localhost:5432, compose's published port; the session server
        # listens elsewhere.
        url = values[f"{env.name.upper()}_DATABASE_URL"]
        return psycopg.connect(
            url, host=local_database.host, port=local_database.port, autocommit=True
        )

    for env in ENVIRONMENTS:
        with connect(env) as conn:
            assert conn.execute("SELECT current_user, current_schema()").fetchone() == (
                env.db_user,
                env.schema,
            )
            conn.execute("CREATE TABLE local_check (id int)")
    for env, other in ((DEV, PROD), (PROD, DEV)):
        # Each environment's role connects to its own database only.
        url = values[f"{env.name.upper()}_DATABASE_URL"]
        with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
            psycopg.connect(
                url, host=local_database.host, port=local_database.port, dbname=other.database
            ).close()


def test_every_other_mounted_file_exists(compose: dict[str, Any]) -> None:
    generated = LOCAL / localenv.ACL_FILE
    for service in compose["services"].values():
        for host in mounts(service).values():
            if host in (TENANCY_SQL_DIR, generated.resolve()):
                continue
            assert host.exists(), host
    assert mounts(compose["services"]["valkey"])["/etc/valkey/users.acl"] == generated.resolve()


@pytest.fixture(scope="module")
def compose_schema() -> jsonschema.Draft7Validator:
    schema = json.loads(COMPOSE_SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema)


def test_the_file_follows_the_compose_specification(
    compose: dict[str, Any], compose_schema: jsonschema.Draft7Validator
) -> None:
    """The schema Docker Compose v2 validates against (stored with its source)."""
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in compose_schema.iter_errors(compose)]
    assert errors == []


def test_the_specification_refuses_a_mistyped_key(
    compose: dict[str, Any], compose_schema: jsonschema.Draft7Validator
) -> None:
    broken = yaml.safe_load(yaml.safe_dump(compose))
    broken["services"]["valkey"]["healthcheck"]["tset"] = ["CMD", "true"]
    broken["services"]["postgres"]["ports"] = "5432"
    messages = " ".join(e.message for e in compose_schema.iter_errors(broken))
    assert "'tset' does not match any of the regexes" in messages
    assert "is not of type 'array'" in messages


def _compose_cli() -> list[str]:
    """The Compose v2 CLI: Docker's `compose` plugin where Docker has one, else the same
    program unpacked by scripts/test.sh (.tools; it also runs on its own)."""
    docker = shutil.which("docker")
    if docker:
        plugin = subprocess.run([docker, "compose", "version"], capture_output=True, check=False)
        if plugin.returncode == 0:
            return [docker, "compose"]
    return [require_tool("docker-compose")]


def test_docker_compose_accepts_the_file(tmp_path: Path) -> None:
    compose_cli = _compose_cli()
    version = subprocess.run(
        [*compose_cli, "version", "--short"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert version.lstrip("v").startswith("2."), version
    env_file = localenv.write_local_env(tmp_path, representative_access_string).env_file
    done = subprocess.run(
        [*compose_cli, "-f", str(COMPOSE), "--env-file", str(env_file), "config", "-q"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_docker_compose_refuses_a_broken_file(tmp_path: Path) -> None:
    """The check above can fail: the same CLI refuses a service with a mistyped key."""
    broken = yaml.safe_load(COMPOSE.read_text())
    broken["services"]["valkey"]["healthcheck"]["tset"] = ["CMD", "true"]
    path = tmp_path / "compose.yaml"
    path.write_text(yaml.safe_dump(broken))
    env_file = localenv.write_local_env(tmp_path, representative_access_string).env_file
    done = subprocess.run(
        [*_compose_cli(), "-f", str(path), "--env-file", str(env_file), "config", "-q"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert "tset" in done.stderr


def test_local_env_writes_urls_shaped_like_the_clusters_secrets(tmp_path: Path) -> None:
    written = localenv.write_local_env(tmp_path, representative_access_string)
    values = localenv.read_env_file(written.env_file)
    for env in ENVIRONMENTS:
        url = urlsplit(values[f"{env.name.upper()}_DATABASE_URL"])
        assert url.username == env.db_user
        assert url.path == f"/{env.database}"
        assert unquote(parse_qs(url.query)["options"][0]) == f"-c search_path={env.schema}"
        cache = urlsplit(values[f"{env.name.upper()}_REDIS_URL"])
        assert cache.username == env.cache_user
        assert cache.path == f"/{env.redis_db}"
    assert values["LOCAL_BUCKETS"].split() == list(localenv.BUCKETS)
    assert oct(written.env_file.stat().st_mode & 0o777) == "0o600"


def test_local_env_keeps_its_passwords_when_run_again(tmp_path: Path) -> None:
    first = localenv.write_local_env(tmp_path, representative_access_string)
    before = (first.env_file.read_text(), first.acl_file.read_text())
    second = localenv.write_local_env(tmp_path, representative_access_string)
    assert (second.env_file.read_text(), second.acl_file.read_text()) == before


def test_acl_file_holds_no_password_in_clear(tmp_path: Path) -> None:
    written = localenv.write_local_env(tmp_path, representative_access_string)
    values = localenv.read_env_file(written.env_file)
    acl = written.acl_file.read_text()
    for name in localenv.password_variables():
        assert values[name] not in acl
    assert acl.splitlines()[0] == "user default off"


def test_the_native_valkey_is_the_line_compose_runs(compose: dict[str, Any]) -> None:
    """The ACL tests below run this server: the same Valkey line as the compose image."""
    native = server_version(valkey_binary("valkey-server"))
    assert native == _version_of(compose["services"]["valkey"]["image"])[:2]


@pytest.fixture
def acl_server(tmp_path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """valkey-server loaded with the generated ACL file, as compose's Valkey loads it."""
    binary = valkey_binary("valkey-server")
    written = localenv.write_local_env(tmp_path, representative_access_string)
    process, port = start_redis(binary, tmp_path, "--aclfile", str(written.acl_file))
    try:
        yield port, localenv.read_env_file(written.env_file)
    finally:
        process.terminate()
        process.wait()


def test_each_local_cache_user_reaches_only_its_prefix(
    acl_server: tuple[int, dict[str, str]],
) -> None:
    port, values = acl_server
    for env, other in ((DEV, PROD), (PROD, DEV)):
        password = values[f"LOCAL_{env.name.upper()}_CACHE_PASSWORD"]
        client = redis.Redis(port=port, username=env.cache_user, password=password)
        assert client.set(f"{env.key_prefix}session", "1") is True
        with pytest.raises(redis.exceptions.NoPermissionError):
            client.set(f"{other.key_prefix}session", "1")
        client.close()
    # Refused authentication is the expected answer: no retries.
    anonymous = redis.Redis(port=port, retry=Retry(NoBackoff(), 0))
    with pytest.raises(redis.exceptions.AuthenticationError):
        anonymous.ping()
    anonymous.close()


def test_the_compose_healthcheck_reads_an_auth_demand_as_healthy(
    acl_server: tuple[int, dict[str, str]],
) -> None:
    """The healthcheck's own command: with the default user off, valkey-cli's PING is
    answered with NOAUTH and exit status 0, which the healthcheck's grep accepts."""
    port, _ = acl_server
    cli = valkey_binary("valkey-cli")
    done = subprocess.run(
        [cli, "-p", str(port), "ping"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert "NOAUTH" in done.stdout + done.stderr


def test_with_the_data_layers_access_strings(tmp_path: Path) -> None:
    acl = localenv.write_local_env(tmp_path).acl_file.read_text()
    for env in ENVIRONMENTS:
        assert f"user {env.cache_user} {cache_access_string(env)} #" in acl


def test_create_buckets_script_makes_every_bucket_and_can_run_again(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    env = {
        "PATH": os.pathsep.join([str(Path(aws_cli()).parent), os.environ.get("PATH", "")]),
        "LOCAL_BUCKETS": " ".join(localenv.BUCKETS),
        **moto_server.cli_env(tmp_path),
    }
    for _ in range(2):
        done = subprocess.run(
            ["bash", str(LOCAL / "create-buckets.sh")],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    listed = moto_server.client("s3").list_buckets()["Buckets"]
    assert sorted(b["Name"] for b in listed) == sorted(localenv.BUCKETS)


def test_the_local_scripts_pass_shellcheck() -> None:
    scripts = sorted(LOCAL.rglob("*.sh"))
    assert len(scripts) == 2
    assert shellcheck_findings(*scripts) == ""


def test_the_command_writes_into_the_local_folder_of_the_project_it_runs_in(
    tmp_path: Path,
) -> None:
    """Found upward from the working directory, as the plan finds Pulumi.yaml: the
    installed package knows nothing of where a checkout lives."""
    project = tmp_path / "project"
    (project / "services" / "web").mkdir(parents=True)
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", project / "Pulumi.yaml")
    done = run_cli("local-env", cwd=project / "services" / "web")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (project / localenv.LOCAL_FOLDER / localenv.ENV_FILE).is_file()
    assert (project / localenv.LOCAL_FOLDER / localenv.ACL_FILE).is_file()
    assert LOCAL.name == localenv.LOCAL_FOLDER


def test_the_command_outside_a_project_says_so(tmp_path: Path) -> None:
    done = run_cli("local-env", cwd=tmp_path)
    assert done.returncode == 2
    assert "no Pulumi.yaml" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / localenv.LOCAL_FOLDER).exists()
