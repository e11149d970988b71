"""What a dev pod is, by identity: the ServiceAccounts of dev hold no Kubernetes rights and
one AWS role (pingvas-app's), so a pod under any other ServiceAccount of dev, the default
one included, has neither.

Kubernetes gives every authenticated ServiceAccount only its bootstrap roles
(system:basic-user, system:discovery, system:public-info-viewer: discovery and self
reviews, no object of any namespace); the stack adds no binding that names a dev or prod
subject. The Helm charts bind their own ServiceAccounts only (not rendered in the plan).
"""

from __future__ import annotations

from pingvas_infra import resource_types as rt
from pingvas_infra.environments import ENVIRONMENTS
from pingvas_infra.plan.model import PlanResult


def test_no_rbac_object_names_an_environment_subject(graph: PlanResult) -> None:
    rbac = [r for r in graph.resources if r.type.startswith("kubernetes:rbac.authorization.k8s.io")]
    environment_subjects = [
        subject
        for binding in rbac
        for subject in binding.inputs.get("subjects") or []
        if subject.get("namespace") in {e.namespace for e in ENVIRONMENTS}
        or subject.get("name", "").startswith(
            ("system:serviceaccounts:dev", "system:serviceaccounts:prod")
        )
    ]
    assert environment_subjects == []


def test_only_named_service_accounts_get_aws_roles(graph: PlanResult) -> None:
    """A Pod Identity association is what turns a ServiceAccount into an AWS identity."""
    by_namespace: dict[str, set[str]] = {}
    for association in graph.of_type(rt.POD_IDENTITY_ASSOCIATION):
        by_namespace.setdefault(association.inputs["namespace"], set()).add(
            association.inputs["serviceAccount"]
        )
    assert by_namespace["dev"] == {"pingvas-app"}
    assert by_namespace["prod"] == {"pingvas-app", "prod-db-backup"}
