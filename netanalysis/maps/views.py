"""The three map views: groups, regions on the map of the Netherlands, and the ego network.

Each view is a function of the store graph (and the detection result) that returns a
:class:`~netanalysis.maps.NetworkMap`: plain data about what to draw, rendered to HTML on demand.
Large inputs are drawn with a layout computed in Python and physics off; beyond ``max_nodes``
the view aggregates (groups as nodes) and says so on the page.
"""

# One module per view (_group, _region, _ego) over shared helpers (_common); `X as X` keeps the
# private names the tests reach through this module importable from here.
from netanalysis.maps._common import LARGE_NODES as LARGE_NODES
from netanalysis.maps._common import MAX_NODES, PHYSICS_MAX_NODES, DetectionLike, layout_positions
from netanalysis.maps._common import _options as _options
from netanalysis.maps._ego import connecting_map, ego_map
from netanalysis.maps._group import HUB_MIN_PERSONS, MAX_LINKS, group_map
from netanalysis.maps._region import region_map

__all__ = [
    "HUB_MIN_PERSONS",
    "MAX_LINKS",
    "MAX_NODES",
    "PHYSICS_MAX_NODES",
    "DetectionLike",
    "connecting_map",
    "ego_map",
    "group_map",
    "layout_positions",
    "region_map",
]
