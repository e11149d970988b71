"""pingvas-infra: one Pulumi program for the pingvas single-cluster platform."""
