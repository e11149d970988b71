"""What the data layer (Aurora, ElastiCache) hands to the others."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi


@dataclass(frozen=True)
class CacheUser:
    """One environment's ElastiCache RBAC user."""

    user_name: str
    # Secret (pulumi-random).
    password: pulumi.Output[str]
    # The ACL rules confining the user to its own key prefix, e.g. "on ~dev:* ...".
    access_string: str


@dataclass(frozen=True)
class DataOutputs:
    # The cluster's initial database, the master user's (each environment has its own).
    database_name: str
    writer_endpoint: pulumi.Output[str]
    reader_endpoint: pulumi.Output[str]
    database_port: int
    master_username: str
    # RDS manages the master password in Secrets Manager; this is that secret's ARN and
    # the KMS key it is encrypted with (readers need kms:Decrypt on it).
    master_user_secret_arn: pulumi.Output[str]
    data_kms_key_arn: pulumi.Output[str]
    cache_primary_endpoint: pulumi.Output[str]
    cache_port: int
    # Environment name -> its cache user.
    cache_users: Mapping[str, CacheUser]
