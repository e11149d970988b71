"""The ingress layer as one ComponentResource: the AWS Load Balancer Controller and one
internet entry per environment.

Each environment gets an IngressClass backed by an IngressClassParams that fixes what a
tenant's Ingress must not choose: the namespace allowed to use the class, the Ingress
group (so one Application Load Balancer per environment, and a dev Ingress can never join
prod's), the scheme, the subnets (the environment's own), the target type, the
certificate, TLS policy and HTTPS redirect, the web ACL, the client ranges and every
security-relevant load balancer attribute (the controller merges attributes per key, the
class winning, so a key the class leaves out would be the Ingress's to set). What the
class cannot fix (security groups, WAF by name, frontend NLBs) the admission policy in
k8s_manifests/admission-policies.yaml refuses on the Ingress itself.

The load balancers are created by the controller when the first Ingress of a class
appears; what the stack owns, and what the plan, the cost model and the policy controls
read, is the class and its parameters.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from pingvas_infra.aws_parts import pod_identity_role
from pingvas_infra.cluster.outputs import ClusterOutputs
from pingvas_infra.environments import ENVIRONMENTS
from pingvas_infra.ingress.config import EntryConfig, IngressConfig, controller_pin
from pingvas_infra.ingress.outputs import IngressOutputs
from pingvas_infra.kube import SYSTEM_CLUSTER_CRITICAL, on_system_nodes
from pingvas_infra.labels import APP_NAME_LABEL, HOSTNAME_LABEL, NAMESPACE_NAME_LABEL
from pingvas_infra.network.outputs import NetworkOutputs
from pingvas_infra.ports import HTTPS_PORT
from pingvas_infra.storage.outputs import StorageOutputs
from pingvas_infra.tables import read_table
from pingvas_infra.tenancy.outputs import TenancyOutputs

CONTROLLER = "ingress.k8s.aws/alb"
PARAMS_API_GROUP = "elbv2.k8s.aws"
PARAMS_API_VERSION = f"{PARAMS_API_GROUP}/v1beta1"
PARAMS_KIND = "IngressClassParams"
# Labels the chart puts on the controller's pods (its selector).
CONTROLLER_POD_LABEL = {APP_NAME_LABEL: "aws-load-balancer-controller"}


def ingress_class_name(environment: str) -> str:
    """The IngressClass an environment's Ingresses name; the admission policy requires it."""
    return f"alb-{environment}"


def load_balancer_name(project: str, environment: str) -> str:
    """The environment's load balancer (and its Ingress group): at most 32 characters."""
    return f"{project}-{environment}"


def upstream_iam_policy() -> dict[str, Any]:
    """The controller's IAM policy as published for the pinned version (stored verbatim)."""
    document = read_table(controller_pin().iam_policy_file)
    assert isinstance(document, dict), "the IAM policy file holds one policy document"
    return document


class InternetEntries(pulumi.ComponentResource):
    """The AWS Load Balancer Controller and, per environment, its IngressClass."""

    outputs: IngressOutputs

    def __init__(
        self,
        name: str,
        config: IngressConfig,
        *,
        project: str,
        region: str,
        tags: Mapping[str, str],
        network: NetworkOutputs,
        cluster: ClusterOutputs,
        tenancy: TenancyOutputs,
        storage: StorageOutputs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("pingvas:ingress:InternetEntries", name, None, opts)
        pin = controller_pin()

        identity = pod_identity_role(
            f"{name}-controller",
            description="AWS Load Balancer Controller (upstream IAM policy of its version)",
            policy=json.dumps(upstream_iam_policy()),
            cluster=cluster,
            namespace=pin.namespace,
            service_account=pin.service_account,
            parent=self,
        )
        release = k8s.helm.v3.Release(
            f"{name}-controller",
            name=pin.chart,
            chart=pin.chart,
            version=pin.version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=pin.repository),
            namespace=pin.namespace,
            values=controller_values(
                config,
                cluster_name=cluster.cluster_name,
                region=region,
                vpc_id=network.vpc_id,
                system_node_labels=cluster.system_node_labels,
                tags=tags,
            ),
            # The controller starts with its credentials in place.
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[identity.policy, identity.association]
            ),
        )

        classes: dict[str, str] = {}
        names: dict[str, str] = {}
        for env in ENVIRONMENTS:
            entry = config.entry(env.name)
            class_name = ingress_class_name(env.name)
            names[env.name] = load_balancer_name(project, env.name)
            # The params' CRD comes with the chart.
            params = k8s.apiextensions.CustomResource(
                f"{name}-{class_name}-params",
                api_version=PARAMS_API_VERSION,
                kind=PARAMS_KIND,
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=class_name, labels={"environment": env.name}
                ),
                spec=ingress_class_params_spec(
                    config,
                    entry,
                    environment=env.name,
                    namespace=tenancy.namespaces[env.name],
                    load_balancer=names[env.name],
                    subnet_ids=network.load_balancer_subnet_ids[env.name],
                    logs_bucket=storage.logs_bucket,
                    log_prefix=storage.load_balancer_log_prefixes[env.name],
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[release]),
            )
            k8s.networking.v1.IngressClass(
                f"{name}-{class_name}",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=class_name, labels={"environment": env.name}
                ),
                spec=k8s.networking.v1.IngressClassSpecArgs(
                    controller=CONTROLLER,
                    parameters=k8s.networking.v1.IngressClassParametersReferenceArgs(
                        api_group=PARAMS_API_GROUP, kind=PARAMS_KIND, name=class_name
                    ),
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[release, params]),
            )
            classes[env.name] = class_name

        self.outputs = IngressOutputs(
            ingress_classes=classes,
            load_balancer_names=names,
            controller_role_arn=identity.role.arn,
        )
        self.register_outputs(
            {
                "ingressClasses": classes,
                "loadBalancerNames": names,
                "controllerRoleArn": identity.role.arn,
            }
        )


def controller_values(
    config: IngressConfig,
    *,
    cluster_name: pulumi.Input[str],
    region: str,
    vpc_id: pulumi.Input[str],
    system_node_labels: Mapping[str, str],
    tags: Mapping[str, str],
) -> dict[str, Any]:
    """Helm values of the aws-load-balancer-controller chart."""
    pin = controller_pin()
    return {
        "clusterName": cluster_name,
        # Pods cannot reach instance metadata (hop limit 1), where the controller would
        # otherwise look up its region and VPC.
        "region": region,
        "vpcId": vpc_id,
        "replicaCount": pin.replicas,
        # Pod Identity hands the role to this ServiceAccount: no IRSA annotation.
        "serviceAccount": {"create": True, "name": pin.service_account},
        # Its webhooks sit in the path of every Ingress: it outranks workloads, and the
        # admission policy lets no dev or prod pod name this class.
        "priorityClassName": SYSTEM_CLUSTER_CRITICAL,
        "podDisruptionBudget": {"maxUnavailable": 1},
        **on_system_nodes(
            system_node_labels,
            # Replicas on different nodes when there are two (preferred, so a rollout on
            # two nodes can still surge).
            pod_anti_affinity={
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 100,
                        "podAffinityTerm": {
                            "labelSelector": {"matchLabels": dict(CONTROLLER_POD_LABEL)},
                            "topologyKey": HOSTNAME_LABEL,
                        },
                    }
                ]
            },
        ),
        "resources": pin.resources,
        # Only this layer's classes exist: no catch-all "alb" class a namespace could use,
        # and neither the legacy class annotation nor the group annotation takes effect.
        "createIngressClassResource": False,
        "ingressClassParams": {"create": False},
        "ingressClassConfig": {"default": False},
        "disableIngressClassAnnotation": True,
        "disableIngressGroupNameAnnotation": True,
        # Services of type LoadBalancer are refused in dev and prod; without this webhook
        # an unreachable controller cannot block Service creation cluster-wide either.
        "enableServiceMutatorWebhook": False,
        "defaultTargetType": "ip",
        "defaultLoadBalancerScheme": "internal",
        "defaultSSLPolicy": config.tls_policy,
        # WAF only through the classes' web ACLs; no Shield Advanced, no WAF Classic.
        "enableWafv2": any(e.waf_acl_arn for e in config.environments.values()),
        "enableWaf": False,
        "enableShield": False,
        # On the load balancers, target groups and security groups it creates; the
        # environment comes from the class (a default tag would override it).
        "defaultTags": {
            **{k: v for k, v in tags.items() if k != "Environment"},
            "ManagedBy": "aws-load-balancer-controller",
        },
        # The webhook's certificate survives upgrades.
        "keepTLSSecret": True,
        "logLevel": "info",
    }


def _attributes(pairs: Mapping[str, pulumi.Input[str]]) -> list[dict[str, pulumi.Input[str]]]:
    return [{"key": key, "value": value} for key, value in pairs.items()]


def load_balancer_attributes(
    config: IngressConfig,
    entry: EntryConfig,
    *,
    environment: str,
    logs_bucket: pulumi.Input[str],
    log_prefix: str,
) -> dict[str, pulumi.Input[str]]:
    """Every security-relevant attribute, set by the class so no Ingress can set it."""
    return {
        "deletion_protection.enabled": str(entry.protected(environment)).lower(),
        "routing.http.drop_invalid_header_fields.enabled": "true",
        "routing.http.desync_mitigation_mode": "defensive",
        "routing.http.xff_header_processing.mode": "append",
        "waf.fail_open.enabled": "false",
        "access_logs.s3.enabled": "true",
        "access_logs.s3.bucket": logs_bucket,
        "access_logs.s3.prefix": log_prefix,
        "idle_timeout.timeout_seconds": str(config.idle_timeout_seconds),
    }


def ingress_class_params_spec(
    config: IngressConfig,
    entry: EntryConfig,
    *,
    environment: str,
    namespace: pulumi.Input[str],
    load_balancer: str,
    subnet_ids: Sequence[pulumi.Input[str]],
    logs_bucket: pulumi.Input[str],
    log_prefix: str,
) -> dict[str, Any]:
    """What every Ingress of the environment's class gets, whatever it asks for."""
    spec: dict[str, Any] = {
        "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: namespace}},
        "group": {"name": load_balancer},
        "loadBalancerName": load_balancer,
        "scheme": "internet-facing",
        "ipAddressType": "ipv4",
        "subnets": {"ids": list(subnet_ids)},
        "targetType": "ip",
        "inboundCIDRs": list(entry.inbound_cidrs),
        "tags": [{"key": "Environment", "value": environment}],
        "loadBalancerAttributes": _attributes(
            load_balancer_attributes(
                config,
                entry,
                environment=environment,
                logs_bucket=logs_bucket,
                log_prefix=log_prefix,
            )
        ),
    }
    if entry.certificate_arn is not None:
        spec["certificateArn"] = [entry.certificate_arn]
        spec["sslPolicy"] = config.tls_policy
        # Every HTTP listener of the group answers with a redirect to 443.
        spec["sslRedirectPort"] = str(HTTPS_PORT)
    if entry.waf_acl_arn is not None:
        spec["wafv2AclArn"] = entry.waf_acl_arn
    return spec
