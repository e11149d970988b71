"""The per-environment facts."""

from __future__ import annotations

from pingvas_infra.environments import DEV, ENVIRONMENTS, PROD


def test_environments_are_separated_on_every_axis() -> None:
    for attribute in ("namespace", "schema", "db_user", "cache_user", "key_prefix", "redis_db"):
        values = [getattr(env, attribute) for env in ENVIRONMENTS]
        assert len(set(values)) == len(values), attribute
    assert (DEV.redis_db, PROD.redis_db) == (0, 1)
    assert (DEV.schema, PROD.schema) == ("dev_pingvas", "prod_pingvas")
