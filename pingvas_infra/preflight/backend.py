"""Where this project's Pulumi state and secrets live, read as the Pulumi CLI reads them.

- The backend: ``PULUMI_BACKEND_URL`` wins, then ``backend.url`` in Pulumi.yaml, then the
  URL of the last ``pulumi login`` (so ``pulumi login`` changes nothing while Pulumi.yaml
  names a backend). A ``file://`` backend is a folder the CLI opens but never creates; the
  set-up scripts create it (``python -m pingvas_infra.preflight.backend`` prints it).
- The secrets: every laptop that creates the stack writes its own encryption salt (passphrase
  provider) or data key (KMS provider) into the committed stack file, so a secret set before
  the team agreed on one is readable only where it was set. ``secrets_problems`` names a
  stack file whose secrets no committed salt or key can open.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

BACKEND_URL_VARIABLE = "PULUMI_BACKEND_URL"
FILE_SCHEME = "file://"
PROJECT_FILE = "Pulumi.yaml"


class BackendError(Exception):
    """Pulumi.yaml cannot be read or rewritten as asked."""


def _project_document(project_dir: Path) -> dict[str, Any]:
    path = project_dir / PROJECT_FILE
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise BackendError(f"cannot read {path}: {exc}") from None
    if not isinstance(document, dict):
        raise BackendError(f"{path} must be a YAML mapping")
    return document


def project_backend_url(project_dir: Path) -> str | None:
    backend = _project_document(project_dir).get("backend") or {}
    url = backend.get("url") if isinstance(backend, dict) else None
    return str(url) if url else None


def backend_url(project_dir: Path, environ: Mapping[str, str]) -> str | None:
    """The backend the Pulumi CLI uses here; None means "whatever `pulumi login` chose"."""
    return environ.get(BACKEND_URL_VARIABLE) or project_backend_url(project_dir)


def local_state_folder(url: str | None, *, home: Path, project_dir: Path) -> Path | None:
    """The folder of a ``file://`` backend (``~`` is the user's home), or None for any other."""
    if not url or not url.startswith(FILE_SCHEME):
        return None
    path = url.removeprefix(FILE_SCHEME)
    if path == "~" or path.startswith("~/"):
        return home / path.removeprefix("~").lstrip("/")
    return (project_dir / path).resolve() if not path.startswith("/") else Path(path)


_BACKEND_BLOCK = re.compile(r"^backend:[ \t]*(#.*)?\n(?P<body>(?:[ \t]+.*\n|[ \t]*\n)*)", re.M)
_URL_LINE = re.compile(r"^(?P<indent>[ \t]+)url:.*$", re.M)


def set_project_backend(project_dir: Path, url: str) -> bool:
    """Point Pulumi.yaml's ``backend.url`` at ``url``, keeping every comment; True if changed."""
    path = project_dir / PROJECT_FILE
    if project_backend_url(project_dir) == url:
        return False
    text = path.read_text(encoding="utf-8")
    line = f"url: {url}"
    block = _BACKEND_BLOCK.search(text)
    if block is None:
        text = text.rstrip("\n") + f"\nbackend:\n  {line}\n"
    else:
        body = block.group("body")
        if _URL_LINE.search(body):
            body = _URL_LINE.sub(lambda m: m.group("indent") + line, body, count=1)
        else:
            body = f"  {line}\n" + body
        text = text[: block.start("body")] + body + text[block.end("body") :]
    path.write_text(text, encoding="utf-8")
    if project_backend_url(project_dir) != url:
        raise BackendError(f"could not set backend.url in {path}: set it by hand to {url}")
    return True


def _has_secure(value: Any) -> bool:
    if isinstance(value, dict):
        return set(value) == {"secure"} or any(_has_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_secure(v) for v in value)
    return False


def secrets_problems(stack_document: Mapping[str, Any], stack_file: str) -> list[str]:
    """Why the secrets in a committed stack file would not open on another machine."""
    config = stack_document.get("config") or {}
    secret_keys = sorted(k for k, v in config.items() if _has_secure(v))
    salt = stack_document.get("encryptionsalt")
    provider = stack_document.get("secretsprovider")
    key = stack_document.get("encryptedkey")
    problems = []
    if salt and (provider or key):
        problems.append(
            f"{stack_file} holds both a passphrase salt (encryptionsalt) and a secrets provider "
            "key (secretsprovider/encryptedkey): keep the one the stack uses"
        )
    if provider and provider != "passphrase" and not key:
        problems.append(
            f"{stack_file}: secretsprovider {provider} without its encryptedkey: commit the "
            "file `pulumi stack init` or `pulumi stack change-secrets-provider` wrote"
        )
    if secret_keys and not (salt or key):
        problems.append(
            f"{stack_file}: secret values ({', '.join(secret_keys)}) but no committed "
            "encryptionsalt or encryptedkey: they open only on the machine that set them"
        )
    return problems


def main(argv: list[str]) -> int:
    """Print the local state folder the project's backend needs ("" when it needs none)."""
    project_dir = Path(argv[1]) if len(argv) > 1 else Path.cwd()
    try:
        url = backend_url(project_dir, os.environ)
    except BackendError as exc:
        print(exc, file=sys.stderr)
        return 2
    folder = local_state_folder(url, home=Path.home(), project_dir=project_dir)
    print(folder or "")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
