"""Which AWS resource types take tags, read from the installed pulumi-aws SDK.

A type is taggable when its resource class accepts a ``tags`` map. The SDK registers every
resource module with the Pulumi runtime (token -> Python module and class), so the answer
comes from the generated code itself rather than from a hand-kept list that would rot with
each pulumi-aws release.
"""

from __future__ import annotations

import importlib
import inspect
from functools import cache

import pulumi.runtime.rpc as pulumi_rpc


def _resource_class(type_token: str) -> type | None:
    package, module, _ = type_token.split(":", 2)
    registered = pulumi_rpc.get_resource_module(package, module, "")
    mod_info = getattr(registered, "mod_info", None)
    if not isinstance(mod_info, dict):
        return None
    class_name = mod_info.get("classes", {}).get(type_token)
    if class_name is None:
        return None
    found = getattr(importlib.import_module(mod_info["fqn"]), class_name, None)
    return found if isinstance(found, type) else None


@cache
def is_taggable(type_token: str) -> bool:
    """True when ``type_token`` (``aws:<module>/<name>:<Type>``) takes a ``tags`` map."""
    if not type_token.startswith("aws:") or type_token.count(":") != 2:
        return False
    # Importing the package registers its resource modules with the runtime.
    importlib.import_module("pulumi_aws")
    cls = _resource_class(type_token)
    if cls is None:
        return False
    parameter = inspect.signature(cls._internal_init).parameters.get("tags")  # type: ignore[attr-defined]
    return parameter is not None and "Mapping" in str(parameter.annotation)
