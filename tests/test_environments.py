"""The per-environment facts, and the GPU quota read from the static manifests."""

from __future__ import annotations

import yaml

from pingvas_infra.environments import DEV, ENVIRONMENTS, PROD, gpu_quotas
from pingvas_infra.manifests import MANIFESTS_DIR


def test_gpu_quotas_come_from_the_resource_quota_manifests() -> None:
    documents = list(yaml.safe_load_all((MANIFESTS_DIR / "resource-quotas.yaml").read_text()))
    from_yaml = {
        d["metadata"]["namespace"]: int(d["spec"]["hard"]["requests.nvidia.com/gpu"])
        for d in documents
    }
    assert gpu_quotas() == from_yaml == {"dev": 3, "prod": 15}
    assert (DEV.gpu_quota, PROD.gpu_quota) == (3, 15)


def test_environments_are_separated_on_every_axis() -> None:
    for attribute in ("namespace", "schema", "db_user", "cache_user", "key_prefix", "redis_db"):
        values = [getattr(env, attribute) for env in ENVIRONMENTS]
        assert len(set(values)) == len(values), attribute
    assert (DEV.redis_db, PROD.redis_db) == (0, 1)
    assert (DEV.schema, PROD.schema) == ("dev_pingvas", "prod_pingvas")
