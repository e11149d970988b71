"""Explicit providers shared by every layer."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from pingvas_infra.config import StackConfig


def aws_provider(config: StackConfig) -> aws.Provider:
    """The AWS provider every layer uses.

    Its default tags (Project, Environment=shared, ManagedBy=pulumi) land on every taggable
    resource, including those that pulumi-eks creates inside its components.
    """
    return aws.Provider(
        "aws",
        region=config.region,
        default_tags=aws.ProviderDefaultTagsArgs(tags=config.default_tags()),
    )


def layer_options(provider: aws.Provider, **extra: object) -> pulumi.ResourceOptions:
    """Options for a layer component: children inherit the provider through `parent`."""
    return pulumi.ResourceOptions(providers={"aws": provider}, **extra)  # type: ignore[arg-type]
