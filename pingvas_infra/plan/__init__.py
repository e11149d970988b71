"""The offline plan: the Pulumi program under the mock engine, and what it writes."""
