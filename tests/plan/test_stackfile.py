"""Reading Pulumi.yaml and Pulumi.<stack>.yaml without the Pulumi CLI: values as the CLI
reads them, secrets never decrypted, and every mistake of the file itself reported."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pingvas_infra.plan.model import SECRET
from pingvas_infra.plan.stackfile import (
    StackFileError,
    StackFileProblem,
    find_project_dir,
    read_stack_file,
)

SALT = "encryptionsalt: v1:c2FsdHNhbHQ=:v1:AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"


def write_project(tmp_path: Path, stack_yaml: str) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: demo\nruntime: python\n", encoding="utf-8")
    (tmp_path / "Pulumi.shared.yaml").write_text(stack_yaml, encoding="utf-8")
    return tmp_path


def pulumi_ciphertext(plaintext: str, key: bytes) -> str:
    """What `pulumi config set --secret` writes with the passphrase or a KMS data key:
    AES-256-GCM, a random 12-byte nonce, v1:<nonce>:<ciphertext+tag>, both base64
    (pulumi/pulumi sdk/go/common/resource/config/crypt.go, symmetricCrypter)."""
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), None)
    return f"v1:{base64.b64encode(nonce).decode()}:{base64.b64encode(sealed).decode()}"


def problems_of(tmp_path: Path, stack_yaml: str) -> dict[str, StackFileProblem]:
    stack = read_stack_file(write_project(tmp_path, stack_yaml), "shared")
    return {p.key: p for p in stack.problems}


def test_secure_values_are_never_decrypted(tmp_path: Path) -> None:
    key = os.urandom(32)
    token, owner = pulumi_ciphertext("s3cr3t", key), pulumi_ciphertext("team-a", key)
    project = write_project(
        tmp_path,
        SALT + "config:\n"
        f"  demo:token:\n    secure: {token}\n"
        f"  demo:tags:\n    Owner:\n      secure: {owner}\n    Team: images\n",
    )
    stack = read_stack_file(project, "shared")
    assert stack.problems == ()
    assert stack.config["demo:token"] == SECRET
    assert json.loads(stack.config["demo:tags"]) == {"Owner": SECRET, "Team": "images"}
    assert sorted(stack.secret_keys) == ["demo:tags", "demo:token"]
    assert "s3cr3t" not in json.dumps(stack.config)
    assert token.split(":")[2] not in json.dumps(stack.config)
    # The shape accepted is the real one: the test, which has the key, can open it.
    _, nonce, sealed = token.split(":")
    opened = AESGCM(key).decrypt(base64.b64decode(nonce), base64.b64decode(sealed), None)
    assert opened == b"s3cr3t"


@pytest.mark.parametrize(
    ("secure", "why"),
    [
        pytest.param("v1:AAAABBBB:ciphertext", "no ciphertext", id="not-base64-of-a-nonce"),
        pytest.param("my-webhook-url", "no ciphertext", id="plain-text"),
        pytest.param("12345", "no ciphertext", id="a-number-as-text"),
        pytest.param("[a, b]", "list that is no ciphertext", id="a-list"),
        pytest.param("{inner: x}", "dict that is no ciphertext", id="a-map"),
        pytest.param("true", "bool that is no ciphertext", id="a-boolean"),
        pytest.param('""', "no ciphertext", id="empty"),
    ],
)
def test_a_secure_value_that_is_no_ciphertext_is_named(
    tmp_path: Path, secure: str, why: str
) -> None:
    found = problems_of(
        tmp_path, SALT + f"config:\n  demo:slackWebhookUrl:\n    secure: {secure}\n"
    )
    problem = found["demo:slackWebhookUrl"]
    assert why in problem.value
    assert "v1:<nonce>:<ciphertext>" in problem.allowed


def test_a_secret_beside_a_plain_value_is_refused(tmp_path: Path) -> None:
    cipher = pulumi_ciphertext("x", os.urandom(32))
    found = problems_of(
        tmp_path,
        SALT + f"config:\n  demo:slackWebhookUrl:\n    secure: {cipher}\n    value: plain\n",
    )
    assert "this map also holds value in plain text" in found["demo:slackWebhookUrl"].allowed


def test_a_key_given_bare_and_with_its_namespace_is_given_twice(tmp_path: Path) -> None:
    """`slackWebhookUrl: plain` and `demo:slackWebhookUrl: {secure}` are one key to Pulumi."""
    cipher = pulumi_ciphertext("x", os.urandom(32))
    found = problems_of(
        tmp_path,
        SALT + "config:\n"
        "  slackWebhookUrl: https://hooks.example/plain\n"
        f"  demo:slackWebhookUrl:\n    secure: {cipher}\n",
    )
    allowed = found["demo:slackWebhookUrl"].allowed
    assert "as slackWebhookUrl (line 3) and as demo:slackWebhookUrl (line 4)" in allowed


def test_pulumi_cloud_ciphertext_is_plain_base64(tmp_path: Path) -> None:
    """Without a salt or data key the stack's secrets live in Pulumi Cloud, whose
    ciphertext is base64 without the v1: prefix."""
    cloud = base64.b64encode(os.urandom(48)).decode()
    assert problems_of(tmp_path, f"config:\n  demo:token:\n    secure: {cloud}\n") == {}


def test_a_key_given_twice_names_both_lines(tmp_path: Path) -> None:
    found = problems_of(
        tmp_path,
        "config:\n"
        "  demo:cluster:\n"
        "    name: first\n"
        "    systemNodes:\n"
        "      maxSize: 4\n"
        "      maxSize: 6\n"
        "  aws:region: us-east-1\n"
        "  demo:cluster:\n"
        "    name: second\n",
    )
    assert set(found) == {"demo:cluster", "demo:cluster.systemNodes.maxSize"}
    assert "lines 2 and 8" in found["demo:cluster"].allowed
    assert "lines 5 and 6" in found["demo:cluster.systemNodes.maxSize"].allowed
    assert "YAML keeps only the last" in found["demo:cluster"].allowed


def test_duplicates_inside_flow_maps_and_lists_are_found_and_merge_keys_are_not(
    tmp_path: Path,
) -> None:
    found = problems_of(
        tmp_path,
        "config:\n"
        "  demo:gpu: {pools: [{name: a, name: b}]}\n"
        "  demo:base: &base {x: 1}\n"
        "  demo:more: {<<: *base, x: 2}\n",
    )
    assert set(found) == {"demo:gpu.pools[0].name"}


def test_settings_outside_config_are_refused(tmp_path: Path) -> None:
    found = problems_of(tmp_path, "demo:cluster:\n  name: x\nconfig: {}\n")
    assert "settings go under `config:`" in found["demo:cluster"].allowed


def test_a_key_without_a_value_is_refused(tmp_path: Path) -> None:
    found = problems_of(tmp_path, "config:\n  demo:cluster:\n")
    assert found["demo:cluster"].value == "(no value)"


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("true", "true"),
        ("True", "true"),
        ("yes", "yes"),
        ("on", "on"),
        ("No", "No"),
        ("1:30", "1:30"),
        ("2026-01-05", "2026-01-05"),
        ("010", "8"),
        ("0x1F", "31"),
        ("1_000", "1000"),
        ("4.0", "4.0"),
        ("8.10", "8.1"),
        (".inf", "inf"),
    ],
)
def test_scalars_are_read_as_the_pulumi_cli_reads_them(
    tmp_path: Path, written: str, read: str
) -> None:
    """go-yaml v3 (the Pulumi CLI's YAML reader, resolve.go of v3.0.1): only true/false are
    booleans, no sexagesimal numbers, dates stay text; YAML 1.1 readers such as PyYAML's
    default turn yes/on into true and 1:30 into 90."""
    stack = read_stack_file(
        write_project(tmp_path, f"config:\n  demo:value: {written}\n"), "shared"
    )
    assert stack.config["demo:value"] == read


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
