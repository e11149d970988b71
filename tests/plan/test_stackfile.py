"""Reading Pulumi.yaml and Pulumi.<stack>.yaml without the Pulumi CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pingvas_infra.plan.model import SECRET
from pingvas_infra.plan.stackfile import StackFileError, find_project_dir, read_stack_file


def write_project(tmp_path: Path, stack_yaml: str) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: demo\nruntime: python\n", encoding="utf-8")
    (tmp_path / "Pulumi.shared.yaml").write_text(stack_yaml, encoding="utf-8")
    return tmp_path


def test_secure_values_are_never_decrypted(tmp_path: Path) -> None:
    project = write_project(
        tmp_path,
        "config:\n"
        "  pingvas:token:\n"
        "    secure: v1:AAAABBBB:ciphertext\n"
        "  pingvas:tags:\n"
        "    Owner:\n"
        "      secure: v1:CCCC:ciphertext\n"
        "    Team: images\n",
    )
    stack = read_stack_file(project, "shared")
    assert stack.config["pingvas:token"] == SECRET
    assert json.loads(stack.config["pingvas:tags"]) == {"Owner": SECRET, "Team": "images"}
    assert sorted(stack.secret_keys) == ["pingvas:tags", "pingvas:token"]
    assert "ciphertext" not in json.dumps(stack.config)


def test_scalars_arrive_as_strings_and_bare_keys_get_the_project_namespace(
    tmp_path: Path,
) -> None:
    project = write_project(tmp_path, "config:\n  retries: 3\n  aws:region: eu-west-1\n")
    stack = read_stack_file(project, "shared")
    assert stack.config == {"demo:retries": "3", "aws:region": "eu-west-1"}


def test_missing_stack_file_is_a_clear_error(tmp_path: Path) -> None:
    project = write_project(tmp_path, "config: {}\n")
    with pytest.raises(StackFileError, match=r"Pulumi\.prod\.yaml"):
        read_stack_file(project, "prod")


def test_project_dir_is_found_upward(tmp_path: Path) -> None:
    project = write_project(tmp_path, "config: {}\n")
    nested = project / "a" / "b"
    nested.mkdir(parents=True)
    assert find_project_dir(nested) == project
