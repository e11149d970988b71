"""Shared fixtures: the stack's resource graph under Pulumi mocks, config helpers.

The program under test is the real `__main__.py`, run in-process by the same engine as
`pingvas-infra plan` (pingvas_infra.plan.engine), so what the tests see is what the plan
writes and what `pulumi up` would register.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
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
