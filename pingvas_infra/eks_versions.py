"""Kubernetes versions EKS offers, from `tables/eks_versions.yaml`.

Support phases are computed for a given day, so the config check and the tests can ask
"on this date" without reading the clock themselves.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from pingvas_infra.tables import load_table


class SupportPhase(StrEnum):
    NOT_YET_RELEASED = "not yet released"
    STANDARD = "standard support"
    EXTENDED = "extended support"
    ENDED = "no longer offered"


def _day(value: object) -> dt.date:
    """A table date: a YAML date, or "YYYY-MM" (approximate: the first of the month)."""
    if isinstance(value, dt.date):
        return value
    year, month = str(value).split("-")
    return dt.date(int(year), int(month), 1)


@dataclass(frozen=True)
class EksVersion:
    version: str
    eks_release: dt.date
    end_of_standard_support: dt.date
    end_of_extended_support: dt.date

    def phase(self, on: dt.date) -> SupportPhase:
        if on < self.eks_release:
            return SupportPhase.NOT_YET_RELEASED
        if on < self.end_of_standard_support:
            return SupportPhase.STANDARD
        if on < self.end_of_extended_support:
            return SupportPhase.EXTENDED
        return SupportPhase.ENDED


def minor_key(version: str) -> tuple[int, int]:
    major, minor = version.split(".")
    return (int(major), int(minor))


@cache
def eks_versions() -> dict[str, EksVersion]:
    rows = load_table("eks_versions")["versions"]
    return {
        version: EksVersion(
            version=version,
            eks_release=_day(row["eks_release"]),
            end_of_standard_support=_day(row["end_of_standard_support"]),
            end_of_extended_support=_day(row["end_of_extended_support"]),
        )
        for version, row in rows.items()
    }


def offered_versions(on: dt.date) -> list[str]:
    """Versions a new or existing cluster may run on that day (standard or extended)."""
    return sorted(
        (
            v.version
            for v in eks_versions().values()
            if v.phase(on) in (SupportPhase.STANDARD, SupportPhase.EXTENDED)
        ),
        key=minor_key,
    )


def supported_versions(on: dt.date) -> list[str]:
    """Versions in standard support that day: what the stack accepts (extended support
    bills six times the control-plane rate)."""
    return sorted(
        (v.version for v in eks_versions().values() if v.phase(on) is SupportPhase.STANDARD),
        key=minor_key,
    )


def table_date() -> dt.date:
    return _day(load_table("eks_versions")["date"])


def today() -> dt.date:
    """The day configuration is checked against: never earlier than the table's own date,
    so a machine with a wrong clock cannot resurrect a version the table knows has ended."""
    return max(dt.date.today(), table_date())
