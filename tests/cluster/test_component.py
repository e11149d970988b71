"""The cluster layer's resource graph, asserted on what the engine would receive."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pingvas_infra import resource_types as rt
from pingvas_infra.eks_versions import SupportPhase, eks_versions, table_date
from pingvas_infra.instances import instance_shapes
from pingvas_infra.plan.mocks import ACCOUNT_ID
from pingvas_infra.plan.model import PlanResult, RecordedResource
from tests.support.plan_graph import PlanRunner, cluster_security_group_id, tags_of

ADMIN_ARN = "arn:aws:iam::210987654321:role/platform/ops-admin"


def eks_cluster(graph: PlanResult) -> RecordedResource:
    return graph.one(rt.EKS_CLUSTER_COMPONENT)


def role_by_arn(graph: PlanResult) -> dict[str, RecordedResource]:
    """Roles keyed by the ARN the mock engine gives them (named by their resource name)."""
    return {
        f"arn:aws:iam::{ACCOUNT_ID}:role/{r.inputs.get('name', r.name)}": r
        for r in graph.of_type(rt.IAM_ROLE)
    }


def trust_of(role: RecordedResource) -> list[dict[str, Any]]:
    return json.loads(role.inputs["assumeRolePolicy"])["Statement"]


def attached_policies(graph: PlanResult, role: RecordedResource) -> set[str]:
    name = role.inputs.get("name", role.name)
    return {
        a.inputs["policyArn"]
        for a in graph.of_type(rt.IAM_ROLE_POLICY_ATTACHMENT)
        if a.inputs["role"] == name
    }


def private_subnet_ids(graph: PlanResult) -> set[str]:
    return {
        s.id
        for s in graph.of_type(rt.SUBNET)
        if tags_of(s.inputs).get("Tier") == "private" and s.id
    }


@pytest.fixture(scope="module")
def admin_graph(run_plan: PlanRunner) -> PlanResult:
    return run_plan(
        {
            "pingvas-infra:cluster": {
                "adminPrincipalArns": [ADMIN_ARN],
                "publicAccessCidrs": ["203.0.113.0/24", "198.51.100.0/24"],
            }
        }
    )


def test_version_in_standard_support_with_standard_upgrade_policy(graph: PlanResult) -> None:
    inputs = eks_cluster(graph).inputs
    version = eks_versions()[inputs["version"]]
    assert version.phase(table_date()) is SupportPhase.STANDARD
    assert inputs["upgradePolicy"] == {"supportType": "STANDARD"}
    assert inputs["deletionProtection"] is True
    # The node group runs the control plane's version.
    assert graph.one(rt.EKS_NODE_GROUP_COMPONENT).inputs["version"] == inputs["version"]


def test_api_authentication_only_and_no_default_node_group(graph: PlanResult) -> None:
    inputs = eks_cluster(graph).inputs
    # API mode: EKS reads access entries only; pulumi-eks creates no aws-auth ConfigMap.
    assert inputs["authenticationMode"] == "API"
    assert not inputs.get("accessEntries")
    assert inputs["skipDefaultNodeGroup"] is True
    assert inputs["createOidcProvider"] is False
    assert not [
        r for r in graph.of_type(rt.CONFIG_MAP) if r.inputs["metadata"]["name"] == "aws-auth"
    ]


def test_admin_principals_get_cluster_admin_access_entries(admin_graph: PlanResult) -> None:
    """People's entries are the cluster layer's own resources (tests/cluster/test_people.py
    proves what each kind may do)."""
    assert not eks_cluster(admin_graph).inputs.get("accessEntries")
    (entry,) = [
        e for e in admin_graph.of_type(rt.EKS_ACCESS_ENTRY) if e.inputs["principalArn"] == ADMIN_ARN
    ]
    assert entry.inputs["type"] == "STANDARD"
    (policy,) = admin_graph.of_type(rt.EKS_ACCESS_POLICY_ASSOCIATION)
    assert policy.inputs["principalArn"] == ADMIN_ARN
    assert policy.inputs["policyArn"].endswith(":cluster-access-policy/AmazonEKSClusterAdminPolicy")
    assert policy.inputs["accessScope"] == {"type": "cluster"}


def test_endpoint_private_on_public_limited_to_config(
    graph: PlanResult, admin_graph: PlanResult, run_plan: PlanRunner
) -> None:
    default = eks_cluster(graph).inputs
    assert default["endpointPrivateAccess"] is True
    assert default["publicAccessCidrs"] == ["0.0.0.0/0"]
    narrowed = eks_cluster(admin_graph).inputs
    assert narrowed["endpointPublicAccess"] is True
    assert narrowed["publicAccessCidrs"] == ["203.0.113.0/24", "198.51.100.0/24"]
    private = eks_cluster(run_plan({"pingvas-infra:cluster": {"publicAccessCidrs": []}})).inputs
    assert private["endpointPrivateAccess"] is True
    assert private["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in private


def test_open_endpoint_warning_reaches_pulumi_and_the_plan(graph: PlanResult) -> None:
    assert any("publicAccessCidrs" in w and "0.0.0.0/0" in w for w in graph.warnings)


def test_secrets_envelope_encrypted_with_rotating_customer_key(graph: PlanResult) -> None:
    key_arn = eks_cluster(graph).inputs["encryptionConfigKeyArn"]
    (key,) = [k for k in graph.of_type(rt.KMS_KEY) if key_arn.endswith(f"/{k.id}")]
    assert key.inputs["enableKeyRotation"] is True
    assert key.urn in eks_cluster(graph).dependencies


def test_control_plane_logs_go_to_a_bounded_precreated_group(graph: PlanResult) -> None:
    cluster = eks_cluster(graph)
    assert cluster.inputs["enabledClusterLogTypes"] == ["api", "audit", "authenticator"]
    (group,) = [
        g
        for g in graph.of_type(rt.LOG_GROUP)
        if g.inputs["name"] == f"/aws/eks/{cluster.inputs['name']}/cluster"
    ]
    assert group.inputs["retentionInDays"] == 30
    # Created before the cluster, so EKS never creates it with unlimited retention.
    assert group.urn in cluster.dependencies


def test_addon_set_and_network_policy_enforcement(graph: PlanResult) -> None:
    inputs = eks_cluster(graph).inputs
    assert inputs["useDefaultVpcCni"] is False
    assert inputs["vpcCniOptions"]["enableNetworkPolicy"] is True
    assert inputs["kubeProxyAddonOptions"]["enabled"] is True
    # CoreDNS is installed as our own add-on, after the nodes (below), not by pulumi-eks.
    assert inputs["corednsAddonOptions"]["enabled"] is False
    assert inputs["bootstrapSelfManagedAddons"] is False
    addons = {a.inputs["addonName"] for a in graph.of_type(rt.EKS_ADDON)}
    assert addons == {
        "eks-pod-identity-agent",
        "coredns",
        "aws-ebs-csi-driver",
        "aws-efs-csi-driver",
    }


def test_deployment_addons_wait_for_the_system_nodes(graph: PlanResult) -> None:
    nodes = graph.one(rt.EKS_NODE_GROUP_COMPONENT)
    for addon in graph.of_type(rt.EKS_ADDON):
        if addon.inputs["addonName"] != "eks-pod-identity-agent":
            assert nodes.urn in addon.dependencies, addon.name


@pytest.mark.parametrize(
    ("addon", "service_accounts", "policy"),
    [
        (
            "aws-ebs-csi-driver",
            {"ebs-csi-controller-sa"},
            "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy",
        ),
        (
            "aws-efs-csi-driver",
            {"efs-csi-controller-sa", "efs-csi-node-sa"},
            "arn:aws:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy",
        ),
    ],
)
def test_csi_drivers_have_their_own_pod_identity_roles(
    graph: PlanResult, addon: str, service_accounts: set[str], policy: str
) -> None:
    (resource,) = [a for a in graph.of_type(rt.EKS_ADDON) if a.inputs["addonName"] == addon]
    by_urn = graph.by_urn()
    associations = [
        by_urn[d]
        for d in resource.dependencies
        if by_urn.get(d) and by_urn[d].type == rt.POD_IDENTITY_ASSOCIATION
    ]
    assert {a.inputs["serviceAccount"] for a in associations} == service_accounts
    assert {a.inputs["namespace"] for a in associations} == {"kube-system"}
    (role_arn,) = {a.inputs["roleArn"] for a in associations}
    role = role_by_arn(graph)[role_arn]
    (trust,) = trust_of(role)
    assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert set(trust["Action"]) == {"sts:AssumeRole", "sts:TagSession"}
    assert attached_policies(graph, role) == {policy}


def test_system_node_group_is_spot_over_three_types_of_one_size(graph: PlanResult) -> None:
    inputs = graph.one(rt.EKS_NODE_GROUP_COMPONENT).inputs
    assert inputs["capacityType"] == "SPOT"
    types = inputs["instanceTypes"]
    assert len(set(types)) >= 3
    assert len({instance_shapes()[t].size_class for t in types}) == 1
    assert inputs["scalingConfig"] == {"desiredSize": 2, "minSize": 2, "maxSize": 4}
    assert inputs["labels"] == {"role": "system", "tier": "shared"}
    assert "taints" not in inputs
    assert inputs["amiType"] == "AL2023_x86_64_STANDARD"


def test_system_node_role_has_the_node_policies(graph: PlanResult) -> None:
    """No CNI policy: the VPC CNI has a role of its own (below)."""
    role = role_by_arn(graph)[graph.one(rt.EKS_NODE_GROUP_COMPONENT).inputs["nodeRoleArn"]]
    (trust,) = trust_of(role)
    assert trust["Principal"] == {"Service": "ec2.amazonaws.com"}
    assert attached_policies(graph, role) == {
        f"arn:aws:iam::aws:policy/{p}"
        for p in (
            "AmazonEKSWorkerNodePolicy",
            "AmazonEC2ContainerRegistryPullOnly",
            "AmazonSSMManagedInstanceCore",
        )
    }


def test_the_vpc_cni_has_its_own_role_before_any_node_starts(graph: PlanResult) -> None:
    """aws-node gets AmazonEKS_CNI_Policy through Pod Identity, trusted for
    kube-system/aws-node of this cluster only; the system nodes wait for the association
    and the agent that serves it, so no aws-node pod starts without them."""
    (association,) = [
        a for a in graph.of_type(rt.POD_IDENTITY_ASSOCIATION)
        if a.inputs["serviceAccount"] == "aws-node"
    ]  # fmt: skip
    assert association.inputs["namespace"] == "kube-system"
    role = role_by_arn(graph)[association.inputs["roleArn"]]
    assert attached_policies(graph, role) == {"arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"}
    (trust,) = trust_of(role)
    assert trust["Condition"]["StringEquals"]["aws:RequestTag/kubernetes-service-account"] == [
        "aws-node"
    ]
    nodes = graph.one(rt.EKS_NODE_GROUP_COMPONENT)
    agent = next(
        a for a in graph.of_type(rt.EKS_ADDON) if a.inputs["addonName"] == "eks-pod-identity-agent"
    )
    assert {association.urn, agent.urn} <= set(nodes.dependencies)


def test_system_launch_template_requires_imdsv2_and_encrypts_gp3(graph: PlanResult) -> None:
    group = graph.one(rt.EKS_NODE_GROUP_COMPONENT)
    template = graph.by_id()[group.inputs["launchTemplate"]["id"]]
    assert template.type == rt.LAUNCH_TEMPLATE
    metadata = template.inputs["metadataOptions"]
    assert metadata["httpTokens"] == "required"
    assert metadata["httpPutResponseHopLimit"] == 1
    (root,) = template.inputs["blockDeviceMappings"]
    assert root["deviceName"] == "/dev/xvda"
    assert root["ebs"]["volumeType"] == "gp3"
    assert root["ebs"]["encrypted"] == "true"
    # Networking is left to EKS: no interface that could ask for a public address.
    assert "networkInterfaces" not in template.inputs


def test_no_node_ever_gets_a_public_ip(graph: PlanResult) -> None:
    assert eks_cluster(graph).inputs["nodeAssociatePublicIpAddress"] is False
    private = private_subnet_ids(graph)
    assert set(graph.one(rt.EKS_NODE_GROUP_COMPONENT).inputs["subnetIds"]) == private
    assert set(eks_cluster(graph).inputs["privateSubnetIds"]) == private
    assert "publicSubnetIds" not in eks_cluster(graph).inputs
    for subnet in graph.of_type(rt.SUBNET):
        assert subnet.inputs["mapPublicIpOnLaunch"] is False
    node_classes = graph.of_type(rt.EC2_NODE_CLASS)
    assert len(node_classes) == 2
    for node_class in node_classes:
        assert node_class.inputs["spec"]["associatePublicIPAddress"] is False


def test_one_kubernetes_provider_waits_for_nodes_and_serves_every_object(
    graph: PlanResult,
) -> None:
    (provider,) = graph.of_type(rt.KUBERNETES_PROVIDER)
    assert provider.name == "kubernetes"
    assert provider.inputs["enableServerSideApply"] == "true"
    assert provider.inputs["kubeconfig"] == "[secret]"
    coredns = [a for a in graph.of_type(rt.EKS_ADDON) if a.inputs["addonName"] == "coredns"]
    for dependency in (eks_cluster(graph), graph.one(rt.EKS_NODE_GROUP_COMPONENT), *coredns):
        assert dependency.urn in provider.dependencies
    kubernetes_objects = [r for r in graph.resources if r.type.startswith(rt.KUBERNETES_PREFIX)]
    assert kubernetes_objects
    for resource in kubernetes_objects:
        assert resource.provider == provider.urn, resource.urn


def test_cluster_security_group_comes_from_the_eks_cluster_reference(graph: PlanResult) -> None:
    """The security group id travels eks:index:Cluster -> eksCluster.vpcConfig -> layers."""
    (tag,) = graph.of_type(rt.EC2_TAG)
    assert tag.inputs["resourceId"] == cluster_security_group_id(graph)


def test_stack_outputs(graph: PlanResult) -> None:
    outputs = graph.outputs
    assert outputs["clusterName"] == eks_cluster(graph).inputs["name"]
    assert outputs["kubeconfig"] == "[secret]"
    assert outputs["karpenterNodeRoleArn"] in role_by_arn(graph)
    assert outputs["systemNodeRoleArn"] in role_by_arn(graph)
    (queue,) = graph.of_type(rt.SQS_QUEUE)
    assert outputs["interruptionQueueName"] == queue.inputs.get("name", queue.name)
