"""Bad ingress configuration is refused before anything is created, naming the key."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from pingvas_infra.plan.stackfile import StackFile
from tests.support.cli import run_cli
from tests.support.config_cases import (
    BadConfigCase,
    config_refusal,
    config_with,
    refused_config_test,
)
from tests.support.project import PROJECT_DIR, STACK

UUID = "0e2bd4d0-4a3e-4f6e-9b5e-1c2d3e4f5a6b"
CERTIFICATE = f"arn:aws:acm:us-east-1:123456789012:certificate/{UUID}"
OTHER_CERTIFICATE = CERTIFICATE.replace("0e2bd4d0", "7c1f9a2e")
WEB_ACL = f"arn:aws:wafv2:us-east-1:123456789012:regional/webacl/pingvas-prod/{UUID}"


def both(**entry: object) -> dict[str, object]:
    return {"environments": {"dev": dict(entry), "prod": dict(entry)}}


# (case id, pingvas-infra:ingress overrides, key the message must name, text it must contain)
BAD_INGRESS: list[BadConfigCase] = [
    (
        "certificate-of-another-service",
        both(certificateArn="arn:aws:iam::123456789012:server-certificate/pingvas"),
        "pingvas-infra:ingress.environments.dev.certificateArn",
        "an ACM certificate ARN",
    ),
    (
        "certificate-of-another-region",
        both(certificateArn=CERTIFICATE.replace("us-east-1", "eu-west-1")),
        "pingvas-infra:ingress.environments.prod.certificateArn",
        "of region us-east-1 (aws:region)",
    ),
    (
        "certificate-of-another-partition",
        both(certificateArn=CERTIFICATE.replace("arn:aws:", "arn:aws-cn:")),
        "pingvas-infra:ingress.environments.dev.certificateArn",
        "partition aws",
    ),
    (
        "certificate-for-prod-only",
        {"environments": {"prod": {"certificateArn": CERTIFICATE}}},
        "pingvas-infra:ingress.environments.dev.certificateArn",
        "a certificate here too, or none anywhere",
    ),
    (
        "certificate-for-dev-only",
        {"environments": {"dev": {"certificateArn": CERTIFICATE}}},
        "pingvas-infra:ingress.environments.prod.certificateArn",
        "a prod without one would serve plain HTTP",
    ),
    (
        "web-acl-of-cloudfront",
        {
            "environments": {
                "prod": {"wafAclArn": WEB_ACL.replace("regional/", "global/")},
            }
        },
        "pingvas-infra:ingress.environments.prod.wafAclArn",
        "a regional WAFv2 web ACL ARN",
    ),
    (
        "web-acl-of-another-service",
        {"environments": {"prod": {"wafAclArn": CERTIFICATE}}},
        "pingvas-infra:ingress.environments.prod.wafAclArn",
        "a regional WAFv2 web ACL ARN",
    ),
    (
        "web-acl-of-another-region",
        {"environments": {"dev": {"wafAclArn": WEB_ACL.replace("us-east-1", "us-west-2")}}},
        "pingvas-infra:ingress.environments.dev.wafAclArn",
        "of region us-east-1",
    ),
    (
        "unknown-environment",
        {"environments": {"staging": {}}},
        "pingvas-infra:ingress.environments.staging",
        "one of dev, prod",
    ),
    (
        "tls-policy-of-tls-1.0",
        {"tlsPolicy": "ELBSecurityPolicy-2016-08"},
        "pingvas-infra:ingress.tlsPolicy",
        "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
    ),
    (
        "idle-timeout-out-of-range",
        {"idleTimeoutSeconds": 4001},
        "pingvas-infra:ingress.idleTimeoutSeconds",
        "1 to 4000",
    ),
    (
        "inbound-cidr-not-a-cidr",
        {"environments": {"dev": {"inboundCidrs": ["203.0.113.7/24"]}}},
        "pingvas-infra:ingress.environments.dev.inboundCidrs[0]",
        "IPv4 CIDR",
    ),
    (
        "no-inbound-cidr",
        {"environments": {"dev": {"inboundCidrs": []}}},
        "pingvas-infra:ingress.environments.dev.inboundCidrs",
        "not empty",
    ),
    (
        "unknown-key",
        {"environments": {"dev": {"certificate": CERTIFICATE}}},
        "pingvas-infra:ingress.environments.dev.certificate",
        "allowed keys",
    ),
]

test_bad_ingress_config_names_key = refused_config_test(BAD_INGRESS, "pingvas-infra:ingress")


BAD_PORTS: list[BadConfigCase] = [
    (
        "load-balancer-port-zero",
        {"pingvas-infra:tenancy": {"loadBalancerPorts": [0]}},
        "pingvas-infra:tenancy.loadBalancerPorts[0]",
        "1 to 65535",
    ),
    (
        "load-balancer-port-too-high",
        {"pingvas-infra:tenancy": {"loadBalancerPorts": [8000, 70000]}},
        "pingvas-infra:tenancy.loadBalancerPorts[1]",
        "1 to 65535",
    ),
]

test_bad_load_balancer_ports_name_their_key = refused_config_test(BAD_PORTS)


def test_defaults_are_http_only_with_prod_protected(stack_file: StackFile) -> None:
    config = config_with(stack_file, {}).ingress
    assert set(config.environments) == {"dev", "prod"}
    assert all(e.certificate_arn is None for e in config.environments.values())
    assert config.entry("prod").protected("prod")
    assert not config.entry("dev").protected("dev")
    assert config.tls_policy == "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"


def test_certificates_for_both_environments_are_accepted(stack_file: StackFile) -> None:
    config = config_with(
        stack_file,
        {
            "pingvas-infra:ingress": {
                "environments": {
                    "dev": {
                        "certificateArn": OTHER_CERTIFICATE,
                        "inboundCidrs": ["198.51.100.0/24"],
                    },
                    "prod": {"certificateArn": CERTIFICATE, "wafAclArn": WEB_ACL},
                }
            }
        },
    ).ingress
    assert config.entry("prod").waf_acl_arn == WEB_ACL
    assert config.entry("dev").inbound_cidrs == ("198.51.100.0/24",)
    # The environment left out of a section keeps its defaults; deletion protection is no
    # setting: prod's always, dev's never.
    partial = config_with(
        stack_file,
        {"pingvas-infra:ingress": {"environments": {"dev": {"inboundCidrs": ["198.51.100.0/24"]}}}},
    ).ingress
    assert partial.entry("prod").inbound_cidrs == ("0.0.0.0/0",)
    assert partial.entry("prod").protected("prod")
    assert not partial.entry("dev").protected("dev")
    message = config_refusal(
        stack_file,
        {"pingvas-infra:ingress": {"environments": {"prod": {"deletionProtection": False}}}},
    )
    assert "pingvas-infra:ingress.environments.prod.deletionProtection = " in message


def test_every_problem_is_reported_at_once(stack_file: StackFile) -> None:
    message = config_refusal(
        stack_file,
        {
            "pingvas-infra:ingress": {
                "environments": {"prod": {"certificateArn": CERTIFICATE, "wafAclArn": "nope"}},
                "tlsPolicy": "ELBSecurityPolicy-2016-08",
            }
        },
    )
    for key in ("environments.prod.wafAclArn", "tlsPolicy"):
        assert f"pingvas-infra:ingress.{key} = " in message


def test_without_certificates_the_plan_warns_for_each_environment(stack_file: StackFile) -> None:
    warnings = [w.render("") for w in config_with(stack_file, {}).warnings()]
    for env in ("dev", "prod"):
        assert any(
            w.startswith(f"pingvas-infra:ingress.environments.{env}.certificateArn")
            and "plain HTTP" in w
            for w in warnings
        ), warnings


def test_a_bad_arn_stops_the_plan_before_anything_is_created(tmp_path: Path) -> None:
    """Through the command: exit 2, one screen naming the key, no traceback, no plan."""
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    stack = yaml.safe_load((PROJECT_DIR / f"Pulumi.{STACK}.yaml").read_text(encoding="utf-8"))
    stack["config"]["pingvas-infra:ingress"] = both(
        certificateArn=CERTIFICATE.replace("us-east-1", "eu-west-1")
    )
    (tmp_path / f"Pulumi.{STACK}.yaml").write_text(yaml.safe_dump(stack), encoding="utf-8")
    done = run_cli("plan", "--stack", STACK, "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 2
    assert "pingvas-infra:ingress.environments.dev.certificateArn = " in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out" / "resources.json").exists()
