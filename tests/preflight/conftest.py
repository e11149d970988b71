"""AWS for the preflight and bootstrap tests: moto where it models the API, botocore's
Stubber where it does not (each test says which)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from pingvas_infra.labels import ON_DEMAND, SPOT
from pingvas_infra.preflight.checks import AwsClients
from pingvas_infra.preflight.targets import GpuPool, PreflightTargets

REGION = "us-east-1"


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials, so nothing can ever reach a real account."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def session(aws_credentials: None) -> Iterator[boto3.session.Session]:
    with mock_aws():
        yield boto3.Session(region_name=REGION)


@pytest.fixture
def clients(session: boto3.session.Session) -> AwsClients:
    return AwsClients(session, REGION)


@pytest.fixture
def targets() -> PreflightTargets:
    return PreflightTargets(
        region=REGION,
        availability_zones=("us-east-1a", "us-east-1b", "us-east-1c"),
        gpu_instance_types=("g4dn.xlarge",),
        gpu_pools=(
            GpuPool("dev", 3, (SPOT,)),
            GpuPool("prod", 15, (SPOT, ON_DEMAND)),
        ),
        kubernetes_version="1.35",
        aurora_engine_version="16",
        aurora_min_acu=0.0,
        bucket_names=lambda account: {"models": "pingvas-models-test", "logs": "pingvas-logs-test"},
    )
