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
    # The platform's PriorityClass (above every prod class; dev and prod may not name it),
    # resolved once it exists, so pods naming it are created after it.
    platform_priority_class: pulumi.Output[str]
    # The labels the model-sync pods must carry: the platform namespace's NetworkPolicies
    # give exactly those pods HTTPS out (S3) and the Pod Identity Agent.
    model_sync_pod_labels: Mapping[str, str]
