"""pingvas-infra: one EKS cluster for dev and prod, shared data stores, Karpenter GPU pools.

Read top to bottom, this is the architecture:

    config  ->  network  ->  cluster  ->  gpu  ->  data  ->  outputs

Each layer is one ComponentResource with its own config section; layers talk only through
the typed outputs passed here.
"""

import pulumi
import pulumi_kubernetes as k8s

from pingvas_infra.cluster.component import Cluster, ClusterStorage
from pingvas_infra.config import load_stack_config
from pingvas_infra.data.component import Data
from pingvas_infra.environments import ENVIRONMENTS
from pingvas_infra.gpu.component import GpuCapacity
from pingvas_infra.network.component import Network
from pingvas_infra.providers import aws_provider, layer_options

config = load_stack_config()
aws_default = aws_provider(config)

# Network: VPC over three AZs; public (load balancers, NAT), private (nodes, pods) and
# data (Aurora, ElastiCache, EFS) subnet tiers; one NAT gateway; S3 gateway endpoint.
network = Network(
    "network",
    config.network,
    region=config.region,
    cluster_name=config.cluster.name,
    opts=layer_options(aws_default),
)

# Cluster: EKS in standard support, access entries only, Secrets encrypted with a
# customer-managed key, control-plane logs, managed add-ons (VPC CNI enforcing
# NetworkPolicies, CoreDNS, kube-proxy, Pod Identity Agent, EBS and EFS CSI drivers) and
# the spot system node group (2/2/4 over three instance types of one size).
cluster = Cluster(
    "cluster", config.cluster, network=network.outputs, opts=layer_options(aws_default)
)

# The one Kubernetes provider every layer that creates Kubernetes objects uses.
kubernetes = k8s.Provider(
    "kubernetes",
    kubeconfig=cluster.outputs.kubeconfig_json,
    enable_server_side_apply=True,
)
ClusterStorage("cluster-storage", opts=layer_options(aws_default, kubernetes))

# GPU capacity: Karpenter with interruption handling, one GPU NodePool per environment
# capped at the environment's GPU quota, and the NVIDIA device plugin.
gpu = GpuCapacity(
    "gpu",
    config.gpu,
    cluster=cluster.outputs,
    environments=ENVIRONMENTS,
    region=config.region,
    opts=layer_options(aws_default, kubernetes),
)

# Data: one Aurora PostgreSQL Serverless v2 cluster (writer + reader, schemas per
# environment) and one Valkey replication group (ACL users confined to their key prefix),
# reachable only from the cluster security group.
data = Data(
    "data",
    config.data,
    project=config.project,
    network=network.outputs,
    cluster=cluster.outputs,
    opts=layer_options(aws_default),
)

pulumi.export("vpcId", network.outputs.vpc_id)
pulumi.export("privateSubnetIds", network.outputs.private_subnet_ids)
pulumi.export("dataSubnetIds", network.outputs.data_subnet_ids)
pulumi.export("clusterName", cluster.outputs.cluster_name)
pulumi.export("kubeconfig", cluster.outputs.kubeconfig_json)
pulumi.export("systemNodeRoleArn", cluster.outputs.system_node_role_arn)
pulumi.export("karpenterNodeRoleArn", gpu.outputs.node_role_arn)
pulumi.export("interruptionQueueName", gpu.outputs.interruption_queue_name)
pulumi.export("databaseWriterEndpoint", data.outputs.writer_endpoint)
pulumi.export("cachePrimaryEndpoint", data.outputs.cache_primary_endpoint)
