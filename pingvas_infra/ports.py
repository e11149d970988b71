"""The TCP ports of the services the stack runs or reaches, each named once.

The data layer listens on them, the security groups, NetworkPolicies and the policy
controls guard them, the local environment publishes them and the offline engine answers
with them.
"""

from __future__ import annotations

from typing import Final

DNS_PORT: Final = 53
HTTPS_PORT: Final = 443
# Aurora PostgreSQL's default port.
POSTGRESQL_PORT: Final = 5432
# Valkey (ElastiCache) speaks the Redis protocol on Redis's port.
REDIS_PORT: Final = 6379
# EFS mounts over NFSv4.1.
NFS_PORT: Final = 2049
