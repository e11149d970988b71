"""Storage layer: S3 buckets, the EFS model store, per-environment workload IAM."""
