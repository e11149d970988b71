"""The cache users' ACL, loaded into a real redis-server: prefixes are a boundary.

ElastiCache cannot run here; redis-server 7 implements the same ACL rules (ElastiCache's
access strings are Redis ACL rules), so what a user can and cannot do is measured, not
assumed. The server runs on a private Unix socket with persistence off.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from pingvas_infra.data.cache_acl import (
    DEFAULT_USER_ACCESS_STRING,
    DEFAULT_USER_NAME,
    cache_access_string,
)
from pingvas_infra.environments import DEV, PROD, Environment

pytestmark = pytest.mark.redis

PASSWORD = "test-password-for-a-throwaway-server"


@pytest.fixture(scope="module")
def socket_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    server = shutil.which("redis-server")
    if server is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is not installed (scripts/test.sh installs it)")
        pytest.skip("redis-server is not installed")
    directory = tmp_path_factory.mktemp("redis")
    path = directory / "redis.sock"
    process = subprocess.Popen(
        [
            server,
            "--port",
            "0",
            "--unixsocket",
            str(path),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # The server logs this line once the socket accepts connections.
        assert process.stdout is not None
        for line in process.stdout:
            if "ready to accept connections" in line.lower():
                break
        else:
            pytest.fail("redis-server exited before accepting connections")
        admin = redis.Redis(unix_socket_path=str(path))
        admin.ping()
        for env in (DEV, PROD):
            admin.execute_command(
                "ACL",
                "SETUSER",
                env.cache_user,
                "reset",
                f">{PASSWORD}",
                *cache_access_string(env).split(),
            )
        admin.set("prod:session:alice", "secret")
        yield path
    finally:
        process.terminate()
        process.wait(timeout=10)


def connect(path: Path, env: Environment, **options: object) -> redis.Redis:
    return redis.Redis(
        unix_socket_path=str(path),
        username=env.cache_user,
        password=PASSWORD,
        decode_responses=True,
        **options,  # type: ignore[arg-type]
    )


def refused(client: redis.Redis, *command: str) -> bool:
    try:
        client.execute_command(*command)
    except redis.exceptions.NoPermissionError:
        return True
    except redis.exceptions.ResponseError as error:
        # Inside scripts the refusal arrives as a script error naming the ACL.
        return "The user executing the script can't" in str(error)
    return False


def test_normal_application_use_works_on_own_prefix(socket_path: Path) -> None:
    dev = connect(socket_path, DEV)
    dev.set("dev:counter", 1, ex=60)
    assert dev.incr("dev:counter") == 2
    dev.hset("dev:user:1", mapping={"name": "a"})
    dev.rpush("dev:queue", "job-1")
    assert dev.blpop(["dev:queue"], timeout=1) == ("dev:queue", "job-1")
    dev.xadd("dev:stream", {"event": "x"})
    assert dev.ttl("dev:counter") > 0
    with dev.pipeline(transaction=True) as pipe:
        pipe.set("dev:a", "1").get("dev:a")
        assert pipe.execute() == [True, "1"]
    script = dev.register_script("return redis.call('GET', KEYS[1])")
    assert script(keys=["dev:a"]) == "1"
    assert dev.info("server")["redis_version"]
    assert dev.publish("dev:events", "hello") == 0


def test_the_seeds_db_numbers_still_work_but_bound_nothing(socket_path: Path) -> None:
    prod = connect(socket_path, PROD, db=PROD.redis_db)
    prod.set("prod:cache:x", "1")
    assert prod.get("prod:cache:x") == "1"
    dev_in_prod_db = connect(socket_path, DEV, db=PROD.redis_db)
    assert refused(dev_in_prod_db, "GET", "prod:cache:x")
    assert refused(dev_in_prod_db, "DEL", "prod:cache:x")
    assert prod.get("prod:cache:x") == "1"


@pytest.mark.parametrize(
    "command",
    [
        ("GET", "prod:session:alice"),
        ("SET", "prod:session:alice", "stolen"),
        ("DEL", "prod:session:alice"),
        ("COPY", "prod:session:alice", "dev:copy"),
        ("RENAME", "prod:session:alice", "dev:renamed"),
        ("KEYS", "*"),
        ("SCAN", "0"),
        ("RANDOMKEY",),
        ("FLUSHALL",),
        ("FLUSHDB",),
        ("SWAPDB", "0", "1"),
        ("SORT", "dev:list", "BY", "prod:*"),
        ("CONFIG", "GET", "*"),
        ("ACL", "LIST"),
        ("CLIENT", "LIST"),
        ("CLIENT", "KILL", "TYPE", "normal"),
        ("CLIENT", "TRACKING", "ON", "BCAST"),
        ("SLOWLOG", "GET"),
        ("PUBSUB", "CHANNELS"),
        ("PUBLISH", "prod:events", "x"),
        ("FUNCTION", "FLUSH"),
        ("FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('f', function() end)"),
        ("EVAL", "return redis.call('GET', 'prod:session:alice')", "0"),
        ("EVAL", "return redis.call('KEYS', '*')", "0"),
    ],
    ids=lambda c: " ".join(c)[:40],
)
def test_dev_cannot_reach_prod(socket_path: Path, command: tuple[str, ...]) -> None:
    assert refused(connect(socket_path, DEV), *command)


def test_dev_cannot_subscribe_to_prod_channels(socket_path: Path) -> None:
    pubsub = connect(socket_path, DEV).pubsub()
    for subscribe, channel in ((pubsub.subscribe, "prod:events"), (pubsub.psubscribe, "*")):
        with pytest.raises(redis.exceptions.ResponseError):
            subscribe(channel)
            pubsub.get_message(timeout=1)


def test_prod_is_confined_the_same_way(socket_path: Path) -> None:
    prod = connect(socket_path, PROD)
    assert refused(prod, "SET", "dev:planted", "x")
    assert refused(prod, "KEYS", "*")
    assert refused(prod, "FLUSHALL")


def test_default_user_is_off(socket_path: Path) -> None:
    admin = redis.Redis(unix_socket_path=str(socket_path))
    admin.execute_command(
        "ACL",
        "SETUSER",
        DEFAULT_USER_NAME,
        "reset",
        f">{PASSWORD}",
        *DEFAULT_USER_ACCESS_STRING.split(),
    )
    # A bare connection (no client library handshake): what an unauthenticated or
    # default-user client gets.
    with socket.socket(socket.AF_UNIX) as raw:
        raw.connect(str(socket_path))
        raw.sendall(f"AUTH {DEFAULT_USER_NAME} {PASSWORD}\r\nGET dev:a\r\n".encode())
        replies = b""
        while replies.count(b"\r\n") < 2:
            replies += raw.recv(4096)
    auth, get = replies.decode().splitlines()[:2]
    assert auth.startswith("-WRONGPASS")
    assert get.startswith("-NOAUTH")
