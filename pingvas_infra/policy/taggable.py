"""Which AWS resource types take tags, read from the installed pulumi-aws SDK.

A type is taggable when its resource class accepts a ``tags`` map. The SDK registers every
resource module with the Pulumi runtime (token -> Python module and class), so the answer
comes from the generated code itself rather than from a hand-kept list that would rot with
each pulumi-aws release (the lookup is in pingvas_infra.sdk_internals).
"""

from __future__ import annotations

from functools import cache

from pingvas_infra import resource_types as rt
from pingvas_infra import sdk_internals


@cache
def is_taggable(type_token: str) -> bool:
    """True when ``type_token`` (``aws:<module>/<name>:<Type>``) takes a ``tags`` map."""
    if not type_token.startswith(rt.AWS_PREFIX):
        return False
    cls = sdk_internals.resource_class(type_token)
    if cls is None:
        return False
    parameter = sdk_internals.resource_arguments(cls).get("tags")
    return parameter is not None and "Mapping" in str(parameter.annotation)
