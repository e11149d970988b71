"""`pingvas-infra preflight` and `bootstrap-state` as commands (in-process, moto)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber
from typer.testing import CliRunner

from pingvas_infra import cli
from pingvas_infra.labels import SPOT
from pingvas_infra.preflight.backend import project_backend_url
from pingvas_infra.preflight.checks import GPU_QUOTA_CODES, AwsClients
from tests.support.project import PROJECT_DIR

runner = CliRunner()


def test_bootstrap_state_prints_the_team_commands(session: boto3.session.Session) -> None:
    args = ["bootstrap-state", "--project-dir", str(PROJECT_DIR)]

    first = runner.invoke(cli.app, args)
    second = runner.invoke(cli.app, args)

    assert first.exit_code == 0, first.output
    assert "changed: created bucket pingvas-pulumi-state-123456789012-us-east-1" in first.output
    bucket_url = "s3://pingvas-pulumi-state-123456789012-us-east-1?region=us-east-1&awssdk=v2"
    assert f"backend.url: {bucket_url}" in first.output
    assert f"export PULUMI_BACKEND_URL='{bucket_url}'" in first.output
    # `pulumi login` is ignored while Pulumi.yaml names a backend: never suggested.
    assert "  pulumi login" not in first.output
    assert 'awskms://alias/pingvas-pulumi-secrets?region=us-east-1"' in first.output
    assert second.exit_code == 0, second.output
    assert "nothing changed" in second.output
    assert "changed:" not in second.output


def test_bootstrap_state_writes_the_team_backend_into_pulumi_yaml(
    session: boto3.session.Session, tmp_path: Path
) -> None:
    for name in ("Pulumi.yaml", "Pulumi.shared.yaml"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    args = ["bootstrap-state", "--project-dir", str(tmp_path), "--write-project"]

    done = runner.invoke(cli.app, args)

    assert done.exit_code == 0, done.output
    bucket_url = "s3://pingvas-pulumi-state-123456789012-us-east-1?region=us-east-1&awssdk=v2"
    assert project_backend_url(tmp_path) == bucket_url
    assert f"Pulumi.yaml: backend.url set to {bucket_url}" in done.output
    again = runner.invoke(cli.app, args)
    assert f"Pulumi.yaml: backend.url already {bucket_url}" in again.output


def test_preflight_fails_a_fresh_account(
    session: boto3.session.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new account: every G/VT quota at 0, no spot role. moto answers STS, EC2, IAM and
    S3; Stubber answers Service Quotas, EKS and RDS (no moto model)."""

    def make_clients(session: boto3.session.Session, region: str) -> AwsClients:
        clients = AwsClients(session, region)
        quotas = Stubber(clients.service_quotas)
        for code, _ in GPU_QUOTA_CODES.values():
            quotas.add_response("get_service_quota", {"Quota": {"QuotaCode": code, "Value": 0.0}})
        quotas.activate()
        eks = Stubber(clients.eks)
        end = datetime.now(UTC) + timedelta(days=400)
        eks.add_response(
            "describe_cluster_versions",
            {"clusterVersions": [{"clusterVersion": "1.35", "endOfStandardSupportDate": end}]},
        )
        eks.activate()
        Stubber(clients.rds).activate()
        return clients

    monkeypatch.setattr(cli, "make_clients", make_clients)

    done = runner.invoke(cli.app, ["preflight", "--project-dir", str(PROJECT_DIR)])

    assert done.exit_code == cli.EXIT_FAILED, done.output
    assert "FAIL" in done.output
    assert GPU_QUOTA_CODES[SPOT][0] in done.output
    assert "create-service-linked-role" in done.output


def test_preflight_reports_a_bad_profile(aws_credentials: None) -> None:
    done = runner.invoke(
        cli.app, ["preflight", "--project-dir", str(PROJECT_DIR), "--profile", "nope"]
    )
    assert done.exit_code == cli.EXIT_BAD_INPUT
