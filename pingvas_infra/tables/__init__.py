"""The data home: every table the code reads, each with its sources and the date it was read.

Code reads facts (regions, instance shapes, versions, prices, usage profiles, the baseline
designs, the types that cost nothing) from the YAML files under this folder rather than
from literals spread through the layers, so a reviewer can check each figure against the
source named beside it. One kind of data has one place:

- ``<name>.yaml``: reference tables (versions, chart pins, controls, quotas of AWS ...);
- ``prices/<region>.yaml``: dated list prices of one region;
- ``profiles/<name>.yaml``: monthly usage the cost model prices;
- ``baselines/<name>.yaml``: the designs this stack is compared with, as resource lists.

Everything is read through this module (``importlib.resources``), so the files travel in
the installed package.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

# A table's path relative to this folder, in the error messages a reader acts on.
HOME = "pingvas_infra/tables"


class TableNotFound(LookupError):
    """No such table file."""


def table_path(relative: str) -> str:
    """``pingvas_infra/tables/<relative>``: the name a message shows for a table file."""
    return f"{HOME}/{relative}"


def has_table(relative: str) -> bool:
    return resources.files(__package__).joinpath(relative).is_file()


@cache
def read_table(relative: str) -> Any:
    """The parsed YAML of ``pingvas_infra/tables/<relative>`` (cached: tables are read-only)."""
    entry = resources.files(__package__).joinpath(relative)
    if not entry.is_file():
        raise TableNotFound(f"{table_path(relative)} does not exist")
    return yaml.safe_load(entry.read_text(encoding="utf-8"))


def table_names(folder: str) -> list[str]:
    """The names (file stems) of the tables in ``folder``, sorted."""
    directory = resources.files(__package__).joinpath(folder)
    return sorted(
        entry.name.removesuffix(".yaml")
        for entry in directory.iterdir()
        if entry.is_file() and entry.name.endswith(".yaml")
    )


@cache
def load_table(name: str) -> dict[str, Any]:
    """A reference table, ``pingvas_infra/tables/<name>.yaml``: a mapping with its sources."""
    table = read_table(f"{name}.yaml")
    if not isinstance(table, dict) or "sources" not in table:
        raise ValueError(f"table {name}.yaml must be a mapping with a 'sources' list")
    return table
