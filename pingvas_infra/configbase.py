"""Shared machinery for the per-layer pydantic config models.

Every layer owns its config model (``pingvas_infra/<layer>/config.py``); they all derive
from :class:`ConfigModel` so stack files use camelCase keys (``vpcCidr``), unknown keys are
refused, and cross-field checks report the exact key at fault through :class:`Problem`.

A setting is declared once, as a field: its type, ``Field(description=..., ge=..., le=...,
pattern=...)`` and, where the type and constraints cannot say it in words, two optional
extras in ``json_schema_extra``: ``"allowed"`` (the allowed values, as the user reads them)
and ``"why"`` (the reason behind a bound, shown with every refusal). From that one
declaration come both the refusal message (:func:`offences_from`) and the README's
configuration table (``pingvas_infra/config_reference.py``).
"""

from __future__ import annotations

import ipaddress
import json
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import annotated_types
import pulumi
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from pingvas_infra.tables import load_table

# The program's config namespace: the project name of Pulumi.yaml, which is the namespace
# `pulumi config set` writes a key to when none is given (a test keeps the two equal).
CONFIG_NAMESPACE = "pingvas-infra"
# The namespace the program read before it followed the project name: its keys are refused
# with the key to write instead.
FORMER_NAMESPACE = "pingvas"
# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy API reference);
# every layer that keeps logs checks its setting against them.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827)


class ConfigError(pulumi.RunError):
    """Invalid stack configuration; the message lists every offending key."""


@dataclass(frozen=True)
class ConfigWarning:
    """A valid but risky setting, shown by the plan (and by `pulumi up`) without failing.

    ``key`` is relative to the model that reports it, in stack-file spelling.
    """

    key: str
    value: Any
    message: str

    def render(self, prefix: str) -> str:
        return f"{_join(prefix, self.key)} = {show(self.value)}: {self.message}"


class ConfigModel(BaseModel):
    """Base for every config model: camelCase keys, no unknown keys, immutable."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
    )

    def warnings(self) -> list[ConfigWarning]:
        """Valid but risky settings of this section; sections override this."""
        return []


@dataclass(frozen=True)
class Problem:
    """One offending key found by a cross-field check.

    ``key`` is relative to the model that raised it, in stack-file spelling
    (``"maxAcu"``, ``"privateSubnetCidrs[1]"``).
    """

    key: str
    value: Any
    allowed: str


class ConfigProblems(ValueError):
    """Raised by model validators; carries every problem the model found at once."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{p.key}: {p.allowed}" for p in self.problems))


def raise_problems(problems: Iterable[Problem]) -> None:
    found = list(problems)
    if found:
        raise ConfigProblems(found)


def not_one_of(key: str, value: Any, allowed: Iterable[Any]) -> list[Problem]:
    """The problem of a ``value`` outside the listed ``allowed`` values (none if inside)."""
    choices = list(allowed)
    if value in choices:
        return []
    return [Problem(key, value, f"one of {', '.join(map(str, choices))}")]


@dataclass(frozen=True)
class Allowed:
    """Annotated metadata of a reusable type: its allowed values in words."""

    text: str


def one_of(values: Sequence[Any], why: str = "") -> AfterValidator:
    """A validator refusing anything outside ``values``; put it in ``Annotated`` beside
    ``Allowed(...)`` so the README lists the same values."""

    def check(value: Any) -> Any:
        if value not in values:
            raise ValueError(f"allowed: {_choices(values)}" + (f". {why}" if why else ""))
        return value

    return AfterValidator(check)


def _parse_cidr(value: str) -> str:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except (ipaddress.AddressValueError, ipaddress.NetmaskValueError, ValueError) as exc:
        raise ValueError(
            f"not an IPv4 CIDR ({exc}); allowed: a network address with its prefix, "
            "such as 10.0.0.0/16"
        ) from None
    return str(network)


# An IPv4 network in canonical form ("10.0.0.0/16"); host bits set are refused.
Cidr = Annotated[
    str,
    AfterValidator(_parse_cidr),
    Allowed("an IPv4 network with its prefix, such as 10.0.0.0/16"),
]
LogRetentionDays = Annotated[
    int,
    one_of(LOG_RETENTION_DAYS, "CloudWatch Logs keeps logs for these periods only"),
    Allowed(f"one of {', '.join(map(str, LOG_RETENTION_DAYS))} (CloudWatch Logs periods)"),
]


def network(cidr: str) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(cidr)


def overlapping_cidrs(named: Sequence[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """Every pair of overlapping CIDRs as (key, other_key, cidr)."""
    found = []
    for i, (key_a, cidr_a) in enumerate(named):
        for key_b, cidr_b in named[i + 1 :]:
            if network(cidr_a).overlaps(network(cidr_b)):
                found.append((key_b, key_a, cidr_b))
    return found


def _key_path(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def _join(prefix: str, suffix: str) -> str:
    if not prefix:
        return suffix
    if not suffix:
        return prefix
    return prefix + suffix if suffix.startswith("[") else f"{prefix}.{suffix}"


def show(value: Any) -> str:
    """A value as the message shows it: JSON, so text is quoted and true is lower-case."""
    if isinstance(value, BaseModel):
        value = value.model_dump(by_alias=True)
    text = json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


# --- what a setting allows, in words -------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """What the README and the messages need to know of one key: its type, constraints
    and the extras of its ``Field``."""

    annotation: Any
    metadata: tuple[Any, ...] = ()
    extra: dict[str, Any] | None = None

    @classmethod
    def of_field(cls, field: FieldInfo) -> Setting:
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else None
        return cls(field.annotation, tuple(field.metadata), extra)

    def unwrapped(self) -> Setting:
        """Annotated[...] and X | None taken apart: the metadata joins the setting's own."""
        annotation, metadata = self.annotation, list(self.metadata)
        while typing.get_origin(annotation) is Annotated:
            annotation, *inner = typing.get_args(annotation)
            for item in inner:
                metadata.extend(item.metadata if isinstance(item, FieldInfo) else [item])
        return Setting(annotation, tuple(metadata), self.extra)

    @property
    def optional(self) -> bool:
        args = typing.get_args(self.unwrapped().annotation)
        return _is_union(self.unwrapped().annotation) and type(None) in args

    def without_none(self) -> Setting:
        inner = self.unwrapped()
        if _is_union(inner.annotation):
            rest = [a for a in typing.get_args(inner.annotation) if a is not type(None)]
            if len(rest) == 1:
                return Setting(rest[0], inner.metadata, inner.extra).unwrapped()
        return inner

    def item(self) -> Setting | None:
        """The setting of one item of a list, or of one value of a map."""
        inner = self.without_none()
        args = typing.get_args(inner.annotation)
        origin = typing.get_origin(inner.annotation)
        if origin in (tuple, list) and args:
            return Setting(args[0]).unwrapped()
        if origin is dict and len(args) == 2:
            return Setting(args[1]).unwrapped()
        return None

    @property
    def model(self) -> type[BaseModel] | None:
        annotation = self.without_none().annotation
        return annotation if _is_model(annotation) else None

    @property
    def why(self) -> str:
        return str((self.extra or {}).get("why", ""))

    def allowed(self) -> str:
        """The allowed values in words: "a whole number from 2 to 450"."""
        inner = self.without_none()
        text = _allowed_text(inner)
        return f"{text}, or unset" if self.optional else text


def _is_union(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType)


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _choices(values: Iterable[Any]) -> str:
    return ", ".join(json.dumps(v) if isinstance(v, bool) else str(v) for v in values)


def _constraint(metadata: Sequence[Any], kind: type, name: str) -> Any:
    return next((getattr(m, name) for m in metadata if isinstance(m, kind)), None)


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) and not value.is_integer() else str(int(value))


def _number_range(metadata: Sequence[Any]) -> str:
    ge = _constraint(metadata, annotated_types.Ge, "ge")
    gt = _constraint(metadata, annotated_types.Gt, "gt")
    le = _constraint(metadata, annotated_types.Le, "le")
    lt = _constraint(metadata, annotated_types.Lt, "lt")
    if ge is not None and le is not None:
        return f" from {_number(ge)} to {_number(le)}"
    parts = [
        f"{words} {_number(bound)}"
        for words, bound in (("at least", ge), ("above", gt), ("at most", le), ("below", lt))
        if bound is not None
    ]
    return " " + " and ".join(parts) if parts else ""


def _lengths(metadata: Sequence[Any], unit: str) -> str:
    low = _constraint(metadata, annotated_types.MinLen, "min_length")
    high = _constraint(metadata, annotated_types.MaxLen, "max_length")
    if low and high:
        return f", {low} to {high} {unit}"
    if low == 1:
        return ", not empty"
    if low:
        return f", at least {low} {unit}"
    if high:
        return f", at most {high} {unit}"
    return ""


def _allowed_text(setting: Setting) -> str:
    extra = setting.extra or {}
    if "allowed" in extra:
        return str(extra["allowed"])
    written = next((m.text for m in setting.metadata if isinstance(m, Allowed)), None)
    if written is not None:
        return written
    annotation, metadata = setting.annotation, setting.metadata
    origin = typing.get_origin(annotation)
    if origin is Literal:
        values = typing.get_args(annotation)
        return f"only {_choices(values)}" if len(values) == 1 else f"one of {_choices(values)}"
    if annotation is bool:
        return "true or false"
    if annotation is int:
        return "a whole number" + _number_range(metadata)
    if annotation is float:
        step = _constraint(metadata, annotated_types.MultipleOf, "multiple_of")
        return "a number" + _number_range(metadata) + (f", in steps of {step:g}" if step else "")
    if annotation is str:
        pattern = next((m.pattern for m in metadata if getattr(m, "pattern", None)), None)
        text = f"text matching {pattern}" if pattern else "text"
        return text + _lengths(metadata, "characters")
    if _is_model(annotation):
        return "a map of the keys below"
    item = setting.item()
    if origin in (tuple, list) and item is not None:
        return f"a list of: {item.allowed()}" + _lengths(metadata, "items")
    if origin is dict and item is not None:
        return f"a map of names to: {item.allowed()}" + _lengths(metadata, "entries")
    return str(annotation)


def setting_at(model: type[BaseModel], loc: Sequence[int | str]) -> Setting | None:
    """The setting a pydantic error location points at (through lists, maps and models)."""
    current: Setting | None = Setting(model)
    for part in loc:
        if current is None:
            return None
        owner = current.model
        if owner is not None and isinstance(part, str):
            field = next(
                (f for name, f in owner.model_fields.items() if part in (name, f.alias)), None
            )
            current = Setting.of_field(field) if field is not None else None
        else:
            current = current.item()
    return current


def allowed_keys(model: type[BaseModel]) -> list[str]:
    return sorted(f.alias or name for name, f in model.model_fields.items())


# --- refusals in the user's words ----------------------------------------------------

_PULUMI_PATH_TYPE = "`pulumi config set --path` writes it so with `--type {0}`"


def _wrong_type(kind: str, value: Any) -> str:
    """Why ``value`` is not of ``kind`` ("int", "float", "str", "bool", "list", "map")."""
    if isinstance(value, bool) and kind in ("int", "float"):
        return "true or false where a number is expected"
    if kind == "int":
        if isinstance(value, float):
            return "not a whole number"
        if isinstance(value, str):
            return "quoted text where a number is expected: write it without quotes"
    if kind == "float" and isinstance(value, str):
        return (
            "quoted text where a number is expected: write it without quotes ("
            + _PULUMI_PATH_TYPE.format("float")
            + ")"
        )
    if kind == "str" and isinstance(value, int | float) and not isinstance(value, bool):
        return (
            f'a number where text is expected: write it in quotes, "{value}" (YAML reads an '
            "unquoted 17.9 as a number, and 8.10 as 8.1; "
            + _PULUMI_PATH_TYPE.format("string")
            + ")"
        )
    if kind == "bool" and isinstance(value, str):
        return "text where true or false is expected: write true or false without quotes"
    if isinstance(value, bool):
        return "true or false where something else is expected"
    if isinstance(value, dict):
        return "a map of keys where something else is expected"
    if isinstance(value, list):
        return "a list where something else is expected"
    if value is None:
        return "no value"
    return {
        "int": "not a whole number",
        "float": "not a number",
        "str": "not text",
        "bool": "not true or false",
        "list": "not a list: write [a, b] or one '- item' line per item",
        "map": "not a map of keys: write one 'key: value' line per setting under it",
    }[kind]


_TYPE_ERRORS = {
    "int_type": "int",
    "int_parsing": "int",
    "int_from_float": "int",
    "float_type": "float",
    "float_parsing": "float",
    "string_type": "str",
    "bool_type": "bool",
    "bool_parsing": "bool",
    "tuple_type": "list",
    "list_type": "list",
    "dict_type": "map",
    "model_type": "map",
    "model_attributes_type": "map",
}


def _bound_phrase(err: ErrorDetails) -> str:
    ctx = err.get("ctx") or {}
    kind = err["type"]

    def bound(name: str) -> str:
        value = ctx.get(name)
        return _number(value) if isinstance(value, int | float) else str(value)

    phrases = {
        "less_than_equal": lambda: f"above the maximum {bound('le')}",
        "less_than": lambda: f"not below {bound('lt')}",
        "greater_than_equal": lambda: f"below the minimum {bound('ge')}",
        "greater_than": lambda: f"not above {bound('gt')}",
        "multiple_of": lambda: f"not a multiple of {bound('multiple_of')}",
        "too_long": lambda: f"more than {ctx.get('max_length')} items",
        "too_short": lambda: f"fewer than {ctx.get('min_length')} items",
        "string_too_long": lambda: f"longer than {ctx.get('max_length')} characters",
        "string_too_short": lambda: f"shorter than {ctx.get('min_length')} characters",
        "string_pattern_mismatch": lambda: "not of the allowed form",
        "literal_error": lambda: "not one of the allowed values",
        "enum": lambda: "not one of the allowed values",
    }
    return phrases[kind]() if kind in phrases else ""


@dataclass(frozen=True)
class Offence:
    """One line of the final message: full key, the value given, what is allowed."""

    key: str
    value: str
    allowed: str

    def render(self) -> str:
        return f"  - {self.key} = {self.value}: {self.allowed}"


def _explained(phrase: str, setting: Setting | None) -> str:
    if setting is None:
        return phrase
    text = f"{phrase}; allowed: {setting.allowed()}" if phrase else f"allowed: {setting.allowed()}"
    return f"{text}. {setting.why}" if setting.why else text


def offences_from(exc: ValidationError, model: type[BaseModel], key_prefix: str) -> list[Offence]:
    """Flatten a ValidationError into offences with full stack-file keys, each in the
    user's words: what is wrong with the value, and what the key allows."""
    out: list[Offence] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        base = _join(key_prefix, _key_path(loc))
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, ConfigProblems):
            out.extend(
                Offence(_join(base, p.key), show(p.value), p.allowed) for p in cause.problems
            )
            continue
        kind = err["type"]
        if kind == "extra_forbidden":
            owner = setting_at(model, loc[:-1])
            keys = ", ".join(allowed_keys(owner.model)) if owner and owner.model else ""
            out.append(Offence(base, show(err["input"]), f"unknown key; allowed keys: {keys}"))
            continue
        if kind == "missing":
            out.append(Offence(base, "(unset)", "required"))
            continue
        setting = setting_at(model, loc)
        if kind in _TYPE_ERRORS:
            phrase = _wrong_type(_TYPE_ERRORS[kind], err["input"])
        elif kind in ("value_error", "assertion_error"):
            # A validator's own message, already in the user's words.
            message = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
            out.append(Offence(base, show(err["input"]), message))
            continue
        else:
            phrase = _bound_phrase(err) or "not allowed"
        out.append(Offence(base, show(err["input"]), _explained(phrase, setting)))
    return out


def render_offences(offences: Sequence[Offence], stack: str) -> str:
    noun = "problem" if len(offences) == 1 else "problems"
    lines = [
        f"Stack configuration for '{stack}' is invalid ({len(offences)} {noun}); "
        "nothing was created.",
        *(o.render() for o in offences),
        "Fix the keys above in Pulumi." + stack + ".yaml (or with `pulumi config set`).",
    ]
    return "\n".join(lines)


def aws_limit(name: str) -> int:
    """A bound AWS sets (tables/aws_limits.yaml): a quota, an API maximum."""
    return int(load_table("aws_limits")["limits"][name]["value"])
