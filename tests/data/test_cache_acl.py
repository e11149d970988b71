"""The cache users' ACLs, loaded into a real redis-server: key prefixes are a boundary.

ElastiCache cannot run here; redis-server 7 implements the same ACL rules (ElastiCache's
access strings are Redis ACL rules), so what a user can and cannot do is measured, not
assumed. The users are the stack's own: every ElastiCache user of the default graph, with
its access string (the data layer's `cache_access_string`) and the password the data layer
generated for it, is loaded into the session's redis-server. Each environment connects with
the REDIS_URL its tenancy Secret carries (pingvas_infra/tenancy/credentials.py), pointed at
the local server. The design guide's "DB 0 for dev, DB 1 for prod" is a convention any client can
undo with SELECT; the ACL key prefix is the boundary, so the checks run in every DB.
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
import yaml
from redis.backoff import NoBackoff
from redis.retry import Retry

from pingvas_infra import resource_types as rt
from pingvas_infra.data.cache_acl import DEFAULT_USER_NAME, cache_access_string
from pingvas_infra.environments import DEV, ENVIRONMENTS, PROD, Environment
from pingvas_infra.plan.kubernetes import kubernetes_objects
from pingvas_infra.plan.model import PlanResult, reveal
from pingvas_infra.tenancy.component import REDIS_SECRET
from tests.support.servers import RedisServer

pytestmark = pytest.mark.redis

ADMIN = "test-admin"
ADMIN_PASSWORD = secrets.token_urlsafe(24)
DATABASES = sorted({env.redis_db for env in ENVIRONMENTS})
# Commands no application user may run: they wipe, reconfigure, stop, watch or replicate
# the shared server, or show other users' commands and connections. Checked with ACL
# DRYRUN, so nothing actually runs.
DANGEROUS = [
    ["FLUSHALL"],
    ["FLUSHDB"],
    ["SWAPDB", "0", "1"],
    ["CONFIG", "SET", "appendonly", "yes"],
    ["CONFIG", "GET", "*"],
    ["DEBUG", "SLEEP", "0"],
    ["SHUTDOWN", "NOSAVE"],
    ["MONITOR"],
    ["SLOWLOG", "GET"],
    ["KEYS", "*"],
    ["ACL", "SETUSER", "mallory", "on", "+@all", "~*"],
    ["ACL", "LIST"],
    ["CLIENT", "LIST"],
    ["CLIENT", "KILL", "ID", "1"],
    ["REPLICAOF", "203.0.113.1", "6379"],
    ["MIGRATE", "203.0.113.1", "6379", "x", "0", "1000"],
    ["SAVE"],
    ["BGREWRITEAOF"],
    # SCRIPT FLUSH is not here on purpose: it empties the Lua script cache, which clients
    # refill on NOSCRIPT (redis-py's Script does), and neither reveals nor changes data;
    # refusing it would take SCRIPT LOAD with it (ElastiCache access strings have no
    # subcommand rules). README "The cache" lists it with the shared cache's other
    # noisy-neighbour limits; test_the_script_cache_stays_usable shows the refill.
    # Function libraries are one namespace shared by every user: dev could replace a
    # library prod calls and have its code run with prod's rights.
    ["FUNCTION", "FLUSH"],
    ["FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('f', function() end)"],
    ["MODULE", "LOAD", "/tmp/evil.so"],
    # The allocator and dataset of the whole server.
    ["MEMORY", "STATS"],
    ["MEMORY", "DOCTOR"],
    ["MEMORY", "MALLOC-STATS"],
]


def _no_retry() -> Retry:
    """Refused authentication is the expected answer here; redis-py would retry it."""
    return Retry(NoBackoff(), 0)


@dataclass(frozen=True)
class CacheUser:
    """One ElastiCache user of the stack's graph."""

    access_string: str
    password: str


def cache_users(graph: PlanResult) -> dict[str, CacheUser]:
    """User name -> access string and password, as the data layer creates them."""
    return {
        user.inputs["userName"]: CacheUser(
            user.inputs["accessString"],
            reveal(user.raw_inputs)["authenticationMode"]["passwords"][0],
        )
        for user in graph.of_type(rt.CACHE_USER)
    }


def redis_urls(graph: PlanResult) -> dict[str, str]:
    """Environment name -> the REDIS_URL of its tenancy Secret."""
    urls = {}
    for item in kubernetes_objects(graph, reveal=True):
        metadata = item.document["metadata"]
        if item.document["kind"] == "Secret" and metadata["name"] == REDIS_SECRET:
            (env,) = [e for e in ENVIRONMENTS if e.namespace == metadata["namespace"]]
            urls[env.name] = item.document["stringData"]["REDIS_URL"]
    return urls


def _set_user(client: redis.Redis, user: str, access_string: str, password: str | None) -> None:
    rules = access_string.split()
    if password is not None:
        rules.append(f">{password}")
    client.execute_command("ACL", "SETUSER", user, "reset", *rules)


@dataclass
class Cache:
    server: RedisServer
    admin: redis.Redis
    users: dict[str, CacheUser]
    urls: dict[str, str]

    def url(self, env: Environment) -> str:
        """The environment's REDIS_URL, pointed at the local server (no TLS here)."""
        parts = urlsplit(self.urls[env.name])
        assert parts.scheme == "rediss"
        credentials = parts.netloc.rpartition("@")[0]
        netloc = f"{credentials}@{self.server.host}:{self.server.port}"
        return urlunsplit(("redis", netloc, parts.path, parts.query, parts.fragment))

    def client(self, env: Environment, **options: Any) -> redis.Redis:
        return redis.Redis.from_url(self.url(env), decode_responses=True, **options)


def admin_in(server: RedisServer, db: int) -> redis.Redis:
    """The test's administrator, in one DB."""
    return redis.Redis(
        host=server.host,
        port=server.port,
        username=ADMIN,
        password=ADMIN_PASSWORD,
        db=db,
        decode_responses=True,
    )


@pytest.fixture(scope="module")
def stack_users(graph: PlanResult) -> dict[str, CacheUser]:
    users = cache_users(graph)
    # The ACLs the stack gives ElastiCache are the data layer's one definition.
    for env in ENVIRONMENTS:
        assert users[env.cache_user].access_string == cache_access_string(env)
    return users


@pytest.fixture
def cache(
    redis_server: RedisServer, graph: PlanResult, stack_users: dict[str, CacheUser]
) -> Iterator[Cache]:
    bootstrap_client = redis.Redis(host=redis_server.host, port=redis_server.port)
    # An administrator of this test's own, so the default user can be disabled and restored.
    _set_user(bootstrap_client, ADMIN, "on ~* &* +@all", ADMIN_PASSWORD)
    bootstrap_client.close()
    admin = admin_in(redis_server, 0)
    for env in ENVIRONMENTS:
        user = stack_users[env.cache_user]
        _set_user(admin, env.cache_user, user.access_string, user.password)
    for db in DATABASES:
        with admin_in(redis_server, db) as seeding:
            for env in ENVIRONMENTS:
                seeding.set(f"{env.key_prefix}greeting", f"{env.name} only")
    try:
        yield Cache(redis_server, admin, stack_users, redis_urls(graph))
    finally:
        # Back to redis-server's defaults for the rest of the session.
        _set_user(admin, DEFAULT_USER_NAME, "on nopass ~* &* +@all", None)
        admin.flushall()
        admin.execute_command("SCRIPT", "FLUSH")
        admin.execute_command("ACL", "DELUSER", *(env.cache_user for env in ENVIRONMENTS))
        admin.execute_command("ACL", "DELUSER", ADMIN)
        admin.close()


def refused(run: Callable[[], object]) -> bool:
    try:
        run()
    except redis.exceptions.NoPermissionError:
        return True
    except redis.exceptions.ResponseError as error:
        # Inside scripts the refusal arrives as a script error naming the ACL.
        return "The user executing the script can't" in str(error)
    return False


DIRECTIONS = pytest.mark.parametrize(
    ("intruder", "owner"), [(DEV, PROD), (PROD, DEV)], ids=["dev-into-prod", "prod-into-dev"]
)


@pytest.mark.parametrize("env", ENVIRONMENTS, ids=lambda e: e.name)
def test_each_user_works_in_its_own_prefix_in_every_db(cache: Cache, env: Environment) -> None:
    client = cache.client(env)
    assert client.ping() is True
    # The server's view of the connection: the environment's user, in its DB.
    (seen,) = [c for c in cache.admin.client_list() if c["user"] == env.cache_user]
    assert seen["db"] == str(env.redis_db)
    prefix = env.key_prefix
    for db in DATABASES:
        client.execute_command("SELECT", db)
        key = f"{prefix}session:{secrets.token_hex(4)}"
        assert client.set(key, "value", ex=60) is True
        assert client.get(key) == "value"
        assert client.ttl(key) > 0
        assert client.get(f"{prefix}greeting") == f"{env.name} only"
        assert client.incr(f"{prefix}counter") >= 1
        client.hset(f"{prefix}user:1", mapping={"name": "a"})
        client.rpush(f"{prefix}queue", "job-1")
        assert client.blpop([f"{prefix}queue"], timeout=1) == (f"{prefix}queue", "job-1")
        client.xadd(f"{prefix}stream", {"event": "x"})
        with client.pipeline(transaction=True) as pipe:
            pipe.set(f"{prefix}a", "1").get(f"{prefix}a")
            assert pipe.execute() == [True, "1"]
        script = client.register_script("return redis.call('GET', KEYS[1])")
        assert script(keys=[f"{prefix}a"]) == "1"
        assert client.delete(key) == 1
    assert client.info("server")["redis_version"]
    assert client.publish(f"{prefix}events", "hello") == 0
    client.close()


@DIRECTIONS
def test_a_user_cannot_touch_the_other_prefix_in_any_db(
    cache: Cache, intruder: Environment, owner: Environment
) -> None:
    client = cache.client(intruder)
    target = f"{owner.key_prefix}greeting"
    stolen = f"{intruder.key_prefix}stolen"
    for db in DATABASES:
        client.execute_command("SELECT", db)
        for attempt in (
            lambda: client.get(target),
            lambda: client.set(target, "overwritten"),
            lambda: client.delete(target),
            lambda: client.exists(target),
            lambda: client.rename(target, stolen),
            lambda: client.copy(target, stolen),
            lambda: client.sort(f"{intruder.key_prefix}list", by=f"{owner.key_prefix}*"),
            lambda: client.eval("return redis.call('GET', KEYS[1])", 1, target),
            lambda: client.eval(f"return redis.call('GET', '{target}')", 0),
            lambda: client.publish(f"{owner.key_prefix}events", "x"),
        ):
            assert refused(attempt)
    client.close()
    for db in DATABASES:
        with admin_in(cache.server, db) as admin:
            assert admin.get(target) == f"{owner.name} only"
            assert admin.exists(stolen) == 0


@DIRECTIONS
def test_a_user_cannot_learn_the_other_prefixs_names(
    cache: Cache, intruder: Environment, owner: Environment
) -> None:
    """Key and channel names are data too (session ids, user ids): no listing command
    may reveal the other environment's, whether the ACL refuses the command or filters its
    answer."""
    listener = cache.client(owner).pubsub()
    listener.subscribe(f"{owner.key_prefix}events")
    client = cache.client(intruder)
    for db in DATABASES:
        client.execute_command("SELECT", db)
        for listing in (
            lambda: list(client.scan_iter(count=1000)),
            lambda: client.keys("*"),
            lambda: [client.randomkey() for _ in range(20)],
            client.pubsub_channels,
        ):
            try:
                names = listing()
            except redis.exceptions.NoPermissionError:
                continue
            assert not any(n is not None and n.startswith(owner.key_prefix) for n in names)
    # Tracking in broadcast mode would deliver an invalidation naming every key written.
    assert refused(lambda: client.execute_command("CLIENT", "TRACKING", "ON", "BCAST"))
    client.close()
    listener.close()


@DIRECTIONS
def test_a_user_cannot_subscribe_to_the_other_prefixs_channels(
    cache: Cache, intruder: Environment, owner: Environment
) -> None:
    for channel in (f"{owner.key_prefix}events", "*"):
        pubsub = cache.client(intruder).pubsub()
        subscribe = pubsub.psubscribe if channel == "*" else pubsub.subscribe
        with pytest.raises(redis.exceptions.ResponseError):
            subscribe(channel)
            pubsub.get_message(timeout=1)
        pubsub.close()


@pytest.mark.parametrize("env", ENVIRONMENTS, ids=lambda e: e.name)
def test_dangerous_commands_are_refused(cache: Cache, env: Environment) -> None:
    allowed = [
        command
        for command in DANGEROUS
        if cache.admin.execute_command("ACL", "DRYRUN", env.cache_user, *command) == "OK"
    ]
    assert allowed == []


def test_the_access_string_names_no_command_elasticache_withholds() -> None:
    """ElastiCache refuses an access string naming a command it does not offer."""
    restricted = yaml.safe_load(
        (Path(__file__).parent / "fixtures" / "elasticache-restricted-commands.yaml").read_text()
    )["commands"]
    for env in ENVIRONMENTS:
        named = {
            rule.lstrip("+-").lower()
            for rule in cache_access_string(env).split()
            if rule[0] in "+-" and not rule[1:].startswith("@")
        }
        assert named
        assert named.isdisjoint(restricted)


@pytest.mark.parametrize("env", ENVIRONMENTS, ids=lambda e: e.name)
def test_what_stays_allowed_at_a_cost_is_known(cache: Cache, env: Environment) -> None:
    """Accepted (docs/boundary.md): SCRIPT KILL (another user's read-only script, past the
    busy threshold) and SCRIPT FLUSH, because redis-py's Script and Lock need SCRIPT LOAD;
    INFO commandstats, because client libraries need INFO."""
    for command in (["SCRIPT", "KILL"], ["SCRIPT", "FLUSH"], ["SCRIPT", "LOAD", "return 1"],
                    ["INFO", "commandstats"]):  # fmt: skip
        assert cache.admin.execute_command("ACL", "DRYRUN", env.cache_user, *command) == "OK"
    lock = cache.client(env).lock(f"{env.key_prefix}lock", timeout=5)
    assert lock.acquire(blocking=False)
    cache.client(env).script_flush()
    lock.release()


def test_the_script_cache_stays_usable(cache: Cache) -> None:
    """SCRIPT FLUSH stays allowed (see DANGEROUS): one environment flushing the shared
    script cache costs the other a reload, no data."""
    prod, dev = cache.client(PROD), cache.client(DEV)
    script = prod.register_script("return redis.call('GET', KEYS[1])")
    assert script(keys=[f"{PROD.key_prefix}greeting"]) == "prod only"
    dev.script_flush()
    assert script(keys=[f"{PROD.key_prefix}greeting"]) == "prod only"
    prod.close()
    dev.close()


def test_the_default_user_cannot_authenticate_once_disabled(
    cache: Cache, stack_users: dict[str, CacheUser]
) -> None:
    anonymous = redis.Redis(host=cache.server.host, port=cache.server.port)
    assert anonymous.ping() is True  # redis-server's own default: open
    anonymous.close()
    default = stack_users[DEFAULT_USER_NAME]
    _set_user(cache.admin, DEFAULT_USER_NAME, default.access_string, default.password)
    anonymous_after = redis.Redis(host=cache.server.host, port=cache.server.port, retry=_no_retry())
    with pytest.raises(redis.exceptions.AuthenticationError):
        anonymous_after.ping()
    for password in ("", "default", default.password, ADMIN_PASSWORD):
        guesser = redis.Redis(
            host=cache.server.host,
            port=cache.server.port,
            username=DEFAULT_USER_NAME,
            password=password,
            retry=_no_retry(),
        )
        with pytest.raises(redis.exceptions.AuthenticationError):
            guesser.ping()
    # A bare connection (no client library handshake): even its own password does not let
    # the disabled user in, and nothing runs unauthenticated.
    with socket.create_connection((cache.server.host, cache.server.port)) as raw:
        raw.sendall(f"AUTH {DEFAULT_USER_NAME} {default.password}\r\nGET dev:a\r\n".encode())
        replies = b""
        while replies.count(b"\r\n") < 2:
            replies += raw.recv(4096)
    auth, get = replies.decode().splitlines()[:2]
    assert auth.startswith("-WRONGPASS")
    assert get.startswith("-NOAUTH")
    # The environment users still work.
    assert cache.client(DEV).ping() is True


# --- what one shared server leaks sideways ------------------------------------------------


@DIRECTIONS
def test_a_user_cannot_inspect_or_wait_on_the_other_prefixs_keys(
    cache: Cache, intruder: Environment, owner: Environment
) -> None:
    client = cache.client(intruder)
    target = f"{owner.key_prefix}greeting"
    for inspect in (
        lambda: client.execute_command("OBJECT", "ENCODING", target),
        lambda: client.execute_command("MEMORY", "USAGE", target),
        lambda: client.ttl(target),
        lambda: client.type(target),
        lambda: client.dump(target),
        lambda: client.blpop([f"{owner.key_prefix}queue"], timeout=1),
        lambda: client.eval("return redis.call('GET', KEYS[1])", 1, target),
    ):
        assert refused(inspect)
    client.close()


@DIRECTIONS
def test_keyspace_notifications_name_no_key_to_the_other_environment(
    cache: Cache, intruder: Environment, owner: Environment
) -> None:
    """With keyspace notifications on (an operator's choice), their channels carry key
    names: `__keyspace@<db>__:<key>` and `__keyevent@<db>__:<event>` are outside the
    intruder's `&<prefix>*` channels."""
    cache.admin.config_set("notify-keyspace-events", "KEA")
    try:
        for channel in (
            f"__keyspace@{owner.redis_db}__:{owner.key_prefix}*",
            f"__keyevent@{owner.redis_db}__:set",
            "__key*__:*",
        ):
            pubsub = cache.client(intruder).pubsub()
            with pytest.raises(redis.exceptions.ResponseError):
                pubsub.psubscribe(channel)
                pubsub.get_message(timeout=1)
            pubsub.close()
    finally:
        cache.admin.config_set("notify-keyspace-events", "")


def test_server_wide_counters_stay_visible(cache: Cache) -> None:
    """Accepted (docs/boundary.md): INFO and DBSIZE give every user per-DB key counts and
    server statistics, never a key name or value; client libraries read the version from
    INFO. What dev learns is how many keys prod's DB holds."""
    dev = cache.client(DEV)
    keyspace = dev.info("keyspace")
    assert f"db{PROD.redis_db}" in keyspace
    dev.execute_command("SELECT", PROD.redis_db)
    assert dev.dbsize() >= 1
    assert refused(lambda: dev.execute_command("CLIENT", "LIST"))
    dev.close()
