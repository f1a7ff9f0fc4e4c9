"""The three map views: groups, regions on the map of the Netherlands, and the ego network.

Each view is a function of the store graph (and the detection result) that returns a
:class:`~netanalysis.maps.NetworkMap`: plain data about what to draw, rendered to HTML on demand.
Large inputs are drawn with a layout computed in Python and physics off; beyond ``max_nodes``
the view aggregates (groups as nodes) and says so on the page.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import math
import random
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import networkx as nx
import pandas as pd

from netanalysis.errors import ConfigError
from netanalysis.maps._facts import (
    EVIDENCE,
    PersonFacts,
    bare_key,
    pair_links,
    person_facts,
    person_links,
    shared_items,
    short,
)
from netanalysis.maps._reference import check_level, municipalities, project, region_names
from netanalysis.maps._render import NetworkMap
from netanalysis.maps._style import (
    BACKGROUND_DOT,
    EVIDENCE_STYLE,
    LABEL_STYLE,
    MOVE_COLOUR,
    REL_STYLE,
    ROLE_COLOURS,
    region_colours,
    rel_style,
    role_legend,
    role_of,
)

__all__ = [
    "HUB_MIN_PERSONS",
    "MAX_LINKS",
    "MAX_NODES",
    "PHYSICS_MAX_NODES",
    "DetectionLike",
    "ego_map",
    "group_map",
    "layout_positions",
    "region_map",
]

#: Above this many nodes a view aggregates (groups as nodes) instead of drawing every person.
MAX_NODES = 5000
#: Above this many links between persons, items shared by many persons are drawn as nodes.
MAX_LINKS = 5000
#: The fewest persons sharing an item that is drawn as a node when links are thinned (from 4
#: persons on, one line per person is fewer than a line per pair).
HUB_MIN_PERSONS = 4
#: Up to this many nodes the browser settles the layout with physics (bounded iterations);
#: above it the layout is computed in Python and physics stays off.
PHYSICS_MAX_NODES = 300
#: From this many nodes on the page draws straight edges and hides them while dragging or zooming.
LARGE_NODES = 1000
SIZE_BY = ("betweenness", "degree", "weighted_degree", "brokerage")
_BROKERAGE = ("coordinator", "gatekeeper", "representative", "liaison", "itinerant")
# Provenance and reference nodes: they would connect everything to everything in an ego network.
_EGO_SKIP = frozenset({"Record", "Source", "Region", "Municipality"})


class DetectionLike(Protocol):
    """What the maps read from ``netanalysis.detect.DetectionResult`` (frames as in its contract)."""

    groups: pd.DataFrame
    movements: pd.DataFrame
    group_summary: pd.DataFrame
    key_players: pd.DataFrame
    settings: dict[str, Any]
    level: str


# ---------------------------------------------------------------------------------------------
# helpers


def _frame(result: Any, name: str, columns: Sequence[str]) -> pd.DataFrame:
    frame = getattr(result, name, None)
    if frame is None:
        return pd.DataFrame(columns=list(columns))
    if not isinstance(frame, pd.DataFrame):
        raise ConfigError(f"the detection result's {name} is not a table; run the detection again")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ConfigError(
            f"the detection result's {name} lacks the columns {', '.join(missing)}; "
            "it was made by another version of netanalysis, run the detection again"
        )
    return frame


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _split(value: Any) -> list[str]:
    return [v for v in _text(value).split("|") if v]


def _region_label(codes: Iterable[str], names: dict[str, str]) -> str:
    return ", ".join(f"{c} {names.get(c, '')}".strip() for c in codes) or "unknown"


def _subtitle(graph: nx.MultiDiGraph, result: Any, level: str, data_label: str | None) -> str:
    sources = sorted(
        {str(a.get("name") or bare_key(n)) for n, a in graph.nodes(data=True) if a.get("label") == "Source"}
    )
    dates = [d for *_, d in graph.edges(data="observed_on") if isinstance(d, str) and d]
    parts = [f"Data: {data_label}" if data_label else "Data: graph store"]
    if sources:
        parts.append("sources " + ", ".join(sources))
    if dates:
        parts.append(f"observations {min(dates)[:10]} to {max(dates)[:10]}")
    parts.append(f"regions: {level.replace('_', ' ')}")
    settings = getattr(result, "settings", None) or {}
    scalars = [f"{k}={v}" for k, v in sorted(settings.items()) if isinstance(v, str | int | float | bool)]
    if scalars:
        parts.append("detection " + ", ".join(scalars)[:200])
    from netanalysis import __version__

    parts.append(f"made {_dt.date.today().isoformat()} with netanalysis {__version__}")
    return " · ".join(parts)


def _options(n: int, positioned: bool, smooth: Any = False) -> dict[str, Any]:
    physics = not positioned and 1 < n <= PHYSICS_MAX_NODES
    opts: dict[str, Any] = {
        "autoResize": True,
        "nodes": {"font": {"size": 11, "strokeWidth": 3, "strokeColor": "#ffffff"}, "borderWidth": 1},
        # Curved edges cost a bezier per edge on every frame; large maps draw straight lines.
        "edges": {"smooth": smooth if n <= LARGE_NODES else False, "selectionWidth": 2},
        "interaction": {
            "hover": True,
            "tooltipDelay": 100,
            "hideEdgesOnDrag": n > LARGE_NODES,
            "hideEdgesOnZoom": n > LARGE_NODES,
        },
        "layout": {"improvedLayout": physics and n <= 100, "randomSeed": 7},
    }
    if physics:
        opts["physics"] = {
            "enabled": True,
            "solver": "forceAtlas2Based",
            "forceAtlas2Based": {"gravitationalConstant": -40, "springLength": 90},
            # Bounded so a page never spins: the browser stops after these and switches physics off.
            "stabilization": {"enabled": True, "iterations": 400, "updateInterval": 50, "fit": True},
        }
    else:
        opts["physics"] = {"enabled": False}
    return opts


def layout_positions(
    ids: Sequence[str], pairs: Iterable[tuple[str, str]], seed: int = 7
) -> dict[str, tuple[float, float]]:
    """Force-directed positions per connected part, the parts packed in rows, in canvas pixels.

    Each connected part is laid out on its own (Fruchterman-Reingold, igraph), so small groups
    stay compact instead of drifting apart, and the parts are then packed largest first in rows
    of roughly square overall shape. Lone nodes share a tight grid.

    Parameters
    ----------
    ids : node ids, in a fixed order (the result depends on it).
    pairs : links between ids; pairs with an unknown end are ignored.
    seed : seed of the random start positions.

    Returns
    -------
    dict id -> (x, y) in pixels, centred on 0.

    References
    ----------
    Fruchterman & Reingold (1991), Graph drawing by force-directed placement.
    """
    import igraph as ig
    import numpy as np

    if not ids:
        return {}
    index = {n: i for i, n in enumerate(ids)}
    edges = sorted({(index[a], index[b]) for a, b in pairs if a in index and b in index and a != b})
    g = ig.Graph(n=len(ids), edges=edges)
    parts = sorted(g.connected_components(), key=lambda c: (-len(c), c[0]))
    rng = np.random.default_rng(seed)
    boxes: list[tuple[list[int], Any, float]] = []  # (members, centred pixel coords, half size)
    singles = [c[0] for c in parts if len(c) == 1]
    # igraph draws from one process-wide generator; seed it for this call, then hand it back.
    ig.set_random_number_generator(random.Random(seed))
    try:
        for members in (c for c in parts if len(c) > 1):
            k = len(members)
            sub = g.induced_subgraph(members)
            # Start spread over about sqrt(k) units: igraph's grid variant sorts nodes into unit
            # cells, and a start squeezed into one cell makes every step quadratic (20 s at 5k).
            start = (rng.uniform(-1.0, 1.0, (k, 2)) * max(1.0, math.sqrt(k) / 2)).tolist()
            niter = 500 if k <= 1000 else 150
            coords = np.asarray(sub.layout_fruchterman_reingold(seed=start, niter=niter, grid="auto").coords)
            coords -= coords.mean(axis=0)
            span = float(np.abs(coords).max()) or 1.0
            half = 45.0 * math.sqrt(k)
            boxes.append((list(members), coords * (half / span), half))
    finally:
        ig.set_random_number_generator(random)
    if singles:
        side = math.ceil(math.sqrt(len(singles)))
        cell = 40.0
        grid = np.array([[(i % side) * cell, (i // side) * cell] for i in range(len(singles))], dtype=float)
        grid -= grid.mean(axis=0)
        boxes.append((singles, grid, max(cell / 2, float(np.abs(grid).max()))))
    gap = 60.0
    width = math.sqrt(sum((2 * h + gap) ** 2 for *_, h in boxes)) * 1.2
    out: dict[int, tuple[float, float]] = {}
    x = y = row_height = 0.0
    for members, coords, half in boxes:
        size = 2 * half + gap
        if x > 0 and x + size > width:
            x, y, row_height = 0.0, y + row_height, 0.0
        cx, cy = x + size / 2, y + size / 2
        for i, (px, py) in zip(members, coords.tolist(), strict=True):
            out[i] = (cx + px, cy + py)
        x += size
        row_height = max(row_height, size)
    xs = [p[0] for p in out.values()]
    ys = [p[1] for p in out.values()]
    mx, my = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    return {n: (round(out[i][0] - mx, 1), round(out[i][1] - my, 1)) for n, i in index.items()}


def _place(nodes: list[dict[str, Any]], edges: list[dict[str, Any]], seed: int) -> bool:
    """Give nodes fixed positions when the browser should not run physics; True when placed."""
    if len(nodes) <= PHYSICS_MAX_NODES:
        return False
    pos = layout_positions([n["id"] for n in nodes], ((e["from"], e["to"]) for e in edges), seed=seed)
    for n in nodes:
        n["x"], n["y"] = pos[n["id"]]
    return True


def _size(value: float, vmax: float, lo: float = 8.0, hi: float = 34.0) -> float:
    if vmax <= 0 or value <= 0:
        return lo
    return round(lo + (hi - lo) * math.sqrt(value / vmax), 2)


def _person_tip(
    facts: PersonFacts, level: str, names: dict[str, str], extra: Sequence[Sequence[str]] = ()
) -> list[list[str]]:
    counts = (
        f"{facts.cases} cases, {facts.signals} signals, {facts.places} sightings, "
        f"{facts.identifiers} identifiers, {facts.records} source rows"
    )
    rows = [
        ["Pseudonym", short(facts.key)],
        ["Roles", ", ".join(sorted(facts.roles)) or "unknown"],
        *[[str(k), str(v)] for k, v in extra],
        ["Regions", _region_label(facts.regions(level), names)],
        ["First seen", facts.first_seen or "unknown"],
        ["Last seen", facts.last_seen or "unknown"],
        ["Counts", counts],
    ]
    if facts.types:
        rows.append(["Exploitation", ", ".join(sorted(facts.types))])
    return rows


def _filter_choices(nodes: list[dict[str, Any]], names: dict[str, str]) -> dict[str, list[list[str]]]:
    regions: set[str] = set()
    groups: set[str] = set()
    types: set[str] = set()
    for n in nodes:
        f = n.get("f", {})
        regions.update(f.get("regions", []))
        groups.update(f.get("groups", []))
        types.update(f.get("types", []))
    return {
        "regions": [[r, f"{r} {names.get(r, '')}".strip()] for r in sorted(regions)],
        "groups": [[g, g] for g in sorted(groups)],
        "types": [[t, t] for t in sorted(types)],
    }


def _group_members(result: Any, group_ids: Sequence[str] | None) -> tuple[pd.DataFrame, list[str]]:
    groups = _frame(result, "groups", ("group_id", "person_id", "role"))
    known = sorted(groups["group_id"].astype(str).unique())
    if group_ids:
        unknown = [g for g in group_ids if g not in set(known)]
        if unknown:
            hint = f"known groups: {', '.join(known[:10])}{' ...' if len(known) > 10 else ''}"
            raise ConfigError(
                f"group {', '.join(unknown)} is not in the detection result ({hint or 'none found'})"
            )
        chosen = list(dict.fromkeys(group_ids))
    else:
        chosen = known
    sel = groups[groups["group_id"].astype(str).isin(chosen)]
    return sel, chosen


def _summary_by_group(result: Any) -> dict[str, dict[str, Any]]:
    summary = _frame(result, "group_summary", ("group_id",))
    return {str(r["group_id"]): r for r in summary.to_dict("records")}


# ---------------------------------------------------------------------------------------------
# group view


def group_map(
    graph: nx.MultiDiGraph,
    result: DetectionLike,
    group_ids: Sequence[str] | None = None,
    size_by: str = "betweenness",
    *,
    level: str | None = None,
    max_nodes: int = MAX_NODES,
    max_links: int = MAX_LINKS,
    seed: int = 7,
    data_label: str | None = None,
) -> NetworkMap:
    """Members and victims of one or more groups, linked by the evidence they share.

    Parameters
    ----------
    graph : the store graph (``GraphStore.read_graph``).
    result : the detection result (``groups``, ``key_players``, ``group_summary`` are read).
    group_ids : groups to draw (``["G001"]``); None draws every group.
    size_by : key-player measure that sizes suspects: betweenness, degree, weighted_degree or
        brokerage (taken from ``key_players``; computed on the drawn links when missing).
    level : region level for tooltips and the region filter; default the result's level.
    max_nodes : above this many persons the map shows groups as nodes instead.
    max_links : above this many links between persons, each item shared by
        ``HUB_MIN_PERSONS`` or more persons is drawn as a node linked to each of its persons
        (``"<item id>|<person id>"`` edges) instead of a link between every two of them, and
        the page says so.
    seed : seed of the layout.
    data_label : names the data in the subtitle (e.g. the store file name).

    Returns
    -------
    NetworkMap with one node per person (``"Person:<key>"``) and one edge per pair of persons
    and evidence kind (``"<a>|<b>|<kind>"``), width by the number of shared items; when links are
    thinned, also one node per shared item (its graph id, e.g. ``"Case:<key>"``).
    """
    if size_by not in SIZE_BY:
        raise ConfigError(f"cannot size nodes by {size_by!r}; use one of: {', '.join(SIZE_BY)}")
    level = level or getattr(result, "level", None) or "police_unit"
    check_level(level)
    names = region_names(level)
    sel, chosen = _group_members(result, group_ids)
    summaries = _summary_by_group(result)

    members: dict[str, dict[str, Any]] = {}
    for row in sel.to_dict("records"):
        nid = f"Person:{row['person_id']}"
        m = members.setdefault(nid, {"groups": set(), "roles": set(), "core": False})
        m["groups"].add(str(row["group_id"]))
        if row.get("role") in {"suspect", "victim"}:
            m["roles"].add(row["role"])
        if bool(row.get("core", True)):
            m["core"] = True

    what = f"group {chosen[0]}" if len(chosen) == 1 else f"{len(chosen)} groups"
    title = f"Group map: {what}"
    if len(members) > max_nodes:
        return _groups_as_nodes(
            graph, result, chosen, members, level, names, title, data_label, seed, max_nodes
        )

    facts = person_facts(graph, members)
    items = shared_items(graph, members)
    all_links = pair_links(graph, items)
    hubs: dict[str, list[str]] = {}
    links = all_links
    if len(all_links) > max_links:
        # A case with n persons is n(n-1)/2 lines, which is what makes large maps slow and
        # unreadable; drawn as one node with a line to each person it says the same with n lines.
        hubs = {i: ms for i, ms in items.items() if len(ms) >= HUB_MIN_PERSONS}
        links = pair_links(graph, {i: ms for i, ms in items.items() if i not in hubs})
    kp = _key_players(result, size_by)
    values = {p: kp.get(bare_key(p), {}).get(size_by) for p in members}
    if any(v is None for p, v in values.items() if "suspect" in members[p]["roles"]):
        computed = _centrality(members, all_links, size_by, seed)
        values = {p: v if v is not None else computed.get(p, 0.0) for p, v in values.items()}
    vmax = max((float(v or 0) for v in values.values()), default=0.0)

    nodes: list[dict[str, Any]] = []
    for p in sorted(members):
        m, fa = members[p], facts[p]
        roles = fa.roles | m["roles"]
        fa.roles = roles
        info = kp.get(bare_key(p), {})
        group_types = {t for g in m["groups"] for t in _split(summaries.get(g, {}).get("exploitation_types"))}
        types = sorted(fa.types | group_types)
        broker = float(info.get("brokerage") or 0) > 0
        extra = [
            ["Group", ", ".join(sorted(m["groups"])) + ("" if m["core"] else " (outside the stable core)")]
        ]
        if info:
            extra.append([size_by.replace("_", " ").capitalize(), f"{float(info.get(size_by) or 0):.3g}"])
            roles_b = [f"{r} {int(info[r])}" for r in _BROKERAGE if _num(info.get(r)) > 0]
            if roles_b:
                extra.append(["Brokerage", ", ".join(roles_b)])
            if _num(info.get("rank")) > 0:
                extra.append(["Rank in group", str(int(_num(info["rank"])))])
        colour = ROLE_COLOURS[role_of(roles)]
        node: dict[str, Any] = {
            "id": p,
            "label": short(fa.key),
            "shape": "diamond" if broker else "dot",
            "size": _size(float(values.get(p) or 0), vmax) if "suspect" in roles else 7,
            "color": {"background": colour, "border": "#222222" if broker else colour},
            "borderWidth": 3 if broker else 1,
            "tip": _person_tip(fa, level, names, extra),
            "f": {
                "regions": fa.regions(level),
                "groups": sorted(m["groups"]),
                "types": types,
                "first": fa.first_seen,
                "last": fa.last_seen,
            },
        }
        if not m["core"]:
            node["shapeProperties"] = {"borderDashes": [4, 3]}
            node["borderWidth"] = 2
            node["color"]["border"] = "#222222"
        nodes.append(node)

    edges = []
    kinds_drawn: set[str] = set()
    for (a, b, kind), count in sorted(links.items()):
        style = EVIDENCE_STYLE[kind]
        kinds_drawn.add(kind)
        common = sorted(members[a]["groups"] & members[b]["groups"]) or sorted(
            members[a]["groups"] | members[b]["groups"]
        )
        edges.append(
            {
                "id": f"{a}|{b}|{kind}",
                "from": a,
                "to": b,
                "color": {"color": style["color"], "opacity": 0.8},
                "dashes": style["dashes"],
                "width": round(1 + 1.5 * math.log2(count), 2),
                "tip": [["Link", style["text"]], ["Shared items", str(count)]],
                "f": {"groups": common},
            }
        )
    hub_kinds = _add_hubs(graph, hubs, members, nodes, edges)
    kinds_drawn |= hub_kinds
    placed = _place(nodes, edges, seed)
    notice = ""
    if hubs:
        notice = (
            f"{len(all_links):,} links between persons are more than this map draws one by one "
            f"({max_links:,}): each case, phone, premises or other item shared by "
            f"{HUB_MIN_PERSONS} or more persons ({len(hubs):,} items) is drawn as a node with a line "
            "to each of its persons, instead of a line between every two of them."
        )
    legend = [
        role_legend(),
        {
            "title": "Marks",
            "items": [
                {
                    "kind": "node",
                    "shape": "diamond",
                    "color": "#cccccc",
                    "border": "#222222",
                    "text": "broker (brokerage roles > 0)",
                },
                {
                    "kind": "node",
                    "shape": "dot",
                    "color": "#ffffff",
                    "border": "#222222",
                    "dashed": True,
                    "text": "outside the group's stable core",
                },
                {"kind": "text", "text": f"Size of suspects: {size_by.replace('_', ' ')}"},
            ]
            + [
                {
                    "kind": "node",
                    "shape": LABEL_STYLE[lbl]["shape"],
                    "color": LABEL_STYLE[lbl]["color"],
                    "text": f"{LABEL_STYLE[lbl]['text']} shared by {HUB_MIN_PERSONS} or more persons",
                }
                for lbl, kind in EVIDENCE.items()
                if kind in hub_kinds
            ],
        },
        {
            "title": "Links (evidence)",
            "items": [
                {
                    "kind": "edge",
                    "color": EVIDENCE_STYLE[k]["color"],
                    "dashes": EVIDENCE_STYLE[k]["dashes"],
                    "text": EVIDENCE_STYLE[k]["text"],
                }
                for k in EVIDENCE_STYLE
                if k in kinds_drawn
            ]
            + [{"kind": "text", "text": "line width: number of shared items"}],
        },
    ]
    return NetworkMap(
        title=title,
        subtitle=_subtitle(graph, result, level, data_label),
        nodes=nodes,
        edges=edges,
        legend=legend,
        filters=_filter_choices(nodes, names),
        options=_options(len(nodes), placed),
        notice=notice,
        view="group",
    )


def _add_hubs(
    graph: nx.MultiDiGraph,
    hubs: dict[str, list[str]],
    members: dict[str, dict[str, Any]],
    nodes: list[dict[str, Any]],
    edges: list[dict[str, Any]],
) -> set[str]:
    """Draw each shared item in ``hubs`` as a node linked to its persons; the kinds drawn."""
    by_id = {n["id"]: n for n in nodes}
    kinds: set[str] = set()
    for item, persons in sorted(hubs.items()):
        attrs = graph.nodes[item]
        label = str(attrs.get("label"))
        kind = EVIDENCE[label]
        kinds.add(kind)
        style, lstyle = EVIDENCE_STYLE[kind], LABEL_STYLE[label]
        fs = [by_id[p]["f"] for p in persons]
        groups = sorted({g for p in persons for g in members[p]["groups"]})
        firsts = [f["first"] for f in fs if f.get("first")]
        lasts = [f["last"] for f in fs if f.get("last")]
        types = {t for f in fs for t in f["types"]}
        etype = attrs.get("exploitation_type")
        if isinstance(etype, str) and etype and etype != "unknown":
            types.add(etype)
        tip = [
            [lstyle["text"].capitalize(), short(bare_key(item).rsplit(":", 1)[-1])],
            ["Persons on this map", str(len(persons))],
            ["Groups", ", ".join(groups)],
        ]
        if types:
            tip.append(["Exploitation", ", ".join(sorted(types))])
        nodes.append(
            {
                "id": item,
                "label": short(bare_key(item).rsplit(":", 1)[-1]),
                "shape": lstyle["shape"],
                "size": lstyle["size"],
                "color": lstyle["color"],
                "tip": tip,
                "f": {
                    "regions": sorted({r for f in fs for r in f["regions"]}),
                    "groups": groups,
                    "types": sorted(types),
                    "first": min(firsts, default=None),
                    "last": max(lasts, default=None),
                },
            }
        )
        for p in persons:
            edges.append(
                {
                    "id": f"{item}|{p}",
                    "from": item,
                    "to": p,
                    "color": {"color": style["color"], "opacity": 0.8},
                    "dashes": style["dashes"],
                    "tip": [["Link", style["text"]], ["Persons sharing it", str(len(persons))]],
                    "f": {"groups": sorted(members[p]["groups"])},
                }
            )
    return kinds


def _num(value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if math.isnan(out) else out


def _key_players(result: Any, size_by: str) -> dict[str, dict[str, Any]]:
    kp = _frame(result, "key_players", ("group_id", "person_id"))
    out: dict[str, dict[str, Any]] = {}
    for row in kp.to_dict("records"):
        key = str(row["person_id"])
        # A person listed in two groups keeps the row where the measure is largest.
        if key not in out or _num(row.get(size_by)) > _num(out[key].get(size_by)):
            out[key] = row
    return out


def _centrality(
    members: dict[str, Any], links: dict[tuple[str, str, str], int], size_by: str, seed: int
) -> dict[str, float]:
    g = nx.Graph()
    g.add_nodes_from(members)
    for (a, b, _), count in links.items():
        w = g.get_edge_data(a, b, {}).get("weight", 0)
        g.add_edge(a, b, weight=w + count)
    if size_by == "degree":
        return {n: float(d) for n, d in g.degree()}
    if size_by == "weighted_degree":
        return {n: float(d) for n, d in g.degree(weight="weight")}
    # betweenness (and brokerage, whose counts need the detection): sampled above 500 nodes.
    k = 200 if g.number_of_nodes() > 500 else None
    return {n: float(v) for n, v in nx.betweenness_centrality(g, k=k, seed=seed).items()}


def _groups_as_nodes(
    graph: nx.MultiDiGraph,
    result: Any,
    chosen: Sequence[str],
    members: dict[str, dict[str, Any]],
    level: str,
    names: dict[str, str],
    title: str,
    data_label: str | None,
    seed: int,
    max_nodes: int = MAX_NODES,
) -> NetworkMap:
    summaries = _summary_by_group(result)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for m in members.values():
        for g in m["groups"]:
            for role in m["roles"] or {"unknown"}:
                counts[g][role] += 1
    owner = {p: sorted(m["groups"])[0] for p, m in members.items()}
    between: Counter[tuple[str, str]] = Counter()
    for (a, b, _), n in person_links(graph, members).items():
        ga, gb = owner[a], owner[b]
        if ga != gb:
            between[(min(ga, gb), max(ga, gb))] += n
    vmax = max((sum(c.values()) for c in counts.values()), default=1)
    nodes = []
    for g in chosen:
        s = summaries.get(g, {})
        regions = _split(s.get("regions"))
        cross = str(s.get("cross_regional", "")).lower() in {"true", "1"}
        tip = [
            ["Group", g],
            ["Suspects", str(counts[g]["suspect"])],
            ["Victims", str(counts[g]["victim"])],
            ["Regions", _region_label(regions, names)],
            [
                "Moves",
                f"{_text(s.get('moves')) or 0} ({_text(s.get('cross_region_moves')) or 0} across regions)",
            ],
            ["Exploitation", ", ".join(_split(s.get("exploitation_types"))) or "unknown"],
            ["First seen", _text(s.get("first_seen"))[:10] or "unknown"],
            ["Last seen", _text(s.get("last_seen"))[:10] or "unknown"],
        ]
        if s.get("priority") is not None:
            tip.append(["Priority", f"{_num(s.get('priority')):.3g}"])
        nodes.append(
            {
                "id": f"Group:{g}",
                "label": g,
                "shape": "dot",
                "size": _size(float(sum(counts[g].values())), float(vmax), 10, 40),
                "color": "#6a3d9a" if cross else "#8c8c8c",
                "tip": tip,
                "f": {
                    "regions": regions,
                    "groups": [g],
                    "types": _split(s.get("exploitation_types")),
                    "first": _text(s.get("first_seen"))[:10] or None,
                    "last": _text(s.get("last_seen"))[:10] or None,
                },
            }
        )
    edges = [
        {
            "id": f"Group:{a}|Group:{b}",
            "from": f"Group:{a}",
            "to": f"Group:{b}",
            "width": round(1 + math.log2(n), 2),
            "color": {"color": "#888888", "opacity": 0.6},
            "tip": [["Links between the groups", str(n)]],
        }
        for (a, b), n in sorted(between.items())
    ]
    placed = _place(nodes, edges, seed)
    notice = (
        f"{len(members):,} persons are more than this map draws one by one ({max_nodes:,}); "
        f"each of the {len(chosen):,} groups is drawn as one node. Choose fewer groups to see persons."
    )
    legend = [
        {
            "title": "Groups",
            "items": [
                {"kind": "node", "shape": "dot", "color": "#6a3d9a", "text": "cross-regional group"},
                {"kind": "node", "shape": "dot", "color": "#8c8c8c", "text": "group within one region"},
                {"kind": "text", "text": "size: suspects and victims; line: links between groups"},
            ],
        }
    ]
    return NetworkMap(
        title=title + " (groups as nodes)",
        subtitle=_subtitle(graph, result, level, data_label),
        nodes=nodes,
        edges=edges,
        legend=legend,
        filters=_filter_choices(nodes, names),
        options=_options(len(nodes), placed),
        notice=notice,
        view="group",
        aggregated=True,
    )


# ---------------------------------------------------------------------------------------------
# region view


def _jitter(key: str, radius: float = 14.0) -> tuple[float, float]:
    # Deterministic spread so persons in one municipality do not sit on one point.
    h = hashlib.sha256(key.encode("utf-8")).digest()
    angle = h[0] / 255 * 2 * math.pi
    r = radius * math.sqrt(h[1] / 255)
    return r * math.cos(angle), r * math.sin(angle)


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


# ---------------------------------------------------------------------------------------------
# ego view


def _resolve(graph: nx.MultiDiGraph, node: str) -> str:
    for candidate in (node, f"Person:{node}", f"Premises:{node}"):
        if candidate in graph and graph.nodes[candidate].get("label") not in _EGO_SKIP:
            return candidate
    raise ConfigError(
        f"node {node!r} is not in the graph; give a person or premises id as 'Person:<pseudonym>', "
        "'Premises:<id>' or the bare pseudonym"
    )


def ego_hops(graph: nx.MultiDiGraph, centre: str, depth: int) -> dict[str, int]:
    """Nodes within ``depth`` links of ``centre`` (either direction) and their distance.

    Record, Source, Region and Municipality nodes are neither included nor walked through: they
    would tie every person to every other one.
    """
    hops = {centre: 0}
    queue = deque([centre])
    while queue:
        n = queue.popleft()
        if hops[n] >= depth:
            continue
        for nb in set(graph.successors(n)) | set(graph.predecessors(n)):
            if nb not in hops and graph.nodes[nb].get("label") not in _EGO_SKIP:
                hops[nb] = hops[n] + 1
                queue.append(nb)
    return hops


def ego_map(
    graph: nx.MultiDiGraph,
    node: str,
    depth: int = 2,
    *,
    result: DetectionLike | None = None,
    level: str | None = None,
    max_nodes: int = MAX_NODES,
    seed: int = 7,
    data_label: str | None = None,
) -> NetworkMap:
    """Everything within ``depth`` links of one person or premises.

    Parameters
    ----------
    graph : the store graph.
    node : ``"Person:<pseudonym>"``, ``"Premises:<id>"``, or a bare pseudonym.
    depth : number of links to follow (1 to 4).
    result : optional detection result, for group membership in tooltips and the group filter.
    level : region level for tooltips and filters (default police_unit or the result's level).
    max_nodes : above this many nodes, nodes are aggregated by label and distance.
    seed : seed of the layout.
    data_label : names the data in the subtitle.

    Returns
    -------
    NetworkMap with the graph's node ids and one edge per relationship (id ``"<from>|<to>|<key>"``).
    """
    if not 1 <= depth <= 4:
        raise ConfigError(f"depth must be between 1 and 4, not {depth}")
    level = level or getattr(result, "level", None) or "police_unit"
    check_level(level)
    names = region_names(level)
    centre = _resolve(graph, node)
    hops = ego_hops(graph, centre, depth)
    groups_of: dict[str, set[str]] = defaultdict(set)
    if result is not None:
        for row in _frame(result, "groups", ("group_id", "person_id")).to_dict("records"):
            groups_of[f"Person:{row['person_id']}"].add(str(row["group_id"]))
    centre_text = f"{graph.nodes[centre].get('label', '')} {short(bare_key(centre))}"
    title = f"Ego map: {centre_text}, {depth} step{'s' if depth > 1 else ''}"
    subtitle = _subtitle(graph, result, level, data_label)
    if len(hops) > max_nodes:
        return _ego_aggregated(graph, centre, hops, title, subtitle, max_nodes)

    persons = [n for n in hops if graph.nodes[n].get("label") == "Person"]
    facts = person_facts(graph, persons)
    ref = municipalities()
    nodes: list[dict[str, Any]] = []
    for n in sorted(hops, key=lambda x: (hops[x], x)):
        attrs = graph.nodes[n]
        label = str(attrs.get("label", ""))
        key = bare_key(n)
        # Signal and record keys are "<source>:<row>": the row tells them apart on the map.
        item: dict[str, Any] = {"id": n, "label": short(key.rsplit(":", 1)[-1])}
        f: dict[str, Any] = {"groups": sorted(groups_of.get(n, ())), "regions": [], "types": []}
        tip: list[list[str]]
        if label == "Person":
            fa = facts[n]
            extra = [["Group", ", ".join(sorted(groups_of[n]))]] if groups_of.get(n) else []
            tip = _person_tip(fa, level, names, extra)
            item.update(shape="dot", size=12, color=ROLE_COLOURS[role_of(fa.roles)])
            f.update(
                regions=fa.regions(level), types=sorted(fa.types), first=fa.first_seen, last=fa.last_seen
            )
        else:
            style = LABEL_STYLE.get(label, {"shape": "dot", "color": "#aaaaaa", "size": 8, "text": label})
            item.update(shape=style["shape"], size=style["size"], color=style["color"])
            tip = [[style["text"].capitalize(), short(key)]]
            etype = attrs.get("exploitation_type")
            if isinstance(etype, str) and etype:
                tip.append(["Exploitation", etype])
                f["types"] = [etype]
            if label == "Premises":
                if isinstance(attrs.get("kind"), str):
                    tip.append(["Kind", attrs["kind"]])
                muni = ref.get(_text(attrs.get("municipality")))
                if muni:
                    tip.append(
                        ["Municipality", f"{muni.name} ({_region_label([muni.regions[level]], names)})"]
                    )
                    f["regions"] = [muni.regions[level]]
            for prop, text in (
                ("observed_on", "Observed"),
                ("reliability", "Reliability"),
                ("source", "Source"),
            ):
                if attrs.get(prop) not in (None, ""):
                    tip.append([text, _text(attrs[prop])[:40]])
            when = attrs.get("observed_on")
            if isinstance(when, str) and when:
                f.update(first=when[:10], last=when[:10])
            degree = sum(1 for nb in nx.all_neighbors(graph, n) if nb in hops)
            tip.append(["Links on this map", str(degree)])
        if n == centre:
            item["size"] = float(item["size"]) * 1.8
            item["borderWidth"] = 4
            item["color"] = {"background": _colour_of(item["color"]), "border": "#000000"}
            tip.insert(0, ["Centre of this map", "yes"])
            f["always"] = True
        item["tip"] = tip
        item["f"] = f
        nodes.append(item)

    edges = []
    rels: set[str] = set()
    for u, v, k, data in graph.edges(keys=True, data=True):
        if u not in hops or v not in hops:
            continue
        rel = str(data.get("type", ""))
        style = rel_style(rel)
        rels.add(rel)
        tip = [["Relationship", style["text"]]]
        for prop, text in (
            ("observed_on", "Observed"),
            ("role", "Role"),
            ("source", "Source"),
            ("reliability", "Reliability"),
        ):
            if data.get(prop) not in (None, ""):
                tip.append([text, _text(data[prop])[:40]])
        when = data.get("observed_on")
        edges.append(
            {
                "id": f"{u}|{v}|{k}",
                "from": u,
                "to": v,
                "arrows": "to",
                "color": {"color": style["color"], "opacity": 0.85},
                "dashes": style["dashes"],
                "tip": tip,
                "f": {
                    "first": when[:10] if isinstance(when, str) and when else None,
                    "last": when[:10] if isinstance(when, str) and when else None,
                },
            }
        )
    placed = _place(nodes, edges, seed)
    labels_drawn = {graph.nodes[n].get("label") for n in hops}
    # The styled types in their usual order, then any type drawn without a style of its own.
    drawn = [r for r in REL_STYLE if r in rels] + sorted(rels - set(REL_STYLE))
    legend = [
        role_legend(),
        {
            "title": "Other nodes",
            "items": [
                {"kind": "node", "shape": s["shape"], "color": s["color"], "text": s["text"]}
                for lbl, s in LABEL_STYLE.items()
                if lbl in labels_drawn
            ]
            + [{"kind": "text", "text": "thick black border: the centre of the map"}],
        },
        {
            "title": "Relationships",
            "items": [
                {"kind": "edge", "color": s["color"], "dashes": s["dashes"], "text": s["text"]}
                for s in map(rel_style, drawn)
            ],
        },
    ]
    return NetworkMap(
        title=title,
        subtitle=subtitle,
        nodes=nodes,
        edges=edges,
        legend=legend,
        filters=_filter_choices(nodes, names),
        options=_options(len(nodes), placed, smooth={"enabled": True, "type": "continuous"}),
        view="ego",
    )


def _colour_of(colour: Any) -> str:
    return str(colour.get("background")) if isinstance(colour, dict) else str(colour)


def _ego_aggregated(
    graph: nx.MultiDiGraph, centre: str, hops: dict[str, int], title: str, subtitle: str, max_nodes: int
) -> NetworkMap:
    def bucket(n: str) -> str:
        return centre if n == centre else f"{graph.nodes[n].get('label', 'Node')} at {hops[n]} steps"

    sizes = Counter(bucket(n) for n in hops)
    links: Counter[tuple[str, str]] = Counter()
    for u, v in graph.edges():
        if u in hops and v in hops and bucket(u) != bucket(v):
            a, b = sorted((bucket(u), bucket(v)))
            links[(a, b)] += 1
    nodes = []
    for b, n in sorted(sizes.items()):
        label = short(bare_key(centre)) if b == centre else f"{n:,} × {b}"
        kind = str(graph.nodes[centre].get("label")) if b == centre else b.split(" at ")[0]
        style = LABEL_STYLE.get(kind, {"shape": "dot", "color": ROLE_COLOURS["signalled"]})
        nodes.append(
            {
                "id": b,
                "label": label,
                "shape": style["shape"],
                "color": style["color"],
                "size": _size(float(n), float(max(sizes.values())), 10, 40),
                "tip": [["Nodes", label]],
                "f": {"always": True},
            }
        )
    edges = [
        {
            "id": f"{a}|{b}",
            "from": a,
            "to": b,
            "width": round(1 + math.log2(n), 2),
            "tip": [["Relationships", str(n)]],
        }
        for (a, b), n in sorted(links.items())
    ]
    return NetworkMap(
        title=title + " (aggregated)",
        subtitle=subtitle,
        nodes=nodes,
        edges=edges,
        legend=[
            {"title": "Aggregated", "items": [{"kind": "text", "text": "one node per label and distance"}]}
        ],
        options=_options(len(nodes), False),
        notice=(
            f"{len(hops):,} nodes are more than this map draws one by one ({max_nodes:,}); nodes are "
            "grouped by kind and distance from the centre. Choose a smaller depth to see them."
        ),
        view="ego",
        aggregated=True,
    )
