"""The guardrail validators, written once for `pulumi preview --policy-pack` and the plan.

Each control of the catalogue (pingvas_infra/tables/policy_controls.yaml) has one check
here: a resource check yields a message per violation of one resource; a stack check sees
every resource at once (S3 settings, EFS backups and flow logs are separate resources that
point at what they configure) and yields (urn, message). :func:`policies` turns them into
pulumi-policy ``ResourceValidationPolicy`` / ``StackValidationPolicy`` objects; the
CrossGuard pack (policy_pack/) and the offline runner (pingvas_infra.policy.offline) both
use exactly those objects.

Both EKS shapes are checked: the pulumi-eks component (``eks:index:Cluster``: what the
program registers, and all the offline plan sees) and the ``aws:eks/cluster:Cluster`` it
creates (seen under a real preview).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from pingvas_infra import resource_types as rt
from pingvas_infra.eks_versions import SupportPhase, eks_versions
from pingvas_infra.mappings import dig
from pingvas_infra.policy.catalogue import Control, controls, parameters
from pingvas_infra.policy.props import (
    UnknownValueError,
    is_false,
    is_set,
    is_true,
    items,
    json_document,
    mapping,
)
from pingvas_infra.policy.taggable import is_taggable
from pingvas_infra.ports import HTTPS_PORT
from pingvas_infra.tables import load_table

_EKS_TYPES = (rt.EKS_CLUSTER_COMPONENT, rt.EKS_CLUSTER)
# Where each EKS setting lives: (pulumi-eks component input, aws:eks/cluster:Cluster path).
_EKS_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "version": (("version",), ("version",)),
    "supportType": (("upgradePolicy", "supportType"), ("upgradePolicy", "supportType")),
    "logTypes": (("enabledClusterLogTypes",), ("enabledClusterLogTypes",)),
    "publicAccess": (("endpointPublicAccess",), ("vpcConfig", "endpointPublicAccess")),
    "publicCidrs": (("publicAccessCidrs",), ("vpcConfig", "publicAccessCidrs")),
    "privateAccess": (("endpointPrivateAccess",), ("vpcConfig", "endpointPrivateAccess")),
    "authenticationMode": (("authenticationMode",), ("accessConfig", "authenticationMode")),
}

_WORLD = ("0.0.0.0/0", "::/0")


def today() -> date:
    """The date support windows are measured against (UTC); tests replace it."""
    return datetime.now(UTC).date()


ResourceCheck = Callable[[ResourceValidationArgs], Iterator[str]]
StackCheck = Callable[[StackValidationArgs], Iterator[tuple[str, str]]]

RESOURCE_CHECKS: dict[str, ResourceCheck] = {}
STACK_CHECKS: dict[str, StackCheck] = {}


def _resource_check(control_id: str) -> Callable[[ResourceCheck], ResourceCheck]:
    def register(check: ResourceCheck) -> ResourceCheck:
        RESOURCE_CHECKS[control_id] = check
        return check

    return register


def _stack_check(control_id: str) -> Callable[[StackCheck], StackCheck]:
    def register(check: StackCheck) -> StackCheck:
        STACK_CHECKS[control_id] = check
        return check

    return register


def _eks(args: ResourceValidationArgs, field: str) -> Any:
    component_path, cluster_path = _EKS_FIELDS[field]
    path = component_path if args.resource_type == rt.EKS_CLUSTER_COMPONENT else cluster_path
    return dig(args.props, *path)


# --- EKS ---------------------------------------------------------------------------------


@_resource_check("eks-supported-version")
def _eks_supported_version(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type not in _EKS_TYPES:
        return
    version = _eks(args, "version")
    if not version:
        yield "no Kubernetes version set: pin one (EKS otherwise picks its own default)"
        return
    known = eks_versions()
    entry = known.get(str(version))
    if entry is None:
        yield (
            f"Kubernetes {version} is not in pingvas_infra/tables/eks_versions.yaml: add its "
            "release and support dates (with sources) or choose one of " + ", ".join(sorted(known))
        )
        return
    if entry.phase(today()) is not SupportPhase.STANDARD:
        supported = [v for v, e in known.items() if e.phase(today()) is SupportPhase.STANDARD]
        choices = ", ".join(supported) or "the current versions"
        yield (
            f"Kubernetes {version} is in {entry.phase(today())} (standard support ends "
            f"{entry.end_of_standard_support.isoformat()}; extended support bills $0.60 instead "
            f"of $0.10 per cluster-hour); use one of {choices}"
        )


@_resource_check("eks-upgrade-policy-standard")
def _eks_upgrade_policy(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type not in _EKS_TYPES:
        return
    support_type = _eks(args, "supportType")
    if support_type != "STANDARD":
        yield (
            f"upgradePolicy.supportType is {support_type or 'unset (EKS defaults to EXTENDED)'}; "
            "set STANDARD so an ageing version is upgraded instead of billed as extended support"
        )


@_resource_check("eks-secrets-encryption")
def _eks_secrets_encryption(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type == rt.EKS_CLUSTER_COMPONENT:
        if not is_set(args.props, "encryptionConfigKeyArn"):
            yield "encryptionConfigKeyArn is not set: Secrets are stored unencrypted in etcd"
    elif args.resource_type == rt.EKS_CLUSTER:
        configs = [mapping(c) for c in items(args.props.get("encryptionConfig"))] or [
            mapping(args.props.get("encryptionConfig"))
        ]
        covered = [
            config
            for config in configs
            if "secrets" in items(config.get("resources")) and is_set(config, "provider", "keyArn")
        ]
        if not covered:
            yield "encryptionConfig does not encrypt the `secrets` resource with a KMS key"


@_resource_check("eks-control-plane-logging")
def _eks_logging(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type not in _EKS_TYPES:
        return
    enabled = set(items(_eks(args, "logTypes")))
    missing = [t for t in parameters().eks_log_types if t not in enabled]
    if missing:
        yield f"enabledClusterLogTypes misses {', '.join(missing)}"


@_resource_check("eks-endpoint-restricted")
def _eks_endpoint(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type not in _EKS_TYPES:
        return
    public = _eks(args, "publicAccess")
    if is_false(public):
        return
    cidrs = items(_eks(args, "publicCidrs"))
    if not cidrs or any(cidr in _WORLD for cidr in cidrs):
        yield (
            "the public API endpoint is open to the whole internet: set publicAccessCidrs "
            "to the team's addresses or turn endpointPublicAccess off"
        )
    if not is_true(_eks(args, "privateAccess")):
        yield (
            "endpointPrivateAccess is off: nodes reach the API through the public endpoint "
            "(and the NAT gateway's address must then be allowed)"
        )


@_resource_check("eks-access-entries")
def _eks_access_entries(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type not in _EKS_TYPES:
        return
    mode = _eks(args, "authenticationMode")
    if mode != "API":
        yield f"authenticationMode is {mode or 'unset (CONFIG_MAP)'}; set API (access entries)"


@_resource_check("eks-private-nodes")
def _eks_private_nodes(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type != rt.EKS_CLUSTER_COMPONENT:
        return
    if not is_false(args.props.get("nodeAssociatePublicIpAddress")):
        yield (
            "nodeAssociatePublicIpAddress is not false (pulumi-eks defaults it to true): "
            "nodes would get public IPs"
        )


@_resource_check("eks-node-group-launch-template")
def _node_group_launch_template(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type == rt.EKS_NODE_GROUP_COMPONENT:
        if not is_set(args.props, "launchTemplate") and not is_true(args.props.get("enableIMDSv2")):
            yield (
                "no launchTemplate (and enableIMDSv2 is off): nodes start from the EKS default "
                "template, which allows IMDSv1"
            )
    elif args.resource_type == rt.EKS_NODE_GROUP and not is_set(args.props, "launchTemplate"):
        yield "no launchTemplate: nodes start from the EKS default template, which allows IMDSv1"


# --- EC2 launch templates and Karpenter node classes --------------------------------------


@_resource_check("launch-template-imdsv2")
def _launch_template_imdsv2(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type != rt.LAUNCH_TEMPLATE:
        return
    tokens = dig(args.props, "metadataOptions", "httpTokens")
    if tokens != "required":
        yield f"metadataOptions.httpTokens is {tokens or 'unset'}; set required (IMDSv2 only)"


@_resource_check("launch-template-ebs-encrypted")
def _launch_template_ebs(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type != rt.LAUNCH_TEMPLATE:
        return
    for mapping_ in items(args.props.get("blockDeviceMappings")):
        ebs = mapping(mapping_.get("ebs"))
        if ebs and not is_true(ebs.get("encrypted")):
            yield f"EBS volume {mapping_.get('deviceName') or '(unnamed)'} is not encrypted"


@_resource_check("launch-template-no-public-ip")
def _launch_template_public_ip(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type != rt.LAUNCH_TEMPLATE:
        return
    for interface in items(args.props.get("networkInterfaces")):
        if is_true(mapping(interface).get("associatePublicIpAddress")):
            yield "a network interface sets associatePublicIpAddress"


def _node_class_spec(args: ResourceValidationArgs) -> Mapping[str, Any] | None:
    if args.resource_type != rt.EC2_NODE_CLASS:
        return None
    return mapping(args.props.get("spec"))


@_resource_check("karpenter-imdsv2")
def _karpenter_imdsv2(args: ResourceValidationArgs) -> Iterator[str]:
    spec = _node_class_spec(args)
    if spec is None:
        return
    options = mapping(spec.get("metadataOptions"))
    if options.get("httpTokens") != "required":
        yield "spec.metadataOptions.httpTokens must be set to required"
    hop_limit = options.get("httpPutResponseHopLimit")
    if hop_limit is not None and float(hop_limit) > 1:
        yield (
            f"spec.metadataOptions.httpPutResponseHopLimit is {hop_limit}: pods could reach the "
            "node's metadata service; keep 1"
        )


@_resource_check("karpenter-ami-pinned")
def _karpenter_ami(args: ResourceValidationArgs) -> Iterator[str]:
    spec = _node_class_spec(args)
    if spec is None:
        return
    terms = items(spec.get("amiSelectorTerms"))
    if not terms:
        yield "spec.amiSelectorTerms is empty"
    for term in terms:
        alias = str(mapping(term).get("alias") or "")
        if alias.endswith("@latest") or (alias and "@" not in alias):
            yield f"amiSelectorTerms alias {alias!r} is not pinned to an AMI version"


@_resource_check("karpenter-ebs-encrypted")
def _karpenter_ebs(args: ResourceValidationArgs) -> Iterator[str]:
    spec = _node_class_spec(args)
    if spec is None:
        return
    mappings = items(spec.get("blockDeviceMappings"))
    if not mappings:
        yield "spec.blockDeviceMappings is not set: declare the root volume (encrypted, sized)"
    for device in mappings:
        if not is_true(mapping(mapping(device).get("ebs")).get("encrypted")):
            name = mapping(device).get("deviceName") or "(unnamed)"
            yield f"block device {name} is not encrypted"


# --- Load balancers ----------------------------------------------------------------------
# The AWS Load Balancer Controller creates each Application Load Balancer at run time from
# its IngressClassParams; the class's parameters are what the stack owns and checks.


def _class_params(args: ResourceValidationArgs) -> Mapping[str, Any] | None:
    if args.resource_type != rt.INGRESS_CLASS_PARAMS:
        return None
    return mapping(args.props.get("spec"))


def _class_environment(args: ResourceValidationArgs, spec: Mapping[str, Any]) -> str | None:
    """The environment a class serves: its `environment` label, else its Environment tag."""
    labels = mapping(mapping(args.props.get("metadata")).get("labels"))
    if labels.get("environment"):
        return str(labels["environment"])
    for tag in items(spec.get("tags")):
        if mapping(tag).get("key") == "Environment":
            return str(mapping(tag).get("value"))
    return None


def _lb_attributes(spec: Mapping[str, Any]) -> dict[str, Any]:
    return {
        str(mapping(a).get("key")): mapping(a).get("value")
        for a in items(spec.get("loadBalancerAttributes"))
    }


def _tls_policies() -> tuple[str, ...]:
    return tuple(load_table("ingress")["tlsPolicies"]["allowed"])


@_resource_check("alb-class-scoped")
def _alb_class_scoped(args: ResourceValidationArgs) -> Iterator[str]:
    spec = _class_params(args)
    if spec is None:
        return
    if not is_set(spec, "namespaceSelector"):
        yield "spec.namespaceSelector is not set: every namespace could use the class"
    if not is_set(spec, "group", "name"):
        yield (
            "spec.group.name is not set: an Ingress's group.name annotation would decide which "
            "load balancer it joins"
        )
    if spec.get("scheme") != "internet-facing":
        yield f"spec.scheme is {spec.get('scheme')!r}: an entry faces the internet"
    subnets = items(mapping(spec.get("subnets")).get("ids"))
    if len(subnets) < 2:
        yield (
            "spec.subnets.ids names fewer than 2 subnets: name the environment's own "
            "load-balancer subnets (one per zone)"
        )
    if spec.get("targetType") != "ip":
        yield (
            f"spec.targetType is {spec.get('targetType')!r}: only ip targets come from the "
            "load-balancer subnets the NetworkPolicies admit"
        )


@_resource_check("alb-https-listener")
def _alb_https(args: ResourceValidationArgs) -> Iterator[str]:
    spec = _class_params(args)
    if spec is None or not items(spec.get("certificateArn")):
        return
    if str(spec.get("sslRedirectPort") or "") != str(HTTPS_PORT):
        yield f"spec.sslRedirectPort is not {HTTPS_PORT}: HTTP listeners would serve in plain text"
    policy = spec.get("sslPolicy")
    if policy not in _tls_policies():
        yield (
            f"spec.sslPolicy is {policy!r}: use one of {', '.join(_tls_policies())} (unset "
            "means ELBSecurityPolicy-2016-08, which still accepts TLS 1.0)"
        )


@_resource_check("alb-drop-invalid-headers")
def _alb_headers(args: ResourceValidationArgs) -> Iterator[str]:
    spec = _class_params(args)
    if spec is None:
        return
    attributes = _lb_attributes(spec)
    if not is_true(attributes.get("routing.http.drop_invalid_header_fields.enabled")):
        yield "routing.http.drop_invalid_header_fields.enabled is not true"
    mode = attributes.get("routing.http.desync_mitigation_mode")
    if mode not in ("defensive", "strictest"):
        yield (
            f"routing.http.desync_mitigation_mode is {mode!r}: set defensive or strictest "
            "in the class, or an Ingress annotation may set monitor"
        )


@_resource_check("alb-deletion-protection")
def _alb_deletion_protection(args: ResourceValidationArgs) -> Iterator[str]:
    spec = _class_params(args)
    if spec is None:
        return
    environment = _class_environment(args, spec)
    if environment not in load_table("ingress")["deletionProtectedEnvironments"]:
        return
    if not is_true(_lb_attributes(spec).get("deletion_protection.enabled")):
        yield f"{environment}'s load balancer: deletion_protection.enabled is not true"


@_resource_check("alb-access-logging")
def _alb_access_logging(args: ResourceValidationArgs) -> Iterator[str]:
    spec = _class_params(args)
    if spec is None:
        return
    attributes = _lb_attributes(spec)
    if not is_true(attributes.get("access_logs.s3.enabled")):
        yield "access_logs.s3.enabled is not true"
    elif attributes.get("access_logs.s3.bucket") in (None, ""):
        yield "access_logs.s3.bucket is not set"


# --- Aurora ------------------------------------------------------------------------------


def _is_aurora_cluster(args: ResourceValidationArgs) -> bool:
    return args.resource_type == rt.RDS_CLUSTER


@_resource_check("rds-encrypted")
def _rds_encrypted(args: ResourceValidationArgs) -> Iterator[str]:
    if _is_aurora_cluster(args) and not is_true(args.props.get("storageEncrypted")):
        yield "storageEncrypted is not true"


@_resource_check("rds-deletion-protection")
def _rds_deletion_protection(args: ResourceValidationArgs) -> Iterator[str]:
    if _is_aurora_cluster(args) and not is_true(args.props.get("deletionProtection")):
        yield "deletionProtection is not true"


@_resource_check("rds-backup-retention")
def _rds_backup_retention(args: ResourceValidationArgs) -> Iterator[str]:
    if not _is_aurora_cluster(args):
        return
    minimum = parameters().min_backup_retention_days
    days = args.props.get("backupRetentionPeriod")
    if days is None or int(days) < minimum:
        yield f"backupRetentionPeriod is {days or 'unset (1 day)'}; keep at least {minimum} days"


@_resource_check("rds-iam-auth")
def _rds_iam_auth(args: ResourceValidationArgs) -> Iterator[str]:
    if _is_aurora_cluster(args) and not is_true(args.props.get("iamDatabaseAuthenticationEnabled")):
        yield "iamDatabaseAuthenticationEnabled is not true"


@_resource_check("rds-managed-master-password")
def _rds_master_password(args: ResourceValidationArgs) -> Iterator[str]:
    if not _is_aurora_cluster(args):
        return
    if not is_true(args.props.get("manageMasterUserPassword")):
        yield "manageMasterUserPassword is not true: let RDS keep the password in Secrets Manager"
    for key in ("masterPassword", "masterPasswordWo"):
        if is_set(args.props, key):
            yield f"{key} is set: no database password may come from the program or its config"


@_resource_check("rds-log-exports")
def _rds_log_exports(args: ResourceValidationArgs) -> Iterator[str]:
    if not _is_aurora_cluster(args):
        return
    exports = items(args.props.get("enabledCloudwatchLogsExports"))
    engine = str(args.props.get("engine") or "")
    if engine.startswith("aurora-postgresql") and "postgresql" not in exports:
        yield "enabledCloudwatchLogsExports does not include postgresql"
    elif not exports:
        yield "enabledCloudwatchLogsExports is empty"


@_resource_check("rds-copy-tags-to-snapshots")
def _rds_copy_tags(args: ResourceValidationArgs) -> Iterator[str]:
    if _is_aurora_cluster(args) and not is_true(args.props.get("copyTagsToSnapshot")):
        yield "copyTagsToSnapshot is not true"


@_resource_check("rds-no-public-access")
def _rds_public(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type == rt.RDS_CLUSTER and is_true(args.props.get("publiclyAccessible")):
        yield "publiclyAccessible is true"
    if args.resource_type == rt.RDS_CLUSTER_INSTANCE and not is_false(
        args.props.get("publiclyAccessible")
    ):
        yield "publiclyAccessible is not set to false"


@_resource_check("rds-force-ssl")
def _rds_force_ssl(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type == rt.RDS_CLUSTER_PARAMETER_GROUP:
        if not str(args.props.get("family") or "").startswith("aurora-postgresql"):
            return
        values = {
            mapping(p).get("name"): str(mapping(p).get("value"))
            for p in items(args.props.get("parameters"))
        }
        if values.get("rds.force_ssl") != "1":
            yield "parameter rds.force_ssl is not 1"
    elif args.resource_type == rt.RDS_CLUSTER:
        if not str(args.props.get("engine") or "").startswith("aurora-postgresql"):
            return
        try:
            group = args.props.get("dbClusterParameterGroupName")
        except UnknownValueError:
            # The name of a parameter group created in this update: a custom group.
            return
        if not group or str(group).startswith("default."):
            yield (
                "the cluster uses the engine's default parameter group; attach a cluster "
                "parameter group that sets rds.force_ssl = 1"
            )


@_resource_check("rds-auto-minor-upgrade")
def _rds_auto_minor(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type == rt.RDS_CLUSTER_INSTANCE and is_false(
        args.props.get("autoMinorVersionUpgrade")
    ):
        yield "autoMinorVersionUpgrade is false"


@_resource_check("rds-performance-insights")
def _rds_performance_insights(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type == rt.RDS_CLUSTER_INSTANCE and not is_true(
        args.props.get("performanceInsightsEnabled")
    ):
        yield "performanceInsightsEnabled is not true"


# --- ElastiCache -------------------------------------------------------------------------


@_resource_check("elasticache-encrypted-at-rest")
def _cache_at_rest(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type == rt.CACHE_REPLICATION_GROUP and not is_true(
        args.props.get("atRestEncryptionEnabled")
    ):
        yield "atRestEncryptionEnabled is not true"


@_resource_check("elasticache-encrypted-in-transit")
def _cache_in_transit(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type != rt.CACHE_REPLICATION_GROUP:
        return
    if not is_true(args.props.get("transitEncryptionEnabled")):
        yield "transitEncryptionEnabled is not true"
    if args.props.get("transitEncryptionMode") == "preferred":
        yield "transitEncryptionMode is preferred: plain-text clients are still accepted"


@_resource_check("elasticache-auth")
def _cache_auth(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type != rt.CACHE_REPLICATION_GROUP:
        return
    if not is_set(args.props, "userGroupIds") and not is_set(args.props, "authToken"):
        yield "neither userGroupIds (RBAC users) nor authToken is set: anyone may connect"


@_resource_check("elasticache-users-authenticated")
def _cache_users(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type == rt.CACHE_USER:
        rules = str(args.props.get("accessString") or "").split()
        disabled = "off" in rules
        if args.props.get("userName") == "default" and not disabled:
            yield "the user named default is enabled; its access string must start with off"
        if not disabled and ("nopass" in rules or is_true(args.props.get("noPasswordRequired"))):
            yield "an enabled user needs no password (nopass)"
    elif args.resource_type == rt.CACHE_USER_GROUP and "default" in items(
        args.props.get("userIds")
    ):
        yield (
            "the group contains AWS's built-in default user (on ~* +@all nopass); add a "
            "disabled user named default instead"
        )


@_resource_check("elasticache-failover")
def _cache_failover(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type != rt.CACHE_REPLICATION_GROUP:
        return
    if not is_true(args.props.get("automaticFailoverEnabled")):
        yield "automaticFailoverEnabled is not true"
    if not is_true(args.props.get("multiAzEnabled")):
        yield "multiAzEnabled is not true"


@_resource_check("elasticache-backups")
def _cache_backups(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type != rt.CACHE_REPLICATION_GROUP:
        return
    limit = args.props.get("snapshotRetentionLimit")
    if limit is None or int(limit) < 1:
        yield f"snapshotRetentionLimit is {limit or 'unset (0)'}; keep at least 1 day"


@_resource_check("elasticache-auto-minor-upgrade")
def _cache_auto_minor(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type == rt.CACHE_REPLICATION_GROUP and is_false(
        args.props.get("autoMinorVersionUpgrade")
    ):
        yield "autoMinorVersionUpgrade is false"


# --- EFS, KMS, SQS, CloudWatch Logs -------------------------------------------------------


@_resource_check("efs-encrypted")
def _efs_encrypted(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type == rt.EFS_FILE_SYSTEM and not is_true(args.props.get("encrypted")):
        yield "encrypted is not true"


@_resource_check("kms-key-rotation")
def _kms_rotation(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type != rt.KMS_KEY:
        return
    spec = args.props.get("customerMasterKeySpec") or "SYMMETRIC_DEFAULT"
    usage = args.props.get("keyUsage") or "ENCRYPT_DECRYPT"
    # AWS rotates only symmetric encryption keys.
    if (
        spec == "SYMMETRIC_DEFAULT"
        and usage == "ENCRYPT_DECRYPT"
        and not is_true(args.props.get("enableKeyRotation"))
    ):
        yield "enableKeyRotation is not true"


@_resource_check("sqs-encrypted")
def _sqs_encrypted(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type != rt.SQS_QUEUE:
        return
    if not is_true(args.props.get("sqsManagedSseEnabled")) and not is_set(
        args.props, "kmsMasterKeyId"
    ):
        yield "neither sqsManagedSseEnabled nor kmsMasterKeyId is set"


@_resource_check("log-group-retention")
def _log_retention(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type != rt.LOG_GROUP:
        return
    days = args.props.get("retentionInDays")
    if days is None or int(days) <= 0:
        yield "retentionInDays is not set: the logs would be kept (and billed) forever"


# --- Operations ---------------------------------------------------------------------------


@_resource_check("alerts-reach-someone")
def _alerts_routed(args: ResourceValidationArgs) -> Iterator[str]:
    """Read from the Alertmanager configuration a Helm release carries (kube-prometheus-
    stack's `alertmanager.config`): the root route and every child route to the null
    receiver, apart from the alerts that notify no one on purpose."""
    if args.resource_type != rt.HELM_RELEASE:
        return
    route = dig(args.props, "values", "alertmanager", "config", "route")
    if not isinstance(route, Mapping):
        return
    params = parameters()
    # The heartbeat's own route is judged by heartbeat-reaches-a-switch.
    on_purpose = [
        [f'alertname = "{name}"'] for name in (*params.undelivered_alerts, params.heartbeat_alert)
    ]
    if route.get("receiver") == params.null_receiver:
        yield (
            "the root route goes to the null receiver: every alert no other route matches "
            "(the platform's) reaches no one"
        )
    for child in items(route.get("routes")):
        matchers = [str(m) for m in items(dig(child, "matchers"))]
        if dig(child, "receiver") == params.null_receiver and matchers not in on_purpose:
            yield (
                f"alerts matching {', '.join(matchers) or 'everything'} go to the null "
                "receiver: they reach no one"
            )


@_resource_check("heartbeat-reaches-a-switch")
def _heartbeat(args: ResourceValidationArgs) -> Iterator[str]:
    """The always-firing alert's route, read from the same Alertmanager configuration:
    it must post to a webhook (the dead man's switch), and never a "resolved" one."""
    if args.resource_type != rt.HELM_RELEASE:
        return
    config = dig(args.props, "values", "alertmanager", "config")
    if not isinstance(dig(config, "route"), Mapping):
        return
    params = parameters()
    alert, unheard = params.heartbeat_alert, "no one hears when monitoring itself stops"
    ours = [f'alertname = "{alert}"']
    routes = [
        child
        for child in items(dig(config, "route", "routes"))
        if [str(m) for m in items(dig(child, "matchers"))] == ours
    ]
    if not routes:
        yield f"no route sends {alert}, the always-firing alert, anywhere: {unheard}"
        return
    name = dig(routes[0], "receiver")
    if name == params.null_receiver:
        yield f"{alert} goes to the null receiver: {unheard} (set heartbeatUrl)"
        return
    receiver: Any = next(
        (r for r in items(dig(config, "receivers")) if dig(r, "name") == name), None
    )
    hooks = items(dig(receiver, "webhook_configs"))
    if not hooks:
        yield f"{alert} goes to receiver {name}, which posts to no webhook: {unheard}"
    for hook in hooks:
        if dig(hook, "send_resolved") is not False:
            yield (
                f"receiver {name} sends resolved notifications: when {alert} stops, the "
                "'resolved' post pings the dead man's switch once more"
            )


@_resource_check("log-group-kms")
def _log_group_kms(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type == rt.LOG_GROUP and not is_set(args.props, "kmsKeyId"):
        yield "kmsKeyId is not set: the group is encrypted with CloudWatch's own key"


# --- rt.VPC ---------------------------------------------------------------------------------


@_resource_check("subnet-no-auto-public-ip")
def _subnet_public_ip(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type == rt.SUBNET and is_true(args.props.get("mapPublicIpOnLaunch")):
        yield "mapPublicIpOnLaunch is true"


@_resource_check("default-sg-closed")
def _default_sg(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type != rt.DEFAULT_SECURITY_GROUP:
        return
    for direction in ("ingress", "egress"):
        if items(args.props.get(direction)):
            yield f"the default security group has {direction} rules"


def _covers(protocol: Any, from_port: Any, to_port: Any, port: int) -> bool:
    if str(protocol) in ("-1", "all"):
        return True
    if str(protocol).lower() not in ("tcp", "6"):
        return False
    low = int(from_port) if from_port is not None else 0
    high = int(to_port) if to_port is not None else low
    return low <= port <= high


def _open_ports(protocol: Any, from_port: Any, to_port: Any) -> list[str]:
    if str(protocol) in ("-1", "all"):
        return ["all traffic"]
    return [
        f"{port} ({what})"
        for port, what in parameters().data_ports.items()
        if _covers(protocol, from_port, to_port, port)
    ]


@_resource_check("sg-no-public-data-ports")
def _sg_public_ports(args: ResourceValidationArgs) -> Iterator[str]:
    props = args.props
    rules: list[tuple[list[Any], Any, Any, Any]] = []
    if args.resource_type == rt.SECURITY_GROUP_INGRESS_RULE:
        cidrs = [props.get("cidrIpv4"), props.get("cidrIpv6")]
        rules.append((cidrs, props.get("ipProtocol"), props.get("fromPort"), props.get("toPort")))
    elif args.resource_type == rt.SECURITY_GROUP_RULE and props.get("type") == "ingress":
        cidrs = items(props.get("cidrBlocks")) + items(props.get("ipv6CidrBlocks"))
        rules.append((cidrs, props.get("protocol"), props.get("fromPort"), props.get("toPort")))
    elif args.resource_type == rt.SECURITY_GROUP:
        for entry in items(props.get("ingress")):
            rule = mapping(entry)
            cidrs = items(rule.get("cidrBlocks")) + items(rule.get("ipv6CidrBlocks"))
            rules.append((cidrs, rule.get("protocol"), rule.get("fromPort"), rule.get("toPort")))
    for cidrs, protocol, from_port, to_port in rules:
        if not any(cidr in _WORLD for cidr in cidrs):
            continue
        opened = _open_ports(protocol, from_port, to_port)
        if opened:
            yield f"ingress from the internet to {', '.join(opened)}"


# --- Stack-wide: tags and protection ------------------------------------------------------


def _provider_default_tags(args: ResourceValidationArgs) -> Mapping[str, Any]:
    provider = args.provider
    if provider is None or not provider.resource_type.startswith(rt.AWS_PROVIDER):
        return {}
    return mapping(json_document(provider.props.get("defaultTags")).get("tags"))


@_resource_check("required-tags")
def _required_tags(args: ResourceValidationArgs) -> Iterator[str]:
    if not is_taggable(args.resource_type):
        return
    tags = {
        **_provider_default_tags(args),
        **mapping(args.props.get("tagsAll")),
        **mapping(args.props.get("tags")),
    }
    missing = [key for key in parameters().required_tags if not tags.get(key)]
    if missing:
        yield (
            f"missing tags {', '.join(missing)} (neither on the resource nor in its AWS "
            "provider's defaultTags)"
        )


def bucket_purpose(*names: Any) -> str | None:
    """The purpose ("prod-images", "logs" ...) a bucket name or logical name carries."""
    purposes = sorted(parameters().bucket_purposes, key=len, reverse=True)
    for name in names:
        if not isinstance(name, str):
            continue
        for purpose in purposes:
            if re.search(rf"(^|[-_.]){re.escape(purpose)}($|[-_.])", name):
                return purpose
    return None


@_resource_check("stateful-protected")
def _stateful_protected(args: ResourceValidationArgs) -> Iterator[str]:
    if args.opts.protect:
        return
    if args.resource_type == rt.RDS_CLUSTER:
        yield "the Aurora cluster is not protected (ResourceOptions(protect=True))"
    elif args.resource_type == rt.BUCKET:
        try:
            name = args.props.get("bucket")
        except UnknownValueError:
            # A name computed during preview: the logical name still tells the purpose.
            name = None
        purpose = bucket_purpose(name, args.name)
        if purpose in parameters().protected_bucket_purposes:
            yield f"the {purpose} bucket is not protected (ResourceOptions(protect=True))"


# --- Stack checks --------------------------------------------------------------------------


def _of_type(args: StackValidationArgs, *types: str) -> list[PolicyResource]:
    return [r for r in args.resources if r.resource_type in types]


def _safe_get(resource: PolicyResource, key: str) -> Any:
    try:
        return resource.props.get(key)
    except UnknownValueError:
        return None


def linked(
    resource: PolicyResource,
    prop: str,
    targets: Sequence[PolicyResource],
    match_keys: Sequence[str] = ("id",),
) -> PolicyResource | None:
    """The target ``resource.<prop>`` points at: by property dependency, then by plain
    dependency, then by value (``prop`` equal to one of the target's ``match_keys``)."""
    urns = {t.urn for t in targets}
    by_prop = [d for d in resource.property_dependencies.get(prop, []) if d.urn in urns]
    if len(by_prop) == 1:
        return by_prop[0]
    by_dependency = [d for d in resource.dependencies if d.urn in urns]
    if len(by_dependency) == 1 and not by_prop:
        return by_dependency[0]
    value = resource.props.get(prop)
    pool = by_prop or by_dependency or list(targets)
    matches = [
        t for t in pool if value is not None and value in [_safe_get(t, k) for k in match_keys]
    ]
    return matches[0] if len(matches) == 1 else None


def _attached(
    args: StackValidationArgs,
    types: Sequence[str],
    targets: Sequence[PolicyResource],
    prop: str,
    match_keys: Sequence[str],
) -> dict[str, list[PolicyResource]]:
    """Resources of ``types`` grouped by the target URN their ``prop`` points at."""
    attached: dict[str, list[PolicyResource]] = {t.urn: [] for t in targets}
    for resource in _of_type(args, *types):
        target = linked(resource, prop, targets, match_keys)
        if target is not None:
            attached[target.urn].append(resource)
    return attached


_BUCKET_KEYS = ("bucket", "id")


@dataclass(frozen=True)
class _Bucket:
    resource: PolicyResource
    purpose: str | None
    # The settings resources (public access block, encryption, policy ...) pointing at it.
    companions: list[PolicyResource]

    def of(self, *types: str) -> list[PolicyResource]:
        return [c for c in self.companions if c.resource_type in types]


def _buckets(args: StackValidationArgs) -> list[_Bucket]:
    buckets = _of_type(args, rt.BUCKET)
    companion_types = (
        rt.BUCKET_PUBLIC_ACCESS_BLOCK,
        *rt.BUCKET_ENCRYPTION_TYPES,
        rt.BUCKET_POLICY,
        *rt.BUCKET_VERSIONING_TYPES,
        *rt.BUCKET_LOGGING_TYPES,
        rt.BUCKET_OWNERSHIP_CONTROLS,
    )
    attached = _attached(args, companion_types, buckets, "bucket", _BUCKET_KEYS)
    return [
        _Bucket(
            resource=bucket,
            purpose=bucket_purpose(_safe_get(bucket, "bucket"), bucket.name),
            companions=attached[bucket.urn],
        )
        for bucket in buckets
    ]


def _each(
    subjects: Sequence[Any], check: Callable[[Any], Iterator[tuple[str, str]]]
) -> Iterator[tuple[str, str]]:
    """Run ``check`` on every subject; a value unknown during preview skips only that
    subject, and is raised at the end so the engine reports the control as not evaluated."""
    unknown: UnknownValueError | None = None
    for subject in subjects:
        try:
            yield from list(check(subject))
        except UnknownValueError as exc:
            unknown = unknown or exc
    if unknown is not None:
        raise unknown


def _bucket_label(bucket: _Bucket) -> str:
    return f"bucket {bucket.resource.name}" + (f" ({bucket.purpose})" if bucket.purpose else "")


@_stack_check("s3-public-access-block")
def _s3_public_access(args: StackValidationArgs) -> Iterator[tuple[str, str]]:
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")

    def check(bucket: _Bucket) -> Iterator[tuple[str, str]]:
        blocks = bucket.of(rt.BUCKET_PUBLIC_ACCESS_BLOCK)
        if not any(all(is_true(b.props.get(f)) for f in flags) for b in blocks):
            yield (
                bucket.resource.urn,
                f"{_bucket_label(bucket)} has no BucketPublicAccessBlock with "
                f"{', '.join(flags)} all true",
            )

    yield from _each(_buckets(args), check)


@_stack_check("s3-encryption")
def _s3_encryption(args: StackValidationArgs) -> Iterator[tuple[str, str]]:
    kms_purposes = parameters().kms_bucket_purposes

    def check(bucket: _Bucket) -> Iterator[tuple[str, str]]:
        algorithms = {
            dig(mapping(rule), "applyServerSideEncryptionByDefault", "sseAlgorithm")
            for config in bucket.of(*rt.BUCKET_ENCRYPTION_TYPES)
            for rule in items(config.props.get("rules"))
        }
        algorithms.discard(None)
        if not algorithms:
            yield (
                bucket.resource.urn,
                f"{_bucket_label(bucket)} has no BucketServerSideEncryptionConfiguration",
            )
        elif bucket.purpose in kms_purposes and not algorithms <= {"aws:kms", "aws:kms:dsse"}:
            yield (
                bucket.resource.urn,
                f"{_bucket_label(bucket)} must use SSE-KMS (aws:kms), not "
                + ", ".join(sorted(algorithms)),
            )

    yield from _each(_buckets(args), check)


def _denies_insecure_transport(statement: Mapping[str, Any]) -> bool:
    if statement.get("Effect") != "Deny":
        return False
    principal = statement.get("Principal")
    if principal not in ("*", {"AWS": "*"}):
        return False
    actions = items(statement.get("Action")) or [statement.get("Action")]
    if not any(action in ("*", "s3:*") for action in actions):
        return False
    secure = dig(statement, "Condition", "Bool", "aws:SecureTransport")
    values = items(secure) or [secure]
    return any(is_false(v) for v in values)


@_stack_check("s3-tls-only")
def _s3_tls_only(args: StackValidationArgs) -> Iterator[tuple[str, str]]:
    def check(bucket: _Bucket) -> Iterator[tuple[str, str]]:
        statements = [
            mapping(statement)
            for policy in bucket.of(rt.BUCKET_POLICY)
            for statement in (
                items(json_document(policy.props.get("policy")).get("Statement"))
                or [json_document(policy.props.get("policy")).get("Statement")]
            )
        ]
        if not any(_denies_insecure_transport(s) for s in statements):
            yield (
                bucket.resource.urn,
                f"{_bucket_label(bucket)} has no bucket policy denying aws:SecureTransport = false",
            )

    yield from _each(_buckets(args), check)


@_stack_check("s3-versioning")
def _s3_versioning(args: StackValidationArgs) -> Iterator[tuple[str, str]]:
    versioned = parameters().versioned_bucket_purposes

    def check(bucket: _Bucket) -> Iterator[tuple[str, str]]:
        if bucket.purpose not in versioned:
            return
        statuses = [
            dig(v.props, "versioningConfiguration", "status")
            for v in bucket.of(*rt.BUCKET_VERSIONING_TYPES)
        ]
        if "Enabled" not in statuses:
            yield (bucket.resource.urn, f"{_bucket_label(bucket)} has no BucketVersioning Enabled")

    yield from _each(_buckets(args), check)


@_stack_check("s3-access-logging")
def _s3_access_logging(args: StackValidationArgs) -> Iterator[tuple[str, str]]:
    buckets = _buckets(args)
    targets = {
        target.urn
        for log in _of_type(args, *rt.BUCKET_LOGGING_TYPES)
        if (target := linked(log, "targetBucket", [b.resource for b in buckets], _BUCKET_KEYS))
    }

    def check(bucket: _Bucket) -> Iterator[tuple[str, str]]:
        if bucket.resource.urn in targets or bucket.purpose == "logs":
            return
        if not bucket.of(*rt.BUCKET_LOGGING_TYPES):
            yield (bucket.resource.urn, f"{_bucket_label(bucket)} has no BucketLogging")

    yield from _each(buckets, check)


@_stack_check("s3-ownership-enforced")
def _s3_ownership(args: StackValidationArgs) -> Iterator[tuple[str, str]]:
    def check(bucket: _Bucket) -> Iterator[tuple[str, str]]:
        owners = [
            dig(o.props, "rule", "objectOwnership") for o in bucket.of(rt.BUCKET_OWNERSHIP_CONTROLS)
        ]
        if "BucketOwnerEnforced" not in owners:
            yield (
                bucket.resource.urn,
                f"{_bucket_label(bucket)} has no BucketOwnershipControls BucketOwnerEnforced",
            )

    yield from _each(_buckets(args), check)


@_stack_check("efs-backups")
def _efs_backups(args: StackValidationArgs) -> Iterator[tuple[str, str]]:
    file_systems = _of_type(args, rt.EFS_FILE_SYSTEM)
    policies = _attached(args, (rt.EFS_BACKUP_POLICY,), file_systems, "fileSystemId", ("id",))

    def check(file_system: PolicyResource) -> Iterator[tuple[str, str]]:
        statuses = [dig(p.props, "backupPolicy", "status") for p in policies[file_system.urn]]
        if "ENABLED" not in statuses:
            yield (file_system.urn, f"file system {file_system.name} has no BackupPolicy ENABLED")

    yield from _each(file_systems, check)


@_stack_check("vpc-flow-logs")
def _vpc_flow_logs(args: StackValidationArgs) -> Iterator[tuple[str, str]]:
    vpcs = _of_type(args, rt.VPC)
    flow_logs = _attached(args, (rt.FLOW_LOG,), vpcs, "vpcId", ("id",))

    def check(vpc: PolicyResource) -> Iterator[tuple[str, str]]:
        if not flow_logs[vpc.urn]:
            yield (vpc.urn, f"rt.VPC {vpc.name} has no flow log")

    yield from _each(vpcs, check)


_KMS_USE = re.compile(r"^kms:(\*|Encrypt.*|Decrypt.*|ReEncrypt.*|GenerateDataKey.*|CreateGrant)$")
# Conditions that confine a statement to named principals, a service or a resource.
_KMS_CONFINING_KEYS = ("aws:principalarn", "kms:viaservice", "kms:encryptioncontext:")


def _unconfined_use(statement: Mapping[str, Any]) -> bool:
    """An Allow that lets the account (so its IAM policies) or anyone use the key for
    cryptography, with no condition naming who, through what or for what."""
    if statement.get("Effect") != "Allow":
        return False
    principal = statement.get("Principal")
    named = principal.get("AWS") if isinstance(principal, Mapping) else principal
    principals = items(named) or ([named] if named else [])
    broad = any(
        str(p) == "*" or str(p).endswith(":root") or re.fullmatch(r"\d{12}", str(p))
        for p in principals
    )
    actions = [str(a) for a in items(statement.get("Action")) or [statement.get("Action")]]
    if not broad or not any(_KMS_USE.match(a) for a in actions):
        return False
    keys = [
        k.lower()
        for entries in mapping(statement.get("Condition")).values()
        for k in mapping(entries)
    ]
    return not any(k.startswith(_KMS_CONFINING_KEYS) for k in keys)


@_stack_check("kms-explicit-key-policy")
def _kms_key_policies(args: StackValidationArgs) -> Iterator[tuple[str, str]]:
    keys = _of_type(args, rt.KMS_KEY)
    policies = _attached(args, (rt.KMS_KEY_POLICY,), keys, "keyId", ("id", "keyId", "arn"))

    def check(key: PolicyResource) -> Iterator[tuple[str, str]]:
        documents = [_safe_get(p, "policy") for p in policies[key.urn]]
        if _safe_get(key, "policy"):
            documents.append(_safe_get(key, "policy"))
        if not documents:
            yield (
                key.urn,
                f"KMS key {key.name} keeps the default key policy: any IAM policy of the "
                "account can grant its use",
            )
            return
        for document in documents:
            for statement in items(json_document(document).get("Statement")):
                if _unconfined_use(mapping(statement)):
                    sid = mapping(statement).get("Sid", "a statement")
                    yield (
                        key.urn,
                        f"KMS key {key.name}: {sid} lets the account's IAM policies grant its "
                        "use; name the roles (aws:PrincipalArn) or the service (kms:ViaService)",
                    )

    yield from _each(keys, check)


# --- Policies ----------------------------------------------------------------------------

_LEVELS = {"mandatory": EnforcementLevel.MANDATORY, "advisory": EnforcementLevel.ADVISORY}


def _resource_policy(control: Control, check: ResourceCheck) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        for message in check(args):
            report_violation(message, None)

    return ResourceValidationPolicy(
        name=control.id,
        description=control.description,
        validate=validate,
        enforcement_level=_LEVELS[control.enforcement],
        display_name=control.title,
    )


def _stack_policy(control: Control, check: StackCheck) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        for urn, message in check(args):
            report_violation(message, urn)

    return StackValidationPolicy(
        name=control.id,
        description=control.description,
        validate=validate,
        enforcement_level=_LEVELS[control.enforcement],
        display_name=control.title,
    )


def policies() -> list[Policy]:
    """One pulumi-policy policy per catalogue control, in catalogue order."""
    built: list[Policy] = []
    for control in controls():
        if control.id in RESOURCE_CHECKS:
            built.append(_resource_policy(control, RESOURCE_CHECKS[control.id]))
        elif control.id in STACK_CHECKS:
            built.append(_stack_policy(control, STACK_CHECKS[control.id]))
        else:
            raise LookupError(f"control {control.id} has no check in {__name__}")
    unknown = (set(RESOURCE_CHECKS) | set(STACK_CHECKS)) - {c.id for c in controls()}
    if unknown:
        raise LookupError(f"checks without a catalogue entry: {', '.join(sorted(unknown))}")
    return built
