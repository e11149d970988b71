"""Stack-level configuration: region, project, tags, unknown keys, secrets, defaults."""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from pingvas_infra import resource_types as rt
from pingvas_infra.config import (
    AWS_FIELDS,
    OWN_TAGS_PER_RESOURCE,
    ConfigError,
    RawConfig,
    StackConfig,
    account_offences,
    default_zones,
    parse_stack_config,
    zone_names,
)
from pingvas_infra.configbase import CONFIG_NAMESPACE
from pingvas_infra.plan.model import PlanResult
from pingvas_infra.plan.stackfile import StackFile, read_stack_file
from pingvas_infra.plan_run import load_config
from pingvas_infra.price_tables import priced_regions
from pingvas_infra.tables import load_table
from tests.support.config_cases import (
    BadConfigCase,
    assert_in_users_words,
    config_with,
    leaf_settings,
    refused_config_test,
)
from tests.support.plan_graph import PlanRunner
from tests.support.project import PROJECT_DIR, STACK

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


# --- the mistakes new users make, as whole stack files -------------------------------------

# (case id, the stack file, the key the message must name, text it must contain). Each file
# is what a person writes by hand or what `pulumi config set` writes; each is refused
# before the program runs, in one message naming the key and what is allowed.
MISTAKES: list[tuple[str, str, str, str]] = [
    (
        "project-name-as-namespace",
        "config:\n  pingvas:cluster:\n    name: other\n",
        "pingvas:cluster",
        "write pingvas-infra:cluster",
    ),
    (
        "set-without-path-is-a-flat-key",
        "config:\n  pingvas-infra:cluster.name: other\n",
        "pingvas-infra:cluster.name",
        "`pulumi config set --path cluster.name <value>`",
    ),
    (
        "namespace-typo",
        "config:\n  pingvs:project: x\n",
        "pingvs:project",
        "unknown namespace 'pingvs'; the program reads pingvas-infra:",
    ),
    (
        "kubernetes-provider-key",
        "config:\n  kubernetes:context: prod\n",
        "kubernetes:context",
        "unknown namespace 'kubernetes'",
    ),
    (
        "aws-key-typo",
        "config:\n  aws:regoin: eu-west-1\n",
        "aws:regoin",
        "not a key of the AWS provider; the program reads aws:allowedAccountIds, aws:region",
    ),
    (
        "aws-profile-not-passed-on",
        "config:\n  aws:profile: prod-admin\n",
        "aws:profile",
        "credentials and the account come from the environment (AWS_PROFILE",
    ),
    (
        "aws-default-tags-not-passed-on",
        "config:\n  aws:defaultTags:\n    tags: {Team: images}\n",
        "aws:defaultTags",
        "use pingvas-infra:tags",
    ),
    (
        "engine-key-typo",
        "config:\n  pulumi:disable-default-provider: [aws]\n",
        "pulumi:disable-default-provider",
        "allowed: pulumi:autonaming, pulumi:disable-default-providers",
    ),
    (
        "no-config-block",
        "pingvas-infra:cluster:\n  name: other\n",
        "pingvas-infra:cluster",
        "settings go under `config:`",
    ),
    (
        "key-given-twice",
        "config:\n  pingvas-infra:cluster:\n    name: a\n  pingvas-infra:cluster:\n    name: b\n",
        "pingvas-infra:cluster",
        "sets it on lines 2 and 4; YAML keeps only the last",
    ),
    (
        "secret-in-plain-text",
        "config:\n  pingvas-infra:slackWebhookUrl: https://hooks.slack.com/services/x\n",
        "pingvas-infra:slackWebhookUrl",
        "a secret: set it with `pulumi config set --secret slackWebhookUrl`",
    ),
    (
        "secure-not-ciphertext",
        "config:\n  pingvas-infra:slackWebhookUrl:\n    secure: https://hooks.slack.com/x\n",
        "pingvas-infra:slackWebhookUrl",
        "the secure value must be ciphertext",
    ),
    (
        "secure-not-a-string",
        "config:\n  pingvas-infra:slackWebhookUrl:\n    secure: 12345\n",
        "pingvas-infra:slackWebhookUrl",
        "int that is no ciphertext",
    ),
    (
        "secure-beside-plain",
        "config:\n  pingvas-infra:slackWebhookUrl:\n    secure: djE=\n    value: https://x\n",
        "pingvas-infra:slackWebhookUrl",
        "this map also holds value in plain text",
    ),
    (
        "secret-where-none-belongs",
        "config:\n  pingvas-infra:cluster:\n    name:\n      secure: djE6YWJj\n",
        "pingvas-infra:cluster",
        "not a secret setting: write it in plain text",
    ),
    (
        "zone-that-does-not-exist",
        "config:\n  pingvas-infra:network:\n"
        "    availabilityZones: [us-east-1a, us-east-1b, us-east-1z]\n",
        "pingvas-infra:network.availabilityZones[2]",
        "a zone of region us-east-1 (aws:region): us-east-1a, us-east-1b, us-east-1c",
    ),
    (
        "no-upper-bound",
        "config:\n  pingvas-infra:cluster:\n    systemNodes: {maxSize: 1000000000}\n",
        "pingvas-infra:cluster.systemNodes.maxSize",
        "above the maximum 450; allowed: a whole number from 2 to 450",
    ),
    (
        "system-disk-below-the-environments-disk-maximum",
        "config:\n  pingvas-infra:cluster:\n    systemNodes: {diskSizeGib: 20}\n",
        "pingvas-infra:cluster.systemNodes.diskSizeGib",
        "at least 29 (up to 200), so a dev pod at its ephemeral-storage maximum (16Gi, "
        "k8s_manifests/limit-ranges.yaml) fits",
    ),
    (
        "backup-scratch-beyond-what-a-system-node-leaves",
        "config:\n  pingvas-infra:operations:\n    backup: {scratchSizeGi: 50}\n",
        "pingvas-infra:operations.backup.scratchSizeGi",
        "1 to 15: the dump's disk limit (scratch plus 1 GiB) must fit",
    ),
    (
        "true-for-a-number",
        "config:\n  pingvas-infra:cluster:\n    systemNodes: {maxSize: true}\n",
        "pingvas-infra:cluster.systemNodes.maxSize",
        "true or false where a number is expected",
    ),
    (
        "yes-for-a-boolean",
        "config:\n  pingvas-infra:data:\n    aurora: {reader: yes}\n",
        "pingvas-infra:data.aurora.reader",
        "text where true or false is expected",
    ),
    (
        "min-above-max-blames-min",
        "config:\n  pingvas-infra:cluster:\n"
        "    systemNodes: {minSize: 5, desiredSize: 5, maxSize: 4}\n",
        "pingvas-infra:cluster.systemNodes.minSize",
        "at most maxSize (4)",
    ),
    (
        "typo-inside-a-pool",
        "config:\n  pingvas-infra:gpu:\n    pools:\n      dev: {capacityType: [spot]}\n"
        "      prod: {capacityTypes: [spot]}\n",
        "pingvas-infra:gpu.pools.dev.capacityType",
        "unknown key; allowed keys: capacityTypes, disruptionBudgetNodes",
    ),
    (
        "unquoted-aurora-version",
        "config:\n  pingvas-infra:data:\n    aurora: {engineVersion: 17.9}\n",
        "pingvas-infra:data.aurora.engineVersion",
        'write it in quotes, "17.9"',
    ),
    (
        "unquoted-cache-version",
        "config:\n  pingvas-infra:data:\n    cache: {engineVersion: 8.10}\n",
        "pingvas-infra:data.cache.engineVersion",
        "and 8.10 as 8.1",
    ),
    (
        "unquoted-number-for-text",
        "config:\n  pingvas-infra:operations:\n    argocd: {targetRevision: 1}\n",
        "pingvas-infra:operations.argocd.targetRevision",
        'write it in quotes, "1"',
    ),
    (
        "aurora-deletion-protection-off",
        "config:\n  pingvas-infra:data:\n    aurora: {deletionProtection: false}\n",
        "pingvas-infra:data.aurora.deletionProtection",
        "the mandatory policy control rds-deletion-protection (FSBP RDS.7)",
    ),
    (
        "pulumi-config-set-path-float-is-text",
        'config:\n  pingvas-infra:data:\n    aurora: {minAcu: "1.5"}\n',
        "pingvas-infra:data.aurora.minAcu",
        "`pulumi config set --path` writes it so with `--type float`",
    ),
    (
        "stack-tag-overwritten",
        "config:\n  pingvas-infra:tags: {Project: other}\n",
        "pingvas-infra:tags.Project",
        "which the stack sets on every resource",
    ),
    (
        "empty-section",
        "config:\n  pingvas-infra:storage:\n",
        "pingvas-infra:storage",
        "a value: write the settings under the key",
    ),
]


def project_with_stack_file(tmp_path: Path, text: str) -> Path:
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / f"Pulumi.{STACK}.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def load(tmp_path: Path, text: str) -> StackConfig:
    """What `pingvas-infra plan` does before the program runs: read, then check."""
    return load_config(read_stack_file(project_with_stack_file(tmp_path, text), STACK))


@pytest.mark.parametrize(
    ("text", "key", "expected"), [pytest.param(t, k, e, id=i) for i, t, k, e in MISTAKES]
)
def test_each_mistake_is_refused_naming_the_key_and_what_is_allowed(
    tmp_path: Path, text: str, key: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        load(tmp_path, text)
    message = str(refused.value)
    assert f"  - {key} = " in message, message
    assert expected in message, message
    assert "nothing was created" in message
    assert_in_users_words(message)


def test_all_mistakes_of_one_file_are_in_one_message(tmp_path: Path) -> None:
    text = (
        "config:\n"
        "  pingvas:project: x\n"
        "  aws:regoin: eu-west-1\n"
        "  pingvas-infra:cluster:\n"
        "    systemNodes: {maxSize: true}\n"
        "  pingvas-infra:cluster:\n"
        "    name: again\n"
        "  pingvas-infra:network:\n"
        "    availabilityZones: [us-east-1a, us-east-1z]\n"
        "    publicSubnetCidrs: [10.0.0.0/24, 10.0.1.0/24]\n"
        "    privateSubnetCidrs: [10.0.32.0/19, 10.0.64.0/19]\n"
        "    dataSubnetCidrs: [10.0.16.0/24, 10.0.17.0/24]\n"
    )
    with pytest.raises(ConfigError) as refused:
        load(tmp_path, text)
    message = str(refused.value)
    for key in (
        "pingvas:project",
        "aws:regoin",
        "pingvas-infra:cluster",  # given twice
        "pingvas-infra:network.availabilityZones[1]",
    ):
        assert f"  - {key} = " in message, message


# --- what `pulumi config set` writes takes effect ------------------------------------------


@pytest.mark.parametrize(
    ("command", "written", "read"),
    [
        (
            "pulumi config set --path cluster.name other-eks",
            "config:\n  pingvas-infra:cluster:\n    name: other-eks\n",
            lambda c: c.cluster.name == "other-eks",
        ),
        (
            "pulumi config set --path cluster.systemNodes.maxSize 6",
            "config:\n  pingvas-infra:cluster:\n    systemNodes:\n      maxSize: 6\n",
            lambda c: c.cluster.system_nodes.max_size == 6,
        ),
        (
            "pulumi config set --path data.aurora.minAcu 1.5 --type float",
            "config:\n  pingvas-infra:data:\n    aurora:\n      minAcu: 1.5\n",
            lambda c: c.data.aurora.min_acu == 1.5,
        ),
        (
            "pulumi config set --path 'network.availabilityZones[0]' ... (three times)",
            "config:\n  pingvas-infra:network:\n    availabilityZones:\n"
            "    - us-east-1d\n    - us-east-1e\n    - us-east-1f\n",
            lambda c: c.availability_zones == ("us-east-1d", "us-east-1e", "us-east-1f"),
        ),
        (
            "pulumi config set project acme (top-level values are text)",
            "config:\n  pingvas-infra:project: acme\n",
            lambda c: c.project == "acme",
        ),
        (
            "a key written without a namespace belongs to the project",
            "config:\n  storage:\n    backupRetentionDays: 60\n",
            lambda c: c.storage.backup_retention_days == 60,
        ),
        (
            "pulumi config set aws:allowedAccountIds --path '[0]' 123456789012 --type string",
            'config:\n  aws:allowedAccountIds: ["123456789012"]\n',
            lambda c: c.allowed_account_ids == ("123456789012",),
        ),
        (
            "pulumi config set pulumi:disable-default-providers '[\"*\"]' (the engine's key)",
            'config:\n  pulumi:disable-default-providers: ["*"]\n',
            lambda c: True,
        ),
    ],
)
def test_what_pulumi_config_set_writes_takes_effect(
    tmp_path: Path, command: str, written: str, read: Callable[[StackConfig], bool]
) -> None:
    """Stack files in the shape the Pulumi CLI writes them (pkg/cmd/pulumi/config, without a
    namespace a key belongs to the project; --path builds the map; values are coerced)."""
    assert read(load(tmp_path, written)), command


def test_the_program_namespace_is_the_project_name(project_dir: Path) -> None:
    """`pulumi config set` puts a key without a namespace under the project's name."""
    project = yaml.safe_load((project_dir / "Pulumi.yaml").read_text(encoding="utf-8"))
    assert project["name"] == CONFIG_NAMESPACE


def test_a_secret_set_with_pulumi_is_read_as_a_secret(tmp_path: Path) -> None:
    nonce, sealed = base64.b64encode(os.urandom(12)), base64.b64encode(os.urandom(40))
    text = (
        "encryptionsalt: v1:c2FsdA==:v1:AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAA==\n"
        "config:\n  pingvas-infra:slackWebhookUrl:\n"
        f"    secure: v1:{nonce.decode()}:{sealed.decode()}\n"
    )
    stack = read_stack_file(project_with_stack_file(tmp_path, text), STACK)
    assert stack.secret_keys == ["pingvas-infra:slackWebhookUrl"]
    load_config(stack)


# --- every key of its kind --------------------------------------------------------------


def refusal_of(path: tuple[str, ...], value: Any) -> tuple[str, str]:
    """(the full key, the message) of setting ``path`` alone to ``value``."""
    document: Any = value
    for part in reversed(path[1:]):
        document = {part: document}
    key = "aws:" + path[0] if path[0] in ("region", "allowedAccountIds") else path[0]
    stack_key = key if key.startswith("aws:") else f"{CONFIG_NAMESPACE}:{key}"
    raw = RawConfig(values={stack_key: json.dumps(document)}, secret_keys=frozenset())
    with pytest.raises(ConfigError) as refused:
        parse_stack_config(raw, STACK)
    full = stack_key + "".join(f".{p}" for p in path[1:])
    return full, str(refused.value)


def of_type(kind: type) -> list[tuple[str, ...]]:
    return [path for path, setting in leaf_settings() if setting.without_none().annotation is kind]


def test_the_sweeps_see_every_kind_of_key() -> None:
    assert len(of_type(int)) >= 25
    assert len(of_type(float)) >= 3
    assert len(of_type(bool)) >= 4
    assert len(of_type(str)) >= 20


@pytest.mark.parametrize("path", of_type(int) + of_type(float), ids=".".join)
def test_every_count_and_size_has_an_upper_bound(path: tuple[str, ...]) -> None:
    key, message = refusal_of(path, 10**12)
    assert f"  - {key} = 1000000000000: " in message, message
    assert_in_users_words(message)


@pytest.mark.parametrize("path", of_type(int), ids=".".join)
def test_no_whole_number_takes_true_or_a_fraction(path: tuple[str, ...]) -> None:
    for value, why in ((True, "true or false where a number is expected"), (4.5, "whole number")):
        key, message = refusal_of(path, value)
        assert f"  - {key} = " in message and why in message, message
        assert_in_users_words(message)


@pytest.mark.parametrize("path", of_type(float), ids=".".join)
def test_no_number_takes_true_or_text(path: tuple[str, ...]) -> None:
    for value, why in ((True, "true or false where"), ("0.5", "--type float")):
        key, message = refusal_of(path, value)
        assert f"  - {key} = " in message and why in message, message


@pytest.mark.parametrize("path", of_type(bool), ids=".".join)
def test_no_boolean_takes_text_or_a_number(path: tuple[str, ...]) -> None:
    for value in ("true", 1):
        key, message = refusal_of(path, value)
        assert f"  - {key} = " in message and "allowed: true or false" in message, message


@pytest.mark.parametrize("path", [p for p in of_type(str) if len(p) > 1], ids=".".join)
def test_text_given_as_a_number_gets_the_quoting_hint(path: tuple[str, ...]) -> None:
    """(Top-level values such as project reach the program as text whatever YAML read.)"""
    key, message = refusal_of(path, 17.9)
    assert f'  - {key} = 17.9: a number where text is expected: write it in quotes, "17.9"' in (
        message
    ), message


# --- tags, zones and the account -----------------------------------------------------------


def test_tags_are_bounded_by_what_aws_allows_beside_the_stacks_own(graph: PlanResult) -> None:
    """AWS allows 50 tags per resource; the stack sets 3 default tags and, on some
    resources, a few of its own. The room kept for its own must hold the largest set the
    program puts on any resource."""
    own = max(len(r.inputs.get("tags") or {}) for r in graph.resources)
    assert own <= OWN_TAGS_PER_RESOURCE
    too_many = {f"Team{i}": "x" for i in range(41)}
    message = config_refusal_raw({f"{CONFIG_NAMESPACE}:tags": json.dumps(too_many)})
    assert f"{CONFIG_NAMESPACE}:tags = " in message
    assert "at most 40 (AWS: 50 per resource" in message


def config_refusal_raw(values: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as refused:
        parse_stack_config(RawConfig(values=values, secret_keys=frozenset()), STACK)
    return str(refused.value)


def test_every_region_has_its_zones_and_a_valid_default() -> None:
    zones = load_table("availability_zones")["regions"]
    assert set(zones) == set(load_table("regions")["regions"])
    for region, row in zones.items():
        assert len(row["zones"]) >= 3, region
        assert row["default"] is None or set(row["default"]) <= set(row["zones"])
        assert row["default"] is not None or row["note"]


def test_default_zones_follow_the_table_not_the_alphabet() -> None:
    assert default_zones("ca-central-1") == ("ca-central-1a", "ca-central-1b", "ca-central-1d")
    assert "ca-central-1c" not in zone_names("ca-central-1")
    assert default_zones("ap-northeast-1") == (
        "ap-northeast-1a",
        "ap-northeast-1c",
        "ap-northeast-1d",
    )
    assert default_zones("us-west-1") is None


def test_a_refused_value_does_not_mislead_the_checks_that_lean_on_it() -> None:
    """An unpriced region is refused; the zones written for it are not then judged
    against the default region that stood in for it."""
    message = config_refusal_raw(
        {
            "aws:region": "ca-central-1",
            f"{CONFIG_NAMESPACE}:network": json.dumps(
                {"availabilityZones": ["ca-central-1a", "ca-central-1b", "ca-central-1d"]}
            ),
        }
    )
    assert "  - aws:region = " in message
    assert "availabilityZones" not in message


def test_the_account_refuses_zones_it_is_not_offered_and_its_own_identity() -> None:
    config = parse_stack_config(
        RawConfig(
            values={
                f"{CONFIG_NAMESPACE}:cluster": json.dumps(
                    {"adminPrincipalArns": ["arn:aws:iam::123456789012:role/deployer"]}
                )
            },
            secret_keys=frozenset(),
        ),
        STACK,
    )
    offences = account_offences(
        config,
        "arn:aws:sts::123456789012:assumed-role/deployer/laptop",
        ["us-east-1a", "us-east-1b", "us-east-1d"],
    )
    keys = [o.key for o in offences]
    assert keys == [
        f"{CONFIG_NAMESPACE}:cluster.adminPrincipalArns[0]",
        f"{CONFIG_NAMESPACE}:network.availabilityZones[2]",
    ]
    assert "us-east-1a, us-east-1b, us-east-1d" in offences[1].allowed


def test_allowed_accounts_reach_the_aws_provider(run_plan: PlanRunner) -> None:
    graph = run_plan({"aws:allowedAccountIds": ["123456789012"]})
    (provider,) = graph.of_type(rt.AWS_PROVIDER)
    assert json.loads(provider.inputs["allowedAccountIds"]) == ["123456789012"]


# --- the AWS provider's keys -----------------------------------------------------------------


def test_the_aws_key_table_is_the_installed_providers_list() -> None:
    """Every key the installed pulumi_aws reads from `aws:` config is sorted in the table
    (read or refused with a reason): a provider upgrade that adds one fails here."""
    spec = importlib.util.find_spec("pulumi_aws")
    assert spec is not None and spec.origin is not None
    source = (Path(spec.origin).parent / "config" / "vars.py").read_text(encoding="utf-8")
    sdk_keys = set(re.findall(r"__config__\.get\w*\('(\w+)'\)", source))
    table = load_table("aws_provider_config")
    assert sdk_keys == set(table["keys"])
    for name, row in table["keys"].items():
        assert row["handling"] in ("read", "refused"), name
        assert row["handling"] == "read" or row["reason"] in table["reasons"], name
    read = {f"aws:{k}" for k, v in table["keys"].items() if v["handling"] == "read"}
    assert read == set(AWS_FIELDS.values())
