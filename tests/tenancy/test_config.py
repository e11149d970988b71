"""Malformed tenancy configuration is refused with the offending key named."""

from __future__ import annotations

from pingvas_infra.plan.stackfile import StackFile
from tests.support.config_cases import (
    BadConfigCase,
    config_refusal,
    config_with,
    refused_config_test,
)

KEY = "pingvas-infra:tenancy"

# (case id, pingvas-infra:tenancy overrides, key the message must name, text it must contain)
BAD_TENANCY: list[BadConfigCase] = [
    (
        "mesh-unknown",
        {"serviceMesh": "linkerd"},
        f"{KEY}.serviceMesh",
        "allowed: only istio, or unset",
    ),
    (
        "mesh-not-a-string",
        {"serviceMesh": 1},
        f"{KEY}.serviceMesh",
        "allowed: only istio, or unset",
    ),
    ("port-zero", {"loadBalancerPorts": [0]}, f"{KEY}.loadBalancerPorts[0]", "1 to 65535"),
    (
        "port-too-large",
        {"loadBalancerPorts": [8000, 70000]},
        f"{KEY}.loadBalancerPorts[1]",
        "1 to 65535",
    ),
    (
        "port-duplicate",
        {"loadBalancerPorts": [8000, 8080, 8000]},
        f"{KEY}.loadBalancerPorts[2]",
        "at most once",
    ),
    (
        "port-is-the-database",
        {"loadBalancerPorts": [5432]},
        f"{KEY}.loadBalancerPorts[0]",
        "PostgreSQL",
    ),
    (
        "port-not-a-number",
        {"loadBalancerPorts": ["http"]},
        f"{KEY}.loadBalancerPorts[0]",
        "quoted text where a number is expected",
    ),
    ("ports-not-a-list", {"loadBalancerPorts": 8000}, f"{KEY}.loadBalancerPorts", "not a list"),
    ("password-too-short", {"dbPasswordLength": 12}, f"{KEY}.dbPasswordLength", "24"),
    ("password-too-long", {"dbPasswordLength": 65}, f"{KEY}.dbPasswordLength", "64"),
    ("backoff-negative", {"bootstrapBackoffLimit": -1}, f"{KEY}.bootstrapBackoffLimit", "0"),
    ("ttl-too-short", {"bootstrapTtlSeconds": 10}, f"{KEY}.bootstrapTtlSeconds", "300"),
    ("unknown-key", {"namespaces": ["dev"]}, f"{KEY}.namespaces", "allowed keys"),
]


test_bad_tenancy_config_names_key = refused_config_test(BAD_TENANCY, KEY)


def test_every_problem_is_reported_at_once(stack_file: StackFile) -> None:
    overrides = {KEY: {"loadBalancerPorts": [0, 6379, 8000, 8000], "serviceMesh": "consul"}}
    message = config_refusal(stack_file, overrides)
    for key in ("loadBalancerPorts[0]", "loadBalancerPorts[1]", "loadBalancerPorts[3]"):
        assert f"{KEY}.{key} = " in message
    assert f"{KEY}.serviceMesh = " in message


def test_defaults_and_accepted_values(stack_file: StackFile) -> None:
    default = config_with(stack_file, {}).tenancy
    assert default.service_mesh is None
    assert default.load_balancer_ports == (8000,)
    tuned = config_with(
        stack_file, {KEY: {"serviceMesh": "istio", "loadBalancerPorts": [8000, 8443]}}
    ).tenancy
    assert tuned.service_mesh == "istio"
    assert tuned.load_balancer_ports == (8000, 8443)
    closed = config_with(stack_file, {KEY: {"loadBalancerPorts": []}}).tenancy
    assert closed.load_balancer_ports == ()
