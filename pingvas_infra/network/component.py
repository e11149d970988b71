"""The network layer as one ComponentResource."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from pingvas_infra import iam
from pingvas_infra.kms_keys import KeyUsers, customer_managed_key, key_policy
from pingvas_infra.labels import KARPENTER_DISCOVERY_TAG
from pingvas_infra.log_groups import StackLogGroups
from pingvas_infra.network.config import NetworkConfig
from pingvas_infra.network.outputs import NetworkOutputs

# Subnet tags the AWS Load Balancer Controller and the in-tree service controller discover
# subnets by (https://docs.aws.amazon.com/eks/latest/userguide/network-load-balancing.html).
# No subnet carries the internet-facing one (kubernetes.io/role/elb): each environment's
# load balancer is placed in its own subnets by name (its IngressClassParams), and a load
# balancer asked for any other way finds no public subnet and is never created.
INTERNAL_ELB_TAG = "kubernetes.io/role/internal-elb"
# The logs key is deleted only this long after being scheduled for deletion (the longest
# KMS allows): logs encrypted with it are unreadable once it is gone.
LOGS_KEY_DELETION_WINDOW_DAYS = 30


class Network(pulumi.ComponentResource):
    """VPC across the configured AZs with public, private and data subnet tiers."""

    outputs: NetworkOutputs

    def __init__(
        self,
        name: str,
        config: NetworkConfig,
        *,
        region: str,
        cluster_name: str,
        log_groups: StackLogGroups,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("pingvas:network:Network", name, None, opts)
        azs = config.availability_zones
        assert azs is not None, "availability zones are resolved by StackConfig"
        child = pulumi.ResourceOptions(parent=self)

        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=config.vpc_cidr,
            enable_dns_hostnames=True,  # EKS private endpoint and EFS DNS names need both
            enable_dns_support=True,
            tags={"Name": f"{name}-vpc"},
            opts=child,
        )
        # Adopt the default security group and strip its rules, so nothing that falls back
        # to it can talk (FSBP EC2.2).
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg",
            vpc_id=vpc.id,
            tags={"Name": f"{name}-default-deny"},
            opts=child,
        )
        logs_key_arn = self._logs_key(name, log_groups, region)
        self._flow_logs(
            name,
            vpc,
            config.flow_log_retention_days,
            group_name=log_groups.flow_logs,
            key_arn=logs_key_arn,
            child=child,
        )

        igw = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=vpc.id, tags={"Name": f"{name}-igw"}, opts=child
        )

        def subnets(tier: str, cidrs: tuple[str, ...], extra_tags: dict[str, str]) -> list:
            return [
                aws.ec2.Subnet(
                    f"{name}-{tier}-{az}",
                    vpc_id=vpc.id,
                    cidr_block=cidr,
                    availability_zone=az,
                    # No tier hands out public IPs: nodes never get one, and the NAT
                    # gateway uses its own Elastic IP.
                    map_public_ip_on_launch=False,
                    tags={"Name": f"{name}-{tier}-{az}", "Tier": tier, **extra_tags},
                    opts=child,
                )
                for az, cidr in zip(azs, cidrs, strict=True)
            ]

        public = subnets("public", config.public_subnet_cidrs, {})
        # Each environment's internet load balancer lives in subnets of its own, so the
        # environment's NetworkPolicies can admit its load balancer and not the other's.
        load_balancer_subnets = {
            environment: subnets(
                f"lb-{environment}", cidrs, {"Tier": "load-balancer", "Environment": environment}
            )
            for environment, cidrs in sorted(config.load_balancer_subnets.items())
        }
        private = subnets(
            "private",
            config.private_subnet_cidrs,
            {INTERNAL_ELB_TAG: "1", KARPENTER_DISCOVERY_TAG: cluster_name},
        )
        data = subnets("data", config.data_subnet_cidrs, {})

        public_rt = aws.ec2.RouteTable(
            f"{name}-public-rt",
            vpc_id=vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=igw.id)],
            tags={"Name": f"{name}-public", "Tier": "public"},
            opts=child,
        )
        for az, subnet in zip(azs, public, strict=True):
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{az}", subnet_id=subnet.id, route_table_id=public_rt.id, opts=child
            )
        for environment, environment_subnets in load_balancer_subnets.items():
            for az, subnet in zip(azs, environment_subnets, strict=True):
                aws.ec2.RouteTableAssociation(
                    f"{name}-lb-{environment}-{az}",
                    subnet_id=subnet.id,
                    route_table_id=public_rt.id,
                    opts=child,
                )

        nat_gateways = []
        for index in range(config.nat_gateways):
            az = azs[index]
            eip = aws.ec2.Eip(
                f"{name}-nat-{az}", domain="vpc", tags={"Name": f"{name}-nat-{az}"}, opts=child
            )
            nat_gateways.append(
                aws.ec2.NatGateway(
                    f"{name}-nat-{az}",
                    allocation_id=eip.id,
                    subnet_id=public[index].id,
                    connectivity_type="public",
                    tags={"Name": f"{name}-nat-{az}"},
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
                )
            )

        # One private route table per AZ: with a single NAT they all point at it; with one
        # per AZ each zone egresses through its own, so a zone outage stays in its zone.
        private_tables = []
        for index, (az, subnet) in enumerate(zip(azs, private, strict=True)):
            nat = nat_gateways[index if len(nat_gateways) > 1 else 0]
            table = aws.ec2.RouteTable(
                f"{name}-private-{az}",
                vpc_id=vpc.id,
                routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nat.id)],
                tags={"Name": f"{name}-private-{az}", "Tier": "private"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{az}", subnet_id=subnet.id, route_table_id=table.id, opts=child
            )
            private_tables.append(table)

        # The data tier has no route to the internet at all: databases, caches and EFS
        # mount targets only ever answer the cluster.
        data_table = aws.ec2.RouteTable(
            f"{name}-data-rt",
            vpc_id=vpc.id,
            tags={"Name": f"{name}-data", "Tier": "data"},
            opts=child,
        )
        for az, subnet in zip(azs, data, strict=True):
            aws.ec2.RouteTableAssociation(
                f"{name}-data-{az}", subnet_id=subnet.id, route_table_id=data_table.id, opts=child
            )

        # S3 through a gateway endpoint: free, and model weights and images stop paying
        # NAT data processing ($0.045/GB).
        s3_endpoint = aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[t.id for t in (*private_tables, data_table)],
            tags={"Name": f"{name}-s3"},
            opts=child,
        )

        self.outputs = NetworkOutputs(
            vpc_id=vpc.id,
            vpc_cidr=config.vpc_cidr,
            availability_zones=azs,
            public_subnet_ids=[s.id for s in public],
            private_subnet_ids=[s.id for s in private],
            data_subnet_ids=[s.id for s in data],
            public_subnet_cidrs=config.public_subnet_cidrs,
            private_subnet_cidrs=config.private_subnet_cidrs,
            data_subnet_cidrs=config.data_subnet_cidrs,
            load_balancer_subnet_ids={
                environment: [s.id for s in environment_subnets]
                for environment, environment_subnets in load_balancer_subnets.items()
            },
            load_balancer_subnet_cidrs=config.load_balancer_subnets,
            nat_gateway_ids=[n.id for n in nat_gateways],
            s3_endpoint_id=s3_endpoint.id,
            karpenter_discovery_tag=KARPENTER_DISCOVERY_TAG,
            logs_kms_key_arn=logs_key_arn,
        )
        self.register_outputs(
            {
                "vpcId": vpc.id,
                "publicSubnetIds": self.outputs.public_subnet_ids,
                "privateSubnetIds": self.outputs.private_subnet_ids,
                "dataSubnetIds": self.outputs.data_subnet_ids,
                "loadBalancerSubnetIds": dict(self.outputs.load_balancer_subnet_ids),
                "natGatewayIds": self.outputs.nat_gateway_ids,
            }
        )

    def _logs_key(self, name: str, log_groups: StackLogGroups, region: str) -> pulumi.Output[str]:
        """The customer-managed key of every log group of the stack (flow logs here, the
        EKS control plane's and Aurora's in their layers). Its policy lets CloudWatch Logs
        use it for exactly those groups, by name, and nobody else use it at all. Returns
        its ARN once the policy is in place: CloudWatch refuses a key that does not yet
        admit it, so no group may be created before."""
        child = pulumi.ResourceOptions(parent=self)
        key = customer_managed_key(
            f"{name}-logs-key",
            alias=f"{name}-logs",
            description="pingvas CloudWatch log groups (flow logs, EKS control plane, Aurora)",
            deletion_window_days=LOGS_KEY_DELETION_WINDOW_DAYS,
            opts=child,
        )
        identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        policy = key_policy(
            f"{name}-logs-key",
            key,
            account_id=identity.account_id,
            region=region,
            users=KeyUsers(log_groups=log_groups.arns(region, identity.account_id)),
            opts=child,
        )
        return pulumi.Output.all(key.arn, policy.id).apply(lambda values: str(values[0]))

    def _flow_logs(
        self,
        name: str,
        vpc: aws.ec2.Vpc,
        retention_days: int,
        *,
        group_name: str,
        key_arn: pulumi.Output[str],
        child: pulumi.ResourceOptions,
    ) -> None:
        """Rejected-traffic flow logs (FSBP EC2.6): small volume, useful evidence."""
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            name=group_name,
            retention_in_days=retention_days,
            kms_key_id=key_arn,
            opts=child,
        )
        identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        role = aws.iam.Role(
            f"{name}-flow-logs",
            assume_role_policy=iam.service_trust(
                "vpc-flow-logs.amazonaws.com",
                # Confused-deputy guard: only flow logs of this account may assume it.
                condition={"StringEquals": {"aws:SourceAccount": identity.account_id}},
            ),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs",
            role=role.id,
            policy=iam.document(
                [
                    {
                        "Effect": "Allow",
                        "Action": [
                            "logs:CreateLogStream",
                            "logs:PutLogEvents",
                            "logs:DescribeLogGroups",
                            "logs:DescribeLogStreams",
                        ],
                        "Resource": [log_group.arn, pulumi.Output.concat(log_group.arn, ":*")],
                    }
                ]
            ),
            opts=child,
        )
        aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=vpc.id,
            traffic_type="REJECT",
            log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=600,
            tags={"Name": f"{name}-flow-log"},
            opts=child,
        )
