"""Reading nested resource properties: one ``dig`` for the cost rules and the policy controls."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def dig(value: Any, *path: str) -> Any:
    """``value[a][b]...``, or None when any step is missing or not a mapping.

    Under `pulumi preview --policy-pack` a step may be pulumi-policy's proxy, whose ``get``
    raises ``UnknownValueError`` for a value only known at apply time; that error passes
    through for the caller to judge.
    """
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value
