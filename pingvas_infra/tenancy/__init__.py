"""Tenancy layer: namespaces, quotas, network policies, priority classes, per-environment
secrets, schema and cache separation."""
