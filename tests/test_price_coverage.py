"""Every value the config accepts has a price, in every region the config accepts.

The accepted values are enumerated from the config's own tables (instance types, GPU
families, cache node types) and its options (EFS throughput modes, EKS support types); for
each priced region, each value is either refused by the config in that region, or accepted
and priced by the cost rules with no unpriced line."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from pingvas_infra import resource_types as rt
from pingvas_infra.config import ConfigError
from pingvas_infra.cost.data import load_profiles, load_workload
from pingvas_infra.cost.pricing import price_design
from pingvas_infra.instances import general_purpose_types, gpu_families, types_of_family
from pingvas_infra.plan.model import PlanResult, RecordedResource
from pingvas_infra.plan.stackfile import StackFile
from pingvas_infra.price_tables import load_price_table, priced_regions, table_regions
from pingvas_infra.storage.config import EfsConfig
from pingvas_infra.tables import load_table
from tests.support.config_cases import config_with

CACHE_NODE_TYPES = list(load_table("cache_node_types")["node_types"])
SYSTEM_TYPES = general_purpose_types()
FAMILIES = list(gpu_families())


def _accepted(stack_file: StackFile, region: str, overrides: dict[str, Any]) -> bool:
    try:
        config_with(stack_file, {"aws:region": region, **overrides})
    except ConfigError:
        return False
    return True


def _with_inputs(
    graph: PlanResult, type_token: str, updates: dict[str, Any]
) -> list[RecordedResource]:
    """The default graph with ``updates`` set on the inputs of every ``type_token``."""
    return [
        dataclasses.replace(
            r,
            inputs={**r.inputs, **updates},
            raw_inputs={**(r.raw_inputs or r.inputs), **updates},
        )
        if r.type == type_token
        else r
        for r in graph.resources
    ]


def _unpriced(region: str, resources: list[RecordedResource]) -> list[str]:
    table = load_price_table(region)
    found = []
    for profile in load_profiles().values():
        priced = price_design(resources, table, profile, load_workload())
        found += [f"{u.resource}: {u.reason}" for u in priced.unpriced]
    return found


def test_the_config_accepts_only_priced_regions(stack_file: StackFile) -> None:
    regions = load_table("regions")["regions"]
    assert set(priced_regions()) <= set(table_regions()) <= set(regions)
    for region in regions:
        assert _accepted(stack_file, region, {}) == (region in priced_regions()), region


@pytest.mark.parametrize("region", priced_regions())
def test_the_default_stack_has_no_unpriced_line_in_a_priced_region(
    region: str, graph: PlanResult
) -> None:
    assert _unpriced(region, list(graph.resources)) == []


@pytest.mark.parametrize("region", priced_regions())
def test_every_accepted_system_node_type_is_priced(
    region: str, stack_file: StackFile, graph: PlanResult
) -> None:
    table = load_price_table(region)
    for name in SYSTEM_TYPES:
        priced = table.ec2_hourly(name) is not None
        # Three types of one size class: the type under test and two priced siblings.
        shape = {t for t in SYSTEM_TYPES if t != name and table.ec2_hourly(t) is not None}
        group = [name, *sorted(shape)[:2]]
        overrides = {"pingvas-infra:cluster": {"systemNodes": {"instanceTypes": group}}}
        accepted = _accepted(stack_file, region, overrides)
        if not priced:
            assert not accepted, name
            continue
        resources = _with_inputs(graph, rt.EKS_NODE_GROUP_COMPONENT, {"instanceTypes": [name]})
        assert _unpriced(region, resources) == [], name


@pytest.mark.parametrize("region", priced_regions())
def test_every_accepted_gpu_family_and_cache_node_type_is_priced(
    region: str, stack_file: StackFile, graph: PlanResult
) -> None:
    table = load_price_table(region)
    for family in FAMILIES:
        accepted = _accepted(
            stack_file, region, {"pingvas-infra:gpu": {"instanceFamilies": [family]}}
        )
        assert accepted == all(table.ec2_hourly(s.name) for s in types_of_family(family)), family
    for node_type in CACHE_NODE_TYPES:
        accepted = _accepted(
            stack_file, region, {"pingvas-infra:data": {"cache": {"nodeType": node_type}}}
        )
        assert accepted == (table.cache_hourly(node_type) is not None), node_type
        if accepted:
            resources = _with_inputs(graph, rt.CACHE_REPLICATION_GROUP, {"nodeType": node_type})
            assert _unpriced(region, resources) == [], node_type


@pytest.mark.parametrize("region", priced_regions())
def test_every_storage_option_and_support_type_is_priced(region: str, graph: PlanResult) -> None:
    modes = EfsConfig.model_fields["throughput_mode"].annotation.__args__  # type: ignore[union-attr]
    for mode in modes:
        resources = _with_inputs(graph, rt.EFS_FILE_SYSTEM, {"throughputMode": mode})
        assert _unpriced(region, resources) == [], mode
    for support in ("STANDARD", "EXTENDED"):
        resources = _with_inputs(
            graph,
            rt.EKS_CLUSTER_COMPONENT,
            {"upgradePolicy": {"supportType": support}},
        )
        assert _unpriced(region, resources) == [], support
        assert load_price_table(region).prices["eks-cluster-hour-extended"].usd is not None


def test_a_setting_the_region_does_not_price_is_refused_naming_what_it_prices(
    stack_file: StackFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As for eu-west-1, which offers no g6 or g6e: a table without a family's or a node
    type's price refuses that setting in its region, listing the priced ones."""
    table = load_price_table("us-east-1")
    hourly = {t: p for t, p in table.ec2_on_demand.hourly.items() if not t.startswith("g6")}
    valkey = {n: p for n, p in table.elasticache_nodes["valkey"].hourly.items() if "r7g" not in n}
    thinner = table.model_copy(
        update={
            "ec2_on_demand": table.ec2_on_demand.model_copy(update={"hourly": hourly}),
            "elasticache_nodes": {
                **table.elasticache_nodes,
                "valkey": table.elasticache_nodes["valkey"].model_copy(update={"hourly": valkey}),
            },
        }
    )
    monkeypatch.setattr("pingvas_infra.config.load_price_table", lambda region: thinner)
    with pytest.raises(ConfigError) as refused:
        config_with(
            stack_file,
            {
                "pingvas-infra:gpu": {"instanceFamilies": ["g4dn", "g6"]},
                "pingvas-infra:data": {"cache": {"nodeType": "cache.r7g.large"}},
            },
        )
    message = str(refused.value)
    assert (
        'pingvas-infra:gpu.instanceFamilies[1] = "g6": a family priced in us-east-1: g4dn, g5'
        in message
    )
    assert "pingvas-infra:data.cache.nodeType" in message and "cache.t4g.micro" in message
    # Each refusal once: the message is what a person reads and fixes, line by line.
    assert message.count("pingvas-infra:gpu.instanceFamilies[1] =") == 1
