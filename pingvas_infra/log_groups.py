"""The CloudWatch log groups the stack writes to, named in one place.

Three layers own one group each (the network its flow logs, the cluster the EKS control
plane's, the data layer Aurora's PostgreSQL log); the logs key (network layer) admits the
CloudWatch Logs service for exactly these groups, by name, so it must know them all before
any of them exists. `__main__.py` builds this once and hands it to the three layers.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

POSTGRESQL_LOG = "postgresql"


def aurora_cluster_identifier(project: str) -> str:
    """The one Aurora cluster's identifier (the data layer names the cluster with it)."""
    return f"{project}-shared-aurora"


@dataclass(frozen=True)
class StackLogGroups:
    flow_logs: str
    eks_control_plane: str
    aurora_postgresql: str

    @classmethod
    def for_stack(cls, *, project: str, network_name: str, cluster_name: str) -> StackLogGroups:
        return cls(
            # Where VPC flow logs go (network layer).
            flow_logs=f"/aws/vpc/{network_name}-flow-logs",
            # EKS writes its control-plane logs to exactly this group.
            eks_control_plane=f"/aws/eks/{cluster_name}/cluster",
            # RDS exports the PostgreSQL log to exactly this group.
            aurora_postgresql=(
                f"/aws/rds/cluster/{aurora_cluster_identifier(project)}/{POSTGRESQL_LOG}"
            ),
        )

    def names(self) -> tuple[str, ...]:
        return (self.flow_logs, self.eks_control_plane, self.aurora_postgresql)

    def arns(self, region: str, account_id: pulumi.Input[str]) -> list[pulumi.Output[str]]:
        """The groups' ARNs as CloudWatch Logs puts them in the encryption context."""
        return [
            pulumi.Output.concat("arn:aws:logs:", region, ":", account_id, ":log-group:", name)
            for name in self.names()
        ]
