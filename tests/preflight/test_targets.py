"""What preflight checks, read from the stack config (with seed fallbacks until the GPU,
data and storage sections exist)."""

from __future__ import annotations

from types import SimpleNamespace

from pingvas_infra.environments import gpu_quotas
from pingvas_infra.plan.stackfile import StackFile
from pingvas_infra.preflight import targets as t
from tests.conftest import config_with


def test_gpu_pools_take_the_namespace_gpu_quotas(stack_file: StackFile) -> None:
    targets = t.targets_from_config(config_with(stack_file, {}))
    assert {p.environment: p.gpus for p in targets.gpu_pools} == gpu_quotas()
    assert targets.region == "us-east-1"
    assert targets.availability_zones == ("us-east-1a", "us-east-1b", "us-east-1c")


def test_another_region_is_checked_in_its_own_zones(stack_file: StackFile) -> None:
    targets = t.targets_from_config(config_with(stack_file, {}), region="eu-west-1")
    assert targets.availability_zones == ("eu-west-1a", "eu-west-1b", "eu-west-1c")


def test_missing_sections_fall_back_to_the_seed(stack_file: StackFile) -> None:
    config = config_with(stack_file, {})
    assert t.gpu_instance_types(config) == t.SEED_GPU_INSTANCE_TYPES
    assert t.gpu_capacity_types(config, "prod") == (t.SPOT, t.ON_DEMAND)
    assert t.aurora_engine_version(config) is None
    assert set(t.bucket_names(config)) == set(t.SEED_BUCKET_PURPOSES)
    assert all(name.startswith("pingvas-") for name in t.bucket_names(config).values())


def test_sections_are_read_when_present() -> None:
    """The accessors read the layers' sections by field name once they exist."""
    config = SimpleNamespace(
        project="pingvas",
        gpu=SimpleNamespace(
            instance_types=None,
            instance_families=("g6", "g5"),
            capacity_types={"dev": ["spot"], "prod": ["spot", "on-demand"]},
        ),
        cluster=SimpleNamespace(version="1.35"),
        data=SimpleNamespace(engine_version="16.6", min_acu=0),
        storage=SimpleNamespace(bucket_names=lambda: {"models": "pingvas-models-x"}),
    )
    assert t.gpu_instance_types(config) == ("g6.*", "g5.*")  # type: ignore[arg-type]
    assert t.gpu_capacity_types(config, "dev") == ("spot",)  # type: ignore[arg-type]
    assert t.kubernetes_version(config) == "1.35"  # type: ignore[arg-type]
    assert t.aurora_engine_version(config) == "16.6"  # type: ignore[arg-type]
    assert t.aurora_min_acu(config) == 0.0  # type: ignore[arg-type]
    assert t.bucket_names(config) == {"models": "pingvas-models-x"}  # type: ignore[arg-type]
