"""What a clean clone holds: only the project's own files.

A fresh machine gets the repository and nothing else; a tracked symbolic link into one
machine's folders (say a worktree's `.tools -> /somewhere/else/.tools`) resolves to nothing
there and breaks the set-up commands, and the ignore rules exist so that machine-local
folders never reach a commit.
"""

from __future__ import annotations

import subprocess

from tests.support.project import PROJECT_DIR

# Folders the set-up commands create on each machine.
MACHINE_LOCAL = (".venv", ".venv-tools", ".tools", "build")
SYMLINK_MODE = "120000"


def _tracked() -> list[tuple[str, str]]:
    listing = subprocess.run(
        ["git", "ls-files", "--stage"], cwd=PROJECT_DIR, capture_output=True, text=True, check=True
    ).stdout
    entries = []
    for line in listing.splitlines():
        meta, path = line.split("\t", 1)
        entries.append((meta.split()[0], path))
    return entries


def test_no_tracked_file_is_a_symbolic_link() -> None:
    links = [path for mode, path in _tracked() if mode == SYMLINK_MODE]
    assert links == []


def test_no_machine_local_folder_is_tracked() -> None:
    tracked = [
        path
        for _, path in _tracked()
        if path.split("/", 1)[0] in MACHINE_LOCAL or path.split("/", 1)[0].startswith(".venv-")
    ]
    assert tracked == []


def test_the_ignore_rules_cover_the_machine_local_folders_as_links_too() -> None:
    """`.tools/` (with a slash) ignores a folder but not a link of that name."""
    for name in MACHINE_LOCAL:
        checked = subprocess.run(
            ["git", "check-ignore", "--no-index", "-q", name], cwd=PROJECT_DIR, check=False
        )
        assert checked.returncode == 0, f"{name} is not ignored as a file or link"
