"""The label keys of pingvas_infra/labels.py agree with the files that cannot import them:
the cluster policy's YAML and the baseline designs."""

from __future__ import annotations

import json
from typing import get_args

from pingvas_infra import labels
from pingvas_infra.manifests import load_documents
from pingvas_infra.tables import read_table


def test_capacity_types_are_karpenters_two() -> None:
    assert labels.CAPACITY_TYPES == get_args(labels.CapacityType) == ("spot", "on-demand")
    assert (labels.SPOT, labels.ON_DEMAND) == labels.CAPACITY_TYPES


def test_the_admission_policy_guards_the_gpu_nodes_environment_key() -> None:
    """The policy refuses a toleration of another environment's GPU nodes by this key: a
    different spelling in the YAML would let every toleration through."""
    (policy,) = [
        d
        for d in load_documents("admission-policies.yaml")
        if d["kind"] == "ValidatingAdmissionPolicy"
        and labels.ENVIRONMENT_LABEL in json.dumps(d["spec"])
    ]
    assert f"'{labels.ENVIRONMENT_LABEL}'" in json.dumps(policy["spec"])


def test_every_namespace_and_environment_priority_class_carries_the_environment_label() -> None:
    namespaces = [d for d in load_documents("namespaces.yaml") if d["kind"] == "Namespace"]
    assert namespaces
    for namespace in namespaces:
        assert labels.TENANCY_ENVIRONMENT_LABEL in namespace["metadata"]["labels"]
    classes = [
        d
        for d in load_documents("priority-classes.yaml")
        if d["kind"] == "PriorityClass" and d["metadata"]["name"].startswith(("dev-", "prod-"))
    ]
    assert len(classes) == 3
    for priority_class in classes:
        environment = priority_class["metadata"]["name"].split("-")[0]
        assert priority_class["metadata"]["labels"] == {
            labels.TENANCY_ENVIRONMENT_LABEL: environment
        }


def test_the_baseline_designs_label_their_gpu_pools_by_the_same_key() -> None:
    for name in ("guide-single-cluster", "legacy-two-cluster"):
        text = json.dumps(read_table(f"baselines/{name}.yaml"))
        assert labels.ENVIRONMENT_LABEL in text
        assert labels.NAMESPACE_NAME_LABEL in text


def test_app_labels_name_the_workload_and_the_platform() -> None:
    assert labels.app_labels("x", "backup") == {
        "app.kubernetes.io/name": "x",
        "app.kubernetes.io/component": "backup",
        "app.kubernetes.io/part-of": "pingvas",
    }
    assert labels.MANAGED_LABELS == {
        "app.kubernetes.io/managed-by": "pulumi",
        "app.kubernetes.io/part-of": "pingvas",
    }
