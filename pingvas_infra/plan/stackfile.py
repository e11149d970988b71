"""Read the project and stack files the way the Pulumi CLI would, without the CLI.

Encrypted values (`secure: v1:...`) are never decrypted: they become "[secret]" and their
keys are marked secret, so everything derived from them stays redacted in the plan. Their
shape is checked, though, as is everything else a hand-edited file can get wrong without a
word from YAML: a key given twice (YAML keeps the last), a setting outside `config:`, a key
with no value, a secret beside other keys or that is no ciphertext. Those are reported as
:class:`StackFileProblem` (the config check adds them to its one message); a file that is
no YAML mapping at all raises :class:`StackFileError`.

Scalars are read as the Pulumi CLI reads them (go-yaml v3, mostly YAML 1.2): only
true/false are booleans (YAML 1.1's yes, no, on and off stay text), there are no
sexagesimal numbers (1:30 is text), and dates stay text.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from pingvas_infra.plan.model import SECRET

# The top-level keys of a stack file (pulumi/pulumi sdk/go/common/workspace/project.go,
# ProjectStack).
STACK_FILE_KEYS = ("config", "encryptionsalt", "secretsprovider", "encryptedkey", "environment")
# `pulumi config set --secret` with the passphrase or a cloud KMS provider writes
# v1:<base64 12-byte nonce>:<base64 AES-256-GCM ciphertext and 16-byte tag>
# (pulumi/pulumi sdk/go/common/resource/config/crypt.go, symmetricCrypter).
_SYMMETRIC = re.compile(r"^v1:(?P<nonce>[A-Za-z0-9+/=]+):(?P<sealed>[A-Za-z0-9+/=]+)$")
_NONCE_BYTES = 12
_TAG_BYTES = 16
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MERGE = "tag:yaml.org,2002:merge"


class StackFileError(Exception):
    """The project or stack file is missing or malformed."""


@dataclass(frozen=True)
class StackFileProblem:
    """A mistake in the file itself: the key (as the config check names keys), the value as
    shown, and what is allowed."""

    key: str
    value: str
    allowed: str


@dataclass(frozen=True)
class StackFile:
    project_dir: Path
    project: str
    stack: str
    config: dict[str, str]
    secret_keys: list[str]
    problems: tuple[StackFileProblem, ...] = field(default=())

    @property
    def main_file(self) -> Path:
        return self.project_dir / "__main__.py"


class _PulumiYamlLoader(yaml.SafeLoader):
    """Plain scalars resolved as go-yaml v3 resolves them (its resolve.go, v3.0.1)."""


_PulumiYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_BOOL, _INT, _FLOAT, _TIMESTAMP)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_PulumiYamlLoader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_PulumiYamlLoader.add_implicit_resolver(
    _INT,
    re.compile(r"^[-+]?(?:0b[01_]+|0o?[0-7_]*|[1-9][0-9_]*|0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)
_PulumiYamlLoader.add_implicit_resolver(
    _FLOAT,
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


def find_project_dir(start: Path) -> Path:
    for candidate in (start, *start.parents):
        if (candidate / "Pulumi.yaml").is_file():
            return candidate
    raise StackFileError(f"no Pulumi.yaml in {start} or any parent directory")


def _has_secure(value: Any) -> bool:
    if isinstance(value, dict):
        return "secure" in value or any(_has_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_secure(v) for v in value)
    return False


def _redact_secure(value: Any) -> Any:
    if isinstance(value, dict):
        if "secure" in value:
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
    return json.dumps(value, default=str)


def _key_text(node: Node) -> str:
    return str(node.value) if isinstance(node, ScalarNode) else "(a non-text key)"


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _duplicates(node: Node, path: str, seen: set[int]) -> Iterator[tuple[str, int, int]]:
    """Every key given twice in one mapping: (key path, first line, second line)."""
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, MappingNode):
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                continue
            key = _key_text(key_node)
            line = key_node.start_mark.line + 1
            if key in first_line:
                yield _child(path, key), first_line[key], line
            else:
                first_line[key] = line
            yield from _duplicates(value_node, _child(path, key), seen)
    elif isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            yield from _duplicates(item, f"{path}[{i}]", seen)


def _load_yaml(path: Path) -> tuple[dict[str, Any], Node | None]:
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=_PulumiYamlLoader)
        document = yaml.load(text, Loader=_PulumiYamlLoader) or {}
    except yaml.YAMLError as exc:
        raise StackFileError(f"{path.name} is not valid YAML: {exc}") from None
    if not isinstance(document, dict):
        raise StackFileError(f"{path.name} must be a YAML mapping")
    return document, node


def _config_node(node: Node | None) -> MappingNode | None:
    if not isinstance(node, MappingNode):
        return None
    for key_node, value_node in node.value:
        if _key_text(key_node) == "config" and isinstance(value_node, MappingNode):
            return value_node
    return None


def _duplicate_problems(file_name: str, node: Node | None) -> list[StackFileProblem]:
    if node is None:
        return []
    found: list[tuple[str, int, int]] = []
    config = _config_node(node)
    seen: set[int] = set()
    if config is not None:
        # Config keys are named as the config check names them (no "config." in front).
        found.extend(_duplicates(config, "", seen))
    found.extend(_duplicates(node, "", seen))
    return [
        StackFileProblem(
            key,
            "(given twice)",
            f"each key once: {file_name} sets it on lines {first} and {second}; YAML keeps "
            "only the last (the Pulumi CLI refuses the file)",
        )
        for key, first, second in found
    ]


def _secure_problems(
    key: str, value: Any, symmetric: bool, file_name: str
) -> Iterator[StackFileProblem]:
    """A `secure:` value that is not exactly what `pulumi config set --secret` writes."""
    if isinstance(value, list):
        for i, item in enumerate(value):
            yield from _secure_problems(f"{key}[{i}]", item, symmetric, file_name)
        return
    if not isinstance(value, dict):
        return
    if "secure" not in value:
        for name, item in value.items():
            yield from _secure_problems(f"{key}.{name}", item, symmetric, file_name)
        return
    others = sorted(str(k) for k in value if k != "secure")
    if others:
        yield StackFileProblem(
            key,
            "[secret]",
            f"a secret is `secure: <ciphertext>` alone; this map also holds "
            f"{', '.join(others)} in plain text beside it (set the value once, with "
            "`pulumi config set --secret`)",
        )
    ciphertext = value["secure"]
    if not _is_ciphertext(ciphertext, symmetric):
        kind = "text" if isinstance(ciphertext, str) else type(ciphertext).__name__
        expected = (
            "v1:<nonce>:<ciphertext>, as `pulumi config set --secret` writes it with the "
            f"passphrase or KMS key of {file_name}"
            if symmetric
            else "ciphertext as `pulumi config set --secret` writes it"
        )
        yield StackFileProblem(
            key, f"(secure: {kind} that is no ciphertext)", f"the secure value must be {expected}"
        )


def _b64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _is_ciphertext(value: Any, symmetric: bool) -> bool:
    """The shape of Pulumi ciphertext (never decrypted): v1:<nonce>:<sealed> for the
    passphrase and cloud KMS providers; plain base64 for the Pulumi Cloud provider."""
    if not isinstance(value, str) or not value:
        return False
    found = _SYMMETRIC.match(value)
    if found:
        nonce, sealed = _b64(found["nonce"]), _b64(found["sealed"])
        return (
            nonce is not None
            and len(nonce) == _NONCE_BYTES
            and sealed is not None
            and len(sealed) >= _TAG_BYTES
        )
    return not symmetric and _b64(value) is not None


def _lines_of_config_keys(node: Node | None) -> dict[str, int]:
    config = _config_node(node)
    if config is None:
        return {}
    return {_key_text(k): k.start_mark.line + 1 for k, _ in config.value}


def read_stack_file(project_dir: Path, stack: str) -> StackFile:
    project_file = project_dir / "Pulumi.yaml"
    project_doc, project_node = _load_yaml(project_file)
    project = project_doc.get("name")
    if not isinstance(project, str):
        raise StackFileError("Pulumi.yaml has no project name")

    stack_path = project_dir / f"Pulumi.{stack}.yaml"
    if not stack_path.is_file():
        raise StackFileError(f"no stack file {stack_path.name} (stack '{stack}')")
    stack_doc, stack_node = _load_yaml(stack_path)
    problems = [
        *_duplicate_problems(project_file.name, project_node),
        *_duplicate_problems(stack_path.name, stack_node),
    ]
    problems.extend(
        StackFileProblem(
            str(key),
            "(top level)",
            f"not a stack file key: settings go under `config:`; {stack_path.name}'s "
            f"top-level keys are {', '.join(STACK_FILE_KEYS)}",
        )
        for key in stack_doc
        if key not in STACK_FILE_KEYS
    )
    raw = stack_doc.get("config") or {}
    if not isinstance(raw, dict):
        raise StackFileError(f"{stack_path.name}: 'config' must be a mapping")
    symmetric = "encryptionsalt" in stack_doc or "encryptedkey" in stack_doc

    # Project-level defaults (Pulumi.yaml `config:` with `default:`) apply first.
    merged: dict[str, Any] = {}
    for key, spec in (project_doc.get("config") or {}).items():
        if isinstance(spec, dict) and "default" in spec:
            merged[_qualify(key, project)] = spec["default"]
        elif isinstance(spec, dict) and "value" in spec:
            merged[_qualify(key, project)] = spec["value"]
    lines = _lines_of_config_keys(stack_node)
    written: dict[str, str] = {}
    for key, value in raw.items():
        qualified = _qualify(str(key), project)
        if qualified in written:
            problems.append(
                StackFileProblem(
                    qualified,
                    "(given twice)",
                    f"each key once: {stack_path.name} sets it as {written[qualified]} "
                    f"(line {lines.get(written[qualified])}) and as {key} (line "
                    f"{lines.get(str(key))}); a key without a namespace is "
                    f"{project}:<key>",
                )
            )
        written[qualified] = str(key)
        if value is None:
            problems.append(
                StackFileProblem(
                    qualified,
                    "(no value)",
                    "a value: write the settings under the key, or delete the line (Pulumi "
                    "only warns and passes it on empty)",
                )
            )
            continue
        problems.extend(_secure_problems(qualified, value, symmetric, stack_path.name))
        merged[qualified] = value

    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in sorted(merged.items()):
        if _has_secure(value):
            secret_keys.append(key)
        config[key] = _as_engine_value(_redact_secure(value))
    return StackFile(project_dir, project, stack, config, secret_keys, tuple(problems))


def _qualify(key: str, project: str) -> str:
    """A bare key belongs to the project's namespace (Pulumi's rule)."""
    return key if ":" in key else f"{project}:{key}"
