"""Connection strings handed to the applications, and the password verifiers the schema
bootstrap sets.

Plain functions over plain strings: the component calls them inside `Output.apply`, the
tests call them directly and connect to real servers with what they return.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote, urlencode

# PostgreSQL's default (scram_iterations); the server accepts any count in a verifier.
SCRAM_ITERATIONS = 4096


def database_url(
    *, user: str, password: str, host: str, port: int, database: str, schema: str
) -> str:
    """A libpq URI for the environment's own role.

    TLS is required (Aurora's parameter group forces it); `options` puts the role in its
    schema for the session, as the role's own `search_path` setting does. Every part is
    percent-encoded, so the options' space and `=` survive (`-c%20search_path%3D...`).
    """
    query = urlencode(
        {"sslmode": "require", "options": f"-c search_path={schema}"}, quote_via=quote
    )
    return (
        f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}@{host}:{port}"
        f"/{quote(database, safe='')}?{query}"
    )


def redis_url(*, user: str, password: str, host: str, port: int, db: int) -> str:
    """A TLS Redis URL for the environment's ACL user (ElastiCache RBAC needs TLS)."""
    return f"rediss://{quote(user, safe='')}:{quote(password, safe='')}@{host}:{port}/{db}"


def scram_sha256_verifier(password: str, salt: bytes, iterations: int = SCRAM_ITERATIONS) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for ``password`` (RFC 5802, RFC 7677).

    `ALTER ROLE ... PASSWORD '<verifier>'` stores it as given, so the password itself never
    reaches the server, nor its statement log (log_statement = ddl logs every ALTER ROLE).
    PostgreSQL SASLprep-normalises passwords first; that is the identity for printable
    ASCII, the only passwords accepted here.
    """
    if not (password.isascii() and password.isprintable()):
        raise ValueError("SCRAM verifiers are computed for printable ASCII passwords only")
    if len(salt) < 16:
        raise ValueError("the salt must be at least 16 bytes")
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"
