"""EC2 instance shapes from `tables/instance_types.yaml`, shared by the layers that pick
instance types (the system node group, the GPU NodePools) and by the cost estimate."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from pingvas_infra.tables import load_table


@dataclass(frozen=True)
class InstanceShape:
    name: str
    vcpu: int
    memory_gib: float
    gpus: int
    architecture: str
    gpu_model: str | None = None

    @property
    def family(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def size_class(self) -> tuple[int, float]:
        """What makes two types interchangeable for the scheduler: vCPUs and memory."""
        return (self.vcpu, self.memory_gib)


@cache
def instance_shapes() -> dict[str, InstanceShape]:
    rows = load_table("instance_types")["instance_types"]
    return {name: InstanceShape(name=name, **row) for name, row in rows.items()}


@cache
def gpu_families() -> dict[str, dict[str, object]]:
    """GPU family -> {gpu_model, gpu_memory_gib}."""
    return dict(load_table("instance_types")["gpu_families"])


def general_purpose_types() -> list[str]:
    """Types without GPUs: the candidates for the system node group."""
    return [name for name, shape in instance_shapes().items() if shape.gpus == 0]


def types_of_family(family: str) -> list[InstanceShape]:
    return [shape for shape in instance_shapes().values() if shape.family == family]
