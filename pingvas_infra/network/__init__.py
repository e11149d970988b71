"""Network layer: VPC, three subnet tiers, NAT, routes and the S3 gateway endpoint."""
