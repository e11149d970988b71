"""Rendering the Kubernetes objects of the graph as the API server would receive them."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
import yaml

from pingvas_infra.plan.engine import run_program
from pingvas_infra.plan.kubernetes import kubernetes_objects, write_manifests
from pingvas_infra.plan.model import SECRET, PlanResult


def program() -> None:
    provider = k8s.Provider("k8s", kubeconfig="{}")
    opts = pulumi.ResourceOptions(provider=provider)
    password = random.RandomPassword("pw", length=20, special=False)
    k8s.core.v1.Namespace("dev", metadata={"name": "dev"}, opts=opts)
    k8s.core.v1.Secret(
        "creds",
        metadata={"name": "db-credentials", "namespace": "dev"},
        string_data={"DATABASE_URL": password.result.apply(lambda p: f"postgresql://u:{p}@h/db")},
        opts=opts,
    )
    k8s.core.v1.Secret(
        "plain",
        metadata={"name": "plain", "namespace": "dev"},
        string_data={"TOKEN": "not-marked-secret"},
        opts=opts,
    )
    k8s.helm.v3.Release(
        "karpenter",
        name="karpenter",
        chart="oci://public.ecr.aws/karpenter/karpenter",
        version="1.8.1",
        namespace="kube-system",
        values={"settings": {"clusterName": "c"}},
        opts=opts,
    )


def graph() -> PlanResult:
    return run_program(
        program, project="demo", stack="t", config={}, secret_keys=[], region="us-east-1"
    )


def test_objects_render_with_secrets_redacted_even_when_not_marked() -> None:
    objects = {o.relative_path: o.document for o in kubernetes_objects(graph())}
    assert set(objects) == {
        "cluster/namespace-dev.yaml",
        "dev/secret-db-credentials.yaml",
        "dev/secret-plain.yaml",
    }
    assert objects["dev/secret-db-credentials.yaml"]["stringData"] == {"DATABASE_URL": SECRET}
    assert objects["dev/secret-plain.yaml"]["stringData"] == {"TOKEN": SECRET}
    assert list(objects["cluster/namespace-dev.yaml"])[:3] == ["apiVersion", "kind", "metadata"]


def test_reveal_gives_the_mock_values_for_tests_only() -> None:
    revealed = {o.relative_path: o.document for o in kubernetes_objects(graph(), reveal=True)}
    url = revealed["dev/secret-db-credentials.yaml"]["stringData"]["DATABASE_URL"]
    assert url.startswith("postgresql://u:mock")


def test_written_files_hold_one_object_each_and_helm_values(tmp_path: Path) -> None:
    written = write_manifests(graph(), tmp_path)
    for path in written:
        documents = list(yaml.safe_load_all(path.read_text()))
        assert len(documents) == 1
    helm = yaml.safe_load((tmp_path / "helm" / "karpenter.yaml").read_text())
    assert helm["chart"] == "oci://public.ecr.aws/karpenter/karpenter"
    assert helm["values"] == {"settings": {"clusterName": "c"}}
