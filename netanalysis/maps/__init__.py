"""Interactive network maps that open offline: group, region and ego views.

>>> from netanalysis.maps import group_map
>>> m = group_map(graph, result, ["G001"])      # doctest: +SKIP
>>> m.save("g001.html")                          # doctest: +SKIP

A :class:`NetworkMap` renders inline in Jupyter and saves as one self-contained HTML file that
makes no network request when opened (see docs/maps.md).
"""

from netanalysis.maps._render import NetworkMap, embed_json
from netanalysis.maps.views import (
    MAX_NODES,
    PHYSICS_MAX_NODES,
    DetectionLike,
    connecting_map,
    ego_map,
    group_map,
    layout_positions,
    region_map,
)

__all__ = [
    "MAX_NODES",
    "PHYSICS_MAX_NODES",
    "DetectionLike",
    "NetworkMap",
    "connecting_map",
    "ego_map",
    "embed_json",
    "group_map",
    "layout_positions",
    "region_map",
]
