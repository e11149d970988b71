"""Connection strings parse back to what was meant; SCRAM verifiers are well formed.

That PostgreSQL accepts the URLs and verifiers is proven against a real server in
test_schema_bootstrap.py; here the clients' own parsers read them back.
"""

from __future__ import annotations

import base64

import pytest
from psycopg.conninfo import conninfo_to_dict
from redis.connection import SSLConnection, parse_url

from pingvas_infra.tenancy.credentials import database_url, redis_url, scram_sha256_verifier

AWKWARD = "p@ss:w/rd%20?&#x"


def test_database_url_reads_back_through_libpq() -> None:
    url = database_url(
        user="dev_user",
        password=AWKWARD,
        host="writer.example",
        port=5432,
        database="pingvas_saas",
        schema="dev_pingvas",
    )
    assert conninfo_to_dict(url) == {
        "user": "dev_user",
        "password": AWKWARD,
        "host": "writer.example",
        "port": "5432",
        "dbname": "pingvas_saas",
        "sslmode": "require",
        "options": "-c search_path=dev_pingvas",
    }


def test_redis_url_reads_back_through_redis_py() -> None:
    url = redis_url(user="prod-app", password=AWKWARD, host="cache.example", port=6379, db=1)
    parsed = parse_url(url)
    assert parsed["username"] == "prod-app"
    assert parsed["password"] == AWKWARD
    assert (parsed["host"], parsed["port"], parsed["db"]) == ("cache.example", 6379, 1)
    assert parsed["connection_class"] is SSLConnection


def test_scram_verifier_shape_and_salt() -> None:
    salt = bytes(range(16))
    verifier = scram_sha256_verifier("correct horse", salt)
    mechanism, rest = verifier.split("$", 1)
    iterations_salt, keys = rest.split("$")
    iterations, encoded_salt = iterations_salt.split(":")
    stored_key, server_key = keys.split(":")
    assert mechanism == "SCRAM-SHA-256"
    assert int(iterations) >= 4096
    assert base64.b64decode(encoded_salt) == salt
    assert len(base64.b64decode(stored_key)) == len(base64.b64decode(server_key)) == 32
    assert scram_sha256_verifier("correct horse", salt) == verifier
    assert scram_sha256_verifier("correct horse", bytes(16)) != verifier
    assert scram_sha256_verifier("correct horsf", salt) != verifier


@pytest.mark.parametrize("password", ["pässword", "tab\tinside"])
def test_scram_refuses_what_it_cannot_prepare(password: str) -> None:
    with pytest.raises(ValueError, match="printable ASCII"):
        scram_sha256_verifier(password, bytes(16))


def test_scram_refuses_a_short_salt() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        scram_sha256_verifier("password", b"short")
