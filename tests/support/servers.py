"""Real servers, one of each per test session.

Isolation claims (schemas, cache ACLs, backups) are proven against real PostgreSQL and
redis-server processes from the distribution packages, and moto's AWS server.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from tests.support.tools import require_binary


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _postgres_bindir() -> str | None:
    """The newest PostgreSQL server bin directory (Debian keeps it off PATH)."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return str(candidates[-1].parent)
    initdb = shutil.which("initdb")
    return str(Path(initdb).parent) if initdb else None


@dataclass(frozen=True)
class PostgresServer:
    """A throwaway PostgreSQL cluster on 127.0.0.1 (password auth over TCP)."""

    bindir: Path
    host: str
    port: int
    superuser: str
    password: str

    def dsn(
        self, dbname: str = "postgres", user: str | None = None, password: str | None = None
    ) -> str:
        user = user or self.superuser
        password = self.password if password is None else password
        return f"host={self.host} port={self.port} dbname={dbname} user={user} password={password}"

    def url(
        self, dbname: str = "postgres", user: str | None = None, password: str | None = None
    ) -> str:
        user = user or self.superuser
        password = self.password if password is None else password
        return f"postgresql://{user}:{password}@{self.host}:{self.port}/{dbname}"

    def tool(self, name: str) -> str:
        """A client program of the same version (psql, pg_dump, pg_restore)."""
        return str(self.bindir / name)

    @contextmanager
    def cluster_databases_kept(self) -> Iterator[None]:
        """postgres and template1 left with the owner and grants they had, whatever the
        block does to them (the bootstrap SQL revokes PUBLIC's where it may): the server
        is shared by the whole session."""
        query = (
            "SELECT datname, pg_get_userbyid(datdba), datacl::text FROM pg_database"
            " WHERE datname = ANY(%s)"
        )
        with psycopg.connect(self.dsn(), autocommit=True) as superuser:
            before = superuser.execute(query, (["postgres", "template1"],)).fetchall()
        try:
            yield
        finally:
            with psycopg.connect(self.dsn(), autocommit=True) as superuser:
                for name, owner, acl in before:
                    # ALTER, not an UPDATE of the catalog: it also moves the ownership
                    # record that would keep the other role from being dropped.
                    superuser.execute(
                        sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                            sql.Identifier(name), sql.Identifier(owner)
                        )
                    )
                    superuser.execute(
                        "UPDATE pg_database SET datacl = %s::aclitem[] WHERE datname = %s",
                        (acl, name),
                    )

    def client_env(self) -> dict[str, str]:
        """libpq's environment for the superuser, with the server's tools first on PATH."""
        return {
            "PATH": f"{self.bindir}{os.pathsep}{os.environ.get('PATH', '')}",
            "PGHOST": self.host,
            "PGPORT": str(self.port),
            "PGUSER": self.superuser,
            "PGPASSWORD": self.password,
        }


def _run_as(user: str | None) -> dict[str, Any]:
    """PostgreSQL refuses to run as root; drop to the packaged `postgres` user then."""
    return {"user": user} if user else {}


def _run_checked(command: list[str], **kwargs: Any) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)
    if done.returncode != 0:
        pytest.fail(f"{Path(command[0]).name} failed ({done.returncode}): {done.stderr.strip()}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bindir = Path(require_binary(_postgres_bindir(), "PostgreSQL server (initdb)"))
    # Not under pytest's tmp dir: when tests run as root the server runs as `postgres`,
    # which must be able to reach its data directory.
    base = Path(tempfile.mkdtemp(prefix="pingvas-pg-"))
    data, sockets = base / "data", base / "sockets"
    sockets.mkdir()
    password = "session-superuser-pw"
    pwfile = base / "pwfile"
    pwfile.write_text(password + "\n", encoding="utf-8")
    run_user = None
    if os.geteuid() == 0:
        run_user = "postgres"
        for path in (base, sockets, pwfile):
            shutil.chown(path, run_user)
    as_user = _run_as(run_user)
    _run_checked(
        [
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            f"--pwfile={pwfile}",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--no-sync",
        ],
        **as_user,
    )
    port = free_port()
    options = f"-k {sockets} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off"
    # -w waits until the server accepts connections: no sleeping.
    _run_checked(
        [
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-w",
            "-l",
            str(base / "log"),
            "start",
        ],
        **as_user,
    )
    try:
        yield PostgresServer(bindir, "127.0.0.1", port, "postgres", password)
    finally:
        subprocess.run(
            [str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
            check=False,
            capture_output=True,
            **as_user,
        )
        shutil.rmtree(base, ignore_errors=True)


@dataclass(frozen=True)
class RedisServer:
    host: str
    port: int
    binary: str


def start_redis(binary: str, workdir: Path, *options: str) -> tuple[subprocess.Popen[str], int]:
    """redis-server on 127.0.0.1 with persistence off, once it accepts connections."""
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            *("--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"),
            *("--dir", str(workdir), "--loglevel", "notice", *options),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    # Wait for the server's own readiness line instead of sleeping.
    for line in process.stdout:
        if "Ready to accept connections" in line:
            return process, port
    process.wait()
    pytest.fail(f"redis-server exited with {process.returncode} before it was ready")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    binary = require_binary(shutil.which("redis-server"), "redis-server")
    process, port = start_redis(binary, tmp_path_factory.mktemp("redis"))
    try:
        yield RedisServer("127.0.0.1", port, binary)
    finally:
        process.terminate()
        process.wait()


MOTO_REGION = "us-east-1"


@dataclass(frozen=True)
class MotoServer:
    """moto's server on 127.0.0.1 (S3, KMS ...), empty when the test starts."""

    endpoint: str
    region: str = MOTO_REGION

    def client(self, service: str) -> Any:
        import boto3  # noqa: PLC0415

        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def cli_env(self, home: Path) -> dict[str, str]:
        """Environment that points the AWS CLI at this server and nowhere else."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": self.region,
            "AWS_EC2_METADATA_DISABLED": "true",
            "HOME": str(home),
        }


def _moto_reset(endpoint: str) -> None:
    import urllib.request  # noqa: PLC0415

    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass


@pytest.fixture(scope="session")
def _moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer  # noqa: PLC0415

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def moto_server(_moto_endpoint: str) -> Iterator[MotoServer]:
    # moto keeps its state per process, not per server: each test starts from nothing and
    # leaves nothing.
    _moto_reset(_moto_endpoint)
    try:
        yield MotoServer(_moto_endpoint)
    finally:
        _moto_reset(_moto_endpoint)
