"""Reading resource properties the way both policy runs hand them over.

Under `pulumi preview --policy-pack` the properties arrive wrapped by pulumi-policy's proxy:
mappings and sequences are ``collections.abc`` types (not ``dict``/``list``), and reading a
value not known until apply raises ``UnknownValueError``. The offline plan wraps its
recorded inputs the same way, so validators see one shape in both runs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

from pingvas_infra.mappings import dig

__all__ = [
    "UNKNOWN_STRING_VALUE",
    "UnknownValueError",
    "is_false",
    "is_set",
    "is_true",
    "items",
    "json_document",
    "mapping",
]


def is_true(value: Any) -> bool:
    """True for ``True`` and for the string ``"true"`` (pulumi-aws types some flags as strings)."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def is_false(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.lower() == "false")


def items(value: Any) -> list[Any]:
    """The elements of a sequence property; nothing for a missing or scalar value."""
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return list(value)
    return []


def mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def is_set(props: Mapping[str, Any], *path: str) -> bool:
    """Whether a property has a value. A value only known at apply time (an ARN of a
    resource being created) counts as set: it is computed from something that exists."""
    try:
        value = dig(props, *path)
    except UnknownValueError:
        return True
    return value not in (None, "") and not (
        isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 0
    )


def json_document(value: Any) -> Mapping[str, Any]:
    """A JSON policy document given either as a string or already parsed."""
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            return {}
        return parsed if isinstance(parsed, Mapping) else {}
    return mapping(value)
