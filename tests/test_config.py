"""Stack-level configuration: region, project, tags, unknown keys, secrets, defaults."""

from __future__ import annotations

from pingvas_infra.config import ConfigError, RawConfig, parse_stack_config
from pingvas_infra.plan.stackfile import StackFile
from pingvas_infra.price_tables import priced_regions
from tests.support.config_cases import BadConfigCase, config_with, refused_config_test

BAD_STACK: list[BadConfigCase] = [
    (
        "unknown-region",
        {"aws:region": "us-east-9"},
        "aws:region",
        "unknown region; allowed (priced): us-east-1",
    ),
    (
        "region-without-table",
        {"aws:region": "sa-east-1"},
        "aws:region",
        "a priced region: us-east-1 (sa-east-1 lacks prices: no price table",
    ),
    (
        "region-missing-figures",
        {"aws:region": "eu-west-1"},
        "aws:region",
        "a priced region: us-east-1 (eu-west-1 lacks prices: aurora-io-million",
    ),
    ("project-uppercase", {"pingvas:project": "Pingvas"}, "pingvas:project", "pattern"),
    ("unknown-section", {"pingvas:netwrok": {}}, "pingvas:netwrok", "pingvas:network"),
    ("reserved-tag-key", {"pingvas:tags": {"aws:owner": "x"}}, "pingvas:tags.aws:owner", "aws:"),
    ("tags-not-strings", {"pingvas:tags": {"Owner": {"a": 1}}}, "pingvas:tags.Owner", "string"),
    (
        "az-outside-region",
        {"pingvas:network": {"availabilityZones": ["us-west-2a", "us-west-2b", "us-west-2c"]}},
        "pingvas:network.availabilityZones[0]",
        "a zone of region us-east-1",
    ),
    ("cluster-name-bad", {"pingvas:cluster": {"name": "bad name"}}, "pingvas:cluster.name", ""),
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
    (region,) = priced_regions()
    config = parse_stack_config(
        RawConfig(values={"aws:region": region}, secret_keys=frozenset()), "shared"
    )
    assert config.availability_zones == tuple(f"{region}{zone}" for zone in "abc")


def test_stack_file_parses(stack_file: StackFile) -> None:
    config = config_with(stack_file, {})
    assert config.cluster.name == "pingvas-shared-eks"


def test_config_error_is_a_clean_pulumi_run_error() -> None:
    """`pulumi up` prints a RunError's message without a Python traceback."""
    import pulumi  # noqa: PLC0415

    assert issubclass(ConfigError, pulumi.RunError)
