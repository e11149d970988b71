"""Stack-level configuration: region, project, tags, unknown keys, secrets, defaults."""

from __future__ import annotations

from pingvas_infra.config import ConfigError, RawConfig, parse_stack_config
from pingvas_infra.plan.stackfile import StackFile
from tests.support.config_cases import BadConfigCase, config_with, refused_config_test

BAD_STACK: list[BadConfigCase] = [
    ("unknown-region", {"aws:region": "us-east-9"}, "aws:region", "unknown region; allowed:"),
    (
        "project-uppercase",
        {"pingvas-infra:project": "Pingvas"},
        "pingvas-infra:project",
        "allowed: 2-21 lower-case letters",
    ),
    (
        "unknown-section",
        {"pingvas-infra:netwrok": {}},
        "pingvas-infra:netwrok",
        "pingvas-infra:network",
    ),
    (
        "reserved-tag-key",
        {"pingvas-infra:tags": {"aws:owner": "x"}},
        "pingvas-infra:tags.aws:owner",
        "aws:",
    ),
    (
        "tags-not-strings",
        {"pingvas-infra:tags": {"Owner": {"a": 1}}},
        "pingvas-infra:tags.Owner",
        "a map of keys where something else is expected; allowed: text",
    ),
    (
        "az-outside-region",
        {
            "pingvas-infra:network": {
                "availabilityZones": ["us-west-2a", "us-west-2b", "us-west-2c"]
            }
        },
        "pingvas-infra:network.availabilityZones[0]",
        "a zone of region us-east-1",
    ),
    (
        "cluster-name-bad",
        {"pingvas-infra:cluster": {"name": "bad name"}},
        "pingvas-infra:cluster.name",
        "",
    ),
]


test_bad_stack_config_names_key = refused_config_test(BAD_STACK)


def test_defaults_follow_the_design_guide() -> None:
    config = parse_stack_config(RawConfig(values={}, secret_keys=frozenset()), "shared")
    assert config.region == "us-east-1"
    assert config.network.vpc_cidr == "10.0.0.0/16"
    assert config.availability_zones == ("us-east-1a", "us-east-1b", "us-east-1c")
    assert config.network.nat_gateways == 1
    assert config.default_tags() == {
        "Project": "pingvas",
        "Environment": "shared",
        "ManagedBy": "pulumi",
    }


def test_azs_default_to_the_configured_region() -> None:
    config = parse_stack_config(
        RawConfig(values={"aws:region": "eu-west-1"}, secret_keys=frozenset()), "shared"
    )
    assert config.availability_zones == ("eu-west-1a", "eu-west-1b", "eu-west-1c")


def test_stack_file_parses(stack_file: StackFile) -> None:
    config = config_with(stack_file, {})
    assert config.cluster.name == "pingvas-shared-eks"


def test_config_error_is_a_clean_pulumi_run_error() -> None:
    """`pulumi up` prints a RunError's message without a Python traceback."""
    import pulumi  # noqa: PLC0415

    assert issubclass(ConfigError, pulumi.RunError)
