"""Pulumi's wire format for special values (pulumi/runtime/rpc.py), defined once for the
mock engine, the mocks that write it and the recorder that reads it."""

from __future__ import annotations

from typing import Any

SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def secret(value: Any) -> dict[str, Any]:
    """A value the engine would mark secret."""
    return {SIG_KEY: SECRET_SIG, "value": value}


def resource_reference(urn: str, resource_id: str) -> dict[str, Any]:
    """A reference to a registered resource, as a remote component returns it."""
    return {SIG_KEY: RESOURCE_SIG, "urn": urn, "id": resource_id}
