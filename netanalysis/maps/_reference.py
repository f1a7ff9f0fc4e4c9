"""Municipality coordinates and region membership, as the maps need them.

A thin view over :mod:`loaders.reference`, the one reader of the CBS 2025 reference tables: this
module only reshapes its answers (a region code per level on each municipality, region names per
level) and adds the projection of WGS84 points onto the canvas.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from loaders import reference
from loaders.reference import LEVELS, check_level

__all__ = ["LEVELS", "Municipality", "check_level", "municipalities", "project", "region_names"]

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


@lru_cache(maxsize=1)
def municipalities() -> dict[str, Municipality]:
    """All municipalities by CBS code (``GM0363``), read through :mod:`loaders.reference`."""
    table = reference.municipalities()
    return {
        row.code: Municipality(
            code=row.code,
            name=row.name,
            lat=float(row.lat),
            lon=float(row.lon),
            regions={level: reference.region_of(row.code, level) for level in LEVELS},
        )
        for row in table.sort_values("code").itertuples(index=False)
    }


@lru_cache(maxsize=len(LEVELS))
def _region_names(level: str) -> tuple[tuple[str, str], ...]:
    rows = reference.regions()
    rows = rows[rows["level"] == level].sort_values("code")
    return tuple(zip(rows["code"], rows["name"], strict=True))


def region_names(level: str) -> dict[str, str]:
    """Region code -> name at ``level`` (police_unit, safety_region or province), in code order."""
    check_level(level)
    return dict(_region_names(level))


def project(lat: float, lon: float) -> tuple[float, float]:
    """WGS84 -> canvas x/y (equirectangular around the middle of the country; y grows south).

    At the scale of the Netherlands (about 300 km) this distorts distances by well under 1 %,
    which is enough for a map that has to be recognisable, not measurable.
    """
    x = (lon - _LON0) * math.cos(math.radians(_LAT0)) * _SCALE
    y = -(lat - _LAT0) * _SCALE
    return x, y
