"""The ego view: everything within a few hops of one person or premises."""

from __future__ import annotations

import math
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from typing import Any

import networkx as nx

from netanalysis.audit import audited, record_map
from netanalysis.errors import ConfigError
from netanalysis.maps._common import (
    MAX_NODES,
    DetectionLike,
    _filter_choices,
    _frame,
    _options,
    _person_tip,
    _place,
    _region_label,
    _size,
    _subtitle,
    _text,
)
from netanalysis.maps._facts import (
    bare_key,
    person_facts,
    short,
)
from netanalysis.maps._reference import check_level, municipalities, region_names
from netanalysis.maps._render import NetworkMap
from netanalysis.maps._style import (
    LABEL_STYLE,
    REL_STYLE,
    ROLE_COLOURS,
    rel_style,
    role_legend,
    role_of,
)

# Provenance and reference nodes: they would connect everything to everything in an ego network.
_EGO_SKIP = frozenset({"Record", "Source", "Region", "Municipality"})


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


@audited("map", store="graph", only_from_store=True, after=record_map)
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

    return _nodes_map(graph, hops, {centre}, groups_of, level, title, subtitle, seed, "ego")


def _nodes_map(
    graph: nx.MultiDiGraph,
    hops: dict[str, int],
    centres: set[str],
    groups_of: dict[str, set[str]],
    level: str,
    title: str,
    subtitle: str,
    seed: int,
    view: str,
    keep_edge: Callable[[str, str, dict[str, Any]], bool] | None = None,
) -> NetworkMap:
    """Draw the nodes of ``hops`` (node -> distance) one by one, the ``centres`` marked, with every
    relationship between them that ``keep_edge(u, v, data)`` accepts (all by default)."""
    names = region_names(level)
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
            if label == "Address" and isinstance(attrs.get("pc4"), str):
                tip.append(["Postcode area", attrs["pc4"]])  # four digits: never the full address
            if label == "Organisation" and isinstance(attrs.get("sector"), str):
                tip.append(["Sector (SBI)", attrs["sector"]])
            if label in ("Premises", "Organisation", "Address"):
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
        if n in centres:
            item["size"] = float(item["size"]) * 1.8
            item["borderWidth"] = 4
            item["color"] = {"background": _colour_of(item["color"]), "border": "#000000"}
            tip.insert(0, ["Centre of this map" if view == "ego" else "Asked about", "yes"])
            f["always"] = True
        item["tip"] = tip
        item["f"] = f
        nodes.append(item)

    edges = []
    rels: set[str] = set()
    for u, v, k, data in graph.edges(keys=True, data=True):
        if u not in hops or v not in hops or (keep_edge is not None and not keep_edge(u, v, data)):
            continue
        rel = str(data.get("type", ""))
        style = rel_style(rel)
        rels.add(rel)
        tip = [["Relationship", style["text"]]]
        for prop, text in (
            ("observed_on", "Observed"),
            ("from_date", "From"),
            ("to_date", "Until"),
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
            + [{"kind": "text", "text": f"thick black border: {_CENTRE_TEXT[view]}"}],
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
        view=view,
    )


def connecting_map(
    graph: nx.MultiDiGraph,
    network: Any,
    *,
    result: DetectionLike | None = None,
    level: str | None = None,
    seed: int = 7,
    data_label: str | None = None,
) -> NetworkMap:
    """The connecting network of some persons (``connecting_network``) as a map.

    Parameters
    ----------
    graph : the store graph the network was found in.
    network : a ``ConnectingNetwork``: the persons asked about are marked, every node on a path
        is drawn, and the relationships between them that the paths run along.
    result : optional detection result, for group membership in tooltips and the group filter.
    level : region level for tooltips and filters (default police_unit or the result's level).
    seed : seed of the layout.
    data_label : names the data in the subtitle.

    Returns
    -------
    NetworkMap with the graph's node ids and one edge per relationship (id ``"<from>|<to>|<key>"``).
    """
    level = level or getattr(result, "level", None) or "police_unit"
    check_level(level)
    persons = list(network.persons)
    hops = {n: (0 if n in persons else 1) for n in network.network.nodes}
    groups_of: dict[str, set[str]] = defaultdict(set)
    if result is not None:
        for row in _frame(result, "groups", ("group_id", "person_id")).to_dict("records"):
            groups_of[f"Person:{row['person_id']}"].add(str(row["group_id"]))
    links = {frozenset((u, v)) for u, v in network.network.edges()}
    n_paths = len(network.paths)
    title = (
        f"Connecting network of {len(persons)} persons: {n_paths} path{'s' if n_paths != 1 else ''} "
        f"of at most {network.max_hops} links"
    )
    subtitle = _subtitle(graph, result, level, data_label)
    m = _nodes_map(
        graph,
        hops,
        set(persons),
        groups_of,
        level,
        title,
        subtitle,
        seed,
        "connect",
        keep_edge=lambda u, v, _data: frozenset((u, v)) in links,
    )
    if network.unconnected:
        m.notice = (
            f"{len(network.unconnected)} pair{'s' if len(network.unconnected) != 1 else ''} of persons "
            f"have no path of at most {network.max_hops} links"
        )
    return m


_CENTRE_TEXT = {"ego": "the centre of the map", "connect": "the persons asked about"}


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
