"""Typed models of Karpenter's v1 NodePool and EC2NodeClass, for the fields this stack uses.

Transcribed from the CRDs Karpenter 1.14.1 installs (pkg/apis/crds/karpenter.sh_nodepools.yaml
and karpenter.k8s.aws_ec2nodeclasses.yaml): enums, patterns, bounds and the CEL rules that
matter here. Unknown fields are refused, so a misspelt key fails in a test instead of being
pruned silently by the API server. Validate a rendered object with ``validate(document)``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic.alias_generators import to_camel

# Patterns copied from the CRD schemas.
_LABEL_KEY = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*(\/))?"
    r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$"
)
_LABEL_VALUE = r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"
_DURATION_OR_NEVER = r"^(([0-9]+(s|m|h))+|Never)$"
_DURATION = r"^([0-9]+(s|m|h))+$"
_BUDGET_NODES = r"^((100|[0-9]{1,2})%|[0-9]+)$"
_VOLUME_SIZE = (
    r"^((?:[1-9][0-9]{0,3}|[1-4][0-9]{4}|[5][0-8][0-9]{3}|59000)Gi"
    r"|(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|[6][0-3][0-9]{3}|64000)G"
    r"|([1-9]||[1-5][0-7]|58)Ti|([1-9]||[1-5][0-9]|6[0-3]|64)T)$"
)
_ALIAS_FAMILIES = ("al2", "al2023", "bottlerocket", "windows2019", "windows2022", "windows2025")

LabelKey = Annotated[str, StringConstraints(pattern=_LABEL_KEY, max_length=316)]
LabelValue = Annotated[str, StringConstraints(pattern=_LABEL_VALUE, max_length=63)]
Quantity = Annotated[str, StringConstraints(pattern=r"^[0-9]+(\.[0-9]+)?([KMGTPE]i?|[mk])?$")]


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


# --- NodePool (karpenter.sh/v1) -------------------------------------------------------


class NodeClassRef(_Model):
    group: Annotated[str, StringConstraints(pattern=r"^[^/]*$")]
    kind: str
    name: str


class Requirement(_Model):
    key: LabelKey
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt", "Gte", "Lte"]
    values: list[LabelValue] = Field(default_factory=list)
    min_values: Annotated[int, Field(ge=1, le=50)] | None = None

    @model_validator(mode="after")
    def _values_match_operator(self) -> Requirement:
        if self.operator in ("In", "NotIn") and not self.values:
            raise ValueError(f"{self.key}: operator {self.operator} needs values")
        if self.operator in ("Exists", "DoesNotExist") and self.values:
            raise ValueError(f"{self.key}: operator {self.operator} takes no values")
        return self


class Taint(_Model):
    key: LabelKey
    value: Annotated[str, StringConstraints(pattern=_LABEL_KEY)] | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]


class NodeClaimTemplateMetadata(_Model):
    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class NodeClaimTemplateSpec(_Model):
    node_class_ref: NodeClassRef
    requirements: Annotated[list[Requirement], Field(max_length=100)]
    taints: list[Taint] = Field(default_factory=list)
    startup_taints: list[Taint] = Field(default_factory=list)
    expire_after: Annotated[str, StringConstraints(pattern=_DURATION_OR_NEVER)] = "720h"
    termination_grace_period: Annotated[str, StringConstraints(pattern=_DURATION)] | None = None


class NodeClaimTemplate(_Model):
    metadata: NodeClaimTemplateMetadata = Field(default_factory=NodeClaimTemplateMetadata)
    spec: NodeClaimTemplateSpec


class Budget(_Model):
    nodes: Annotated[str, StringConstraints(pattern=_BUDGET_NODES)] = "10%"
    schedule: str | None = None
    duration: str | None = None
    reasons: list[Literal["Underutilized", "Empty", "Drifted"]] | None = None

    @model_validator(mode="after")
    def _schedule_with_duration(self) -> Budget:
        # CRD rule: 'schedule' must be set with 'duration'.
        if (self.schedule is None) != (self.duration is None):
            raise ValueError("schedule and duration go together")
        return self


class Disruption(_Model):
    consolidation_policy: Literal["WhenEmpty", "WhenEmptyOrUnderutilized", "Balanced"] = (
        "WhenEmptyOrUnderutilized"
    )
    consolidate_after: Annotated[str, StringConstraints(pattern=_DURATION_OR_NEVER)]
    budgets: Annotated[list[Budget], Field(max_length=50)] = Field(
        default_factory=lambda: [Budget()]
    )


class NodePoolSpec(_Model):
    template: NodeClaimTemplate
    disruption: Disruption
    limits: dict[str, Quantity | int] = Field(default_factory=dict)
    weight: Annotated[int, Field(ge=1, le=100)] | None = None


# --- EC2NodeClass (karpenter.k8s.aws/v1) ----------------------------------------------


class AmiSelectorTerm(_Model):
    alias: Annotated[str, StringConstraints(max_length=30)] | None = None
    id: Annotated[str, StringConstraints(pattern=r"ami-[0-9a-z]+")] | None = None
    name: str | None = None
    owner: str | None = None
    ssm_parameter: str | None = None
    tags: dict[str, str] | None = None

    @model_validator(mode="after")
    def _alias_rules(self) -> AmiSelectorTerm:
        if self.alias is None:
            return self
        if not re.match(r"^[a-zA-Z0-9]+@.+$", self.alias):
            raise ValueError("'alias' is improperly formatted, must match 'family@version'")
        family, version = self.alias.split("@", 1)
        if family not in _ALIAS_FAMILIES:
            raise ValueError(f"alias family must be one of {', '.join(_ALIAS_FAMILIES)}")
        if family.startswith("windows") and version != "latest":
            raise ValueError("windows families may only specify version 'latest'")
        if any(v is not None for v in (self.id, self.name, self.owner, self.tags)):
            raise ValueError("'alias' is mutually exclusive with the other selector fields")
        return self


class SelectorTerm(_Model):
    id: str | None = None
    name: str | None = None
    tags: dict[str, str] | None = None

    @model_validator(mode="after")
    def _something_selected(self) -> SelectorTerm:
        if self.tags is not None and any(not k or not v for k, v in self.tags.items()):
            raise ValueError("empty tag keys or values aren't supported")
        if self.id is None and self.name is None and not self.tags:
            raise ValueError("expected at least one of tags, id, name")
        return self


class MetadataOptions(_Model):
    http_endpoint: Literal["enabled", "disabled"] = "enabled"
    http_protocol_ipv6: Literal["enabled", "disabled"] = Field(
        default="disabled", alias="httpProtocolIPv6"
    )
    http_put_response_hop_limit: Annotated[int, Field(ge=1, le=64)] = 1
    http_tokens: Literal["required", "optional"] = "required"


class BlockDevice(_Model):
    delete_on_termination: bool | None = None
    encrypted: bool | None = None
    iops: int | None = None
    kms_key_id: str | None = Field(default=None, alias="kmsKeyID")
    snapshot_id: str | None = Field(default=None, alias="snapshotID")
    throughput: int | None = None
    volume_size: Annotated[str, StringConstraints(pattern=_VOLUME_SIZE)] | None = None
    volume_type: Literal["standard", "io1", "io2", "gp2", "sc1", "st1", "gp3"] | None = None

    @model_validator(mode="after")
    def _size_or_snapshot(self) -> BlockDevice:
        if self.snapshot_id is None and self.volume_size is None:
            raise ValueError("snapshotID or volumeSize must be defined")
        return self


class BlockDeviceMapping(_Model):
    device_name: str | None = None
    ebs: BlockDevice | None = None
    root_volume: bool = False


_RESERVED_KEYS = ("cpu", "memory", "ephemeral-storage", "pid")
_SIGNED_QUANTITY = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]"
    r"|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)


class Kubelet(_Model):
    """The fields of `spec.kubelet` this stack sets."""

    max_pods: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = None
    kube_reserved: dict[str, Annotated[str, StringConstraints(pattern=_SIGNED_QUANTITY)]] | None = (
        None
    )

    @model_validator(mode="after")
    def _crd_rules(self) -> Kubelet:
        reserved = self.kube_reserved or {}
        if any(key not in _RESERVED_KEYS for key in reserved):
            raise ValueError(f"valid keys for kubeReserved are {list(_RESERVED_KEYS)}")
        if any(value.startswith("-") for value in reserved.values()):
            raise ValueError("kubeReserved value cannot be a negative resource quantity")
        return self


class EC2NodeClassSpec(_Model):
    ami_family: (
        Literal[
            "AL2", "AL2023", "Bottlerocket", "Custom", "Windows2019", "Windows2022", "Windows2025"
        ]
        | None
    ) = None
    ami_selector_terms: Annotated[list[AmiSelectorTerm], Field(min_length=1, max_length=30)]
    subnet_selector_terms: Annotated[list[SelectorTerm], Field(max_length=30)]
    security_group_selector_terms: Annotated[list[SelectorTerm], Field(max_length=30)]
    associate_public_ip_address: bool | None = Field(default=None, alias="associatePublicIPAddress")
    role: str | None = None
    instance_profile: str | None = None
    metadata_options: MetadataOptions = Field(default_factory=MetadataOptions)
    block_device_mappings: Annotated[list[BlockDeviceMapping], Field(max_length=50)] = Field(
        default_factory=list
    )
    tags: dict[str, str] = Field(default_factory=dict)
    user_data: str | None = None
    kubelet: Kubelet | None = None
    detailed_monitoring: bool | None = None

    @model_validator(mode="after")
    def _crd_rules(self) -> EC2NodeClassSpec:
        if (self.role is None) == (self.instance_profile is None):
            raise ValueError("must specify exactly one of ['role', 'instanceProfile']")
        if any(t.alias for t in self.ami_selector_terms) and len(self.ami_selector_terms) != 1:
            raise ValueError("'alias' is mutually exclusive with other amiSelectorTerms")
        if sum(1 for m in self.block_device_mappings if m.root_volume) > 1:
            raise ValueError("must have only one blockDeviceMappings with rootVolume")
        return self


# --- Objects ----------------------------------------------------------------------------


class ObjectMeta(_Model):
    name: Annotated[str, StringConstraints(pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")]
    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class NodePool(_Model):
    api_version: Literal["karpenter.sh/v1"]
    kind: Literal["NodePool"]
    metadata: ObjectMeta
    spec: NodePoolSpec


class EC2NodeClass(_Model):
    api_version: Literal["karpenter.k8s.aws/v1"]
    kind: Literal["EC2NodeClass"]
    metadata: ObjectMeta
    spec: EC2NodeClassSpec


def validate(document: dict[str, Any]) -> NodePool | EC2NodeClass:
    """Parse a rendered Karpenter object; raises pydantic.ValidationError when invalid."""
    if document.get("kind") == "EC2NodeClass":
        return EC2NodeClass.model_validate(document)
    return NodePool.model_validate(document)
