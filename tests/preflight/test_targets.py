"""What preflight checks, read from the validated stack config."""

from __future__ import annotations

from pingvas_infra.plan.stackfile import StackFile
from pingvas_infra.preflight import targets as t
from pingvas_infra.tenancy.static import gpu_quotas, static_objects
from tests.support.config_cases import config_with


def test_gpu_pools_take_the_namespace_gpu_quotas(stack_file: StackFile) -> None:
    targets = t.targets_from_config(config_with(stack_file, {}))
    assert {p.environment: p.gpus for p in targets.gpu_pools} == gpu_quotas(static_objects())
    assert targets.region == "us-east-1"
    assert targets.availability_zones == ("us-east-1a", "us-east-1b", "us-east-1c")


def test_another_region_is_checked_in_its_own_zones(stack_file: StackFile) -> None:
    targets = t.targets_from_config(config_with(stack_file, {}), region="eu-west-1")
    assert targets.availability_zones == ("eu-west-1a", "eu-west-1b", "eu-west-1c")


def test_targets_follow_the_gpu_data_and_storage_sections(stack_file: StackFile) -> None:
    config = config_with(
        stack_file,
        {
            "pingvas-infra:gpu": {"instanceFamilies": ["g6", "g5"]},
            "pingvas-infra:data": {"aurora": {"engineVersion": "16", "minAcu": 0}},
            "pingvas-infra:storage": {"bucketPrefix": "acme-"},
        },
    )
    targets = t.targets_from_config(config)
    assert targets.gpu_instance_types == ("g6.*", "g5.*")
    assert {p.environment: p.capacity_types for p in targets.gpu_pools} == {
        "dev": ("spot",),
        "prod": ("spot", "on-demand"),
    }
    assert targets.kubernetes_version == config.cluster.kubernetes_version
    assert (targets.aurora_engine_version, targets.aurora_min_acu) == ("16", 0)
    names = targets.bucket_names("210987654321")
    assert set(names) == {"dev-images", "prod-images", "models", "logs", "backups"}
    assert all(
        n.startswith("acme-pingvas-") and n.endswith("-210987654321") for n in names.values()
    )
