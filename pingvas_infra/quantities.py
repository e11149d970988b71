"""Kubernetes quantities ("250m", "1.5", "512Mi"), as the cluster policy and the layers
write them."""

from __future__ import annotations

import re
from decimal import Decimal

# Kubernetes quantity suffixes this project uses (k8s.io/apimachinery resource.Quantity).
_SUFFIXES = {
    "m": Decimal("0.001"),
    "": Decimal(1),
    "k": Decimal(1000),
    "M": Decimal(1000) ** 2,
    "G": Decimal(1000) ** 3,
    "Ki": Decimal(1024),
    "Mi": Decimal(1024) ** 2,
    "Gi": Decimal(1024) ** 3,
    "Ti": Decimal(1024) ** 4,
    "Pi": Decimal(1024) ** 5,
    "T": Decimal(1000) ** 4,
    "P": Decimal(1000) ** 5,
}
_QUANTITY = re.compile(r"^(?P<number>[0-9]+(?:\.[0-9]+)?)(?P<suffix>m|k|M|G|T|P|Ki|Mi|Gi|Ti|Pi)?$")


def parse_quantity(value: str) -> Decimal:
    """A Kubernetes quantity ("250m", "1.5", "512Mi") as a number of base units."""
    match = _QUANTITY.match(value)
    if match is None:
        raise ValueError(
            f"not a Kubernetes quantity: {value!r}; allowed: a number with an optional "
            "suffix m, k, M, G, T, P, Ki, Mi, Gi, Ti or Pi, such as 250m or 512Mi"
        )
    return Decimal(match["number"]) * _SUFFIXES[match["suffix"] or ""]


MEBI = _SUFFIXES["Mi"]
GIBI = _SUFFIXES["Gi"]
