"""Reference tables: Dutch municipalities (CBS 2025), their regions, aliases and places.

This module is the one reader of the CSV files in ``loaders/reference/``: each is read once per
process (``lru_cache``) and everything else (place resolution, the Municipality and Region nodes,
movement, maps, the synthetic generator) asks it. It answers four things: what a municipality
code is (name, coordinates, regions), which region a municipality lies in at a given level,
which municipality a written place name means (:func:`resolve_place`), and which region levels
exist (:data:`LEVELS`, :func:`check_level`).

Levels: ``police_unit`` (RE01-RE10, the natural "region"), ``safety_region`` (VR01-VR25),
``province`` (PV20-PV31).

>>> municipality("GM0363").name
'Amsterdam'
>>> region_of("GM0363", "police_unit")
'RE05'
>>> region_name("RE05")
'Amsterdam'
>>> resolve_place("Den Haag")
'GM0518'
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from netanalysis.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "LEVELS",
    "REFERENCE_DIR",
    "Municipality",
    "Table",
    "aliases",
    "check_level",
    "municipalities",
    "municipality",
    "municipality_codes",
    "places",
    "region_name",
    "region_of",
    "regions",
    "resolve_place",
    "rows",
]

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"
#: The region levels, in the order outputs list them (the ``level`` column of regions.csv).
LEVELS: tuple[str, ...] = ("police_unit", "safety_region", "province")

#: The reference tables, by the stem of their file in ``loaders/reference/``.
Table = Literal["municipalities", "regions", "aliases", "places"]


def check_level(level: str) -> str:
    """Return ``level`` when it is a region level; raise ConfigError otherwise.

    The one check of a region level: detection, movement, maps and the report all call it, so an
    unknown level gives the same error everywhere.

    >>> check_level("province")
    'province'
    >>> try:
    ...     check_level("county")
    ... except ConfigError as exc:
    ...     print(exc)
    unknown region level 'county'; use one of police_unit, safety_region, province
    """
    if level not in LEVELS:
        raise ConfigError(f"unknown region level {level!r}; use one of {', '.join(LEVELS)}")
    return level


@lru_cache(maxsize=4)
def rows(table: Table) -> tuple[Mapping[str, str], ...]:
    """Return the rows of one reference table as read-only mappings (column -> text), in file order.

    Read once per process; the columns are those of the CSV header (see reference/README.md).

    >>> rows("regions")[0]["level"]
    'province'
    """
    with (REFERENCE_DIR / f"{table}.csv").open(encoding="utf-8", newline="") as handle:
        return tuple(MappingProxyType(row) for row in csv.DictReader(handle))


@dataclass(frozen=True)
class Municipality:
    """One CBS 2025 municipality with its point and the codes of its regions."""

    code: str
    name: str
    lat: float
    lon: float
    province_code: str
    police_unit_code: str
    safety_region_code: str


@lru_cache(maxsize=1)
def _municipality_table() -> dict[str, Municipality]:
    table: dict[str, Municipality] = {}
    for row in rows("municipalities"):
        table[row["code"]] = Municipality(
            code=row["code"],
            name=row["name"],
            lat=float(row["lat"]),
            lon=float(row["lon"]),
            province_code=row["province_code"],
            police_unit_code=row["police_unit_code"],
            safety_region_code=row["safety_region_code"],
        )
    return table


@lru_cache(maxsize=1)
def _region_table() -> dict[str, Mapping[str, str]]:
    return {row["code"]: row for row in rows("regions")}


def municipality(code: str) -> Municipality:
    """Return the municipality with CBS code ``code`` (``"GM0363"``); KeyError if unknown."""
    try:
        return _municipality_table()[code]
    except KeyError:
        raise KeyError(f"{code!r} is not a CBS 2025 municipality code") from None


def municipality_codes() -> list[str]:
    """Return the 342 current municipality codes, sorted."""
    return sorted(_municipality_table())


def region_of(code: str, level: str = "police_unit") -> str:
    """Return the code of the region at ``level`` that municipality ``code`` lies in.

    ``level`` is one of ``police_unit`` (RE01..RE10), ``safety_region`` (VR01..VR25) or
    ``province`` (PV20..PV31); another raises ConfigError (:func:`check_level`).
    """
    check_level(level)
    found = municipality(code)
    return str(getattr(found, f"{level}_code"))


def region_name(code: str) -> str:
    """Return the name of a region (``"RE05"`` -> ``"Amsterdam"``); KeyError if unknown."""
    try:
        return _region_table()[code]["name"]
    except KeyError:
        raise KeyError(f"{code!r} is not a region code in regions.csv") from None


def _frame(table: Table) -> pd.DataFrame:
    import pandas as pd

    found = rows(table)
    return pd.DataFrame([dict(row) for row in found], columns=list(found[0]), dtype=str)


def municipalities() -> pd.DataFrame:
    """Return municipalities.csv as a DataFrame (lat/lon as float, other columns as str).

    Columns: code, name, province, police_unit, safety_region, lat, lon, province_code,
    police_unit_code, safety_region_code, coord_method. A new frame each call: callers may change it.
    """
    frame = _frame("municipalities")
    frame["lat"] = frame["lat"].astype(float)
    frame["lon"] = frame["lon"].astype(float)
    return frame


def regions() -> pd.DataFrame:
    """Return regions.csv as a DataFrame: level, code, name, alt_names, n_municipalities (int)."""
    frame = _frame("regions")
    frame["n_municipalities"] = frame["n_municipalities"].astype(int)
    return frame


def aliases() -> pd.DataFrame:
    """Return aliases.csv as a DataFrame: alias, code, kind, valid_until, merged_on, source, note."""
    return _frame("aliases")


def places() -> pd.DataFrame:
    """Return places.csv as a DataFrame (all columns as str; see reference/README.md)."""
    return _frame("places")


def resolve_place(text: str) -> str:
    """Return the CBS code of the municipality a written place name means.

    Accepts CBS names, aliases (colloquial, spelling variants, former municipalities mapped to
    their successor), non-ambiguous place names, in any case, with or without accents, with
    ``'s-``/``s``/hyphen variants, and small typos. Raises
    :class:`loaders.normalise.places.PlaceError` (a ``ValueError``) with the closest suggestions
    for an unknown or ambiguous name. See :mod:`loaders.normalise.places`.
    """
    from loaders.normalise.places import resolve

    return resolve(text)
