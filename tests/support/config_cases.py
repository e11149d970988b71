"""Stack config with overrides, and the refused-config test every layer's config tests use."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import pytest
from pydantic import BaseModel

from pingvas_infra.config import ConfigError, RawConfig, StackConfig, parse_stack_config
from pingvas_infra.configbase import Setting
from pingvas_infra.plan.stackfile import StackFile
from tests.support.project import STACK


def merged_config(base: Mapping[str, str], overrides: Mapping[str, Any]) -> dict[str, str]:
    """The stack file's config with ``overrides`` merged into its sections.

    ``overrides`` maps full keys to values: ``{"pingvas-infra:network": {"natGateways": 3}}``
    merges into the section; a value of ``None`` deletes the key.
    """
    config = dict(base)
    for key, value in overrides.items():
        if value is None:
            config.pop(key, None)
            continue
        current = config.get(key)
        if isinstance(value, dict) and current is not None:
            merged = json.loads(current)
            merged.update(copy.deepcopy(value))
            config[key] = json.dumps(merged)
        else:
            config[key] = value if isinstance(value, str) else json.dumps(value)
    return config


def raw_config(
    stack_file: StackFile, overrides: Mapping[str, Any], secrets: Mapping[str, str]
) -> RawConfig:
    """What the engine hands the program: ``secrets`` (full key -> value) are set as
    `pulumi config set --secret` sets them, marked secret."""
    values = {**merged_config(stack_file.config, overrides), **secrets}
    return RawConfig(values=values, secret_keys=frozenset({*stack_file.secret_keys, *secrets}))


def config_with(
    stack_file: StackFile,
    overrides: Mapping[str, Any],
    secrets: Mapping[str, str] | None = None,
) -> StackConfig:
    """Parse the stack file's config with overrides (raises ConfigError when invalid)."""
    return parse_stack_config(raw_config(stack_file, overrides, secrets or {}), STACK)


def config_refusal(stack_file: StackFile, overrides: Mapping[str, Any]) -> str:
    """The message of the ConfigError that parsing with ``overrides`` must raise."""
    with pytest.raises(ConfigError) as caught:
        config_with(stack_file, overrides)
    return str(caught.value)


# What pydantic says in its own words; a refusal shows none of it.
PYDANTIC_WORDING = (
    "Input should",
    "instance of",
    "valid tuple",
    "valid dictionary",
    "Value error",
    "pydantic",
    "[type=",
    "Extra inputs",
    "Field required",
)


def assert_in_users_words(message: str) -> None:
    """A refusal in the user's words: no traceback, nothing of pydantic's wording."""
    assert "Traceback" not in message
    leaked = [w for w in PYDANTIC_WORDING if w in message]
    assert not leaked, f"pydantic wording {leaked} in:\n{message}"


# A malformed-config case: (case id, overrides, key the message must name, text it must contain).
BadConfigCase = tuple[str, dict[str, Any], str, str]


def refused_config_test(
    cases: Sequence[BadConfigCase], section: str | None = None
) -> Callable[..., None]:
    """A test over ``cases``: each is refused with one clean message naming its key
    (``<key> = ``) and containing its text.

    With ``section`` (``"pingvas-infra:network"``) a case's overrides are that section's keys;
    without, they are whole stack-config overrides.
    """

    @pytest.mark.parametrize(
        ("overrides", "key", "text"),
        [pytest.param(o, k, t, id=case) for case, o, k, t in cases],
    )
    def test(stack_file: StackFile, overrides: dict[str, Any], key: str, text: str) -> None:
        message = config_refusal(stack_file, {section: overrides} if section else overrides)
        assert f"{key} = " in message
        assert text in message, message
        assert_in_users_words(message)

    return test


def leaf_settings(model: type[BaseModel] = StackConfig) -> Iterator[tuple[tuple[str, ...], Any]]:
    """(document path, setting) of every leaf key; maps of models (gpu.pools) as dev."""
    for name, field in model.model_fields.items():
        alias = field.alias or name
        setting = Setting.of_field(field)
        item = setting.item()
        if setting.model is not None:
            for path, leaf in leaf_settings(setting.model):
                yield (alias, *path), leaf
        elif item is not None and item.model is not None:
            for path, leaf in leaf_settings(item.model):
                yield (alias, "dev", *path), leaf
        else:
            yield (alias,), setting
