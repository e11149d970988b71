"""Explicit providers shared by every layer."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from pingvas_infra.config import StackConfig


def aws_provider(config: StackConfig) -> aws.Provider:
    """The AWS provider every layer uses.

    Its default tags (Project, Environment=shared, ManagedBy=pulumi) land on every taggable
    resource, including those that pulumi-eks creates inside its components. It is built
    from the config alone: an explicit provider reads no `aws:` key of the stack file, so
    every `aws:` key is either passed here or refused by the config check.
    """
    return aws.Provider(
        "aws",
        region=config.region,
        allowed_account_ids=list(config.allowed_account_ids) or None,
        default_tags=aws.ProviderDefaultTagsArgs(tags=config.default_tags()),
    )


def layer_options(
    provider: aws.Provider, kubernetes: k8s.Provider | None = None, **extra: object
) -> pulumi.ResourceOptions:
    """Options for a layer component: children inherit the providers through `parent`.

    Layers that create Kubernetes objects also get the one explicit Kubernetes provider
    (built in __main__ from the cluster's kubeconfig), never an ambient kubeconfig.
    """
    providers: dict[str, pulumi.ProviderResource] = {"aws": provider}
    if kubernetes is not None:
        providers["kubernetes"] = kubernetes
    return pulumi.ResourceOptions(providers=providers, **extra)  # type: ignore[arg-type]
