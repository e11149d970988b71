"""The CrossGuard pack as the Pulumi engine runs it: a gRPC analyzer server.

`pulumi preview --policy-pack policy_pack` starts policy_pack/__main__.py, reads the port it
prints and calls the Analyzer service. This test does the same, without the CLI.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
import yaml
from google.protobuf import empty_pb2, json_format, struct_pb2

from pingvas_infra import resource_types as rt
from pingvas_infra.policy.catalogue import controls
from pingvas_infra.sdk_internals import analyzer_pb2, analyzer_pb2_grpc
from tests.policy.builders import DEFAULT_TAGS, PROVIDER_URN, urn_of
from tests.support.project import PROJECT_DIR

PACK_DIR = PROJECT_DIR / "policy_pack"


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    server = subprocess.Popen(
        [sys.executable, str(PACK_DIR / "__main__.py")],
        cwd=PACK_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = server.stdout.readline().strip()
        assert port.isdigit(), server.stderr.read() if server.stderr else port
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
        channel.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


def struct(values: dict[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    json_format.ParseDict(values, message)
    return message


def test_pack_file_runs_python_in_the_project_virtualenv() -> None:
    document = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())
    assert document["runtime"]["name"] == "python"
    assert (PACK_DIR / document["runtime"]["options"]["virtualenv"]).resolve() == (
        PROJECT_DIR / ".venv"
    )


def test_pack_serves_every_catalogue_control(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "pingvas-guardrails"
    served = {p.name: p.enforcementLevel for p in info.policies}
    expected = {
        c.id: analyzer_pb2.MANDATORY if c.enforcement == "mandatory" else analyzer_pb2.ADVISORY
        for c in controls()
    }
    assert served == expected


def test_pack_reports_a_bad_resource(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    urn = urn_of(rt.RDS_CLUSTER, "aurora")
    request = analyzer_pb2.AnalyzeRequest(
        type=rt.RDS_CLUSTER,
        name="aurora",
        urn=urn,
        properties=struct({"engine": "aurora-postgresql", "storageEncrypted": False}),
        options=analyzer_pb2.AnalyzerResourceOptions(protect=False),
        provider=analyzer_pb2.AnalyzerProviderResource(
            type=rt.AWS_PROVIDER,
            name="aws",
            urn=PROVIDER_URN,
            properties=struct({"defaultTags": json.dumps({"tags": DEFAULT_TAGS})}),
        ),
    )
    response = analyzer.Analyze(request)
    violated = {d.policyName for d in response.diagnostics}
    assert {"rds-encrypted", "rds-deletion-protection", "stateful-protected"} <= violated
    assert "required-tags" not in violated
    assert all(d.urn in ("", urn) for d in response.diagnostics)


def test_pack_reports_a_bucket_without_settings(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    urn = urn_of(rt.BUCKET, "storage-models")
    bucket = analyzer_pb2.AnalyzerResource(
        type=rt.BUCKET,
        name="storage-models",
        urn=urn,
        properties=struct({"bucket": "pingvas-models-123456789012"}),
        options=analyzer_pb2.AnalyzerResourceOptions(protect=True),
    )
    response = analyzer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=[bucket]))
    violated = {d.policyName: d.urn for d in response.diagnostics}
    assert set(violated) >= {"s3-public-access-block", "s3-tls-only", "s3-encryption"}
    assert violated["s3-tls-only"] == urn
