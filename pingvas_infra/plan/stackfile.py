"""Read the project and stack files the way the Pulumi CLI would, without the CLI.

Encrypted values (`secure: v1:...`) are never decrypted: they become "[secret]" and their
keys are marked secret, so everything derived from them stays redacted in the plan.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pingvas_infra.plan.model import SECRET


class StackFileError(Exception):
    """The project or stack file is missing or malformed."""


@dataclass(frozen=True)
class StackFile:
    project_dir: Path
    project: str
    stack: str
    config: dict[str, str]
    secret_keys: list[str]

    @property
    def main_file(self) -> Path:
        return self.project_dir / "__main__.py"


def find_project_dir(start: Path) -> Path:
    for candidate in (start, *start.parents):
        if (candidate / "Pulumi.yaml").is_file():
            return candidate
    raise StackFileError(f"no Pulumi.yaml in {start} or any parent directory")


def _has_secure(value: Any) -> bool:
    if isinstance(value, dict):
        return set(value) == {"secure"} or any(_has_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_secure(v) for v in value)
    return False


def _redact_secure(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return SECRET
        return {k: _redact_secure(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_secure(v) for v in value]
    return value


def _as_engine_value(value: Any) -> str:
    """The engine passes scalars as strings and structured values as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value)


def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise StackFileError(f"{path.name} is not valid YAML: {exc}") from None
    if not isinstance(document, dict):
        raise StackFileError(f"{path.name} must be a YAML mapping")
    return document


def read_stack_file(project_dir: Path, stack: str) -> StackFile:
    project_file = project_dir / "Pulumi.yaml"
    project_doc = _load_yaml(project_file)
    project = project_doc.get("name")
    if not isinstance(project, str):
        raise StackFileError("Pulumi.yaml has no project name")

    stack_path = project_dir / f"Pulumi.{stack}.yaml"
    if not stack_path.is_file():
        raise StackFileError(f"no stack file {stack_path.name} (stack '{stack}')")
    raw = _load_yaml(stack_path).get("config") or {}
    if not isinstance(raw, dict):
        raise StackFileError(f"{stack_path.name}: 'config' must be a mapping")

    # Project-level defaults (Pulumi.yaml `config:` with `default:`) apply first.
    merged: dict[str, Any] = {}
    for key, spec in (project_doc.get("config") or {}).items():
        if isinstance(spec, dict) and "default" in spec:
            merged[_qualify(key, project)] = spec["default"]
        elif isinstance(spec, dict) and "value" in spec:
            merged[_qualify(key, project)] = spec["value"]
    merged.update({_qualify(k, project): v for k, v in raw.items()})

    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in sorted(merged.items()):
        if _has_secure(value):
            secret_keys.append(key)
        config[key] = _as_engine_value(_redact_secure(value))
    return StackFile(project_dir, project, stack, config, secret_keys)


def _qualify(key: str, project: str) -> str:
    """A bare key belongs to the project's namespace (Pulumi's rule)."""
    return key if ":" in key else f"{project}:{key}"
