"""The ingress layer's graph in the default stack: the AWS Load Balancer Controller (Helm
release, Pod Identity role with the upstream policy of its version) and one IngressClass
with its parameters per environment (mock engine)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pingvas_infra import resource_types as rt
from pingvas_infra.environments import ENVIRONMENTS
from pingvas_infra.ingress.component import upstream_iam_policy
from pingvas_infra.ingress.config import controller_pin
from pingvas_infra.plan.model import PlanResult, RecordedResource
from pingvas_infra.tables import load_table
from tests.support.iam import Request, allowed, role_arn, role_policies, trust_policy
from tests.support.plan_graph import (
    PlanRunner,
    cluster_security_group_id,
    layer_graph,
    tags_of,
)

ENVS = [e.name for e in ENVIRONMENTS]
CONTROLLER_ROLE = "ingress-controller"
UUID = "0e2bd4d0-4a3e-4f6e-9b5e-1c2d3e4f5a6b"
CERTIFICATES = {
    "dev": f"arn:aws:acm:us-east-1:123456789012:certificate/{UUID.replace('0e2b', '7c1f')}",
    "prod": f"arn:aws:acm:us-east-1:123456789012:certificate/{UUID}",
}
WEB_ACL = f"arn:aws:wafv2:us-east-1:123456789012:regional/webacl/pingvas-prod/{UUID}"


def controller(graph: PlanResult) -> RecordedResource:
    (found,) = [
        r
        for r in graph.of_type(rt.HELM_RELEASE)
        if r.inputs["chart"] == "aws-load-balancer-controller"
    ]
    return found


def values(graph: PlanResult) -> dict[str, Any]:
    return dict(controller(graph).inputs["values"])


def params(graph: PlanResult) -> dict[str, dict[str, Any]]:
    """Environment -> its IngressClassParams document."""
    return {
        p.inputs["metadata"]["labels"]["environment"]: p.inputs
        for p in graph.of_type(rt.INGRESS_CLASS_PARAMS)
    }


def attributes(spec: dict[str, Any]) -> dict[str, str]:
    return {a["key"]: a["value"] for a in spec["loadBalancerAttributes"]}


def load_balancer_subnet_ids(graph: PlanResult, environment: str) -> list[str]:
    return [
        s.id
        for s in graph.of_type(rt.SUBNET)
        if tags_of(s.inputs).get("Tier") == "load-balancer"
        and tags_of(s.inputs).get("Environment") == environment
    ]


@pytest.fixture(scope="module")
def https(run_plan: PlanRunner) -> PlanResult:
    """Certificates for both environments and a web ACL on prod."""
    return run_plan(
        {
            "pingvas-infra:ingress": {
                "environments": {
                    "dev": {"certificateArn": CERTIFICATES["dev"]},
                    "prod": {"certificateArn": CERTIFICATES["prod"], "wafAclArn": WEB_ACL},
                }
            }
        }
    )


# --- the controller ------------------------------------------------------------------------


def test_the_controller_is_the_pinned_chart_in_kube_system(graph: PlanResult) -> None:
    pin = controller_pin()
    release = controller(graph)
    assert (release.inputs["chart"], release.inputs["version"]) == (
        "aws-load-balancer-controller",
        "3.5.0",
    )
    assert release.inputs["repositoryOpts"]["repo"] == "https://aws.github.io/eks-charts"
    assert release.inputs["namespace"] == pin.namespace == "kube-system"
    assert release.layer == "ingress"


def test_region_and_vpc_are_given_because_pods_cannot_reach_instance_metadata(
    graph: PlanResult,
) -> None:
    """The controller asks IMDS for its region and VPC unless told (--aws-region,
    --aws-vpc-id); the system nodes' hop limit of 1 keeps pods away from IMDS."""
    found = values(graph)
    (vpc,) = graph.of_type(rt.VPC)
    assert found["region"] == "us-east-1"
    assert found["vpcId"] == vpc.id
    assert found["clusterName"] == graph.one(rt.EKS_CLUSTER_COMPONENT).inputs["name"]
    (template,) = graph.of_type(rt.LAUNCH_TEMPLATE)
    assert template.inputs["metadataOptions"]["httpPutResponseHopLimit"] == 1


def test_it_runs_as_a_platform_component_on_the_system_nodes(graph: PlanResult) -> None:
    found = values(graph)
    assert found["replicaCount"] == 2
    assert found["podDisruptionBudget"] == {"maxUnavailable": 1}
    assert found["priorityClassName"] == "system-cluster-critical"
    assert found["nodeSelector"] == {
        "kubernetes.io/os": "linux",
        "role": "system",
        "tier": "shared",
    }
    (term,) = found["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ]
    assert term["matchExpressions"] == [
        {"key": "karpenter.sh/nodepool", "operator": "DoesNotExist"}
    ]
    assert found["resources"]["requests"] and found["resources"]["limits"]["memory"]


def test_only_the_stacks_classes_exist_and_no_annotation_picks_one(graph: PlanResult) -> None:
    """No catch-all `alb` IngressClass (its Ingresses would choose their group by
    annotation), neither the legacy class annotation nor the group annotation honoured, no
    Service webhook in every namespace's path, no WAF or Shield action the class did not ask
    for."""
    found = values(graph)
    assert found["createIngressClassResource"] is False
    assert found["ingressClassParams"] == {"create": False}
    assert found["ingressClassConfig"] == {"default": False}
    assert found["disableIngressClassAnnotation"] is True
    assert found["disableIngressGroupNameAnnotation"] is True
    assert found["enableServiceMutatorWebhook"] is False
    assert (found["enableWafv2"], found["enableWaf"], found["enableShield"]) == (False,) * 3
    assert found["defaultTargetType"] == "ip"
    assert found["defaultLoadBalancerScheme"] == "internal"
    assert found["defaultSSLPolicy"] == "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"
    # The environment of each load balancer comes from its class: the controller's
    # default tags win over a class's, so they carry none.
    assert "Environment" not in found["defaultTags"]
    assert found["defaultTags"]["Project"] == "pingvas"


def test_the_controller_has_its_role_through_pod_identity_before_it_starts(
    graph: PlanResult,
) -> None:
    pin = controller_pin()
    (association,) = [
        a
        for a in graph.of_type(rt.POD_IDENTITY_ASSOCIATION)
        if a.inputs["serviceAccount"] == pin.service_account
    ]
    assert association.inputs["namespace"] == "kube-system"
    assert association.inputs["roleArn"] == role_arn(graph, CONTROLLER_ROLE)
    assert values(graph)["serviceAccount"] == {"create": True, "name": pin.service_account}
    assert association.urn in controller(graph).dependencies
    # Its trust is evaluated for every session, this cluster's and another's, with the
    # other Pod Identity roles (tests/storage/test_workload_access.py).
    trust = json.loads(trust_policy(graph, CONTROLLER_ROLE))
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    conditions = statement["Condition"]["StringEquals"]
    assert conditions["aws:RequestTag/kubernetes-namespace"] == "kube-system"
    assert conditions["aws:RequestTag/kubernetes-service-account"] == pin.service_account


def test_the_role_policy_is_the_upstream_policy_statement_by_statement(graph: PlanResult) -> None:
    """The stored upstream file (tests/ingress/test_upstream.py checks it is the published
    one) against what the role really gets."""
    (policy,) = role_policies(graph, CONTROLLER_ROLE)
    rendered = json.loads(policy)["Statement"]
    upstream = upstream_iam_policy()["Statement"]
    assert len(rendered) == len(upstream) == 16
    for index, (ours, theirs) in enumerate(zip(rendered, upstream, strict=True)):
        assert ours == theirs, f"statement {index} differs"
    assert json.loads(policy)["Version"] == "2012-10-17"


def test_the_role_can_run_a_load_balancer_and_reaches_no_data(graph: PlanResult) -> None:
    """What the upstream policy lets the controller do, evaluated: manage load balancers it
    tagged, never read a bucket, a secret or a key."""
    (policy,) = role_policies(graph, CONTROLLER_ROLE)
    role = role_arn(graph, CONTROLLER_ROLE)
    lb = (
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:"
        "loadbalancer/app/pingvas-prod/50dc6c495c0c9188"
    )
    assert allowed(Request(role, "elasticloadbalancing:CreateListener", lb), [policy])
    for action, resource in (
        ("s3:GetObject", "arn:aws:s3:::pingvas-prod-images-123456789012/x.png"),
        ("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:123456789012:secret:x"),
        ("kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:key/x"),
        ("iam:PassRole", "arn:aws:iam::123456789012:role/anything"),
    ):
        assert not allowed(Request(role, action, resource), [policy]), action


def test_the_webhook_path_stays_open_through_the_cluster_security_group(
    graph: PlanResult,
) -> None:
    """The API server calls the webhook on the pod's port 9443 from the control plane's
    network interfaces, which carry the EKS cluster security group; every node (system
    group: no security group of its own in the launch template; Karpenter: the discovery
    tag) carries that group too, whose EKS rule admits all traffic from itself. Nothing in
    the stack narrows it."""
    cluster_sg = cluster_security_group_id(graph)
    (template,) = graph.of_type(rt.LAUNCH_TEMPLATE)
    assert not template.inputs.get("vpcSecurityGroupIds")
    assert not template.inputs.get("networkInterfaces")
    (tag,) = [t for t in graph.of_type(rt.EC2_TAG) if t.inputs["key"] == "karpenter.sh/discovery"]
    assert tag.inputs["resourceId"] == cluster_sg
    rules = [
        r
        for kind in (
            rt.SECURITY_GROUP_INGRESS_RULE,
            rt.SECURITY_GROUP_EGRESS_RULE,
            rt.SECURITY_GROUP_RULE,
        )
        for r in graph.of_type(kind)
    ]
    assert rules
    assert not [r.name for r in rules if r.inputs.get("securityGroupId") == cluster_sg]
    # kube-system carries no NetworkPolicy (tests/tenancy/test_network_policies.py proves
    # the control plane reaches the webhook through the policies that do exist).
    policies = graph.of_type(rt.NETWORK_POLICY)
    assert policies
    assert not [p for p in policies if p.inputs["metadata"]["namespace"] == "kube-system"]


# --- one entry per environment ------------------------------------------------------------


def test_one_class_per_environment_backed_by_its_params(graph: PlanResult) -> None:
    classes = {c.inputs["metadata"]["name"]: c for c in graph.of_type(rt.INGRESS_CLASS)}
    assert sorted(classes) == ["alb-dev", "alb-prod"]
    for name, ingress_class in classes.items():
        assert ingress_class.inputs["spec"] == {
            "controller": "ingress.k8s.aws/alb",
            "parameters": {"apiGroup": "elbv2.k8s.aws", "kind": "IngressClassParams", "name": name},
        }
        # Nobody gets it by omission.
        annotations = ingress_class.inputs["metadata"].get("annotations") or {}
        assert "ingressclass.kubernetes.io/is-default-class" not in annotations
        assert controller(graph).urn in ingress_class.dependencies


def test_each_class_is_usable_from_its_own_namespace_only_in_its_own_group(
    graph: PlanResult,
) -> None:
    found = params(graph)
    assert sorted(found) == ENVS
    groups = set()
    for env, document in found.items():
        spec = document["spec"]
        assert spec["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": env}}
        assert spec["group"] == {"name": f"pingvas-{env}"}
        assert spec["loadBalancerName"] == f"pingvas-{env}"
        groups.add(spec["group"]["name"])
    assert len(groups) == len(ENVS)


def test_each_load_balancer_faces_the_internet_from_its_environments_subnets(
    graph: PlanResult,
) -> None:
    for env, document in params(graph).items():
        spec = document["spec"]
        assert spec["scheme"] == "internet-facing"
        assert spec["targetType"] == "ip"
        assert spec["ipAddressType"] == "ipv4"
        assert spec["subnets"] == {"ids": load_balancer_subnet_ids(graph, env)}
        assert len(spec["subnets"]["ids"]) == 3
        assert spec["inboundCIDRs"] == ["0.0.0.0/0"]
        assert spec["tags"] == [{"key": "Environment", "value": env}]


def test_every_security_attribute_is_fixed_by_the_class(graph: PlanResult) -> None:
    """The controller merges attributes per key with the class winning; a key the class
    left out would be an Ingress annotation's to set (access logs off, deletion protection
    off, desync monitor)."""
    logs = [b for b in graph.of_type(rt.BUCKET) if b.inputs["tags"]["Purpose"] == "logs"]
    (logs_bucket,) = logs
    for env, document in params(graph).items():
        found = attributes(document["spec"])
        assert found == {
            "deletion_protection.enabled": "true" if env == "prod" else "false",
            "routing.http.drop_invalid_header_fields.enabled": "true",
            "routing.http.desync_mitigation_mode": "defensive",
            "routing.http.xff_header_processing.mode": "append",
            "waf.fail_open.enabled": "false",
            "access_logs.s3.enabled": "true",
            "access_logs.s3.bucket": logs_bucket.inputs["bucket"],
            "access_logs.s3.prefix": f"elb/{env}",
            "idle_timeout.timeout_seconds": "60",
        }
    # The prefix is one the logs bucket's policy lets load balancer log delivery write to.
    (policy,) = [
        p
        for p in graph.of_type(rt.BUCKET_POLICY)
        if p.inputs["bucket"] == logs_bucket.inputs["bucket"]
    ]
    (delivery,) = [
        s
        for s in json.loads(policy.inputs["policy"])["Statement"]
        if s["Sid"] == "AllowLoadBalancerAccessLogDelivery"
    ]
    assert sorted(delivery["Resource"]) == sorted(
        f"arn:aws:s3:::{logs_bucket.inputs['bucket']}/elb/{env}/AWSLogs/123456789012/*"
        for env in ENVS
    )


def test_without_certificates_the_entries_serve_http_only(graph: PlanResult) -> None:
    for document in params(graph).values():
        assert not {"certificateArn", "sslPolicy", "sslRedirectPort", "wafv2AclArn"} & set(
            document["spec"]
        )


def test_with_certificates_https_redirect_and_a_current_tls_policy(https: PlanResult) -> None:
    for env, document in params(https).items():
        spec = document["spec"]
        assert spec["certificateArn"] == [CERTIFICATES[env]]
        assert spec["sslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"
        assert spec["sslPolicy"] in load_table("ingress")["tlsPolicies"]["allowed"]
        assert spec["sslRedirectPort"] == "443"
    assert params(https)["prod"]["spec"]["wafv2AclArn"] == WEB_ACL
    assert "wafv2AclArn" not in params(https)["dev"]["spec"]
    assert values(https)["enableWafv2"] is True
    assert not [w for w in https.warnings if "certificateArn" in w]


def test_the_layer_hands_on_its_classes_and_the_stack_exports_them(graph: PlanResult) -> None:
    assert graph.outputs["ingressClasses"] == {"dev": "alb-dev", "prod": "alb-prod"}
    assert graph.outputs["loadBalancerNames"] == {"dev": "pingvas-dev", "prod": "pingvas-prod"}
    layer = layer_graph(graph, "ingress")
    assert {r.type for r in layer.resources} >= {
        rt.HELM_RELEASE,
        rt.INGRESS_CLASS,
        rt.INGRESS_CLASS_PARAMS,
        rt.POD_IDENTITY_ASSOCIATION,
        rt.IAM_ROLE,
        rt.IAM_ROLE_POLICY,
    }
