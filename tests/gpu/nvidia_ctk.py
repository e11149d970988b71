"""A stand-in for `nvidia-ctk config --in-place --set key=value ...`, which needs the NVIDIA
driver stack and cannot be installed here. It follows the toolkit's own code path for that
command (tests/gpu/fixtures/nvidia-container-toolkit.yaml names the files): the config file
is found as GetConfigFilePath finds it, each key must name a top-level field of the
toolkit's Config and a bool value is parsed as Go's strconv.ParseBool parses it; anything
else is refused with exit status 1, as the real command refuses an unknown option. It
writes by editing the file's text, so what the toolkit later reads is checked with a real
TOML parser (tomllib), not by this code.

Run as `python nvidia_ctk.py config --in-place --set k=v [--set k=v ...]`.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import yaml

FACTS = yaml.safe_load(
    (Path(__file__).parent / "fixtures" / "nvidia-container-toolkit.yaml").read_text(
        encoding="utf-8"
    )
)
GO_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
GO_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


def config_path() -> Path:
    override = os.environ.get("NVIDIA_CTK_CONFIG_FILE_PATH")
    if override:
        return Path(override)
    return Path(os.environ.get("XDG_CONFIG_HOME") or "/etc") / FACTS["configFile"]


def toml_value(key: str, value: str) -> str:
    kind = FACTS["topLevelKeys"].get(key)
    if kind is None:
        raise SystemExit(f"invalid config option: {key!r} names no top-level field")
    if kind == "bool":
        if value not in GO_TRUE | GO_FALSE:
            raise SystemExit(f"invalid format: {key}={value}")
        return "true" if value in GO_TRUE else "false"
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main(arguments: list[str]) -> None:
    if arguments[:2] != ["config", "--in-place"]:
        raise SystemExit(f"only `config --in-place --set ...` is stood in for, not {arguments}")
    settings: list[tuple[str, str]] = []
    rest = arguments[2:]
    while rest:
        flag, assignment, *rest = rest
        if flag != "--set" or "=" not in assignment:
            raise SystemExit(f"expected --set key=value, got {flag} {assignment}")
        key, value = assignment.split("=", 1)
        settings.append((key, toml_value(key, value)))
    path = config_path()
    lines = path.read_text(encoding="utf-8").splitlines()
    first_table = next((i for i, line in enumerate(lines) if line.startswith("[")), len(lines))
    for key, value in settings:
        line = f"{key} = {value}"
        pattern = re.compile(rf"^{re.escape(key)}\s*=")
        found = [i for i in range(first_table) if pattern.match(lines[i])]
        if found:
            lines[found[0]] = line
        else:
            lines.insert(first_table, line)
            first_table += 1
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
