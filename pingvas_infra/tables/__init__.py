"""Reference tables kept as data, each with its sources and the date it was read.

Code reads facts (regions, instance shapes, versions, prices) from these YAML files rather
than from literals spread through the layers, so a reviewer can check each figure against
the source named beside it.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml


@cache
def load_table(name: str) -> dict[str, Any]:
    """Parse ``pingvas_infra/tables/<name>.yaml`` (cached; tables are read-only)."""
    text = resources.files(__package__).joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    table = yaml.safe_load(text)
    if not isinstance(table, dict) or "sources" not in table:
        raise ValueError(f"table {name}.yaml must be a mapping with a 'sources' list")
    return table
