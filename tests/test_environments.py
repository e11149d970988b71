"""The per-environment facts."""

from __future__ import annotations

from pingvas_infra.environments import DEV, ENVIRONMENTS, PROD
from pingvas_infra.labels import TENANCY_ENVIRONMENT_LABEL
from pingvas_infra.manifests import load_documents


def test_environments_are_separated_on_every_axis() -> None:
    for attribute in ("namespace", "schema", "db_user", "cache_user", "key_prefix", "redis_db"):
        values = [getattr(env, attribute) for env in ENVIRONMENTS]
        assert len(set(values)) == len(values), attribute
    assert (DEV.redis_db, PROD.redis_db) == (0, 1)
    assert (DEV.schema, PROD.schema) == ("dev_pingvas", "prod_pingvas")


def test_each_environments_priority_class_is_one_of_the_cluster_policy_for_it() -> None:
    """environments.py names the class; k8s_manifests/priority-classes.yaml defines it, and
    labels it with the environment whose pods may name it."""
    classes = {
        d["metadata"]["name"]: d
        for d in load_documents("priority-classes.yaml")
        if d["kind"] == "PriorityClass"
    }
    for env in ENVIRONMENTS:
        labels = classes[env.priority_class]["metadata"]["labels"]
        assert labels == {TENANCY_ENVIRONMENT_LABEL: env.name}, env.priority_class
