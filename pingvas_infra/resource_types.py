"""The resource type tokens the code reads the graph by, each named once.

A type token is what the Pulumi engine records for a resource (``<package>:<module>:<Type>``).
The cost rules, the policy controls, the mock engine, the architecture diagram and the
tests all look resources up by these names, so one spelling serves all of them.

pulumi-eks registers a *component* (``eks:index:Cluster``) that creates the AWS *resource*
(``aws:eks/cluster:Cluster``); the offline plan sees the component only, a real preview
both. The two are kept apart by name: ``EKS_CLUSTER_COMPONENT`` and ``EKS_CLUSTER``.

Types that only a data table names (the free types of pingvas_infra/tables/
free_resource_types.yaml) are not repeated here.
"""

from __future__ import annotations

# --- this project and the Pulumi engine ----------------------------------------------------

# Every layer is a `pingvas:<layer>:<Component>`.
COMPONENT_PREFIX = "pingvas:"
STACK = "pulumi:pulumi:Stack"
PROVIDER_PREFIX = "pulumi:providers:"
AWS_PROVIDER = "pulumi:providers:aws"
KUBERNETES_PROVIDER = "pulumi:providers:kubernetes"

# --- pulumi-eks components ---------------------------------------------------------------

EKS_COMPONENT_PREFIX = "eks:index:"
EKS_CLUSTER_COMPONENT = "eks:index:Cluster"
EKS_NODE_GROUP_COMPONENT = "eks:index:ManagedNodeGroup"

# --- AWS -----------------------------------------------------------------------------------

AWS_PREFIX = "aws:"

VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"
INTERNET_GATEWAY = "aws:ec2/internetGateway:InternetGateway"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
ROUTE_TABLE_ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
NAT_GATEWAY = "aws:ec2/natGateway:NatGateway"
EIP = "aws:ec2/eip:Eip"
VPC_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
EC2_TAG = "aws:ec2/tag:Tag"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SECURITY_GROUP_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SECURITY_GROUP_EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"

EKS_CLUSTER = "aws:eks/cluster:Cluster"
EKS_NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
EKS_ADDON = "aws:eks/addon:Addon"
EKS_ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry"
EKS_ACCESS_POLICY_ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
POD_IDENTITY_ASSOCIATION = "aws:eks/podIdentityAssociation:PodIdentityAssociation"

IAM_ROLE = "aws:iam/role:Role"
IAM_POLICY = "aws:iam/policy:Policy"
IAM_ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
IAM_ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"

KMS_KEY = "aws:kms/key:Key"
KMS_KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
EVENT_RULE = "aws:cloudwatch/eventRule:EventRule"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
SQS_QUEUE = "aws:sqs/queue:Queue"
SQS_QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
SECRETS_MANAGER_SECRET = "aws:secretsmanager/secret:Secret"
SSM_PARAMETER = "aws:ssm/parameter:Parameter"
BACKUP_VAULT = "aws:backup/vault:Vault"

RDS_CLUSTER = "aws:rds/cluster:Cluster"
RDS_CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
RDS_CLUSTER_PARAMETER_GROUP = "aws:rds/clusterParameterGroup:ClusterParameterGroup"
RDS_SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
CACHE_REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
CACHE_SUBNET_GROUP = "aws:elasticache/subnetGroup:SubnetGroup"
CACHE_USER = "aws:elasticache/user:User"
CACHE_USER_GROUP = "aws:elasticache/userGroup:UserGroup"

BUCKET = "aws:s3/bucket:Bucket"
BUCKET_V2 = "aws:s3/bucketV2:BucketV2"
BUCKET_TYPES = (BUCKET, BUCKET_V2)
BUCKET_PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_OWNERSHIP_CONTROLS = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
BUCKET_ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
BUCKET_ENCRYPTION_V2 = (
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
)
BUCKET_ENCRYPTION_TYPES = (BUCKET_ENCRYPTION, BUCKET_ENCRYPTION_V2)
BUCKET_VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
BUCKET_VERSIONING_V2 = "aws:s3/bucketVersioningV2:BucketVersioningV2"
BUCKET_VERSIONING_TYPES = (BUCKET_VERSIONING, BUCKET_VERSIONING_V2)
BUCKET_LOGGING = "aws:s3/bucketLogging:BucketLogging"
BUCKET_LOGGING_V2 = "aws:s3/bucketLoggingV2:BucketLoggingV2"
BUCKET_LOGGING_TYPES = (BUCKET_LOGGING, BUCKET_LOGGING_V2)
BUCKET_LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
BUCKET_REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"

EFS_FILE_SYSTEM = "aws:efs/fileSystem:FileSystem"
EFS_ACCESS_POINT = "aws:efs/accessPoint:AccessPoint"
EFS_MOUNT_TARGET = "aws:efs/mountTarget:MountTarget"
EFS_BACKUP_POLICY = "aws:efs/backupPolicy:BackupPolicy"
EFS_FILE_SYSTEM_POLICY = "aws:efs/fileSystemPolicy:FileSystemPolicy"

# Invokes (data sources) the program calls; the mock engine answers them.
GET_CALLER_IDENTITY = "aws:index/getCallerIdentity:getCallerIdentity"
GET_REGION = "aws:index/getRegion:getRegion"
GET_PARTITION = "aws:index/getPartition:getPartition"
GET_AVAILABILITY_ZONES = "aws:index/getAvailabilityZones:getAvailabilityZones"
GET_SESSION_CONTEXT = "aws:iam/getSessionContext:getSessionContext"

# --- random ----------------------------------------------------------------------------------

RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
RANDOM_ID = "random:index/randomId:RandomId"

# --- Kubernetes ------------------------------------------------------------------------------

KUBERNETES_PREFIX = "kubernetes:"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
NAMESPACE = "kubernetes:core/v1:Namespace"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
KUBERNETES_SECRET = "kubernetes:core/v1:Secret"
SERVICE = "kubernetes:core/v1:Service"
PERSISTENT_VOLUME = "kubernetes:core/v1:PersistentVolume"
PERSISTENT_VOLUME_CLAIM = "kubernetes:core/v1:PersistentVolumeClaim"
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
JOB = "kubernetes:batch/v1:Job"
CRON_JOB = "kubernetes:batch/v1:CronJob"
STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
INGRESS_CLASS = "kubernetes:networking.k8s.io/v1:IngressClass"
# The AWS Load Balancer Controller's class parameters: one per environment's load balancer.
INGRESS_CLASS_PARAMS = "kubernetes:elbv2.k8s.aws/v1beta1:IngressClassParams"
PRIORITY_CLASS = "kubernetes:scheduling.k8s.io/v1:PriorityClass"
NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
EC2_NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
SERVICE_MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
ARGOCD_APP_PROJECT = "kubernetes:argoproj.io/v1alpha1:AppProject"
ARGOCD_APPLICATION_SET = "kubernetes:argoproj.io/v1alpha1:ApplicationSet"


def short_name(type_token: str) -> str:
    """The type's last part, as people say it: ``aws:ec2/natGateway:NatGateway`` -> NatGateway."""
    return type_token.rsplit(":", 1)[-1]
