"""pingvas-infra: one EKS cluster for dev and prod, shared data stores, Karpenter GPU pools.

Read top to bottom, this is the architecture:

    config  ->  network  ->  outputs

Each layer is one ComponentResource with its own config section; layers talk only through
the typed outputs passed here.
"""

import pulumi

from pingvas_infra.config import load_stack_config
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

pulumi.export("vpcId", network.outputs.vpc_id)
pulumi.export("privateSubnetIds", network.outputs.private_subnet_ids)
pulumi.export("dataSubnetIds", network.outputs.data_subnet_ids)
