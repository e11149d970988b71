"""Cache separation, proven against a real redis-server.

The data layer's ACL strings (one function, `cache_access_string`, the same the
ElastiCache users are created with) are loaded into redis-server with the users'
passwords; each user connects with the REDIS_URL its environment's Secret carries. The
seed's "DB 0 for dev, DB 1 for prod" is a convention (any client can SELECT); the ACL key
prefix is the boundary, so every check below also runs after SELECTing the other DB.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

# The data layer's one definition of the cache users' ACLs.
from pingvas_infra.data.cache_acl import DEFAULT_USER_ACCESS_STRING, cache_access_string
from pingvas_infra.environments import DEV, ENVIRONMENTS, PROD, Environment
from pingvas_infra.tenancy.credentials import redis_url
from tests.conftest import RedisServer

pytestmark = pytest.mark.redis

ADMIN = "harness-admin"
ADMIN_PASSWORD = secrets.token_urlsafe(24)
# Commands no application user may run: they wipe, reconfigure, stop, watch or replicate
# the shared server. Checked with ACL DRYRUN, so nothing actually runs.
DANGEROUS = [
    ["FLUSHALL"],
    ["FLUSHDB"],
    ["SWAPDB", "0", "1"],
    ["CONFIG", "SET", "appendonly", "yes"],
    ["CONFIG", "GET", "*"],
    ["DEBUG", "SLEEP", "0"],
    ["SHUTDOWN", "NOSAVE"],
    ["MONITOR"],
    ["KEYS", "*"],
    ["ACL", "SETUSER", "mallory", "on", "+@all", "~*"],
    ["CLIENT", "KILL", "ID", "1"],
    ["REPLICAOF", "203.0.113.1", "6379"],
    ["MIGRATE", "203.0.113.1", "6379", "x", "0", "1000"],
    ["SAVE"],
    ["BGREWRITEAOF"],
    # SCRIPT FLUSH is not here on purpose: it empties the Lua script cache, which clients
    # refill on NOSCRIPT (redis-py's Script does), and neither reveals nor changes data;
    # refusing it would take SCRIPT LOAD with it (ElastiCache access strings have no
    # subcommand rules). README "The cache" lists it with the shared cache's other
    # noisy-neighbour limits.
    ["FUNCTION", "FLUSH"],
    ["MODULE", "LOAD", "/tmp/evil.so"],
]


@dataclass
class Cache:
    server: RedisServer
    admin: redis.Redis
    passwords: dict[str, str]

    def url(self, env: Environment) -> str:
        """The environment's REDIS_URL, pointed at the local server (no TLS here)."""
        url = redis_url(
            user=env.cache_user,
            password=self.passwords[env.name],
            host=self.server.host,
            port=self.server.port,
            db=env.redis_db,
        )
        assert url.startswith("rediss://")
        return "redis://" + url.removeprefix("rediss://")

    def client(self, env: Environment) -> redis.Redis:
        return redis.Redis.from_url(self.url(env))


def _no_retry() -> Retry:
    """Refused authentication is the expected answer here; redis-py would retry it."""
    return Retry(NoBackoff(), 0)


def _set_user(client: redis.Redis, user: str, access_string: str, password: str | None) -> None:
    rules = access_string.split()
    if password is not None:
        rules.append(f">{password}")
    client.execute_command("ACL", "SETUSER", user, "reset", *rules)


@pytest.fixture
def cache(redis_server: RedisServer) -> Iterator[Cache]:
    bootstrap_client = redis.Redis(host=redis_server.host, port=redis_server.port)
    # An administrator of this test's own, so the default user can be disabled and restored.
    _set_user(bootstrap_client, ADMIN, "on ~* &* +@all", ADMIN_PASSWORD)
    bootstrap_client.close()
    admin = redis.Redis(
        host=redis_server.host, port=redis_server.port, username=ADMIN, password=ADMIN_PASSWORD
    )
    passwords = {env.name: secrets.token_urlsafe(24) for env in ENVIRONMENTS}
    for env in ENVIRONMENTS:
        _set_user(admin, env.cache_user, cache_access_string(env), passwords[env.name])
        for db in {e.redis_db for e in ENVIRONMENTS}:
            admin.execute_command("SELECT", db)
            admin.set(f"{env.key_prefix}greeting", f"{env.name} only")
    admin.execute_command("SELECT", 0)
    try:
        yield Cache(redis_server, admin, passwords)
    finally:
        # Back to redis-server's defaults for the rest of the session.
        _set_user(admin, "default", "on nopass ~* &* +@all", None)
        admin.flushall()
        admin.execute_command("ACL", "DELUSER", *(env.cache_user for env in ENVIRONMENTS))
        admin.execute_command("ACL", "DELUSER", ADMIN)
        admin.close()


@pytest.mark.parametrize("env", ENVIRONMENTS, ids=lambda e: e.name)
def test_each_user_works_in_its_own_prefix_and_db(cache: Cache, env: Environment) -> None:
    client = cache.client(env)
    assert client.ping() is True
    # The server's view of the connection: the environment's user, in its DB.
    (seen,) = [c for c in cache.admin.client_list() if c["user"] == env.cache_user]
    assert seen["db"] == str(env.redis_db)
    key = f"{env.key_prefix}session:{secrets.token_hex(4)}"
    assert client.set(key, "value") is True
    assert client.get(key) == b"value"
    assert client.get(f"{env.key_prefix}greeting") == f"{env.name} only".encode()
    assert client.delete(key) == 1
    client.close()


@pytest.mark.parametrize(
    ("intruder", "owner"), [(DEV, PROD), (PROD, DEV)], ids=["dev-into-prod", "prod-into-dev"]
)
def test_a_user_cannot_touch_the_other_prefix_in_any_db(
    cache: Cache, intruder: Environment, owner: Environment
) -> None:
    client = cache.client(intruder)
    target = f"{owner.key_prefix}greeting"
    for db in sorted({e.redis_db for e in ENVIRONMENTS}):
        client.execute_command("SELECT", db)
        for attempt in (
            lambda: client.get(target),
            lambda: client.set(target, "overwritten"),
            lambda: client.delete(target),
            lambda: client.exists(target),
            lambda: client.rename(target, f"{intruder.key_prefix}stolen"),
            lambda: client.copy(target, f"{intruder.key_prefix}stolen"),
        ):
            with pytest.raises(redis.exceptions.NoPermissionError):
                attempt()
    client.close()
    for db in sorted({e.redis_db for e in ENVIRONMENTS}):
        cache.admin.execute_command("SELECT", db)
        assert cache.admin.get(target) == f"{owner.name} only".encode()
    cache.admin.execute_command("SELECT", 0)


@pytest.mark.parametrize(
    ("intruder", "owner"), [(DEV, PROD), (PROD, DEV)], ids=["dev-lists-prod", "prod-lists-dev"]
)
def test_a_user_cannot_list_the_other_prefixs_key_names(
    cache: Cache, intruder: Environment, owner: Environment
) -> None:
    """Key names are data too (session ids, user ids): no listing command may reveal
    the other environment's, whether the ACL refuses the command or filters its answer."""
    client = cache.client(intruder)
    for db in sorted({e.redis_db for e in ENVIRONMENTS}):
        client.execute_command("SELECT", db)
        for listing in (
            lambda: [k for k in client.scan_iter(count=1000)],
            lambda: client.keys("*"),
            lambda: [client.randomkey() for _ in range(20)],
        ):
            try:
                names = listing()
            except redis.exceptions.NoPermissionError:
                continue
            assert not any(
                n is not None and n.decode().startswith(owner.key_prefix) for n in names
            ), names
    client.close()


@pytest.mark.parametrize("env", ENVIRONMENTS, ids=lambda e: e.name)
def test_dangerous_commands_are_refused(cache: Cache, env: Environment) -> None:
    allowed = [
        command
        for command in DANGEROUS
        if cache.admin.execute_command("ACL", "DRYRUN", env.cache_user, *command) == b"OK"
    ]
    assert allowed == []


def test_the_default_user_cannot_authenticate_once_disabled(cache: Cache) -> None:
    anonymous = redis.Redis(host=cache.server.host, port=cache.server.port)
    assert anonymous.ping() is True  # redis-server's own default: open
    _set_user(cache.admin, "default", DEFAULT_USER_ACCESS_STRING, None)
    anonymous_after = redis.Redis(host=cache.server.host, port=cache.server.port, retry=_no_retry())
    with pytest.raises(redis.exceptions.AuthenticationError):
        anonymous_after.ping()
    for password in ("", "default", cache.passwords["prod"], ADMIN_PASSWORD):
        guesser = redis.Redis(
            host=cache.server.host,
            port=cache.server.port,
            username="default",
            password=password,
            retry=_no_retry(),
        )
        with pytest.raises(redis.exceptions.AuthenticationError):
            guesser.ping()
    # The environment users still work.
    assert cache.client(DEV).ping() is True
    anonymous.close()
