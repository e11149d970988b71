"""Shared machinery for the per-layer pydantic config models.

Every layer owns its config model (``pingvas_infra/<layer>/config.py``); they all derive
from :class:`ConfigModel` so stack files use camelCase keys (``vpcCidr``), unknown keys are
refused, and cross-field checks report the exact key at fault through :class:`Problem`.
:func:`format_errors` turns a pydantic ``ValidationError`` into the one-screen message the
user sees, naming every offending key, its value and what is allowed.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import pulumi
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

CONFIG_NAMESPACE = "pingvas"
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
        return f"{_join(prefix, self.key)} = {_show(self.value)}: {self.message}"


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


def span(allowed: range, unit: str = "days") -> str:
    """A range of whole numbers as a message states it: "7 to 35 days"."""
    return f"{allowed.start} to {allowed.stop - 1} {unit}"


def out_of_range(key: str, value: int, allowed: range, unit: str = "days") -> list[Problem]:
    """The problem of a ``value`` outside ``allowed`` (none if inside)."""
    return [] if value in allowed else [Problem(key, value, span(allowed, unit))]


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
Cidr = Annotated[str, AfterValidator(_parse_cidr)]


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


def _show(value: Any) -> str:
    if isinstance(value, BaseModel):
        value = value.model_dump(by_alias=True)
    text = json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _model_at(model: type[BaseModel], loc: Sequence[int | str]) -> type[BaseModel] | None:
    """The model class that owns the last key of ``loc`` (for listing allowed keys)."""
    current: type[BaseModel] | None = model
    for part in loc[:-1]:
        if current is None or isinstance(part, int):
            continue
        field = next(
            (f for name, f in current.model_fields.items() if part in (name, f.alias)),
            None,
        )
        if field is None:
            return None
        annotation = field.annotation
        current = (
            annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel)
            else None
        )
    return current


def allowed_keys(model: type[BaseModel]) -> list[str]:
    return sorted(f.alias or name for name, f in model.model_fields.items())


@dataclass(frozen=True)
class Offence:
    """One line of the final message: full key, the value given, what is allowed."""

    key: str
    value: str
    allowed: str

    def render(self) -> str:
        return f"  - {self.key} = {self.value}: {self.allowed}"


def offences_from(exc: ValidationError, model: type[BaseModel], key_prefix: str) -> list[Offence]:
    """Flatten a ValidationError into offences with full stack-file keys."""
    out: list[Offence] = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        base = _join(key_prefix, _key_path(loc))
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, ConfigProblems):
            out.extend(
                Offence(_join(base, p.key), _show(p.value), p.allowed) for p in cause.problems
            )
            continue
        if err["type"] == "extra_forbidden":
            owner = _model_at(model, loc)
            keys = ", ".join(allowed_keys(owner)) if owner else "see README"
            out.append(Offence(base, _show(err["input"]), f"unknown key; allowed keys: {keys}"))
            continue
        if err["type"] == "missing":
            out.append(Offence(base, "(unset)", "required"))
            continue
        message = err["msg"].removeprefix("Value error, ")
        out.append(Offence(base, _show(err["input"]), message))
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
