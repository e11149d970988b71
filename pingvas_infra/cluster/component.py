"""The cluster layer: the EKS control plane, its managed add-ons and the spot system nodes."""

from __future__ import annotations

import base64

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks

from pingvas_infra import iam
from pingvas_infra.cluster.config import ClusterConfig
from pingvas_infra.cluster.outputs import ClusterOutputs, SystemNodeShape
from pingvas_infra.cluster.people import Access, access_entry_name, people_group
from pingvas_infra.kms_keys import (
    KeyUsers,
    RoleUse,
    customer_managed_key,
    eks_cluster_creator_actions,
    key_policy,
)
from pingvas_infra.kube import KUBE_SYSTEM
from pingvas_infra.log_groups import StackLogGroups
from pingvas_infra.network.outputs import NetworkOutputs
from pingvas_infra.node_role import managed_policy_arn, node_role
from pingvas_infra.node_user_data import node_user_data
from pingvas_infra.pod_slots import system_kubelet_settings, vpc_cni_settings
from pingvas_infra.tables import load_table

# Control-plane log streams sent to CloudWatch: API calls, the audit trail and IAM
# authentication decisions (who did what, and as whom).
CONTROL_PLANE_LOGS = ("api", "audit", "authenticator")
# Labels of the system node group; the Karpenter controller and other platform pods
# select them, and they never appear on Karpenter's nodes.
SYSTEM_NODE_LABELS = {"role": "system", "tier": "shared"}
ADDON_NAMESPACE = KUBE_SYSTEM
# AL2023, the EKS default for managed node groups since Kubernetes 1.30.
SYSTEM_NODE_AMI_TYPE = "AL2023_x86_64_STANDARD"
# The AL2023 root device, where images and logs live.
ROOT_DEVICE = "/dev/xvda"
# IMDS answers one network hop: host-network daemons (VPC CNI, kube-proxy, Pod Identity
# Agent) reach it, pods in their own network namespace do not, so no tenant pod can take
# the node role's credentials. Pods get AWS credentials from Pod Identity instead.
IMDS_HOP_LIMIT = 1


def _managed_addon(
    name: str, addon: str, cluster_name: pulumi.Input[str], opts: pulumi.ResourceOptions
) -> aws.eks.Addon:
    """An EKS managed add-on (`<name>-<addon>`) whose settings win over any left in the
    cluster by an earlier install."""
    return aws.eks.Addon(
        f"{name}-{addon}",
        cluster_name=cluster_name,
        addon_name=addon,
        resolve_conflicts_on_create="OVERWRITE",
        resolve_conflicts_on_update="OVERWRITE",
        opts=opts,
    )


class Cluster(pulumi.ComponentResource):
    """One EKS cluster for dev and prod, its add-ons and the spot system node group."""

    outputs: ClusterOutputs

    def __init__(
        self,
        name: str,
        config: ClusterConfig,
        *,
        network: NetworkOutputs,
        log_groups: StackLogGroups,
        region: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("pingvas:cluster:Cluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        secrets_key = customer_managed_key(
            f"{name}-secrets",
            alias=f"{config.name}-eks-secrets",
            description=f"Envelope encryption of Kubernetes Secrets in EKS cluster {config.name}",
            deletion_window_days=30,
            opts=child,
        )
        # EKS encrypts Secrets under a grant it creates, at CreateCluster, through the
        # rights of the principal that creates the cluster: the listed deployers (the
        # deploy role, break-glass admins), or else whoever runs the program (its role, not
        # the session). The policy names no output of the cluster, so it exists before the
        # cluster and a replacement of the cluster is created under it.
        identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        creators: list[pulumi.Input[str]] = list(config.deployer_principal_arns) or [
            aws.iam.get_session_context_output(
                arn=identity.arn, opts=pulumi.InvokeOutputOptions(parent=self)
            ).issuer_arn
        ]
        secrets_key_policy = key_policy(
            f"{name}-secrets",
            secrets_key,
            account_id=identity.account_id,
            region=region,
            users=KeyUsers(
                roles=[
                    RoleUse(
                        sid="ClusterCreatorGrantsToEks",
                        roles=creators,
                        actions=eks_cluster_creator_actions(),
                    )
                ]
            ),
            opts=child,
        )
        # EKS writes to exactly this group; created first, it gets a bounded retention
        # instead of the "never expire" group EKS would create on its own.
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-control-plane",
            name=log_groups.eks_control_plane,
            retention_in_days=config.log_retention_days,
            kms_key_id=network.logs_kms_key_arn,
            opts=child,
        )

        vpc_cni = vpc_cni_settings()
        cluster = eks.Cluster(
            f"{name}-eks",
            name=config.name,
            version=config.kubernetes_version,
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type=config.support_type),
            deletion_protection=config.deletion_protection,
            vpc_id=network.vpc_id,
            # Control-plane ENIs and nodes live in the private tier only; load balancers
            # find the public subnets by their role tags.
            private_subnet_ids=network.private_subnet_ids,
            node_associate_public_ip_address=False,
            endpoint_private_access=True,
            endpoint_public_access=config.public_endpoint,
            public_access_cidrs=list(config.public_access_cidrs) or None,
            # Access entries only: no aws-auth ConfigMap is created or read.
            authentication_mode=eks.AuthenticationMode.API,
            # People's access entries are this layer's own resources (below).
            encryption_config_key_arn=secrets_key.arn,
            enabled_cluster_log_types=list(CONTROL_PLANE_LOGS),
            # Nodes come from the managed group below and from Karpenter; every node uses
            # the EKS-created cluster security group (no extra pulumi-eks groups).
            skip_default_node_group=True,
            skip_default_security_groups=True,
            # Workload IAM is Pod Identity; no IRSA OIDC provider.
            create_oidc_provider=False,
            # Only managed add-ons: EKS installs no unmanaged copies at creation.
            bootstrap_self_managed_addons=False,
            use_default_vpc_cni=False,
            # NetworkPolicies are only enforced when the VPC CNI is told to; the tenancy
            # layer's dev/prod isolation depends on it. Prefix delegation (a /28 per address
            # slot) lifts the ENI limit on pods per node (17 on a t3.medium); the kubelet's
            # maxPods then sets it (tables/pod_slots.yaml). Network policies work with prefixes.
            vpc_cni_options=eks.VpcCniOptionsArgs(
                enable_network_policy=True,
                enable_prefix_delegation=vpc_cni["enablePrefixDelegation"],
                warm_prefix_target=vpc_cni["warmPrefixTarget"],
            ),
            kube_proxy_addon_options=eks.KubeProxyAddonOptionsArgs(enabled=True),
            # CoreDNS is a Deployment: installed below once nodes exist, or the add-on
            # would wait in DEGRADED for pods that cannot schedule.
            coredns_addon_options=eks.CoreDnsAddonOptionsArgs(enabled=False),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_group, secrets_key_policy]),
        )
        eks_cluster = cluster.eks_cluster
        cluster_name = eks_cluster.name

        self._people(name, config, cluster_name=cluster.eks_cluster.name)

        # The VPC CNI (aws-node, installed by pulumi-eks) takes its AWS rights from its own
        # Pod Identity role, not from the node role: the association and the agent that
        # serves it exist before any node, so every aws-node pod starts with them.
        pod_identity_agent = _managed_addon(name, "eks-pod-identity-agent", cluster_name, child)
        _, cni_ready = self._addon_role(name, "vpc-cni", cluster_name, eks_cluster.arn)
        role, attachments = node_role(f"{name}-system-node", parent=self)
        system_nodes = self._system_nodes(
            name,
            config,
            cluster=cluster,
            role=role,
            waits_for=[*attachments, *cni_ready, pod_identity_agent],
            network=network,
        )

        coredns = _managed_addon(
            name,
            "coredns",
            cluster_name,
            pulumi.ResourceOptions(parent=self, depends_on=[system_nodes]),
        )
        csi = {
            addon: self._addon_with_pod_identity(
                name, addon, cluster_name, eks_cluster.arn, [system_nodes, pod_identity_agent]
            )
            for addon in ("aws-ebs-csi-driver", "aws-efs-csi-driver")
        }
        csi_addons = [addon for addon, _ in csi.values()]

        # Kubernetes clients (the explicit provider in __main__) only start once the system
        # nodes, DNS and the Pod Identity Agent are up, so Helm releases can schedule.
        kubeconfig_json = pulumi.Output.all(
            cluster.kubeconfig_json,
            system_nodes.node_group,
            coredns.id,
            pod_identity_agent.id,
            *(addon.id for addon in csi_addons),
        ).apply(lambda values: str(values[0]))

        self.outputs = ClusterOutputs(
            cluster_name=cluster_name,
            cluster_arn=eks_cluster.arn,
            kubernetes_version=config.kubernetes_version,
            kubeconfig_json=pulumi.Output.secret(kubeconfig_json),
            cluster_security_group_id=eks_cluster.vpc_config.cluster_security_group_id,
            system_node_role_arn=role.arn,
            efs_csi_role_arn=csi["aws-efs-csi-driver"][1].arn,
            system_node_labels=dict(SYSTEM_NODE_LABELS),
            system_node_shape=SystemNodeShape(
                instance_types=tuple(config.system_nodes.instance_types),
                disk_size_gib=config.system_nodes.disk_size_gib,
                overflow_nodes=config.system_nodes.overflow_nodes,
            ),
        )
        self.register_outputs(
            {
                "clusterName": self.outputs.cluster_name,
                "clusterArn": self.outputs.cluster_arn,
                "clusterSecurityGroupId": self.outputs.cluster_security_group_id,
                "systemNodeRoleArn": self.outputs.system_node_role_arn,
                "secretsKeyArn": secrets_key.arn,
            }
        )

    def _people(self, name: str, config: ClusterConfig, *, cluster_name: pulumi.Input[str]) -> None:
        """One access entry per listed principal, with its one access policy."""
        grants: list[tuple[str, Access, str | None]] = [
            (arn, Access.ADMIN, None) for arn in config.admin_principal_arns
        ]
        for name_of_environment, arns in sorted(config.environment_principal_arns.items()):
            grants += [(arn, Access.ENVIRONMENT, name_of_environment) for arn in arns]
        grants += [(arn, Access.VIEWER, None) for arn in config.viewer_principal_arns]
        for arn, access, environment in grants:
            resource_name = f"{name}-{access_entry_name(access, arn)}"
            entry = aws.eks.AccessEntry(
                resource_name,
                cluster_name=cluster_name,
                principal_arn=arn,
                type="STANDARD",
                kubernetes_groups=[people_group(environment)] if environment else None,
                opts=pulumi.ResourceOptions(parent=self),
            )
            scope = (
                aws.eks.AccessPolicyAssociationAccessScopeArgs(
                    type="namespace", namespaces=[environment]
                )
                if environment
                else aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster")
            )
            aws.eks.AccessPolicyAssociation(
                resource_name,
                cluster_name=cluster_name,
                principal_arn=entry.principal_arn,
                policy_arn=access.policy_arn,
                access_scope=scope,
                opts=pulumi.ResourceOptions(parent=self),
            )

    def _system_nodes(
        self,
        name: str,
        config: ClusterConfig,
        *,
        cluster: eks.Cluster,
        role: aws.iam.Role,
        waits_for: list[pulumi.Resource],
        network: NetworkOutputs,
    ) -> eks.ManagedNodeGroup:
        child = pulumi.ResourceOptions(parent=self)
        nodes = config.system_nodes
        # Networking stays with EKS (it attaches the cluster security group); the private
        # subnets never hand out public IPs.
        template = aws.ec2.LaunchTemplate(
            f"{name}-system-nodes",
            description=(
                f"{config.name} system nodes: IMDSv2 only, encrypted gp3 root volume, "
                "a PID limit per pod, pod slots for prefix delegation"
            ),
            update_default_version=True,
            # EKS adds its own NodeConfig (cluster, labels) to this for its AL2023 AMI; the
            # pod slots (maxPods, and kube-reserved memory for that many) come with it.
            user_data=base64.b64encode(
                node_user_data(kubelet=system_kubelet_settings()).encode()
            ).decode(),
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",
                http_put_response_hop_limit=IMDS_HOP_LIMIT,
                instance_metadata_tags="disabled",
            ),
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name=ROOT_DEVICE,
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_size=nodes.disk_size_gib,
                        volume_type="gp3",
                        encrypted="true",
                        delete_on_termination="true",
                    ),
                )
            ],
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(
                    resource_type=kind, tags={"Name": f"{config.name}-system"}
                )
                for kind in ("instance", "volume", "network-interface")
            ],
            opts=child,
        )
        return eks.ManagedNodeGroup(
            f"{name}-system",
            cluster=cluster,
            node_role_arn=role.arn,
            ami_type=SYSTEM_NODE_AMI_TYPE,
            # With a custom launch template pulumi-eks no longer defaults the version.
            version=config.kubernetes_version,
            capacity_type=nodes.capacity_type,
            instance_types=list(nodes.instance_types),
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                desired_size=nodes.desired_size,
                min_size=nodes.min_size,
                max_size=nodes.max_size,
            ),
            # No taints: the design guide lets dev and prod services share these nodes.
            labels=dict(SYSTEM_NODE_LABELS),
            subnet_ids=network.private_subnet_ids,
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                id=template.id,
                version=template.latest_version.apply(str),
            ),
            # No node before its role's policies and the CNI's role exist.
            opts=pulumi.ResourceOptions(parent=self, depends_on=waits_for),
        )

    def _addon_with_pod_identity(
        self,
        name: str,
        addon: str,
        cluster_name: pulumi.Output[str],
        cluster_arn: pulumi.Output[str],
        after: list[pulumi.Resource],
    ) -> tuple[aws.eks.Addon, aws.iam.Role]:
        """A managed add-on whose ServiceAccounts get their own Pod Identity role.

        The associations exist before the add-on, so its pods get credentials from their
        very first start.
        """
        role, ready = self._addon_role(name, addon, cluster_name, cluster_arn)
        return _managed_addon(
            name,
            addon,
            cluster_name,
            pulumi.ResourceOptions(parent=self, depends_on=[*after, *ready]),
        ), role

    def _addon_role(
        self,
        name: str,
        addon: str,
        cluster_name: pulumi.Output[str],
        cluster_arn: pulumi.Output[str],
    ) -> tuple[aws.iam.Role, list[pulumi.Resource]]:
        """The Pod Identity role of an add-on's ServiceAccounts (tables/eks_addons.yaml):
        the role, and what must exist before its pods start (the policy attachment and one
        association per ServiceAccount)."""
        spec = load_table("eks_addons")["addons"][addon]
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-{addon}",
            assume_role_policy=iam.pod_identity_trust(
                cluster_arn, ADDON_NAMESPACE, spec["service_accounts"]
            ),
            opts=child,
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-{addon}",
            role=role.name,
            policy_arn=managed_policy_arn(spec["managed_policy"]),
            opts=child,
        )
        associations = [
            aws.eks.PodIdentityAssociation(
                f"{name}-{service_account}",
                cluster_name=cluster_name,
                namespace=ADDON_NAMESPACE,
                service_account=service_account,
                role_arn=role.arn,
                opts=child,
            )
            for service_account in spec["service_accounts"]
        ]
        return role, [attachment, *associations]


# The default StorageClass: gp3 through the EBS CSI driver, always encrypted, bound where
# the pod lands (a volume lives in one AZ).
