"""Shared fixtures: the stack's resource graph under Pulumi mocks, config helpers, the
session's real servers and the offline checkers.

The program under test is the real `__main__.py`, run in-process by the same engine as
`pingvas-infra plan` (pingvas_infra.plan.engine), so what the tests see is what the plan
writes and what `pulumi up` would register. Every layer is tested in that one graph:
values another layer computes (ids, endpoints, ARNs) are followed through it, never faked.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import pytest
from pulumi.runtime import MockResourceArgs

from pingvas_infra.config import ConfigError, RawConfig, StackConfig, parse_stack_config
from pingvas_infra.plan.engine import program_from_file, run_program
from pingvas_infra.plan.mocks import PlanMocks
from pingvas_infra.plan.model import PlanResult, RecordedResource
from pingvas_infra.plan.stackfile import StackFile, read_stack_file

PROJECT_DIR = Path(__file__).resolve().parent.parent
STACK = "shared"

# --- Configuration ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def project_dir() -> Path:
    return PROJECT_DIR


@pytest.fixture(scope="session")
def stack_file() -> StackFile:
    return read_stack_file(PROJECT_DIR, STACK)


def merged_config(base: Mapping[str, str], overrides: Mapping[str, Any]) -> dict[str, str]:
    """The stack file's config with ``overrides`` merged into its sections.

    ``overrides`` maps full keys to values: ``{"pingvas:network": {"natGateways": 3}}``
    merges into the section; a value of ``None`` deletes the key.
    """
    config = dict(base)
    for key, value in overrides.items():
        if value is None:
            config.pop(key, None)
            continue
        current = config.get(key)
        if isinstance(value, dict) and current is not None:
            merged = json.loads(current)
            merged.update(copy.deepcopy(value))
            config[key] = json.dumps(merged)
        else:
            config[key] = value if isinstance(value, str) else json.dumps(value)
    return config


def _raw_config(
    stack_file: StackFile, overrides: Mapping[str, Any], secrets: Mapping[str, str]
) -> RawConfig:
    """What the engine hands the program: ``secrets`` (full key -> value) are set as
    `pulumi config set --secret` sets them, marked secret."""
    values = {**merged_config(stack_file.config, overrides), **secrets}
    return RawConfig(values=values, secret_keys=frozenset({*stack_file.secret_keys, *secrets}))


def config_with(
    stack_file: StackFile,
    overrides: Mapping[str, Any],
    secrets: Mapping[str, str] | None = None,
) -> StackConfig:
    """Parse the stack file's config with overrides (raises ConfigError when invalid)."""
    return parse_stack_config(_raw_config(stack_file, overrides, secrets or {}), STACK)


def config_refusal(stack_file: StackFile, overrides: Mapping[str, Any]) -> str:
    """The message of the ConfigError that parsing with ``overrides`` must raise."""
    with pytest.raises(ConfigError) as caught:
        config_with(stack_file, overrides)
    return str(caught.value)


# A malformed-config case: (case id, overrides, key the message must name, text it must contain).
BadConfigCase = tuple[str, dict[str, Any], str, str]


def refused_config_test(
    cases: Sequence[BadConfigCase], section: str | None = None
) -> Callable[..., None]:
    """A test over ``cases``: each is refused with one clean message naming its key
    (``<key> = ``) and containing its text.

    With ``section`` (``"pingvas:network"``) a case's overrides are that section's keys;
    without, they are whole stack-config overrides.
    """

    @pytest.mark.parametrize(
        ("overrides", "key", "text"),
        [pytest.param(o, k, t, id=case) for case, o, k, t in cases],
    )
    def test(stack_file: StackFile, overrides: dict[str, Any], key: str, text: str) -> None:
        message = config_refusal(stack_file, {section: overrides} if section else overrides)
        assert f"{key} = " in message
        assert text in message
        assert "Traceback" not in message

    return test


# --- The program's graph ------------------------------------------------------------------


class PlanRunner(Protocol):
    """Runs the real program with config overrides and secret config values."""

    def __call__(
        self, overrides: Mapping[str, Any], secrets: Mapping[str, str] | None = None
    ) -> PlanResult: ...


def plan_stack(
    stack_file: StackFile,
    overrides: Mapping[str, Any],
    secrets: Mapping[str, str] | None = None,
) -> PlanResult:
    """Run the real __main__.py under mocks with config overrides; returns the graph."""
    raw = _raw_config(stack_file, overrides, secrets or {})
    config = parse_stack_config(raw, STACK)
    return run_program(
        program_from_file(stack_file.main_file),
        project=stack_file.project,
        stack=STACK,
        config=dict(raw.values),
        secret_keys=sorted(raw.secret_keys),
        region=config.region,
    )


@pytest.fixture(scope="session")
def run_plan(stack_file: StackFile) -> PlanRunner:
    """`plan_stack`, remembered for the session: the same overrides and secrets are
    planned once however many tests ask for them. The graphs are shared: read only."""

    @functools.cache
    def planned(key: str) -> PlanResult:
        overrides, secrets = json.loads(key)
        return plan_stack(stack_file, overrides, secrets)

    def run(overrides: Mapping[str, Any], secrets: Mapping[str, str] | None = None) -> PlanResult:
        return planned(json.dumps([overrides, secrets or {}], sort_keys=True))

    return run


@pytest.fixture(scope="session")
def run_plan_uncached(stack_file: StackFile) -> PlanRunner:
    """A new run every call: for tests that compare two runs of the program."""
    return functools.partial(plan_stack, stack_file)


@pytest.fixture(scope="session")
def graph(run_plan: PlanRunner) -> PlanResult:
    """The default stack's graph, built once per session."""
    return run_plan({})


def layer_graph(graph: PlanResult, layer: str) -> PlanResult:
    """The resources of one layer's component (``pingvas:<layer>:*``) and its children."""
    return replace(graph, resources=[r for r in graph.resources if r.layer == layer])


def mock_outputs(resource: RecordedResource, region: str = "us-east-1") -> dict[str, Any]:
    """What the mock engine answered for ``resource``: its computed outputs (an endpoint,
    a secret ARN, the EKS cluster security group). The fakes are deterministic, so this is
    the value every consumer of the output received."""
    mocks = PlanMocks(region=region)
    # References (pulumi-eks's eksCluster) only matter inside the engine.
    mocks.register_reference = lambda type_token, name, state: {"urn": name}
    _, state = mocks.new_resource(
        MockResourceArgs(
            typ=resource.type,
            name=resource.name,
            inputs=resource.raw_inputs,
            provider="",
            custom=resource.custom,
        )
    )
    return state


def cluster_security_group_id(graph: PlanResult) -> str:
    """The EKS-created cluster security group, as the eks:index:Cluster mock hands it out."""
    return str(mock_outputs(graph.one("eks:index:Cluster"))["clusterSecurityGroupId"])


def tags_of(resource_inputs: Mapping[str, Any]) -> dict[str, str]:
    return dict(resource_inputs.get("tags") or {})


def recorded_resource(
    urn: str,
    type_token: str,
    name: str,
    inputs: Mapping[str, Any] | None = None,
    *,
    dependencies: Sequence[str] = (),
    protect: bool = False,
    provider: str | None = None,
    resource_id: str | None = None,
) -> RecordedResource:
    """A custom resource as the engine records it, built by hand for the code that reads
    recorded resources (pricing rules, policy controls); its id defaults to ``<name>-id``."""
    return RecordedResource(
        urn=urn,
        type=type_token,
        name=name,
        parent=None,
        custom=True,
        remote=False,
        inputs=dict(inputs or {}),
        protect=protect,
        retain_on_delete=False,
        dependencies=tuple(dependencies),
        provider=provider,
        id=resource_id or f"{name}-id",
    )


# --- `pingvas-infra plan` as a newcomer runs it --------------------------------------------


def run_cli(*args: str, cwd: Path = PROJECT_DIR) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_DIR)}
    return subprocess.run(
        [sys.executable, "-m", "pingvas_infra", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@dataclass(frozen=True)
class CliPlan:
    out: Path
    done: subprocess.CompletedProcess[str]


@pytest.fixture(scope="session")
def cli_plan(tmp_path_factory: pytest.TempPathFactory) -> CliPlan:
    """One `pingvas-infra plan` of the default stack, for every test that only reads it."""
    out = tmp_path_factory.mktemp("cli-plan") / "out"
    done = run_cli("plan", "--stack", STACK, "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    return CliPlan(out, done)


# --- Tools ----------------------------------------------------------------------------------
#
# Checkers and servers scripts/test.sh installs. Missing, their tests skip; with CI=true a
# missing one fails the run instead.

TOOLS_DIR = PROJECT_DIR / ".tools"
TOOL_VENVS = PROJECT_DIR / ".venv-tools"


def require_binary(found: str | None, what: str) -> str:
    if found:
        return found
    message = f"{what} not found; scripts/test.sh installs it"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " (CI=true: a missing tool is a failure)")
    pytest.skip(message)


def require_tool(name: str) -> str:
    """A checker on PATH or unpacked into .tools/ (promtool, amtool, shellcheck, node)."""
    unpacked = TOOLS_DIR / "debian" / "usr" / "bin" / name
    found = shutil.which(name) or (str(unpacked) if unpacked.exists() else None)
    return require_binary(found, name)


def require_venv_tool(venv: str, name: str) -> str:
    """A tool from its own virtualenv under .venv-tools/ (nca, checkov)."""
    binary = TOOL_VENVS / venv / "bin" / name
    return require_binary(str(binary) if binary.exists() else None, f"{name} ({binary})")


def aws_cli() -> str:
    """The `aws` command of the test virtualenv (the `awscli` test dependency)."""
    candidate = Path(sys.executable).parent / "aws"
    return require_binary(str(candidate) if candidate.exists() else None, "aws (awscli)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- Real servers, one of each per test session -------------------------------------------
#
# Isolation claims (schemas, cache ACLs, backups) are proven against real PostgreSQL and
# redis-server processes from the distribution packages, and moto's AWS server.


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
