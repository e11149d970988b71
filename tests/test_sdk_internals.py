"""The Pulumi SDK's private parts the project uses are all still there, and a missing one
is reported by name with the SDK version, before anything runs."""

from __future__ import annotations

import pytest

from pingvas_infra import sdk_internals
from pingvas_infra.plan.engine import run_program
from pingvas_infra.sdk_internals import SDK_VERSION, SdkInternalsChanged


def test_the_installed_sdk_has_every_private_part_the_project_uses() -> None:
    missing = sdk_internals.missing_internals()
    assert missing == [], (
        f"pulumi {SDK_VERSION} lacks {', '.join(missing)}: adapt pingvas_infra/sdk_internals.py "
        "or keep pyproject.toml's pulumi range below this version"
    )


def test_a_missing_part_is_named_with_the_sdk_version(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if a minor release renamed `_sync_await`: the plan stops with a message naming it."""
    from pulumi.runtime import sync_await  # noqa: PLC0415

    monkeypatch.delattr(sync_await, "_sync_await")
    assert sdk_internals.missing_internals() == ["pulumi.runtime.sync_await._sync_await"]
    with pytest.raises(SdkInternalsChanged) as caught:
        run_program(lambda: None, project="p", stack="s", config={}, secret_keys=[], region="r")
    message = str(caught.value)
    assert "pulumi.runtime.sync_await._sync_await" in message
    assert f"Pulumi SDK {SDK_VERSION}" in message


def test_a_missing_nested_attribute_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    from pulumi.runtime.mocks import MockMonitor  # noqa: PLC0415

    monkeypatch.delattr(MockMonitor, "make_urn")
    assert sdk_internals.missing_internals() == ["pulumi.runtime.mocks.MockMonitor.make_urn"]


def test_the_sdk_version_is_inside_the_range_pyproject_allows() -> None:
    from importlib.metadata import requires  # noqa: PLC0415

    from packaging.requirements import Requirement  # noqa: PLC0415

    (pulumi,) = [
        Requirement(r) for r in requires("pingvas-infra") or [] if Requirement(r).name == "pulumi"
    ]
    assert pulumi.specifier.contains(SDK_VERSION), (pulumi.specifier, SDK_VERSION)
    # The upper bound is a verified minor release, not the next major.
    assert any(s.operator == "<" and not s.version.startswith("4") for s in pulumi.specifier)


def test_the_mock_runtime_names_urns_after_the_project_and_stack_it_was_given() -> None:
    """3.254 to 3.259 ignore them ("stack::project"): the plan's URNs would change."""
    import pulumi  # noqa: PLC0415

    def program() -> None:
        pulumi.ComponentResource("pingvas:probe:Probe", "probe")

    result = run_program(
        program, project="proj", stack="stk", config={}, secret_keys=[], region="us-east-1"
    )
    assert [r.urn for r in result.resources] == [
        "urn:pulumi:stk::proj::pulumi:pulumi:Stack$pingvas:probe:Probe::probe"
    ]
