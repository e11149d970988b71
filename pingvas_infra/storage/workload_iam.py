"""Policy statements of the storage layer's Pod Identity roles: what application pods of
each environment may do in AWS.

Each environment's role names only its own images bucket, the shared models bucket and
the keys those need; nothing of the other environment. The model-sync role reads the
models bucket to copy weights into EFS.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi

READ_WRITE_OBJECTS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload")
READ_OBJECTS = ("s3:GetObject",)


def bucket_statements(
    sid: str, bucket_arn: pulumi.Output[str], object_actions: Sequence[str]
) -> list[dict[str, Any]]:
    return [
        {
            "Sid": f"{sid}Objects",
            "Effect": "Allow",
            "Action": list(object_actions),
            "Resource": pulumi.Output.concat(bucket_arn, "/*"),
        },
        {
            "Sid": f"{sid}List",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket_arn,
        },
    ]


def key_statement(
    sid: str, key_arn: pulumi.Output[str], actions: Sequence[str], region: str
) -> dict[str, Any]:
    """Use of a bucket's key, only through S3 (not a general decrypt right)."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": list(actions),
        "Resource": key_arn,
        "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
    }
