"""Who gets kubectl, and how much: the access entries of the cluster's people.

Four lists, one per kind of access, each principal in at most one (EKS allows one access
entry per principal):

- admins: AmazonEKSClusterAdminPolicy, cluster-wide;
- each environment's people: AmazonEKSEditPolicy in their environment's namespace only,
  and the Kubernetes group ``pingvas:people:<env>``, which the admission policies use to
  keep them off the platform's own objects in that namespace (NetworkPolicies, quotas);
- viewers: AmazonEKSViewPolicy, cluster-wide. It reads ConfigMaps, pods (with their
  environment variables) and events in every namespace, prod's included, but no Secrets.

The identity running `pulumi up` is cluster admin already: EKS gives the cluster's creator
its own access entry, and listing it again makes EKS answer 409 ResourceInUseException
(pulumi-eks issue 2373). `creator_problem` finds it before anything is created.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import Enum

ACCESS_POLICY_PREFIX = "arn:aws:eks::aws:cluster-access-policy/"
PEOPLE_GROUP_PREFIX = "pingvas:people:"
# IAM users and roles (paths allowed) in any AWS partition: what an access entry accepts.
PRINCIPAL_ARN = re.compile(
    r"^arn:(?P<partition>aws|aws-cn|aws-us-gov):iam::(?P<account>\d{12}):"
    r"(?P<kind>role|user)/(?P<path>(?:[\w+=,.@-]+/)*)(?P<name>[\w+=,.@-]{1,128})$"
)
# What GetCallerIdentity answers for the identity running the program.
_CALLER = re.compile(
    r"^arn:(?P<partition>[\w-]+):(?:sts::(?P<sts_account>\d{12}):assumed-role/(?P<role>[^/]+)/.+"
    r"|iam::(?P<iam_account>\d{12}):user/(?:.+/)?(?P<user>[^/]+))$"
)


class Access(Enum):
    """A kind of access: the access policy it grants and where."""

    ADMIN = ("admin", "AmazonEKSClusterAdminPolicy")
    ENVIRONMENT = ("env", "AmazonEKSEditPolicy")
    VIEWER = ("viewer", "AmazonEKSViewPolicy")

    @property
    def short(self) -> str:
        return self.value[0]

    @property
    def policy_arn(self) -> str:
        return ACCESS_POLICY_PREFIX + self.value[1]


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def people_group(environment: str) -> str:
    return f"{PEOPLE_GROUP_PREFIX}{environment}"


@dataclass(frozen=True)
class Principal:
    """An IAM role or user ARN, taken apart."""

    arn: str
    partition: str
    account: str
    kind: str
    path: str
    name: str

    @classmethod
    def parse(cls, arn: str) -> Principal | None:
        found = PRINCIPAL_ARN.match(arn)
        if not found:
            return None
        return cls(
            arn, found["partition"], found["account"], found["kind"], found["path"], found["name"]
        )

    @property
    def identity(self) -> tuple[str, str, str]:
        """What IAM keeps unique: the account, role-or-user and name (paths aside)."""
        return self.account, self.kind, self.name


def access_entry_name(access: Access, arn: str) -> str:
    """A resource name unique to the full ARN and stable whatever the list order:
    readable parts, then a hash of the whole ARN, so a user and a role of one name, or one
    name under two paths, never share a name."""
    principal = Principal.parse(arn)
    readable = f"{principal.account}-{principal.kind}-{principal.name}" if principal else "x"
    readable = re.sub(r"[^A-Za-z0-9-]", "-", readable)[:60]
    digest = hashlib.sha256(arn.encode()).hexdigest()[:8]
    return f"{access.short}-{readable}-{digest}"


def caller_identity(caller_arn: str) -> tuple[str, str, str] | None:
    """(account, role|user, name) of a GetCallerIdentity ARN; None for the account root
    or anything else that no access entry can name."""
    found = _CALLER.match(caller_arn)
    if not found:
        return None
    if found["role"]:
        return found["sts_account"], "role", found["role"]
    return found["iam_account"], "user", found["user"]


def creator_problem(caller_arn: str, listed: dict[str, str]) -> tuple[str, str] | None:
    """(key, ARN) of the listed principal that is the identity running the program, if any.

    ``listed`` maps each full config key to its ARN. An assumed-role session names its role
    without the role's path; IAM role names are unique per account whatever the path, so
    account, kind and name identify it.
    """
    caller = caller_identity(caller_arn)
    if caller is None:
        return None
    for key, arn in listed.items():
        principal = Principal.parse(arn)
        if principal is not None and principal.identity == caller:
            return key, arn
    return None
