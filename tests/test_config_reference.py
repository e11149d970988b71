"""The configuration table's rows come from the config models, one a key, each described
(tests/test_docs.py keeps the README's copy in sync)."""

from __future__ import annotations

from pingvas_infra import config_reference as ref
from pingvas_infra.config import StackConfig
from pingvas_infra.configbase import CONFIG_NAMESPACE


def test_every_setting_has_a_description() -> None:
    assert [row.key for row in ref.rows() if not row.meaning.strip()] == []


def test_every_key_of_every_model_has_a_row() -> None:
    """Walk the models independently of the generator: each leaf field is a row."""

    def leaves(model: type, prefix: str) -> set[str]:
        found = set()
        for name, field in model.model_fields.items():
            annotation = field.annotation
            key = f"{prefix}.{field.alias or name}" if prefix else field.alias or name
            if isinstance(annotation, type) and issubclass(annotation, StackConfig.__base__):
                found |= leaves(annotation, key)
            else:
                found.add(key)
        return found

    keys = {r.key for r in ref.rows()}
    expected = leaves(StackConfig, "")
    maps = {"gpu.pools", "ingress.environments"}
    assert {*maps, "region", "allowedAccountIds"} <= expected
    expected -= {*maps, "region", "allowedAccountIds"}
    missing = {k for k in expected if f"{CONFIG_NAMESPACE}:{k}" not in keys}
    assert missing == set()
    assert {"aws:region", "aws:allowedAccountIds"} <= keys
    assert {
        f"{CONFIG_NAMESPACE}:gpu.pools.<env>.capacityTypes",
        f"{CONFIG_NAMESPACE}:gpu.pools.<env>.disruptionBudgetNodes",
        f"{CONFIG_NAMESPACE}:ingress.environments.<env>.certificateArn",
        f"{CONFIG_NAMESPACE}:ingress.environments.<env>.wafAclArn",
    } <= keys


def test_a_row_says_what_a_refusal_says() -> None:
    """The allowed column and the refusal come from one declaration."""
    row = next(r for r in ref.rows() if r.key.endswith("systemNodes.maxSize"))
    assert row.default == "4"
    assert row.allowed.startswith("a whole number from 2 to 450. EKS allows 450 nodes")


def test_defaults_are_shown_as_the_stack_file_spells_them() -> None:
    assert ref.show_default("1.35") == '"1.35"'
    assert ref.show_default("17") == '"17"'
    assert ref.show_default("yes") == '"yes"'
    assert ref.show_default("") == '""'
    assert ref.show_default(("a", "b")) == "[a, b]"
    assert ref.show_default(None) == "unset"
    assert ref.show_default(0.5) == "0.5"
    assert ref.show_default(True) == "true"
