"""The off-region copy of the prod dumps (`storage.backupCopy`): off by default, and when on,
what S3 replication of SSE-KMS objects needs (S3 user guide, "Replicating encrypted
objects"), guarded like every other bucket, kept as long, and priced."""

from __future__ import annotations

import json

import pytest

from pingvas_infra import resource_types as rt
from pingvas_infra.cost.model import CostLine
from pingvas_infra.cost.report import THIS_STACK, CostReport, build_report
from pingvas_infra.plan.model import PlanResult, RecordedResource
from pingvas_infra.plan.stackfile import StackFile
from pingvas_infra.policy.offline import evaluate_plan
from pingvas_infra.price_tables import load_price_table
from tests.storage.lifecycle import Rules, longest_kept
from tests.support.config_cases import config_refusal
from tests.support.plan_graph import PlanRunner, mock_outputs

ON = {"pingvas-infra:storage": {"backupCopy": {"enabled": True}}}
IDLE, REFERENCE = "idle", "guide-reference"
COPY_REGION = "us-west-2"


@pytest.fixture(scope="module")
def with_copy(run_plan: PlanRunner) -> PlanResult:
    return run_plan(ON)


def copy_resources(graph: PlanResult) -> list[RecordedResource]:
    return [r for r in graph.resources if "backups-copy" in r.name]


def test_off_by_default(graph: PlanResult) -> None:
    assert copy_resources(graph) == []
    assert graph.of_type(rt.BUCKET_REPLICATION) == []


def test_everything_of_the_copy_lives_in_the_copy_region(with_copy: PlanResult) -> None:
    resources = copy_resources(with_copy)
    regional = [
        r for r in resources if r.type.startswith("aws:s3/") or r.type.startswith("aws:kms/")
    ]
    assert {r.type for r in regional} >= {
        rt.BUCKET,
        rt.KMS_KEY,
        rt.KMS_KEY_POLICY,
        rt.BUCKET_LIFECYCLE,
    }
    for resource in regional:
        if resource.type == rt.BUCKET_REPLICATION:
            continue  # configured on the source bucket, in the stack's region
        assert resource.inputs.get("region") == COPY_REGION, resource.name


def test_replication_copies_the_prod_dumps_encrypted_under_the_copy_key(
    with_copy: PlanResult,
) -> None:
    (replication,) = with_copy.of_type(rt.BUCKET_REPLICATION)
    (source,) = [b for b in with_copy.of_type(rt.BUCKET) if b.name == "storage-backups"]
    (copy,) = [b for b in with_copy.of_type(rt.BUCKET) if b.name == "storage-backups-copy"]
    (key,) = [k for k in with_copy.of_type(rt.KMS_KEY) if k.name == "storage-backups-copy-key"]
    assert replication.inputs["bucket"] == source.inputs["bucket"]
    (rule,) = replication.inputs["rules"]
    assert rule["status"] == "Enabled"
    assert rule["filter"] == {"prefix": "prod/"}
    assert rule["sourceSelectionCriteria"]["sseKmsEncryptedObjects"]["status"] == "Enabled"
    assert rule["deleteMarkerReplication"]["status"] == "Disabled"
    destination = rule["destination"]
    assert destination["bucket"] == mock_outputs(copy)["arn"]
    assert destination["encryptionConfiguration"]["replicaKmsKeyId"] == mock_outputs(key)["arn"]
    assert destination["storageClass"] == "STANDARD_IA"
    # Versioning on both buckets before the rule (S3 refuses replication without it).
    versionings = {v.inputs["bucket"]: v for v in with_copy.of_type(rt.BUCKET_VERSIONING)}
    for bucket in (source, copy):
        assert versionings[bucket.inputs["bucket"]].urn in replication.dependencies


def test_the_copy_keeps_the_same_retention(with_copy: PlanResult) -> None:
    lifecycles = {
        r.inputs["bucket"]: r.inputs["rules"] for r in with_copy.of_type(rt.BUCKET_LIFECYCLE)
    }
    buckets = {b.name: b.inputs["bucket"] for b in with_copy.of_type(rt.BUCKET)}
    source = Rules.of(lifecycles[buckets["storage-backups"]])
    copy = Rules.of(lifecycles[buckets["storage-backups-copy"]])
    assert copy == source
    assert longest_kept(copy) == longest_kept(source)


def test_the_replication_role_reads_prod_dumps_and_writes_replicas_only(
    with_copy: PlanResult,
) -> None:
    (role,) = [
        r for r in with_copy.of_type(rt.IAM_ROLE) if r.name == "storage-backups-copy-replication"
    ]
    trust = json.loads(role.inputs["assumeRolePolicy"])
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
    assert "aws:SourceAccount" in statement["Condition"]["StringEquals"]
    (policy,) = [
        p
        for p in with_copy.of_type(rt.IAM_ROLE_POLICY)
        if p.name == "storage-backups-copy-replication"
    ]
    statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
    assert statements["ReadProdDumpVersions"]["Resource"].endswith("/prod/*")
    assert statements["WriteReplicas"]["Resource"].endswith("/prod/*")
    assert statements["DecryptSourceThroughS3"]["Condition"]["StringEquals"] == {
        "kms:ViaService": "s3.us-east-1.amazonaws.com"
    }
    assert statements["EncryptReplicasThroughS3"]["Condition"]["StringEquals"] == {
        "kms:ViaService": f"s3.{COPY_REGION}.amazonaws.com"
    }
    actions = {
        a
        for s in statements.values()
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert not any(
        a in actions for a in ("s3:DeleteObject", "s3:PutObject", "s3:GetObject", "kms:*")
    )


def test_the_copy_passes_every_mandatory_control(with_copy: PlanResult) -> None:
    results = evaluate_plan(with_copy)
    mandatory = [(r.control.id, v.message) for r in results if r.mandatory for v in r.violations]
    assert mandatory == []
    # Access logs cannot cross regions: the one advisory finding the copy adds.
    (logging,) = [r for r in results if r.control.id == "s3-access-logging"]
    assert any("backups-copy" in v.urn for v in logging.violations)


def lines_of(report: CostReport, name: str, profile: str) -> list[CostLine]:
    return [line for line in report.this_stack[profile].lines if line.resource == name]


def report(graph: PlanResult) -> CostReport:
    return build_report(
        graph.resources, project=graph.project, stack=graph.stack, region="us-east-1"
    )


def test_the_copy_is_priced_at_its_own_regions_rates(
    graph: PlanResult, with_copy: PlanResult
) -> None:
    """The replication transfer bills the stack's region; the copy's bucket and key live in
    us-west-2 and are priced at that region's table: $1.00 at idle, and at guide-reference
    its Standard-IA storage and 26.07 GB replicated."""
    on, off = report(with_copy), report(graph)
    west = load_price_table(COPY_REGION).prices
    east = load_price_table("us-east-1").prices
    (transfer,) = [
        line
        for line in lines_of(on, "storage-backups-copy", "guide-reference")
        if line.component == "Replication transfer to another region"
    ]
    assert transfer.unit_price == east["data-transfer-inter-region-gb"].usd
    assert transfer.quantity == pytest.approx(26.07)
    (storage,) = [
        line
        for line in lines_of(on, "storage-backups-copy", "guide-reference")
        if line.component.startswith("Storage, Standard-IA")
    ]
    assert storage.unit_price == west["s3-standard-ia-gb-month"].usd
    assert on.total(THIS_STACK, IDLE) - off.total(THIS_STACK, IDLE) == pytest.approx(
        west["kms-key-month"].usd
    )
    extra = on.total(THIS_STACK, REFERENCE) - off.total(THIS_STACK, REFERENCE)
    assert extra == pytest.approx(1.00 + 30 * 0.0125 + 26.07 * 0.02, abs=0.005)
    assert on.unpriced() == []


def test_a_copy_region_without_a_price_table_is_unpriced_never_priced_here(
    run_plan: PlanRunner,
) -> None:
    graph = run_plan(
        {"pingvas-infra:storage": {"backupCopy": {"enabled": True, "region": "ap-south-1"}}}
    )
    unpriced = {u["resource"]: u["reason"] for u in report(graph).unpriced()}
    for name in ("storage-backups-copy", "storage-backups-copy-key"):
        assert "lives in ap-south-1, which has no price table" in unpriced[name]


def test_the_copy_region_must_be_another_one(stack_file: StackFile) -> None:
    same = {"pingvas-infra:storage": {"backupCopy": {"enabled": True, "region": "us-east-1"}}}
    message = config_refusal(stack_file, same)
    assert "pingvas-infra:storage.backupCopy.region = " in message
    assert "another region than us-east-1" in message
    unknown = {
        "pingvas-infra:storage": {"backupCopy": {"enabled": True, "storageClass": "DEEP_ARCHIVE"}}
    }
    assert "STANDARD_IA" in config_refusal(stack_file, unknown)
