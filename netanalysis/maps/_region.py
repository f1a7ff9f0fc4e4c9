"""The region view: persons and victim moves on the map of the Netherlands."""

from __future__ import annotations

import hashlib
import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import networkx as nx

from netanalysis.audit import audited, record_map
from netanalysis.maps._common import (
    MAX_NODES,
    DetectionLike,
    _filter_choices,
    _frame,
    _group_members,
    _options,
    _person_tip,
    _region_label,
    _split,
    _subtitle,
    _summary_by_group,
    _text,
)
from netanalysis.maps._facts import (
    person_facts,
)
from netanalysis.maps._reference import check_level, municipalities, project, region_names
from netanalysis.maps._render import NetworkMap
from netanalysis.maps._style import (
    BACKGROUND_DOT,
    MOVE_COLOUR,
    ROLE_COLOURS,
    region_colours,
    role_legend,
    role_of,
)


def _jitter(key: str, radius: float = 14.0) -> tuple[float, float]:
    # Deterministic spread so persons in one municipality do not sit on one point.
    h = hashlib.sha256(key.encode("utf-8")).digest()
    angle = h[0] / 255 * 2 * math.pi
    r = radius * math.sqrt(h[1] / 255)
    return r * math.cos(angle), r * math.sin(angle)


@audited("map", store="graph", only_from_store=True, after=record_map)
def region_map(
    graph: nx.MultiDiGraph,
    result: DetectionLike,
    level: str | None = None,
    group_ids: Sequence[str] | None = None,
    *,
    max_nodes: int = MAX_NODES,
    data_label: str | None = None,
) -> NetworkMap:
    """Persons at the real place of their municipality, with victim moves between regions.

    Parameters
    ----------
    graph : the store graph.
    result : the detection result (``groups``, ``movements``, ``group_summary`` are read).
    level : police_unit, safety_region or province; default the result's level.
    group_ids : groups to draw; None draws every group.
    max_nodes : above this many persons only regions and moves are drawn.
    data_label : names the data in the subtitle.

    Returns
    -------
    NetworkMap with the municipalities as a grey background (ids ``"Municipality:<code>"``),
    one node per region (``"Region:<level>:<code>"``) at the middle of its municipalities, one
    node per group member at their last known municipality, and one arrow per pair of regions
    a victim moved between (``"move:<from>><to>"``), width and label by the number of moves.
    """
    level = level or getattr(result, "level", None) or "police_unit"
    check_level(level)
    names = region_names(level)
    colours = region_colours(list(names))
    ref = municipalities()
    sel, chosen = _group_members(result, group_ids)
    summaries = _summary_by_group(result)
    types_of = {g: _split(s.get("exploitation_types")) for g, s in summaries.items()}

    nodes: list[dict[str, Any]] = []
    for code, muni in sorted(ref.items()):
        x, y = project(muni.lat, muni.lon)
        nodes.append(
            {
                "id": f"Municipality:{code}",
                "x": round(x, 1),
                "y": round(y, 1),
                "shape": "dot",
                "size": 2.5,
                "color": BACKGROUND_DOT,
                "borderWidth": 0,
                "chosen": False,
                "tip": [["Municipality", muni.name], ["Region", _region_label([muni.regions[level]], names)]],
                "f": {"always": True},
            }
        )

    member_groups: dict[str, set[str]] = defaultdict(set)
    member_roles: dict[str, set[str]] = defaultdict(set)
    for row in sel.to_dict("records"):
        nid = f"Person:{row['person_id']}"
        member_groups[nid].add(str(row["group_id"]))
        if row.get("role") in {"suspect", "victim"}:
            member_roles[nid].add(row["role"])
    facts = person_facts(graph, member_groups)

    movements = _frame(
        result, "movements", ("group_id", "person_id", "from_code", "to_code", "from_region", "to_region")
    )
    movements = movements[movements["group_id"].astype(str).isin(chosen)]

    def region_of(code: Any, fallback: Any) -> str:
        muni = ref.get(_text(code))
        return muni.regions[level] if muni else _text(fallback)

    arrows: dict[tuple[str, str], list[list[Any]]] = defaultdict(list)
    within: Counter[str] = Counter()
    moves_unplaced = 0
    for mv in movements.to_dict("records"):
        a, b = (
            region_of(mv.get("from_code"), mv.get("from_region")),
            region_of(mv.get("to_code"), mv.get("to_region")),
        )
        if a not in names or b not in names:
            moves_unplaced += 1
            continue
        g = str(mv["group_id"])
        if a == b:
            within[a] += 1
        else:
            arrows[(a, b)].append([g, types_of.get(g, []), _text(mv.get("date"))[:10] or None])

    seen_in: dict[str, Counter[str]] = defaultdict(Counter)
    persons: list[dict[str, Any]] = []
    unplaced = 0
    for p in sorted(member_groups):
        fa = facts[p]
        fa.roles |= member_roles[p]
        if fa.last_place is None or fa.last_place not in ref:
            unplaced += 1
            continue
        muni = ref[fa.last_place]
        region = muni.regions[level]
        seen_in[region][role_of(fa.roles)] += 1
        x, y = project(muni.lat, muni.lon)
        dx, dy = _jitter(fa.key)
        groups = sorted(member_groups[p])
        persons.append(
            {
                "id": p,
                "x": round(x + dx, 1),
                "y": round(y + dy, 1),
                "shape": "dot",
                "size": 6,
                "color": ROLE_COLOURS[role_of(fa.roles)],
                "tip": _person_tip(
                    fa,
                    level,
                    names,
                    [
                        ["Group", ", ".join(groups)],
                        ["Last place", f"{muni.name} ({_region_label([region], names)})"],
                    ],
                ),
                "f": {
                    "regions": fa.regions(level),
                    "groups": groups,
                    "types": sorted(fa.types | {t for g in groups for t in types_of.get(g, [])}),
                    "first": fa.first_seen,
                    "last": fa.last_seen,
                },
            }
        )

    aggregated = len(persons) > max_nodes
    hub_pos: dict[str, tuple[float, float]] = {}
    by_region: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for muni in ref.values():
        by_region[muni.regions[level]].append(project(muni.lat, muni.lon))
    out_moves: Counter[str] = Counter()
    in_moves: Counter[str] = Counter()
    for (a, b), mv_list in arrows.items():
        out_moves[a] += len(mv_list)
        in_moves[b] += len(mv_list)
    for code, name in names.items():
        pts = by_region.get(code)
        if not pts:
            continue
        hx = sum(p[0] for p in pts) / len(pts)
        hy = sum(p[1] for p in pts) / len(pts)
        hub_pos[code] = (hx, hy)
        seen = seen_in[code]
        nodes.append(
            {
                "id": f"Region:{level}:{code}",
                "label": f"{code} {name}",
                "x": round(hx, 1),
                "y": round(hy, 1),
                "shape": "hexagon",
                "size": 13,
                "color": {"background": colours[code], "border": "#333333"},
                "borderWidth": 2,
                "font": {"size": 15, "strokeWidth": 4, "strokeColor": "#ffffff", "vadjust": -4},
                "tip": [
                    ["Region", f"{code} {name}"],
                    ["Suspects last seen here", str(seen["suspect"] + seen["both"])],
                    ["Victims last seen here", str(seen["victim"] + seen["both"])],
                    ["Victim moves out / in", f"{out_moves[code]} / {in_moves[code]}"],
                    ["Moves within the region", str(within[code])],
                ],
                "f": {"always": True},
            }
        )
    if not aggregated:
        for person in persons:
            # Border in the region colour ties each person to the legend of regions.
            region = ref[facts[person["id"]].last_place or ""].regions[level]
            person["color"] = {"background": person["color"], "border": colours.get(region, "#333333")}
            person["borderWidth"] = 2
        nodes.extend(persons)

    edges = []
    for (a, b), mv_list in sorted(arrows.items()):
        n = len(mv_list)
        edges.append(
            {
                "id": f"move:{a}>{b}",
                "from": f"Region:{level}:{a}",
                "to": f"Region:{level}:{b}",
                "arrows": {"to": {"enabled": True, "scaleFactor": 0.7}},
                "width": round(min(1 + 3 * math.sqrt(n), 24), 2),
                "label": str(n),
                "font": {"size": 12, "color": MOVE_COLOUR, "strokeWidth": 3, "strokeColor": "#ffffff"},
                "color": {"color": MOVE_COLOUR, "opacity": 0.7},
                "smooth": {"enabled": True, "type": "curvedCW", "roundness": 0.18},
                "tip": [
                    ["Victim moves", f"{a} {names[a]} to {b} {names[b]}"],
                    ["Number", str(n)],
                    ["Groups", ", ".join(sorted({m[0] for m in mv_list}))],
                ],
                "f": {"moves": mv_list, "from_region": a, "to_region": b},
            }
        )

    notices = []
    if aggregated:
        notices.append(
            f"{len(persons):,} persons are more than this map draws one by one ({max_nodes:,}); "
            "only regions and the moves between them are drawn, with counts in the region tooltips."
        )
    if unplaced:
        notices.append(f"{unplaced} persons have no known municipality and are not drawn.")
    if moves_unplaced:
        notices.append(f"{moves_unplaced} moves name a municipality or region that is not on the map.")

    filters = _filter_choices(persons, names)
    filters["regions"] = [[c, f"{c} {n}"] for c, n in names.items()]
    for mv_list in arrows.values():
        for g, types, _ in mv_list:
            if [g, g] not in filters["groups"]:
                filters["groups"].append([g, g])
            for t in types:
                if [t, t] not in filters["types"]:
                    filters["types"].append([t, t])
    filters["groups"].sort()
    filters["types"].sort()
    legend = [
        role_legend(),
        {
            "title": "Victim moves",
            "items": [
                {
                    "kind": "edge",
                    "color": MOVE_COLOUR,
                    "dashes": False,
                    "text": "moves between regions (width, label: number)",
                },
                {
                    "kind": "text",
                    "text": "persons at their last known municipality; grey dots: municipalities",
                },
            ],
        },
        {
            "title": f"Regions ({level.replace('_', ' ')})",
            "items": [
                {
                    "kind": "node",
                    "shape": "hexagon",
                    "color": colours[c],
                    "border": "#333333",
                    "text": f"{c} {n}",
                }
                for c, n in names.items()
            ],
        },
    ]
    what = f"group {chosen[0]}" if len(chosen) == 1 else f"{len(chosen)} groups"
    return NetworkMap(
        title=f"Region map: victim moves of {what} between {level.replace('_', ' ')}s",
        subtitle=_subtitle(graph, result, level, data_label),
        nodes=nodes,
        edges=edges,
        legend=legend,
        filters=filters,
        options=_options(len(nodes), True),
        notice=" ".join(notices),
        view="region",
        aggregated=aggregated,
    )
