"""Every node's user data: a MIME multi-part document whose NodeConfig nodeadm accepts,
with a PID limit per pod, on the system nodes, the GPU nodes and the system tier's
overflow nodes.

Checked against nodeadm's own NodeConfig CRD schema (tests/fixtures/nodeadm/, from
awslabs/amazon-eks-ami) with a JSON Schema validator, and the kubelet settings against the
KubeletConfiguration fields nodeadm's kubelet version knows. What is not checked here:
nodeadm itself and the kubelet enforcing the limit (no EC2 instance), and the NodeConfig
EKS or Karpenter add beside this one (neither sets podPidsLimit: Karpenter's v1
EC2NodeClass `kubelet` block has no such field, tests/support/karpenter_schema.py).
"""

from __future__ import annotations

import base64
import email
from email.message import Message
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from pingvas_infra import resource_types as rt
from pingvas_infra.gpu.component import OVERFLOW_NODE_CLASS
from pingvas_infra.node_user_data import NODE_CONFIG_CONTENT_TYPE, POD_PIDS_LIMIT
from pingvas_infra.plan.model import PlanResult

FIXTURES = Path(__file__).parent / "fixtures" / "nodeadm"


def node_config_schema() -> dict[str, Any]:
    (document,) = list(yaml.safe_load_all((FIXTURES / "node.eks.aws_nodeconfigs.yaml").read_text()))
    (version,) = document["spec"]["versions"]
    return dict(version["schema"]["openAPIV3Schema"])


def kubelet_fields() -> set[str]:
    document = yaml.safe_load((FIXTURES / "kubelet-configuration-fields.yaml").read_text())
    return set(document["fields"])


def user_data(graph: PlanResult) -> dict[str, Message]:
    """The system group's launch template and each EC2NodeClass: the GPU nodes' and the
    system tier's overflow nodes'."""
    (template,) = graph.of_type(rt.LAUNCH_TEMPLATE)
    classes = {
        "overflow" if c.inputs["metadata"]["name"] == OVERFLOW_NODE_CLASS else "gpu": c
        for c in graph.of_type(rt.EC2_NODE_CLASS)
    }
    assert len(classes) == len(graph.of_type(rt.EC2_NODE_CLASS)) == 2
    return {
        "system": email.message_from_string(base64.b64decode(template.inputs["userData"]).decode()),
        **{
            nodes: email.message_from_string(c.inputs["spec"]["userData"])
            for nodes, c in classes.items()
        },
    }


def node_configs(message: Message) -> list[dict[str, Any]]:
    assert message.is_multipart()
    return [
        yaml.safe_load(str(part.get_payload()))
        for part in message.get_payload()
        if isinstance(part, Message) and part.get_content_type() == NODE_CONFIG_CONTENT_TYPE
    ]


@pytest.mark.parametrize("nodes", ["system", "gpu", "overflow"])
def test_every_node_limits_the_pids_of_each_pod(graph: PlanResult, nodes: str) -> None:
    (config,) = node_configs(user_data(graph)[nodes])
    assert config["spec"]["kubelet"]["config"]["podPidsLimit"] == POD_PIDS_LIMIT
    assert isinstance(POD_PIDS_LIMIT, int) and POD_PIDS_LIMIT > 0


@pytest.mark.parametrize("nodes", ["system", "gpu", "overflow"])
def test_the_node_config_is_one_nodeadm_accepts(graph: PlanResult, nodes: str) -> None:
    """The CRD renders kubelet.config as a map of objects (controller-gen's form of a raw
    JSON map); its values are checked against the kubelet's own fields instead."""
    (config,) = node_configs(user_data(graph)[nodes])
    assert config["apiVersion"] == "node.eks.aws/v1alpha1"
    assert config["kind"] == "NodeConfig"
    kubelet_config = config["spec"]["kubelet"].pop("config")
    jsonschema.validate(config, node_config_schema())
    assert set(kubelet_config) <= kubelet_fields()


def test_the_validation_would_catch_a_misspelt_setting() -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(
            {"apiVersion": "node.eks.aws/v1alpha1", "kind": "NodeConfig", "spec": {"kubelet": []}},
            node_config_schema(),
        )
    assert "podPIDsLimit" not in kubelet_fields()
    assert "podPidsLimit" in kubelet_fields()
