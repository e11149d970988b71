"""The README's configuration table, generated from the config models.

Every row comes from one field of :class:`~pingvas_infra.config.StackConfig` and its
sub-models: the key as the stack file spells it, the default, what is allowed (the same
words a refusal uses, from the field's type, constraints and ``json_schema_extra``) and
what it means (the field's ``description``). A new setting needs nothing here: a field with
``Field(description=...)`` and its constraints appears in the table once
`python -m scripts.docs` rewrites the README's generated blocks; tests/test_docs.py fails
while the README and the models disagree, tests/test_config_reference.py while a field has
no description.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from pingvas_infra.config import AWS_FIELDS, StackConfig
from pingvas_infra.configbase import CONFIG_NAMESPACE, Setting
from pingvas_infra.stack_secrets import SECRET_KEYS

# Text YAML would read as something else (a number, a boolean, null) is shown quoted.
_NEEDS_QUOTES = re.compile(
    r"^(?:[-+]?[0-9][0-9_.eE+-]*|true|false|True|False|TRUE|FALSE|null|~|yes|no|on|off|)$"
)
# A map of named entries (gpu.pools.<env>): the placeholder the table shows for the name.
_ENTRY = "<env>"


@dataclass(frozen=True)
class Row:
    key: str
    default: str
    allowed: str
    meaning: str


def _yaml_scalar(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"{value:g}" if isinstance(value, float) else str(value)
    text = str(value)
    return json.dumps(text) if _NEEDS_QUOTES.match(text) else text


def show_default(value: Any) -> str:
    """A default as the stack file would spell it (YAML flow style)."""
    if isinstance(value, BaseModel):
        value = value.model_dump(by_alias=True)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(show_default(v) for v in value) + "]"
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        return "{" + ", ".join(f"{k}: {show_default(v)}" for k, v in value.items()) + "}"
    return _yaml_scalar(value)


def _default_of(field: FieldInfo) -> Any:
    if field.default_factory is not None:
        return field.default_factory()  # type: ignore[call-arg]
    return field.default


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _stack_key(prefix: str, alias: str, name: str) -> str:
    if not prefix:
        return AWS_FIELDS.get(name, f"{CONFIG_NAMESPACE}:{alias}")
    return f"{prefix}.{alias}"


def _rows(
    model: type[BaseModel], prefix: str, defaults: Mapping[str, Any] | None = None
) -> Iterator[Row]:
    """The rows of ``model``'s fields; ``defaults`` maps each entry name of a map of models
    (dev, prod) to its default model, shown side by side."""
    for name, field in model.model_fields.items():
        alias = field.alias or name
        key = _stack_key(prefix, alias, name)
        setting = Setting.of_field(field)
        nested = setting.model
        item = setting.item()
        if nested is not None:
            yield from _rows(nested, key)
            continue
        if item is not None and item.model is not None:
            yield from _rows(item.model, f"{key}.{_ENTRY}", _default_of(field))
            continue
        extra = setting.extra or {}
        if "default" in extra:
            default = str(extra["default"])
        elif defaults is not None:
            default = "; ".join(
                f"{entry}: {show_default(getattr(value, name))}"
                for entry, value in defaults.items()
            )
        else:
            default = show_default(_default_of(field))
        allowed = setting.allowed() + (f". {setting.why}" if setting.why else "")
        yield Row(key, default, allowed, field.description or "")


def rows() -> list[Row]:
    """Every key of the stack file the program reads, in the models' order, then the
    secrets."""
    found = list(_rows(StackConfig, ""))
    found.extend(
        Row(
            f"{CONFIG_NAMESPACE}:{name} (secret)",
            "unset",
            f"ciphertext: `pulumi config set --secret {name} ...`",
            description,
        )
        for name, description in SECRET_KEYS.items()
    )
    return found


def render_table() -> str:
    """The configuration table (Markdown), one row a key."""
    lines = [
        "| key | default | allowed | meaning |",
        "|---|---|---|---|",
        *(
            f"| `{r.key}` | {_cell('`' + r.default + '`' if r.default else '')} | "
            f"{_cell(r.allowed)} | {_cell(r.meaning)} |"
            for r in rows()
        ),
    ]
    return "\n".join(lines)
