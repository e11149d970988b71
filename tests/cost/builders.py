"""Hand-built resources and profiles for testing pricing rules in isolation."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from pingvas_infra.cost.data import UsageProfile, load_workload
from pingvas_infra.cost.model import CostLine, Priced
from pingvas_infra.cost.pricing import price_design
from pingvas_infra.plan.model import RecordedResource
from pingvas_infra.price_tables import load_price_table
from tests.support.plan_graph import recorded_resource

HOURS = 730

ZERO_PROFILE: dict[str, Any] = {
    "name": "test",
    "description": "hand-built for a test",
    "gpu": {"pools": {}},
    "aurora": {"writerConnected": True, "storageGb": 0, "ioMillions": 0},
    "nat": {"processedGb": 0},
    "internet": {"dataTransferOutGb": 0, "cloudfrontGb": 0},
    "s3": {"storedGb": {}},
    "efs": {
        "standardGb": 0,
        "infrequentAccessGb": 0,
        "elasticReadGb": 0,
        "elasticWriteGb": 0,
    },
    "logs": {"ingestedGb": {}},
    "interfaceEndpoints": {"processedGb": 0},
    "loadBalancers": {"environments": {}},
}


def profile(**sections: dict[str, Any]) -> UsageProfile:
    """The all-zero profile with some sections replaced (camelCase keys)."""
    document = copy.deepcopy(ZERO_PROFILE)
    for key, value in sections.items():
        document[key] = {**document[key], **value}
    return UsageProfile.model_validate(document)


def resource(
    type_token: str,
    name: str,
    inputs: dict[str, Any] | None = None,
    *,
    layer: str = "test",
    dependencies: Sequence[str] = (),
    resource_id: str | None = None,
) -> RecordedResource:
    return recorded_resource(
        f"urn:pulumi:test::cost::pingvas:{layer}:Layer${type_token}::{name}",
        type_token,
        name,
        inputs,
        dependencies=dependencies,
        resource_id=resource_id,
    )


def price(resources: Sequence[RecordedResource], usage: UsageProfile | None = None) -> Priced:
    """Price with the us-east-1 table; workload lines are left out."""
    priced = price_design(
        resources, load_price_table("us-east-1"), usage or profile(), load_workload()
    )
    priced.lines = [line for line in priced.lines if line.layer != "workload"]
    return priced


def line(priced: Priced, component_start: str, resource_name: str | None = None) -> CostLine:
    found = [
        item
        for item in priced.lines
        if item.component.startswith(component_start)
        and (resource_name is None or item.resource == resource_name)
    ]
    assert len(found) == 1, [item.key for item in priced.lines]
    return found[0]
