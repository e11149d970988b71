"""The session's real servers answer, with the authentication the proofs rely on."""

from __future__ import annotations

import psycopg
import pytest
import redis

from tests.support.servers import PostgresServer, RedisServer


def test_postgres_requires_a_password_over_tcp(postgres_server: PostgresServer) -> None:
    with psycopg.connect(postgres_server.dsn()) as connection:
        assert connection.execute("select 1").fetchone() == (1,)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(postgres_server.dsn(password="wrong")).close()


def test_redis_answers(redis_server: RedisServer) -> None:
    client = redis.Redis(host=redis_server.host, port=redis_server.port)
    assert client.ping() is True
    client.close()
