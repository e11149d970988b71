"""Shared fixtures: the stack's resource graph under Pulumi mocks, config helpers.

The program under test is the real `__main__.py`, run in-process by the same engine as
`pingvas-infra plan` (pingvas_infra.plan.engine), so what the tests see is what the plan
writes and what `pulumi up` would register.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest

from pingvas_infra.cluster.outputs import ClusterOutputs
from pingvas_infra.config import RawConfig, StackConfig, parse_stack_config
from pingvas_infra.data.component import Data
from pingvas_infra.environments import ENVIRONMENTS
from pingvas_infra.network.outputs import NetworkOutputs
from pingvas_infra.plan.engine import program_from_file, run_program
from pingvas_infra.plan.model import PlanResult
from pingvas_infra.plan.stackfile import StackFile, read_stack_file
from pingvas_infra.storage.component import Storage
from pingvas_infra.tenancy.outputs import TenancyOutputs

PROJECT_DIR = Path(__file__).resolve().parent.parent
STACK = "shared"


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


def config_with(stack_file: StackFile, overrides: Mapping[str, Any]) -> StackConfig:
    """Parse the stack file's config with overrides (raises ConfigError when invalid)."""
    values = merged_config(stack_file.config, overrides)
    return parse_stack_config(
        RawConfig(values=values, secret_keys=frozenset(stack_file.secret_keys)), STACK
    )


PlanRunner = Callable[[Mapping[str, Any]], PlanResult]


@pytest.fixture(scope="session")
def run_plan(stack_file: StackFile) -> PlanRunner:
    """Run the real program under mocks with config overrides; returns the graph."""

    def run(overrides: Mapping[str, Any]) -> PlanResult:
        config = config_with(stack_file, overrides)
        return run_program(
            program_from_file(stack_file.main_file),
            project=stack_file.project,
            stack=STACK,
            config=merged_config(stack_file.config, overrides),
            secret_keys=stack_file.secret_keys,
            region=config.region,
        )

    return run


@pytest.fixture(scope="session")
def graph(run_plan: PlanRunner) -> PlanResult:
    """The default stack's graph, built once per session."""
    return run_plan({})


def tags_of(resource_inputs: Mapping[str, Any]) -> dict[str, str]:
    return dict(resource_inputs.get("tags") or {})


# --- Real servers, one of each per test session -------------------------------------------
#
# Isolation claims (schemas, cache ACLs, backups) are proven against real PostgreSQL and
# redis-server processes from the distribution packages. scripts/test.sh installs them when
# missing; with CI=true a missing server fails the run instead of skipping.


def _require_binary(found: str | None, what: str) -> str:
    if found:
        return found
    message = f"{what} not found; scripts/test.sh installs it"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " (CI=true: a missing server is a failure)")
    pytest.skip(message)


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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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


def _run_as(user: str | None) -> dict[str, Any]:
    """PostgreSQL refuses to run as root; drop to the packaged `postgres` user then."""
    return {"user": user} if user else {}


def _run_checked(command: list[str], **kwargs: Any) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)
    if done.returncode != 0:
        pytest.fail(f"{Path(command[0]).name} failed ({done.returncode}): {done.stderr.strip()}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bindir = Path(_require_binary(_postgres_bindir(), "PostgreSQL server (initdb)"))
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
    port = _free_port()
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


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    binary = _require_binary(shutil.which("redis-server"), "redis-server")
    workdir = tmp_path_factory.mktemp("redis")
    port = _free_port()
    process = subprocess.Popen(
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
            "--loglevel",
            "notice",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    # Wait for the server's own readiness line instead of sleeping.
    for line in process.stdout:
        if "Ready to accept connections" in line:
            break
    else:
        process.wait()
        pytest.fail(f"redis-server exited with {process.returncode} before it was ready")
    try:
        yield RedisServer("127.0.0.1", port, binary)
    finally:
        process.terminate()
        process.wait()


# --- data and storage layers under fake upstream outputs ----------------------------------
# The cluster and tenancy layers are built elsewhere; these fakes stand in for their
# outputs so the data and storage components run under the real mock engine.

FAKE_VPC_ID = "vpc-0fake0000000000001"
FAKE_CLUSTER_SECURITY_GROUP = "sg-0eks0cluster0000001"
FAKE_SYSTEM_NAMESPACE = "pingvas-system"


def fake_network(config: StackConfig) -> NetworkOutputs:
    azs = config.availability_zones

    def ids(tier: str) -> list[pulumi.Output[str]]:
        return [pulumi.Output.from_input(f"subnet-{tier}-{az}") for az in azs]

    return NetworkOutputs(
        vpc_id=pulumi.Output.from_input(FAKE_VPC_ID),
        vpc_cidr=config.network.vpc_cidr,
        availability_zones=azs,
        public_subnet_ids=ids("public"),
        private_subnet_ids=ids("private"),
        data_subnet_ids=ids("data"),
        public_subnet_cidrs=config.network.public_subnet_cidrs,
        private_subnet_cidrs=config.network.private_subnet_cidrs,
        data_subnet_cidrs=config.network.data_subnet_cidrs,
        nat_gateway_ids=[pulumi.Output.from_input("nat-0fake")],
        s3_endpoint_id=pulumi.Output.from_input("vpce-0fake"),
    )


def fake_cluster(config: StackConfig) -> ClusterOutputs:
    return ClusterOutputs(
        cluster_name=pulumi.Output.from_input(config.cluster.name),
        cluster_arn=pulumi.Output.from_input(
            f"arn:aws:eks:{config.region}:123456789012:cluster/{config.cluster.name}"
        ),
        kubernetes_version="1.35",
        kubeconfig_json=pulumi.Output.secret("{}"),
        cluster_security_group_id=pulumi.Output.from_input(FAKE_CLUSTER_SECURITY_GROUP),
        system_node_role_arn=pulumi.Output.from_input("arn:aws:iam::123456789012:role/system"),
    )


def fake_tenancy() -> TenancyOutputs:
    return TenancyOutputs(
        namespaces={e.name: pulumi.Output.from_input(e.namespace) for e in ENVIRONMENTS},
        system_namespace=pulumi.Output.from_input(FAKE_SYSTEM_NAMESPACE),
        app_service_accounts={e.name: e.app_service_account for e in ENVIRONMENTS},
        db_credentials_secret="db-credentials",
        redis_secret="redis-credentials",
    )


def data_storage_program(config: StackConfig) -> Callable[[], None]:
    """Data and storage components wired to fake upstream outputs, in __main__'s order."""

    def program() -> None:
        network = fake_network(config)
        cluster = fake_cluster(config)
        kubernetes = k8s.Provider("k8s", kubeconfig="{}")
        Data("data", config.data, project=config.project, network=network, cluster=cluster)
        Storage(
            "storage",
            config.storage,
            project=config.project,
            region=config.region,
            network=network,
            cluster=cluster,
            tenancy=fake_tenancy(),
            kubernetes_provider=kubernetes,
        )

    return program


@pytest.fixture(scope="session")
def run_data_storage(stack_file: StackFile) -> PlanRunner:
    """Run the data and storage layers under mocks with config overrides."""

    def run(overrides: Mapping[str, Any]) -> PlanResult:
        config = config_with(stack_file, overrides)
        return run_program(
            data_storage_program(config),
            project=stack_file.project,
            stack=STACK,
            config=merged_config(stack_file.config, overrides),
            secret_keys=stack_file.secret_keys,
            region=config.region,
        )

    return run


@pytest.fixture(scope="session")
def data_storage_graph(run_data_storage: PlanRunner) -> PlanResult:
    """The data and storage layers' graph with the stack file's config, built once."""
    return run_data_storage({})


# --- One layer under the mock engine, with fake upstream outputs -------------------------
#
# Layers that are built in parallel are tested on their own: the component under test is
# constructed inside a program run by the same engine as the plan, with the upstream layers'
# Outputs dataclasses faked below (deterministic values shaped like the real ones) and the
# explicit Kubernetes provider passed through opts, as __main__.py does.

FAKE_ACCOUNT = "123456789012"
FAKE_REGION = "us-east-1"
BUCKET_PURPOSES = ("dev-images", "prod-images", "models", "logs", "backups")


def fake_cluster_outputs() -> Any:
    import pulumi  # noqa: PLC0415

    from pingvas_infra.cluster.outputs import ClusterOutputs  # noqa: PLC0415

    return ClusterOutputs(
        cluster_name=pulumi.Output.from_input("pingvas-shared-eks"),
        cluster_arn=pulumi.Output.from_input(
            f"arn:aws:eks:{FAKE_REGION}:{FAKE_ACCOUNT}:cluster/pingvas-shared-eks"
        ),
        kubernetes_version="1.35",
        kubeconfig_json=pulumi.Output.secret("{}"),
        cluster_security_group_id=pulumi.Output.from_input("sg-0fakecluster"),
        system_node_role_arn=pulumi.Output.from_input(
            f"arn:aws:iam::{FAKE_ACCOUNT}:role/pingvas-system-nodes"
        ),
    )


def fake_data_outputs() -> Any:
    import pulumi  # noqa: PLC0415

    from pingvas_infra.data.outputs import CacheUser, DataOutputs  # noqa: PLC0415
    from pingvas_infra.environments import ENVIRONMENTS  # noqa: PLC0415

    return DataOutputs(
        database_name="pingvas_saas",
        writer_endpoint=pulumi.Output.from_input("pingvas-shared.cluster-fake.rds.amazonaws.com"),
        reader_endpoint=pulumi.Output.from_input(
            "pingvas-shared.cluster-ro-fake.rds.amazonaws.com"
        ),
        database_port=5432,
        master_username="pingvas_admin",
        master_user_secret_arn=pulumi.Output.from_input(
            f"arn:aws:secretsmanager:{FAKE_REGION}:{FAKE_ACCOUNT}:secret:rds!cluster-fake"
        ),
        data_kms_key_arn=pulumi.Output.from_input(
            f"arn:aws:kms:{FAKE_REGION}:{FAKE_ACCOUNT}:key/data-fake"
        ),
        cache_primary_endpoint=pulumi.Output.from_input(
            "master.pingvas-cache.fake.cache.amazonaws.com"
        ),
        cache_port=6379,
        cache_users={
            env.name: CacheUser(
                user_name=env.cache_user,
                password=pulumi.Output.secret(f"fake-{env.name}-cache-password"),
                access_string=f"on ~{env.key_prefix}* -@all +@read +@write",
            )
            for env in ENVIRONMENTS
        },
    )


def fake_tenancy_outputs() -> Any:
    import pulumi  # noqa: PLC0415

    from pingvas_infra.environments import ENVIRONMENTS  # noqa: PLC0415
    from pingvas_infra.tenancy.outputs import TenancyOutputs  # noqa: PLC0415

    return TenancyOutputs(
        namespaces={env.name: pulumi.Output.from_input(env.namespace) for env in ENVIRONMENTS},
        system_namespace=pulumi.Output.from_input("pingvas-system"),
        app_service_accounts={env.name: env.app_service_account for env in ENVIRONMENTS},
        db_credentials_secret="db-credentials",
        redis_secret="redis-config",
    )


def fake_storage_outputs() -> Any:
    import pulumi  # noqa: PLC0415

    from pingvas_infra.environments import ENVIRONMENTS  # noqa: PLC0415
    from pingvas_infra.storage.outputs import StorageOutputs  # noqa: PLC0415

    return StorageOutputs(
        bucket_names={p: pulumi.Output.from_input(f"pingvas-{p}-fake") for p in BUCKET_PURPOSES},
        bucket_arns={
            p: pulumi.Output.from_input(f"arn:aws:s3:::pingvas-{p}-fake") for p in BUCKET_PURPOSES
        },
        prod_kms_key_arn=pulumi.Output.from_input(
            f"arn:aws:kms:{FAKE_REGION}:{FAKE_ACCOUNT}:key/prod-fake"
        ),
        models_kms_key_arn=pulumi.Output.from_input(
            f"arn:aws:kms:{FAKE_REGION}:{FAKE_ACCOUNT}:key/models-fake"
        ),
        efs_file_system_id=pulumi.Output.from_input("fs-0fake"),
        models_access_point_id=pulumi.Output.from_input("fsap-0fake"),
        app_role_arns={
            env.name: pulumi.Output.from_input(
                f"arn:aws:iam::{FAKE_ACCOUNT}:role/pingvas-{env.name}-app"
            )
            for env in ENVIRONMENTS
        },
    )


LayerBuilder = Callable[[Any], None]


@pytest.fixture(scope="session")
def run_layer() -> Callable[[LayerBuilder], PlanResult]:
    """Run ``build(opts)`` under the mock engine and return what it registered.

    ``opts`` carries explicit AWS and Kubernetes providers, as __main__.py hands them to
    every layer.
    """

    def run(build: LayerBuilder) -> PlanResult:
        def program() -> None:
            import pulumi  # noqa: PLC0415
            import pulumi_aws as aws  # noqa: PLC0415
            import pulumi_kubernetes as k8s  # noqa: PLC0415

            providers = {
                "aws": aws.Provider("aws", region=FAKE_REGION),
                "kubernetes": k8s.Provider("k8s", kubeconfig="{}"),
            }
            build(pulumi.ResourceOptions(providers=providers))

        return run_program(
            program,
            project="pingvas-infra",
            stack=STACK,
            config={},
            secret_keys=[],
            region=FAKE_REGION,
        )

    return run


OperationsRunner = Callable[..., PlanResult]


@pytest.fixture(scope="session")
def run_operations(run_layer: Callable[[LayerBuilder], PlanResult]) -> OperationsRunner:
    """The operations layer with a config section (camelCase dict) and secret values."""

    def run(
        section: Mapping[str, Any] | None = None, secrets: Mapping[str, str] | None = None
    ) -> PlanResult:
        import pulumi  # noqa: PLC0415

        from pingvas_infra.config import StackSecrets  # noqa: PLC0415
        from pingvas_infra.operations.component import Operations  # noqa: PLC0415
        from pingvas_infra.operations.config import OperationsConfig  # noqa: PLC0415

        config = OperationsConfig.model_validate(dict(section or {}))

        def build(opts: Any) -> None:
            Operations(
                "operations",
                config,
                project="pingvas",
                region=FAKE_REGION,
                cluster=fake_cluster_outputs(),
                data=fake_data_outputs(),
                tenancy=fake_tenancy_outputs(),
                storage=fake_storage_outputs(),
                secrets=StackSecrets(
                    {k: pulumi.Output.secret(v) for k, v in (secrets or {}).items()}
                ),
                opts=opts,
            )

        return run_layer(build)

    return run


# --- Offline checkers installed by scripts/test.sh ------------------------------------------

TOOLS_DIR = PROJECT_DIR / ".tools"


def require_tool(name: str) -> str:
    """A checker on PATH or unpacked into .tools/ (promtool, amtool, shellcheck, node)."""
    unpacked = TOOLS_DIR / "debian" / "usr" / "bin" / name
    found = shutil.which(name) or (str(unpacked) if unpacked.exists() else None)
    return _require_binary(found, name)


# --- moto's AWS server and the AWS CLI, for scripts that call AWS ---------------------------


@dataclass(frozen=True)
class MotoServer:
    """moto's server on 127.0.0.1 (S3, KMS ...), empty when the test starts."""

    endpoint: str
    region: str = FAKE_REGION

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


@pytest.fixture
def moto_server() -> Iterator[MotoServer]:
    from moto.server import ThreadedMotoServer  # noqa: PLC0415

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    # moto keeps its state per process, not per server: start from nothing, leave nothing.
    _moto_reset(endpoint)
    try:
        yield MotoServer(endpoint)
    finally:
        _moto_reset(endpoint)
        server.stop()


def aws_cli() -> str:
    """The `aws` command of the test virtualenv (the `awscli` test dependency)."""
    import sys  # noqa: PLC0415

    candidate = Path(sys.executable).parent / "aws"
    return _require_binary(str(candidate) if candidate.exists() else None, "aws (awscli)")


# --- Tenancy layer harness ----------------------------------------------------------------
#
# The tenancy layer under the real mock engine with fake upstream outputs (cluster and data
# are other layers' work): the network values come from the stack config, exactly what the
# network layer hands over; cluster and data outputs are plausible constants.

HARNESS_KUBERNETES_VERSION = "1.35"
HARNESS_DATABASE = "pingvas_saas"
HARNESS_MASTER_USER = "pingvas_admin"
HARNESS_WRITER = "pingvas-shared.cluster-c0ffee.us-east-1.rds.amazonaws.com"
HARNESS_CACHE = "master.pingvas-cache.c0ffee.use1.cache.amazonaws.com"
HARNESS_MASTER_SECRET_ARN = (
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-c0ffee-AbCdEf"
)
HARNESS_DATA_KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/0c0ffee0-0000-4000-8000-000000000000"
# Cache user passwords as the data layer would hand them over (secret outputs).
HARNESS_CACHE_PASSWORDS = {
    "dev": "harnessDevCachePassword0123456789abcdef",
    "prod": "harnessProdCachePassword0123456789abcdef",
}


def tenancy_program(config: StackConfig) -> Callable[[], None]:
    """A program that builds only the Tenancy component, from fake upstream outputs."""

    def program() -> None:
        import pulumi  # noqa: PLC0415 (imported where the mock runtime is set up)
        import pulumi_kubernetes as k8s  # noqa: PLC0415

        from pingvas_infra.cluster.outputs import ClusterOutputs  # noqa: PLC0415
        from pingvas_infra.data.outputs import CacheUser, DataOutputs  # noqa: PLC0415
        from pingvas_infra.environments import ENVIRONMENTS  # noqa: PLC0415
        from pingvas_infra.network.outputs import NetworkOutputs  # noqa: PLC0415
        from pingvas_infra.providers import aws_provider  # noqa: PLC0415
        from pingvas_infra.tenancy.component import Tenancy  # noqa: PLC0415

        known = pulumi.Output.from_input
        net = config.network
        zones = config.availability_zones
        network = NetworkOutputs(
            vpc_id=known("vpc-0harness"),
            vpc_cidr=net.vpc_cidr,
            availability_zones=zones,
            public_subnet_ids=[known(f"subnet-public-{az}") for az in zones],
            private_subnet_ids=[known(f"subnet-private-{az}") for az in zones],
            data_subnet_ids=[known(f"subnet-data-{az}") for az in zones],
            public_subnet_cidrs=net.public_subnet_cidrs,
            private_subnet_cidrs=net.private_subnet_cidrs,
            data_subnet_cidrs=net.data_subnet_cidrs,
            nat_gateway_ids=[known("nat-0harness")],
            s3_endpoint_id=known("vpce-0harness"),
        )
        cluster = ClusterOutputs(
            cluster_name=known(config.cluster.name),
            cluster_arn=known(
                f"arn:aws:eks:{config.region}:123456789012:cluster/{config.cluster.name}"
            ),
            kubernetes_version=HARNESS_KUBERNETES_VERSION,
            kubeconfig_json=pulumi.Output.secret("{}"),
            cluster_security_group_id=known("sg-0harness"),
            system_node_role_arn=known("arn:aws:iam::123456789012:role/system-nodes"),
        )
        data = DataOutputs(
            database_name=HARNESS_DATABASE,
            writer_endpoint=known(HARNESS_WRITER),
            reader_endpoint=known(HARNESS_WRITER.replace(".cluster-", ".cluster-ro-")),
            database_port=5432,
            master_username=HARNESS_MASTER_USER,
            master_user_secret_arn=known(HARNESS_MASTER_SECRET_ARN),
            data_kms_key_arn=known(HARNESS_DATA_KEY_ARN),
            cache_primary_endpoint=known(HARNESS_CACHE),
            cache_port=6379,
            cache_users={
                env.name: CacheUser(
                    user_name=env.cache_user,
                    password=pulumi.Output.secret(HARNESS_CACHE_PASSWORDS[env.name]),
                    access_string=f"on ~{env.key_prefix}* +@all -@dangerous",
                )
                for env in ENVIRONMENTS
            },
        )
        kubernetes = k8s.Provider("k8s", kubeconfig="{}")
        tenancy = Tenancy(
            "tenancy",
            config.tenancy,
            network=network,
            cluster=cluster,
            data=data,
            opts=pulumi.ResourceOptions(
                providers={"aws": aws_provider(config), "kubernetes": kubernetes}
            ),
        )
        # What the layer hands to the others, as stack outputs the tests can read.
        outputs = tenancy.outputs
        pulumi.export(
            "tenancy",
            {
                "namespaces": dict(outputs.namespaces),
                "systemNamespace": outputs.system_namespace,
                "appServiceAccounts": dict(outputs.app_service_accounts),
                "dbCredentialsSecret": outputs.db_credentials_secret,
                "redisSecret": outputs.redis_secret,
            },
        )

    return program


@pytest.fixture(scope="session")
def run_tenancy(stack_file: StackFile) -> PlanRunner:
    """Run the tenancy harness with config overrides; returns its graph."""

    def run(overrides: Mapping[str, Any]) -> PlanResult:
        config = config_with(stack_file, overrides)
        return run_program(
            tenancy_program(config),
            project=stack_file.project,
            stack=STACK,
            config=merged_config(stack_file.config, overrides),
            secret_keys=stack_file.secret_keys,
            region=config.region,
        )

    return run


@pytest.fixture(scope="session")
def tenancy_graph(run_tenancy: PlanRunner) -> PlanResult:
    """The tenancy layer's graph with the default configuration, built once per session."""
    return run_tenancy({})
