"""What the offline plan records: one entry per RegisterResource the program makes."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pingvas_infra import resource_types as rt
from pingvas_infra.plan.wire import OUTPUT_SIG, RESOURCE_SIG, SECRET_SIG, SIG_KEY, UNKNOWN_VALUE

# Marker values used in place of what the plan must not or cannot show.
SECRET = "[secret]"
UNKNOWN = "[unknown]"


def _all_secret(value: Any) -> Any:
    """Redact every leaf but keep the shape (the keys of a secret map are not secret)."""
    if isinstance(value, Mapping):
        return {k: _all_secret(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_all_secret(v) for v in value]
    return SECRET


def redact(value: Any) -> Any:
    """Turn wire-format values into plain JSON: secrets become "[secret]", resource
    references their URN, unknowns "[unknown]", integral floats ints."""
    if isinstance(value, Mapping):
        sig = value.get(SIG_KEY)
        if sig == SECRET_SIG:
            return _all_secret(redact(value.get("value")))
        if sig == RESOURCE_SIG:
            return value.get("urn", UNKNOWN)
        if sig == OUTPUT_SIG:
            if value.get("secret"):
                return _all_secret(redact(value.get("value")))
            return redact(value.get("value", UNKNOWN))
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value == UNKNOWN_VALUE:
        return UNKNOWN
    return value


def reveal(value: Any) -> Any:
    """Like :func:`redact` but keeps (mock) secret values: for rendering inside tests."""
    if isinstance(value, Mapping):
        sig = value.get(SIG_KEY)
        if sig in (SECRET_SIG, OUTPUT_SIG):
            return reveal(value.get("value"))
        if sig == RESOURCE_SIG:
            return value.get("urn", UNKNOWN)
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@dataclass(frozen=True)
class RecordedResource:
    urn: str
    type: str
    name: str
    parent: str | None
    custom: bool
    remote: bool
    inputs: dict[str, Any]
    protect: bool
    retain_on_delete: bool
    dependencies: tuple[str, ...]
    provider: str | None
    # The id the (mock) provider assigned; kept in memory for tests that follow references.
    id: str | None = field(default=None, compare=False)
    # The unredacted inputs, kept in memory only (never written): under mocks the
    # "secrets" are fake values, but tests that render objects need the real shape.
    raw_inputs: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @property
    def layer(self) -> str:
        """The `pingvas:<layer>:<Type>` component this resource belongs to ("stack" if none)."""
        for part in self.urn.split("::")[2].split("$"):
            if part.startswith(rt.COMPONENT_PREFIX):
                return part.split(":")[1]
        return "stack"

    def to_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "custom": self.custom,
            "remote": self.remote,
            "provider": self.provider,
            "inputs": self.inputs,
            "protect": self.protect,
            "retainOnDelete": self.retain_on_delete,
            "dependencies": list(self.dependencies),
        }


@dataclass
class PlanResult:
    project: str
    stack: str
    resources: list[RecordedResource]
    outputs: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    def of_type(self, type_token: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_token]

    def one(self, type_token: str, name: str | None = None) -> RecordedResource:
        found = [r for r in self.of_type(type_token) if name is None or r.name == name]
        if len(found) != 1:
            raise LookupError(f"expected one {type_token} {name or ''}, found {len(found)}")
        return found[0]

    def by_urn(self) -> dict[str, RecordedResource]:
        return {r.urn: r for r in self.resources}

    def by_id(self) -> dict[str, RecordedResource]:
        return {r.id: r for r in self.resources if r.id}

    def children_of(self, urn: str) -> Iterator[RecordedResource]:
        return (r for r in self.resources if r.parent == urn)

    def resources_json(self) -> str:
        document = {
            "project": self.project,
            "stack": self.stack,
            "resources": [r.to_json() for r in self.resources],
        }
        return json.dumps(document, indent=2, sort_keys=True) + "\n"
