"""The stack's buckets, keys and assumable roles as AWS would judge requests on them: the
storage access tests and the restore runbook's test ask the same questions of one plan."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pingvas_infra import resource_types as rt
from pingvas_infra.plan.model import PlanResult
from tests.support.iam import (
    Decision,
    Request,
    evaluate,
    evaluate_key,
    evaluate_trust,
    role_arn,
    role_policies,
    trust_policy,
)
from tests.support.plan_graph import mock_outputs

ACCOUNT = "123456789012"
REGION = "us-east-1"
ONCALL = f"arn:aws:iam::{ACCOUNT}:role/platform-oncall"
ML_RELEASE = f"arn:aws:iam::{ACCOUNT}:role/ml-release"
DEV_PERSON = f"arn:aws:iam::{ACCOUNT}:role/dev-alice"
PUBLISHER = "storage-models-publisher"
RESTORE = "storage-prod-backup-restore"
KEY_OF = {
    "models": "storage-models-key",
    "prod-images": "storage-prod-key",
    "backups": "storage-prod-key",
}
# The principal that writes each KMS bucket in the stack.
WRITER_OF = {
    "models": PUBLISHER,
    "prod-images": "storage-prod-app",
    "backups": "operations-prod-db-backup",
}
# The stack with one publisher and one restorer listed (run_plan's overrides).
LISTED_ROLES = {
    "pingvas-infra:storage": {
        "modelPublisherPrincipalArns": [ML_RELEASE],
        "backupRestorePrincipalArns": [ONCALL],
    }
}


class Stack:
    """The graph's buckets, keys and roles, and the decisions AWS would make on them."""

    def __init__(self, graph: PlanResult) -> None:
        self.graph = graph

    def bucket(self, purpose: str) -> str:
        (bucket,) = [b for b in self.graph.of_type(rt.BUCKET) if b.name == f"storage-{purpose}"]
        return str(mock_outputs(bucket)["arn"])

    def bucket_policy(self, purpose: str) -> str:
        (policy,) = [
            p for p in self.graph.of_type(rt.BUCKET_POLICY) if p.name == f"storage-{purpose}"
        ]
        return str(policy.inputs["policy"])

    def key(self, name: str) -> str:
        (key,) = [k for k in self.graph.of_type(rt.KMS_KEY) if k.name == name]
        return str(mock_outputs(key)["arn"])

    def key_policy(self, name: str) -> str:
        (key,) = [k for k in self.graph.of_type(rt.KMS_KEY) if k.name == name]
        (policy,) = [
            p for p in self.graph.of_type(rt.KMS_KEY_POLICY) if p.inputs["keyId"] == key.id
        ]
        return str(policy.inputs["policy"])

    def identity(self, role: str) -> tuple[str, list[Any]]:
        return role_arn(self.graph, role), list(role_policies(self.graph, role))

    def s3(  # noqa: PLR0917 (reads as one request: who, with which IAM, what, where)
        self,
        principal: str,
        policies: list[Any],
        action: str,
        purpose: str,
        path: str = "prod/x.dump",
        context: Mapping[str, Any] | None = None,
        bucket_policy: Any = None,
    ) -> Decision:
        arn = self.bucket(purpose)
        resource = arn if action.startswith("s3:List") else f"{arn}/{path}"
        policy = bucket_policy if bucket_policy is not None else self.bucket_policy(purpose)
        return evaluate(Request(principal, action, resource, dict(context or {})), policies, policy)

    def kms(self, principal: str, policies: list[Any], action: str, purpose: str) -> Decision:
        """The KMS call S3 makes on the caller's behalf for an object of ``purpose``."""
        key = KEY_OF[purpose]
        context = {
            "kms:ViaService": f"s3.{REGION}.amazonaws.com",
            "kms:CallerAccount": ACCOUNT,
            "kms:EncryptionContext:aws:s3:arn": self.bucket(purpose),
        }
        request = Request(principal, action, self.key(key), context)
        return evaluate_key(request, policies, self.key_policy(key))

    def upload(
        self,
        principal: str,
        policies: list[Any],
        purpose: str,
        headers: Mapping[str, str],
        path: str = "sd-xl/unet.safetensors",
    ) -> tuple[Decision, Decision]:
        """(S3's, KMS's) decision on a PutObject with ``headers`` into ``purpose``."""
        return (
            self.s3(principal, policies, "s3:PutObject", purpose, path, headers),
            self.kms(principal, policies, "kms:GenerateDataKey", purpose),
        )

    def assume(self, role: str, principal: str, policies: list[Any]) -> Decision:
        request = Request(principal, "sts:AssumeRole", role_arn(self.graph, role))
        return evaluate_trust(request, policies, trust_policy(self.graph, role))
