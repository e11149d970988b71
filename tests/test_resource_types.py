"""The resource type vocabulary: every token names what the SDKs really register."""

from __future__ import annotations

from pingvas_infra import resource_types as rt
from pingvas_infra.sdk_internals import resource_class
from tests.support.plan_graph import is_custom_resource

ENGINE_TYPES = {rt.STACK, rt.AWS_PROVIDER, rt.KUBERNETES_PROVIDER}
INVOKES = {
    rt.GET_CALLER_IDENTITY,
    rt.GET_REGION,
    rt.GET_PARTITION,
    rt.GET_AVAILABILITY_ZONES,
    rt.GET_SESSION_CONTEXT,
}


def type_tokens() -> dict[str, str]:
    """Constant name -> token, for every full type token the vocabulary names."""
    return {
        name: value
        for name, value in vars(rt).items()
        if name.isupper()
        and isinstance(value, str)
        and value.count(":") == 2
        and not value.endswith(":")
    }


def test_every_type_token_is_a_class_its_sdk_generates() -> None:
    unknown = {
        name: token
        for name, token in type_tokens().items()
        if token not in ENGINE_TYPES | INVOKES
        and not is_custom_resource(token)
        and resource_class(token) is None
    }
    assert unknown == {}


def test_each_token_is_named_once() -> None:
    tokens = list(type_tokens().values())
    assert len(tokens) == len(set(tokens))


def test_the_eks_component_and_the_cluster_it_creates_have_distinct_names() -> None:
    assert rt.EKS_CLUSTER_COMPONENT == "eks:index:Cluster"
    assert rt.EKS_CLUSTER == "aws:eks/cluster:Cluster"
    assert resource_class(rt.EKS_CLUSTER_COMPONENT) is not None
    assert resource_class(rt.EKS_CLUSTER) is not None


def test_short_name_is_the_last_part() -> None:
    assert rt.short_name(rt.NAT_GATEWAY) == "NatGateway"
