"""How much of a system node's root volume one pod may write (tables/node_disk.yaml).

Environment pods and the prod backup share the system nodes with the platform. The
scheduler places a pod by its ephemeral-storage request, never its limit, so a pod may
write up to its limit wherever it lands: that limit must fit what the node's disk leaves
before the kubelet starts deleting cached images.
"""

from __future__ import annotations

import math
from functools import cache

from pingvas_infra.manifests import load_documents
from pingvas_infra.quantities import parse_quantity
from pingvas_infra.tables import load_table

LIMIT_RANGE_FILE = "limit-ranges.yaml"


@cache
def _table() -> dict[str, int]:
    table = load_table("node_disk")
    return {
        key: int(table[key])
        for key in (
            "imageGcHighThresholdPercent",
            "evictionNodefsAvailablePercent",
            "nodeFootprintGib",
        )
    }


def reserve_text() -> str:
    table = _table()
    return (
        f"the kubelet deletes cached images once the disk is "
        f"{table['imageGcHighThresholdPercent']}% full (before it evicts at "
        f"{table['evictionNodefsAvailablePercent']}% free), and the node holds about "
        f"{table['nodeFootprintGib']} GiB before any pod writes (tables/node_disk.yaml)"
    )


def pod_disk_budget_gib(disk_size_gib: int) -> int:
    """The most one pod may write to a node with a ``disk_size_gib`` root volume."""
    table = _table()
    usable = disk_size_gib * table["imageGcHighThresholdPercent"] / 100
    return max(0, math.floor(usable - table["nodeFootprintGib"]))


def smallest_disk_gib(pod_gib: int) -> int:
    """The smallest root volume whose budget holds a pod writing ``pod_gib``."""
    table = _table()
    disk = math.ceil(
        (pod_gib + table["nodeFootprintGib"]) * 100 / table["imageGcHighThresholdPercent"]
    )
    while pod_disk_budget_gib(disk) < pod_gib:
        disk += 1
    return disk


@cache
def pod_disk_maximums() -> dict[str, tuple[str, int]]:
    """Each namespace's per-pod ephemeral-storage maximum (the cluster policy's limit ranges,
    `type: Pod`): the value as written, and in whole GiB rounded up."""
    found: dict[str, tuple[str, int]] = {}
    for document in load_documents(LIMIT_RANGE_FILE):
        for item in document["spec"]["limits"]:
            maximum = (item.get("max") or {}).get("ephemeral-storage")
            if item["type"] == "Pod" and maximum is not None:
                gib = math.ceil(parse_quantity(str(maximum)) / 1024**3)
                found[document["metadata"]["namespace"]] = (str(maximum), gib)
    return found
