"""The model sync: the CronJob the stack renders, and its script run as the pod runs it.

The script runs against moto's S3 server through the AWS CLI from PyPI (`awscli`, the same
`aws` command line as the amazon/aws-cli image), with a local directory standing in for
the EFS volume the pod mounts.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pingvas_infra import resource_types as rt
from pingvas_infra.operations import model_sync
from pingvas_infra.plan.model import PlanResult, RecordedResource
from pingvas_infra.tenancy.component import MODEL_SYNC_POD_LABELS
from pingvas_infra.tenancy.static import SYSTEM_NAMESPACE
from tests.support.plan_graph import PlanRunner, layer_graph
from tests.support.servers import MotoServer
from tests.support.tools import aws_cli, shellcheck_findings

SCRIPT = Path(model_sync.__file__).parent / "scripts" / model_sync.SCRIPT
BUCKET = "pingvas-models-shared-123456789012"


def cron_job(graph: PlanResult) -> RecordedResource:
    (found,) = [
        c for c in graph.of_type(rt.CRON_JOB) if c.inputs["metadata"]["name"] == model_sync.NAME
    ]
    return found


def pod_of(job: RecordedResource) -> dict[str, Any]:
    spec: dict[str, Any] = job.inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return spec


def container_env(graph: PlanResult) -> dict[str, str]:
    (container,) = pod_of(cron_job(graph))["containers"]
    return {e["name"]: e["value"] for e in container["env"]}


# --- the CronJob -----------------------------------------------------------------------------


def test_it_runs_as_the_store_writer_in_the_platform_namespace(graph: PlanResult) -> None:
    job = cron_job(graph)
    pod = pod_of(job)
    storage = layer_graph(graph, "storage")
    assert job.inputs["metadata"]["namespace"] == SYSTEM_NAMESPACE
    # The storage layer's ServiceAccount, whose Pod Identity role reads the models bucket.
    (association,) = [
        a
        for a in storage.of_type(rt.POD_IDENTITY_ASSOCIATION)
        if a.inputs["serviceAccount"] == pod["serviceAccountName"]
    ]
    assert association.inputs["namespace"] == SYSTEM_NAMESPACE
    # The one writable model volume, mounted where the script writes.
    (claim_volume,) = [v for v in pod["volumes"] if "persistentVolumeClaim" in v]
    (claim,) = [
        c
        for c in storage.of_type(rt.PERSISTENT_VOLUME_CLAIM)
        if c.inputs["metadata"]["name"] == claim_volume["persistentVolumeClaim"]["claimName"]
    ]
    assert claim.inputs["metadata"]["namespace"] == SYSTEM_NAMESPACE
    assert claim.inputs["spec"]["accessModes"] == ["ReadWriteMany"]
    (container,) = pod["containers"]
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    assert mounts[claim_volume["name"]]["mountPath"] == container_env(graph)["MODELS_DIR"]
    assert container_env(graph)["MODELS_BUCKET"] == BUCKET


def test_its_pods_carry_the_labels_the_platform_policies_select(graph: PlanResult) -> None:
    template = cron_job(graph).inputs["spec"]["jobTemplate"]["spec"]["template"]
    assert template["metadata"]["labels"] == MODEL_SYNC_POD_LABELS
    selected = [
        p
        for p in graph.of_type(rt.NETWORK_POLICY)
        if p.inputs["metadata"]["namespace"] == SYSTEM_NAMESPACE
        and p.inputs["spec"]["podSelector"].get("matchLabels") == MODEL_SYNC_POD_LABELS
    ]
    assert {p.inputs["metadata"]["name"] for p in selected} == {
        "model-sync-allow-https-internet",
        "model-sync-allow-pod-identity-agent",
    }


def test_it_is_restricted_pinned_and_one_run_at_a_time(graph: PlanResult) -> None:
    spec = cron_job(graph).inputs["spec"]
    pod = pod_of(cron_job(graph))
    assert spec["schedule"] == "17 * * * *"
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["jobTemplate"]["spec"]["activeDeadlineSeconds"] == 50 * 60
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    # The model store's POSIX owner: what the access points run every NFS call as.
    assert pod["securityContext"]["runAsUser"] == 1000
    (container,) = pod["containers"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["image"].startswith("amazon/aws-cli:2.")
    assert "priorityClassName" not in pod, "a model sync must not preempt prod"


def test_a_prefix_and_a_schedule_are_configurable(run_plan: PlanRunner) -> None:
    graph = run_plan(
        {"pingvas-infra:operations": {"modelSync": {"schedule": "0 */6 * * *", "prefix": "sd15/"}}}
    )
    assert cron_job(graph).inputs["spec"]["schedule"] == "0 */6 * * *"
    assert container_env(graph)["MODELS_PREFIX"] == "sd15/"


# --- the script against moto and a directory ---------------------------------------------------


@pytest.fixture
def s3(moto_server: MotoServer) -> Any:
    client = moto_server.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


def sync(
    moto_server: MotoServer, store: Path, home: Path, prefix: str = ""
) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.pathsep.join([str(Path(aws_cli()).parent), os.environ.get("PATH", "")]),
        "LANG": "C.UTF-8",
        "MODELS_BUCKET": BUCKET,
        "MODELS_PREFIX": prefix,
        "MODELS_DIR": str(store),
        **moto_server.cli_env(home),
    }
    return subprocess.run(
        ["bash", str(SCRIPT)], env=env, capture_output=True, text=True, check=False, timeout=120
    )


def files(store: Path) -> dict[str, bytes]:
    return {str(p.relative_to(store)): p.read_bytes() for p in store.rglob("*") if p.is_file()}


@pytest.fixture
def store(tmp_path: Path) -> Path:
    directory = tmp_path / "models"
    directory.mkdir()
    return directory


@pytest.fixture
def home(tmp_path: Path) -> Path:
    directory = tmp_path / "home"
    directory.mkdir()
    return directory


def test_it_mirrors_the_bucket_and_then_only_what_changed(
    moto_server: MotoServer, s3: Any, store: Path, home: Path
) -> None:
    weights = bytes(range(256)) * 4096  # 1 MiB of model weights
    s3.put_object(Bucket=BUCKET, Key="sd15/model.safetensors", Body=weights)
    s3.put_object(Bucket=BUCKET, Key="sd15/config.json", Body=b'{"steps": 30}')
    s3.put_object(Bucket=BUCKET, Key="lora/style.safetensors", Body=b"lora-v1")
    done = sync(moto_server, store, home)
    assert done.returncode == 0, done.stderr
    assert files(store) == {
        "sd15/model.safetensors": weights,
        "sd15/config.json": b'{"steps": 30}',
        "lora/style.safetensors": b"lora-v1",
    }

    # A new version of one file, one file gone from the bucket: the store follows.
    s3.put_object(Bucket=BUCKET, Key="lora/style.safetensors", Body=b"lora-v2, longer")
    s3.delete_object(Bucket=BUCKET, Key="sd15/config.json")
    untouched = (store / "sd15" / "model.safetensors").stat().st_mtime_ns
    done = sync(moto_server, store, home)
    assert done.returncode == 0, done.stderr
    assert files(store) == {
        "sd15/model.safetensors": weights,
        "lora/style.safetensors": b"lora-v2, longer",
    }
    # The unchanged file was not written again.
    assert (store / "sd15" / "model.safetensors").stat().st_mtime_ns == untouched


@pytest.mark.parametrize("prefix", ["", "sd15/"])
def test_a_new_stack_before_its_first_model_succeeds_and_then_mirrors_it(
    moto_server: MotoServer, s3: Any, store: Path, home: Path, prefix: str
) -> None:
    """Nothing published and nothing stored: a Job that fails here would page every hour."""
    done = sync(moto_server, store, home, prefix=prefix)
    assert done.returncode == 0, done.stderr
    assert f"no model published under s3://{BUCKET}/{prefix} yet" in done.stdout
    assert files(store) == {}
    s3.put_object(Bucket=BUCKET, Key="sd15/model.safetensors", Body=b"first")
    done = sync(moto_server, store, home, prefix=prefix)
    assert done.returncode == 0, done.stderr
    assert files(store) == {
        "sd15/model.safetensors" if not prefix else "model.safetensors": b"first"
    }


@pytest.mark.parametrize("held", ["sd15/model.safetensors", ".partial-download"])
def test_an_emptied_bucket_is_refused_while_the_store_holds_files(
    moto_server: MotoServer, s3: Any, store: Path, home: Path, held: str
) -> None:
    """An emptied bucket must not wipe the models prod serves, nor pass for a new stack."""
    (store / held).parent.mkdir(parents=True, exist_ok=True)
    (store / held).write_bytes(b"serving")
    done = sync(moto_server, store, home)
    assert done.returncode != 0
    assert "nothing under" in done.stderr
    assert "the model store holds files" in done.stderr
    assert files(store) == {held: b"serving"}


def test_a_mistyped_prefix_is_refused_whether_or_not_the_store_holds_files(
    moto_server: MotoServer, s3: Any, store: Path, home: Path
) -> None:
    s3.put_object(Bucket=BUCKET, Key="sd15/model.safetensors", Body=b"new")
    done = sync(moto_server, store, home, prefix="sd-15-typo/")
    assert done.returncode != 0
    assert "is operations.modelSync.prefix right?" in done.stderr
    assert files(store) == {}
    (store / "sd15").mkdir()
    (store / "sd15" / "model.safetensors").write_bytes(b"serving")
    done = sync(moto_server, store, home, prefix="sd-15-typo/")
    assert done.returncode != 0
    assert files(store) == {"sd15/model.safetensors": b"serving"}


@pytest.mark.parametrize("held", [None, "sd15/model.safetensors"])
@pytest.mark.parametrize("prefix", ["", "sd15/"])
def test_a_listing_that_fails_is_a_failure_not_an_empty_bucket(
    moto_server: MotoServer, store: Path, home: Path, prefix: str, held: str | None
) -> None:
    """No bucket (or no right to list it): the Job fails and pages, and the store is left
    as it is, whether or not it holds files; never "nothing published yet"."""
    if held is not None:
        (store / held).parent.mkdir(parents=True, exist_ok=True)
        (store / held).write_bytes(b"serving")
    done = sync(moto_server, store, home, prefix=prefix)
    assert done.returncode != 0
    assert f"cannot list s3://{BUCKET}/{prefix}" in done.stderr
    assert "NoSuchBucket" in done.stderr
    assert "nothing to do" not in done.stdout
    assert files(store) == ({} if held is None else {held: b"serving"})


def test_only_the_configured_prefix_is_mirrored(
    moto_server: MotoServer, s3: Any, store: Path, home: Path
) -> None:
    s3.put_object(Bucket=BUCKET, Key="sd15/model.safetensors", Body=b"a")
    s3.put_object(Bucket=BUCKET, Key="experiments/big.bin", Body=b"b")
    done = sync(moto_server, store, home, prefix="sd15/")
    assert done.returncode == 0, done.stderr
    assert files(store) == {"model.safetensors": b"a"}


def test_no_store_mounted_is_a_failure_not_a_silent_copy(
    moto_server: MotoServer, s3: Any, tmp_path: Path, home: Path
) -> None:
    s3.put_object(Bucket=BUCKET, Key="sd15/model.safetensors", Body=b"a")
    done = sync(moto_server, tmp_path / "not-mounted", home)
    assert done.returncode != 0
    assert "is not a writable directory" in done.stderr


def test_the_script_passes_shellcheck() -> None:
    assert shellcheck_findings(SCRIPT) == ""
