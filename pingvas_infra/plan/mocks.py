"""Deterministic fake outputs for the offline plan (and the tests, through conftest).

The mock engine answers every RegisterResource with the inputs echoed back plus what AWS
or a component would compute (ids, ARNs, endpoints), in camelCase as the engine returns
them. Values derive from a hash of type and name, so two runs are byte-identical.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pulumi.runtime import MockResourceArgs, Mocks
from pulumi.runtime.mocks import MockCallArgs

from pingvas_infra import resource_types as rt
from pingvas_infra.plan.wire import secret
from pingvas_infra.ports import POSTGRESQL_PORT
from pingvas_infra.tables import load_table

ACCOUNT_ID = "123456789012"
PARTITION = "aws"
# Who the offline plan runs as (what GetCallerIdentity answers), unless told otherwise.
PLAN_CALLER_ARN = f"arn:{PARTITION}:iam::{ACCOUNT_ID}:user/plan"


def digest(*parts: str, length: int = 17) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


@dataclass(frozen=True)
class FakeContext:
    """What a faker knows about the resource being registered."""

    type: str
    name: str
    inputs: dict[str, Any]
    region: str
    register_reference: Callable[[str, str, dict[str, Any]], dict[str, Any]]

    @property
    def resource_id(self) -> str:
        return fake_id(self.type, self.name)

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        region = self.region if regional else ""
        return f"arn:{PARTITION}:{service}:{region}:{ACCOUNT_ID}:{resource}"


# Prefixes AWS uses for the ids of these types, so the plan reads like a real stack.
_ID_PREFIXES = {
    rt.VPC: "vpc",
    rt.SUBNET: "subnet",
    rt.INTERNET_GATEWAY: "igw",
    rt.ROUTE_TABLE: "rtb",
    rt.ROUTE_TABLE_ASSOCIATION: "rtbassoc",
    rt.NAT_GATEWAY: "nat",
    rt.EIP: "eipalloc",
    rt.VPC_ENDPOINT: "vpce",
    rt.SECURITY_GROUP: "sg",
    rt.DEFAULT_SECURITY_GROUP: "sg",
    rt.FLOW_LOG: "fl",
    rt.LAUNCH_TEMPLATE: "lt",
    rt.EFS_FILE_SYSTEM: "fs",
    rt.EFS_ACCESS_POINT: "fsap",
    rt.EFS_MOUNT_TARGET: "fsmt",
    rt.SECURITY_GROUP_INGRESS_RULE: "sgr",
    rt.SECURITY_GROUP_EGRESS_RULE: "sgr",
}


def fake_id(type_token: str, name: str) -> str:
    if type_token == rt.KMS_KEY:
        # A KMS key's id is its key id, a UUID that its ARN ends with.
        return _uuid_like("kms", name)
    prefix = _ID_PREFIXES.get(type_token)
    if prefix:
        return f"{prefix}-{digest(type_token, name)}"
    return f"{name}-{digest(type_token, name, length=8)}"


def _named(ctx: FakeContext) -> str:
    return str(ctx.inputs.get("name") or ctx.name)


def _vpc(ctx: FakeContext) -> dict[str, Any]:
    return {"arn": ctx.arn("ec2", f"vpc/{ctx.resource_id}"), "defaultSecurityGroupId": "sg-default"}


def _eip(ctx: FakeContext) -> dict[str, Any]:
    octet = int(digest(ctx.name, length=2), 16)
    return {"publicIp": f"203.0.113.{octet}", "allocationId": ctx.resource_id}


def _role(ctx: FakeContext) -> dict[str, Any]:
    name = _named(ctx)
    return {"name": name, "arn": ctx.arn("iam", f"role/{name}", regional=False)}


def _policy(ctx: FakeContext) -> dict[str, Any]:
    name = _named(ctx)
    return {"name": name, "arn": ctx.arn("iam", f"policy/{name}", regional=False)}


def _log_group(ctx: FakeContext) -> dict[str, Any]:
    return {"arn": ctx.arn("logs", f"log-group:{_named(ctx)}")}


def _vpc_endpoint(ctx: FakeContext) -> dict[str, Any]:
    return {"prefixListId": f"pl-{digest(ctx.name, length=8)}"}


def _random_password(ctx: FakeContext) -> dict[str, Any]:
    # Deterministic stand-in; the plan only ever shows it as "[secret]".
    length = int(ctx.inputs.get("length", 16))
    value = ("mock" + digest("password", ctx.name, length=64))[:length]
    return {"result": secret(value), "bcryptHash": secret("$2a$10$" + value)}


def _kubeconfig(name: str, endpoint: str, ca_data: str, region: str) -> dict[str, Any]:
    """The kubeconfig pulumi-eks generates: an exec plugin calling `aws eks get-token`."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "kubernetes",
                "cluster": {"server": endpoint, "certificate-authority-data": ca_data},
            }
        ],
        "contexts": [{"name": "aws", "context": {"cluster": "kubernetes", "user": "aws"}}],
        "current-context": "aws",
        "users": [
            {
                "name": "aws",
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": "aws",
                        "args": ["--region", region, "eks", "get-token", "--cluster-name", name],
                    }
                },
            }
        ],
    }


def _eks_cluster(ctx: FakeContext) -> dict[str, Any]:
    """pulumi-eks `Cluster` (a remote component): its outputs, and the `aws.eks.Cluster`
    it returns as a resource reference (`eksCluster`)."""
    name = _named(ctx)
    endpoint = (
        f"https://{digest('endpoint', name, length=32).upper()}.gr7.{ctx.region}.eks.amazonaws.com"
    )
    ca_data = base64.b64encode(f"mock certificate authority of {name}".encode()).decode()
    cluster_sg = f"sg-{digest('eks-cluster-sg', name)}"
    oidc_id = digest("oidc", name, length=32).upper()
    inputs = ctx.inputs
    state = {
        "id": name,
        "name": name,
        "arn": ctx.arn("eks", f"cluster/{name}"),
        # The cluster's IAM role pulumi-eks creates (its service role).
        "roleArn": ctx.arn("iam", f"role/{ctx.name}-eksRole-role", regional=False),
        "endpoint": endpoint,
        "version": inputs.get("version", ""),
        "platformVersion": "eks.1",
        "status": "ACTIVE",
        "certificateAuthority": {"data": ca_data},
        "identities": [
            {"oidcs": [{"issuer": f"https://oidc.eks.{ctx.region}.amazonaws.com/id/{oidc_id}"}]}
        ],
        "vpcConfig": {
            "clusterSecurityGroupId": cluster_sg,
            "vpcId": inputs.get("vpcId", ""),
            "subnetIds": inputs.get("privateSubnetIds", []),
            "endpointPrivateAccess": inputs.get("endpointPrivateAccess", False),
            "endpointPublicAccess": inputs.get("endpointPublicAccess", True),
            "publicAccessCidrs": inputs.get("publicAccessCidrs", []),
        },
        "accessConfig": {"authenticationMode": inputs.get("authenticationMode", "CONFIG_MAP")},
        "upgradePolicy": inputs.get("upgradePolicy", {"supportType": "EXTENDED"}),
        "kubernetesNetworkConfig": {"serviceIpv4Cidr": "172.20.0.0/16", "ipFamily": "ipv4"},
    }
    kubeconfig = _kubeconfig(name, endpoint, ca_data, ctx.region)
    return {
        "eksCluster": ctx.register_reference(rt.EKS_CLUSTER, f"{ctx.name}-eksCluster", state),
        "kubeconfig": kubeconfig,
        "kubeconfigJson": secret(json.dumps(kubeconfig, sort_keys=True)),
        # With skipDefaultSecurityGroups both are the EKS-created cluster security group.
        "clusterSecurityGroupId": cluster_sg,
        "nodeSecurityGroupId": cluster_sg,
        "oidcProviderArn": ctx.arn(
            "iam", f"oidc-provider/oidc.eks.{ctx.region}.amazonaws.com/id/{oidc_id}", regional=False
        ),
    }


def _managed_node_group(ctx: FakeContext) -> dict[str, Any]:
    """pulumi-eks `ManagedNodeGroup`: the `aws.eks.NodeGroup` it creates, as a reference."""
    name = f"{ctx.name}-{digest('nodegroup', ctx.name, length=7)}"
    state = {
        "id": name,
        "nodeGroupName": name,
        "arn": ctx.arn("eks", f"nodegroup/{name}"),
        "status": "ACTIVE",
        "capacityType": ctx.inputs.get("capacityType", "ON_DEMAND"),
        "instanceTypes": ctx.inputs.get("instanceTypes", []),
        "scalingConfig": ctx.inputs.get("scalingConfig", {}),
        "labels": ctx.inputs.get("labels", {}),
        "subnetIds": ctx.inputs.get("subnetIds", []),
        "nodeRoleArn": ctx.inputs.get("nodeRoleArn", ""),
    }
    return {
        "nodeGroup": ctx.register_reference(rt.EKS_NODE_GROUP, f"{ctx.name}-nodeGroup", state),
        "placementGroupName": "",
    }


def _launch_template(ctx: FakeContext) -> dict[str, Any]:
    return {"latestVersion": 1, "defaultVersion": 1}


def _sqs_queue(ctx: FakeContext) -> dict[str, Any]:
    name = _named(ctx)
    return {
        "name": name,
        "arn": ctx.arn("sqs", name),
        "url": f"https://sqs.{ctx.region}.amazonaws.com/{ACCOUNT_ID}/{name}",
    }


def _event_rule(ctx: FakeContext) -> dict[str, Any]:
    name = _named(ctx)
    return {"name": name, "arn": ctx.arn("events", f"rule/{name}")}


def _random_id(ctx: FakeContext) -> dict[str, Any]:
    raw = bytes.fromhex(digest("random-id", ctx.name, length=2 * int(ctx.inputs["byteLength"])))
    return {
        "hex": raw.hex(),
        "b64Std": base64.b64encode(raw).decode(),
        "b64Url": base64.urlsafe_b64encode(raw).decode().rstrip("="),
        "dec": str(int.from_bytes(raw, "big")),
    }


# Type-specific outputs beyond the echoed inputs and the generic id/arn. Layers that add
# resource types whose computed outputs they read add a faker here.
OUTPUT_FAKERS: dict[str, Callable[[FakeContext], dict[str, Any]]] = {
    rt.VPC: _vpc,
    rt.EIP: _eip,
    rt.IAM_ROLE: _role,
    rt.IAM_POLICY: _policy,
    rt.LOG_GROUP: _log_group,
    rt.VPC_ENDPOINT: _vpc_endpoint,
    rt.RANDOM_PASSWORD: _random_password,
    rt.EKS_CLUSTER_COMPONENT: _eks_cluster,
    rt.EKS_NODE_GROUP_COMPONENT: _managed_node_group,
    rt.LAUNCH_TEMPLATE: _launch_template,
    rt.SQS_QUEUE: _sqs_queue,
    rt.EVENT_RULE: _event_rule,
    rt.RANDOM_ID: _random_id,
}


def _generic_arn(ctx: FakeContext) -> str:
    # rt.SUBNET -> service "ec2", resource "subnet/<id>"
    module = ctx.type.split(":")[1].split("/")[0]
    kind = ctx.type.split(":")[2]
    return ctx.arn(module, f"{kind[0].lower()}{kind[1:]}/{ctx.resource_id}")


class PlanMocks(Mocks):
    """Mocks shared by `pingvas-infra plan` and the test suite."""

    def __init__(self, region: str = "us-east-1", caller_arn: str = PLAN_CALLER_ARN) -> None:
        self.region = region
        self.caller_arn = caller_arn
        # Set by the engine: registers a synthetic resource for reference outputs.
        self.register_reference: Callable[[str, str, dict[str, Any]], dict[str, Any]] = (
            _no_references
        )

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        ctx = FakeContext(
            type=args.typ,
            name=args.name,
            inputs=dict(args.inputs),
            region=self.region,
            register_reference=self.register_reference,
        )
        state: dict[str, Any] = dict(args.inputs)
        if args.typ.startswith(rt.AWS_PREFIX):
            state.setdefault("arn", _generic_arn(ctx))
            state.setdefault("tagsAll", state.get("tags", {}))
        faker = OUTPUT_FAKERS.get(args.typ)
        if faker is not None:
            state.update(faker(ctx))
        return ctx.resource_id, state

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        if args.token == rt.GET_CALLER_IDENTITY:
            return _caller_identity(self.caller_arn), []
        answer = INVOKE_ANSWERS.get(args.token)
        if answer is None:
            raise NotImplementedError(
                f"the offline plan has no answer for invoke {args.token}; "
                "add one to INVOKE_ANSWERS in pingvas_infra/plan/mocks.py"
            )
        return answer(self.region, dict(args.args)), []


def _offered_zones(region: str) -> dict[str, Any]:
    """DescribeAvailabilityZones of the offline account: every zone of the region
    (tables/availability_zones.yaml). Which letters a real account is offered is known
    only under `pulumi up`, where the program compares them with the configured zones."""
    row = load_table("availability_zones")["regions"][region]
    names = [f"{region}{letter}" for letter in row["zones"]]
    return {"names": names, "zoneIds": [], "groupNames": [region], "id": region}


# An assumed-role session ARN (what GetCallerIdentity answers for a role).
_ASSUMED_ROLE = re.compile(r"^arn:([\w-]+):sts::(\d{12}):assumed-role/([^/]+)/(.+)$")


def _session_context(arn: str) -> dict[str, Any]:
    """What aws.iam.getSessionContext answers: for an assumed-role session, the role (its
    path is known only to IAM; offline it is taken as "/"); for anything else, itself."""
    found = _ASSUMED_ROLE.match(arn)
    if found is None:
        return {"arn": arn, "issuerArn": arn, "issuerId": "", "issuerName": "", "sessionName": ""}
    partition, account, role, session = found.groups()
    return {
        "arn": arn,
        "issuerArn": f"arn:{partition}:iam::{account}:role/{role}",
        "issuerId": "AROAPLANOFFLINE",
        "issuerName": role,
        "sessionName": session,
    }


def _no_references(type_token: str, name: str, state: dict[str, Any]) -> dict[str, Any]:
    raise RuntimeError("resource references need the plan engine's monitor")


def _caller_identity(arn: str) -> dict[str, Any]:
    """What aws.getCallerIdentity answers for the identity the plan runs as."""
    return {"accountId": ACCOUNT_ID, "arn": arn, "userId": "AIDAPLANOFFLINE", "id": ACCOUNT_ID}


INVOKE_ANSWERS: dict[str, Callable[[str, dict[str, Any]], dict[str, Any]]] = {
    rt.GET_REGION: lambda region, _: {
        "name": region,
        "region": region,
        "id": region,
        "endpoint": f"ec2.{region}.amazonaws.com",
        "description": region,
    },
    rt.GET_AVAILABILITY_ZONES: lambda region, _: _offered_zones(region),
    rt.GET_SESSION_CONTEXT: lambda region, args: _session_context(str(args["arn"])),
    rt.GET_PARTITION: lambda region, _: {
        "partition": PARTITION,
        "dnsSuffix": "amazonaws.com",
        "reverseDnsPrefix": "com.amazonaws",
        "id": PARTITION,
    },
}


# --- data and storage layers: computed outputs they read ---------------------------------


def _uuid_like(*parts: str) -> str:
    d = digest(*parts, length=32)
    return f"{d[:8]}-{d[8:12]}-{d[12:16]}-{d[16:20]}-{d[20:]}"


def _kms_key(ctx: FakeContext) -> dict[str, Any]:
    return {"keyId": ctx.resource_id, "arn": ctx.arn("kms", f"key/{ctx.resource_id}")}


def _rds_cluster(ctx: FakeContext) -> dict[str, Any]:
    cluster_id = str(ctx.inputs.get("clusterIdentifier") or ctx.name)
    host = f"{digest('rds', ctx.name, length=12)}.{ctx.region}.rds.amazonaws.com"
    secret_suffix = digest("secret", ctx.name, length=6)
    return {
        "arn": ctx.arn("rds", f"cluster:{cluster_id}"),
        "endpoint": f"{cluster_id}.cluster-{host}",
        "readerEndpoint": f"{cluster_id}.cluster-ro-{host}",
        "port": ctx.inputs.get("port", POSTGRESQL_PORT),
        "clusterResourceId": f"cluster-{digest('resource', ctx.name, length=26).upper()}",
        "masterUserSecrets": [
            {
                "secretArn": ctx.arn(
                    "secretsmanager",
                    f"secret:rds!cluster-{_uuid_like('rds-secret', ctx.name)}-{secret_suffix}",
                ),
                "kmsKeyId": ctx.inputs.get("masterUserSecretKmsKeyId", ""),
                "secretStatus": "active",
            }
        ],
    }


def _replication_group(ctx: FakeContext) -> dict[str, Any]:
    group_id = str(ctx.inputs.get("replicationGroupId") or ctx.name)
    host = f"{digest('cache', ctx.name, length=6)}.ng.0001.cache.amazonaws.com"
    return {
        "arn": ctx.arn("elasticache", f"replicationgroup:{group_id}"),
        "primaryEndpointAddress": f"master.{group_id}.{host}",
        "readerEndpointAddress": f"replica.{group_id}.{host}",
    }


def _bucket(ctx: FakeContext) -> dict[str, Any]:
    bucket = str(ctx.inputs.get("bucket") or ctx.name)
    return {
        "bucket": bucket,
        "arn": f"arn:{PARTITION}:s3:::{bucket}",
        "bucketDomainName": f"{bucket}.s3.amazonaws.com",
        "bucketRegionalDomainName": f"{bucket}.s3.{ctx.region}.amazonaws.com",
    }


def _efs_file_system(ctx: FakeContext) -> dict[str, Any]:
    return {
        "arn": ctx.arn("elasticfilesystem", f"file-system/{ctx.resource_id}"),
        "dnsName": f"{ctx.resource_id}.efs.{ctx.region}.amazonaws.com",
    }


def _efs_access_point(ctx: FakeContext) -> dict[str, Any]:
    return {"arn": ctx.arn("elasticfilesystem", f"access-point/{ctx.resource_id}")}


def _autonamed(ctx: FakeContext) -> dict[str, Any]:
    # The engine auto-names these; AWS uses the name as the id.
    return {"name": str(ctx.inputs.get("name") or ctx.resource_id)}


OUTPUT_FAKERS.update(
    {
        rt.RDS_SUBNET_GROUP: _autonamed,
        rt.RDS_CLUSTER_PARAMETER_GROUP: _autonamed,
        rt.CACHE_SUBNET_GROUP: _autonamed,
        rt.KMS_KEY: _kms_key,
        rt.RDS_CLUSTER: _rds_cluster,
        rt.CACHE_REPLICATION_GROUP: _replication_group,
        rt.BUCKET: _bucket,
        rt.EFS_FILE_SYSTEM: _efs_file_system,
        rt.EFS_ACCESS_POINT: _efs_access_point,
    }
)
