"""Municipality coordinates and region membership for the maps.

Read from ``loaders/reference`` (CBS 2025 division). A small reader of its own so the maps do not
depend on the loaders being importable; the data is the same file ``loaders.reference`` reads.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from graphstore.errors import ConfigError

__all__ = ["LEVELS", "Municipality", "municipalities", "project", "region_names"]

LEVELS: dict[str, str] = {
    "police_unit": "police_unit_code",
    "safety_region": "safety_region_code",
    "province": "province_code",
}

_REFERENCE = Path(__file__).resolve().parents[2] / "loaders" / "reference"

# Projection centre and scale: roughly the middle of the Netherlands; 1 degree latitude = 300 px.
_LAT0 = 52.15
_LON0 = 5.3
_SCALE = 300.0


@dataclass(frozen=True)
class Municipality:
    """One CBS municipality with its WGS84 point and the region code at each level."""

    code: str
    name: str
    lat: float
    lon: float
    regions: dict[str, str]


def _open(name: str) -> list[dict[str, str]]:
    path = _REFERENCE / name
    if not path.is_file():
        raise ConfigError(f"reference file {path} is missing; reinstall the toolkit from the repository")
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@lru_cache(maxsize=1)
def municipalities() -> dict[str, Municipality]:
    """All municipalities by CBS code (``GM0363``)."""
    out: dict[str, Municipality] = {}
    for row in _open("municipalities.csv"):
        out[row["code"]] = Municipality(
            code=row["code"],
            name=row["name"],
            lat=float(row["lat"]),
            lon=float(row["lon"]),
            regions={level: row[col] for level, col in LEVELS.items()},
        )
    return out


@lru_cache(maxsize=1)
def _region_rows() -> tuple[tuple[str, str, str], ...]:
    return tuple((r["level"], r["code"], r["name"]) for r in _open("regions.csv"))


def region_names(level: str) -> dict[str, str]:
    """Region code -> name at ``level`` (police_unit, safety_region or province), in code order."""
    check_level(level)
    return {code: name for lvl, code, name in sorted(_region_rows()) if lvl == level}


def check_level(level: str) -> None:
    """Raise ConfigError when ``level`` is not a known region level."""
    if level not in LEVELS:
        raise ConfigError(f"unknown region level {level!r}; use one of: {', '.join(LEVELS)}")


def project(lat: float, lon: float) -> tuple[float, float]:
    """WGS84 -> canvas x/y (equirectangular around the middle of the country; y grows south).

    At the scale of the Netherlands (about 300 km) this distorts distances by well under 1 %,
    which is enough for a map that has to be recognisable, not measurable.
    """
    x = (lon - _LON0) * math.cos(math.radians(_LAT0)) * _SCALE
    y = -(lat - _LAT0) * _SCALE
    return x, y
