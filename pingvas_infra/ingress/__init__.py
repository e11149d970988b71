"""The ingress layer: the AWS Load Balancer Controller and one internet entry per environment."""
