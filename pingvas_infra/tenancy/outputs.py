"""What the tenancy layer hands to the others."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi


@dataclass(frozen=True)
class TenancyOutputs:
    # Environment name -> namespace name, resolved once the Namespace exists: objects
    # placed in a namespace take it from here so they are created after it.
    namespaces: Mapping[str, pulumi.Output[str]]
    # The platform namespace for jobs that need more than one environment's rights (the
    # schema bootstrap Job).
    system_namespace: pulumi.Output[str]
    # Environment name -> the ServiceAccount application pods run as.
    app_service_accounts: Mapping[str, str]
    # Names of the per-environment Secrets (same name in each namespace).
    db_credentials_secret: str
    redis_secret: str
