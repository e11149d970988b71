"""pingvas-infra: one EKS cluster for dev and prod, shared data stores, Karpenter GPU pools.

Read top to bottom, this is the architecture:

    config -> network -> cluster -> gpu -> data -> tenancy -> storage -> ingress
           -> operations -> outputs

Each layer is one ComponentResource with its own config section; layers talk only through
what is passed here: the typed outputs of the layers before them, and the cluster policy
of k8s_manifests/ (read once below: tenancy applies it, its GPU quotas cap the GPU pools).
"""

import pulumi
import pulumi_kubernetes as k8s

from pingvas_infra.cluster.component import Cluster
from pingvas_infra.config import check_against_account, load_stack_config
from pingvas_infra.data.component import Data
from pingvas_infra.environments import ENVIRONMENTS
from pingvas_infra.gpu.component import GpuCapacity
from pingvas_infra.ingress.component import InternetEntries
from pingvas_infra.log_groups import StackLogGroups
from pingvas_infra.network.component import Network
from pingvas_infra.operations.component import Operations
from pingvas_infra.providers import aws_provider, layer_options
from pingvas_infra.stack_secrets import StackSecrets
from pingvas_infra.storage.component import Storage
from pingvas_infra.tenancy.component import Tenancy
from pingvas_infra.tenancy.static import gpu_quotas, static_objects

config = load_stack_config()
aws_default = aws_provider(config)
# What only the account can refuse (a listed principal that is the identity running
# `pulumi up`, a zone the account is not offered), checked before any resource.
check_against_account(config, pulumi.get_stack(), aws_default)

# Cluster policy (k8s_manifests/): namespaces, quotas, limit ranges, priority classes,
# network and admission policies, read and checked before anything is registered. The
# tenancy layer applies it; the GPU quota of each environment also caps its GPU pool.
cluster_policy = static_objects()
environment_gpus = gpu_quotas(cluster_policy)

# The log groups three layers write to, named once: the network layer's logs key admits
# CloudWatch Logs for exactly these.
NETWORK = "network"
log_groups = StackLogGroups.for_stack(
    project=config.project, network_name=NETWORK, cluster_name=config.cluster.name
)

# Network: VPC over three AZs; public (NAT), private (nodes, pods) and data (Aurora,
# ElastiCache, EFS) subnet tiers, and each environment's load-balancer subnets; one NAT
# gateway; S3 gateway endpoint; the customer-managed key of every log group.
network = Network(
    NETWORK,
    config.network,
    region=config.region,
    cluster_name=config.cluster.name,
    log_groups=log_groups,
    opts=layer_options(aws_default),
)

# Cluster: EKS in standard support, access entries only, Secrets encrypted with a
# customer-managed key, control-plane logs, managed add-ons (VPC CNI enforcing
# NetworkPolicies, CoreDNS, kube-proxy, Pod Identity Agent, EBS and EFS CSI drivers) and
# the spot system node group (2/2/4 over three instance types of one size).
cluster = Cluster(
    "cluster",
    config.cluster,
    network=network.outputs,
    log_groups=log_groups,
    region=config.region,
    opts=layer_options(aws_default),
)

# The one Kubernetes provider every layer that creates Kubernetes objects uses.
kubernetes = k8s.Provider(
    "kubernetes",
    kubeconfig=cluster.outputs.kubeconfig_json,
    enable_server_side_apply=True,
)

# GPU capacity: Karpenter with interruption handling, one GPU NodePool per environment
# capped at the environment's GPU quota, and the NVIDIA device plugin. Karpenter finds the
# private subnets by the network's discovery tag.
gpu = GpuCapacity(
    "gpu",
    config.gpu,
    network=network.outputs,
    cluster=cluster.outputs,
    environments=ENVIRONMENTS,
    gpu_quotas=environment_gpus,
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
    region=config.region,
    network=network.outputs,
    cluster=cluster.outputs,
    log_groups=log_groups,
    opts=layer_options(aws_default),
)

# Tenancy: the dev and prod namespaces with the design guide's quotas, limit ranges and
# priority classes, NetworkPolicies that isolate for real, per-environment credentials
# Secrets and the Job that creates the per-environment schemas and database roles.
tenancy = Tenancy(
    "tenancy",
    config.tenancy,
    cluster_policy=cluster_policy,
    network=network.outputs,
    cluster=cluster.outputs,
    data=data.outputs,
    opts=layer_options(aws_default, kubernetes),
)

# Storage: the design guide's S3 buckets (+ backups), the EFS model store mounted read-only
# in dev and prod, per-environment Pod Identity roles, and the default block StorageClass.
storage = Storage(
    "storage",
    config.storage,
    project=config.project,
    region=config.region,
    network=network.outputs,
    cluster=cluster.outputs,
    tenancy=tenancy.outputs,
    opts=layer_options(aws_default, kubernetes),
)

# Ingress: the AWS Load Balancer Controller and one internet entry per environment (an
# IngressClass fixing its own Application Load Balancer in its own subnets, HTTPS, access
# logs into the logs bucket), usable from that environment's namespace only.
ingress = InternetEntries(
    "ingress",
    config.ingress,
    project=config.project,
    region=config.region,
    tags=config.default_tags(),
    network=network.outputs,
    cluster=cluster.outputs,
    tenancy=tenancy.outputs,
    storage=storage.outputs,
    opts=layer_options(aws_default, kubernetes),
)

# Operations: the nightly prod-schema backup, the model sync into EFS, monitoring (GPUs and
# Karpenter included) and alert routing (dev -> Slack, prod and the platform -> PagerDuty),
# optional Argo CD.
operations = Operations(
    "operations",
    config.operations,
    project=config.project,
    region=config.region,
    cluster=cluster.outputs,
    gpu=gpu.outputs,
    data=data.outputs,
    tenancy=tenancy.outputs,
    storage=storage.outputs,
    secrets=StackSecrets.from_runtime(),
    opts=layer_options(aws_default, kubernetes),
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
pulumi.export("bucketNames", storage.outputs.bucket_names)
pulumi.export("modelsFileSystemId", storage.outputs.efs_file_system_id)
pulumi.export("appRoleArns", storage.outputs.app_role_arns)
pulumi.export("modelsPublisherRoleArn", storage.outputs.models_publisher_role_arn)
pulumi.export("backupRestoreRoleArn", storage.outputs.backup_restore_role_arn)
pulumi.export("ingressClasses", ingress.outputs.ingress_classes)
pulumi.export("loadBalancerNames", ingress.outputs.load_balancer_names)
pulumi.export("backupLocation", operations.outputs.backup_location)
pulumi.export("modelSyncCronJob", operations.outputs.model_sync_cron_job)
