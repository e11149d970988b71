"""Malformed GPU capacity configuration is refused with the offending key named."""

from __future__ import annotations

from pingvas_infra.environments import ENVIRONMENTS
from pingvas_infra.gpu.config import pinned_software
from pingvas_infra.instances import gpu_families, types_of_family
from pingvas_infra.plan.stackfile import StackFile
from tests.support.config_cases import (
    BadConfigCase,
    config_refusal,
    config_with,
    refused_config_test,
)

# (case id, pingvas-infra:gpu overrides, key the message must name, text it must contain)
BAD_GPU: list[BadConfigCase] = [
    (
        "family-unknown",
        {"instanceFamilies": ["g4dn", "p5"]},
        "pingvas-infra:gpu.instanceFamilies[1]",
        "unknown GPU family; allowed: g4dn, g5, g6, g6e",
    ),
    (
        "family-not-gpu",
        {"instanceFamilies": ["m5"]},
        "pingvas-infra:gpu.instanceFamilies[0]",
        "unknown GPU family",
    ),
    ("family-none", {"instanceFamilies": []}, "pingvas-infra:gpu.instanceFamilies", "at least one"),
    (
        "family-twice",
        {"instanceFamilies": ["g5", "g5"]},
        "pingvas-infra:gpu.instanceFamilies",
        "each family once",
    ),
    ("ami-latest", {"amiAlias": "al2023@latest"}, "pingvas-infra:gpu.amiAlias", "never @latest"),
    (
        "ami-other-family",
        {"amiAlias": "bottlerocket@v1.20.0"},
        "pingvas-infra:gpu.amiAlias",
        "al2023@vYYYYMMDD",
    ),
    (
        "ami-impossible-date",
        {"amiAlias": "al2023@v20261399"},
        "pingvas-infra:gpu.amiAlias",
        "a real release date",
    ),
    (
        "root-volume-small",
        {"rootVolumeGib": 20},
        "pingvas-infra:gpu.rootVolumeGib",
        "from 50 to 1000",
    ),
    (
        "consolidate-after-words",
        {"consolidateAfter": "10 minutes"},
        "pingvas-infra:gpu.consolidateAfter",
        "a duration such as 10m",
    ),
    ("expire-after-days", {"expireAfter": "30d"}, "pingvas-infra:gpu.expireAfter", "720h"),
    (
        "grace-period-never",
        {"terminationGracePeriod": "Never"},
        "pingvas-infra:gpu.terminationGracePeriod",
        "a duration such as 30m",
    ),
    (
        "pool-unknown-environment",
        {"pools": {"dev": {}, "prod": {}, "staging": {}}},
        "pingvas-infra:gpu.pools.staging",
        "unknown environment; allowed: dev, prod",
    ),
    (
        "pool-missing-environment",
        {"pools": {"dev": {}}},
        "pingvas-infra:gpu.pools",
        "a pool for every environment (prod missing)",
    ),
    (
        "pool-capacity-type-unknown",
        {"pools": {"dev": {"capacityTypes": ["reserved"]}, "prod": {}}},
        "pingvas-infra:gpu.pools.dev.capacityTypes[0]",
        "allowed: one of spot, on-demand",
    ),
    (
        "pool-capacity-types-empty",
        {"pools": {"dev": {"capacityTypes": []}, "prod": {}}},
        "pingvas-infra:gpu.pools.dev.capacityTypes",
        "spot, on-demand or both",
    ),
    (
        "pool-budget-words",
        {"pools": {"dev": {}, "prod": {"disruptionBudgetNodes": "one"}}},
        "pingvas-infra:gpu.pools.prod.disruptionBudgetNodes",
        'a node count ("1")',
    ),
    ("unknown-key", {"instanceFamily": "g5"}, "pingvas-infra:gpu.instanceFamily", "allowed keys"),
]


test_bad_gpu_config_names_key = refused_config_test(BAD_GPU, "pingvas-infra:gpu")


def test_defaults(stack_file: StackFile) -> None:
    gpu = config_with(stack_file, {}).gpu
    assert gpu.instance_families == ("g4dn", "g5", "g6")
    assert gpu.ami_alias == pinned_software().node_image_alias
    assert not gpu.ami_alias.endswith("@latest")
    assert set(gpu.pools) == {e.name for e in ENVIRONMENTS}
    assert gpu.pools["dev"].capacity_types == ("spot",)
    assert gpu.pools["prod"].capacity_types == ("spot", "on-demand")
    assert gpu.pools["prod"].disruption_budget_nodes is not None


def test_every_gpu_family_in_the_table_has_nvidia_x86_types() -> None:
    for family in gpu_families():
        shapes = types_of_family(family)
        assert shapes, family
        assert all(s.gpus >= 1 and s.architecture == "x86_64" for s in shapes)
        assert all((s.gpu_model or "").startswith("NVIDIA") for s in shapes)


def test_several_gpu_problems_are_reported_at_once(stack_file: StackFile) -> None:
    overrides = {
        "amiAlias": "al2023@latest",
        "rootVolumeGib": 10,
        "pools": {"dev": {"disruptionBudgetNodes": "x"}},
    }
    message = config_refusal(stack_file, {"pingvas-infra:gpu": overrides})
    for key in ("amiAlias", "rootVolumeGib", "pools", "pools.dev.disruptionBudgetNodes"):
        assert f"pingvas-infra:gpu.{key} = " in message
