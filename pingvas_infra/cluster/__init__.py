"""Cluster layer: the EKS control plane, its add-ons and the spot system node group."""
