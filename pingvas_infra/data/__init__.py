"""Data layer: the shared Aurora PostgreSQL Serverless v2 cluster and ElastiCache."""
