"""The group view: the persons of one or more perpetrator groups and what links them."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from itertools import combinations
from typing import Any

import networkx as nx

from netanalysis.audit import audited, record_map
from netanalysis.errors import ConfigError
from netanalysis.maps._common import (
    MAX_NODES,
    DetectionLike,
    _filter_choices,
    _frame,
    _group_members,
    _options,
    _person_tip,
    _place,
    _region_label,
    _size,
    _split,
    _subtitle,
    _summary_by_group,
    _text,
)
from netanalysis.maps._facts import (
    EVIDENCE,
    _date,
    bare_key,
    pair_links,
    person_facts,
    person_links,
    shared_items,
    short,
)
from netanalysis.maps._reference import check_level, region_names
from netanalysis.maps._render import NetworkMap
from netanalysis.maps._style import (
    EVIDENCE_STYLE,
    LABEL_STYLE,
    ROLE_COLOURS,
    role_legend,
    role_of,
)

#: Above this many links between persons, items shared by many persons are drawn as nodes.
MAX_LINKS = 5000
#: The fewest persons sharing an item that is drawn as a node when links are thinned (from 4
#: persons on, one line per person is fewer than a line per pair).
HUB_MIN_PERSONS = 4
SIZE_BY = ("betweenness", "degree", "weighted_degree", "brokerage")
_BROKERAGE = ("coordinator", "gatekeeper", "representative", "liaison", "itinerant")


@audited("map", store="graph", only_from_store=True, after=record_map)
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
    known = link_first_dates(graph, items)
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
                "f": {"groups": common, "first": known.get((a, b, kind))},
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
                    "f": {"groups": sorted(members[p]["groups"]), "first": _first_fact(graph, p, item)},
                }
            )
    return kinds


def _first_fact(graph: nx.MultiDiGraph, person: str, item: str) -> str | None:
    """The earliest ISO date of the facts between a person and an item (either direction)."""
    dates = [
        d
        for u, v in ((person, item), (item, person))
        for data in (graph.get_edge_data(u, v) or {}).values()
        if (d := _date(data.get("observed_on")))
    ]
    return min(dates, default=None)


def link_first_dates(
    graph: nx.MultiDiGraph, items: dict[str, list[str]]
) -> dict[tuple[str, str, str], str | None]:
    """When each link between two persons was first known, for the map's time slider.

    Two persons are linked through an item once both facts that tie them to it are known, so an
    item's link dates from the later of the two persons' first facts with it; a link through
    several items dates from the earliest of those. A fact without a date does not hold a link
    back: a pair with no dated fact gets None (shown at every slider position).

    Parameters
    ----------
    graph : the store graph.
    items : item node id -> its person node ids, as :func:`shared_items` returns.

    Returns
    -------
    dict
        ``(person_a, person_b, kind) -> ISO date or None``, the keys of :func:`pair_links`.

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> g.add_node("Phone:p", label="Phone")
    >>> _ = g.add_edge("Person:a", "Phone:p", type="USES", observed_on="2023-02-01")
    >>> _ = g.add_edge("Person:b", "Phone:p", type="USES", observed_on="2023-05-09")
    >>> link_first_dates(g, {"Phone:p": ["Person:a", "Person:b"]})
    {('Person:a', 'Person:b', 'phone'): '2023-05-09'}
    """
    out: dict[tuple[str, str, str], str | None] = {}
    for item, persons in items.items():
        kind = EVIDENCE[graph.nodes[item]["label"]]
        first = {p: _first_fact(graph, p, item) for p in persons}
        for a, b in combinations(persons, 2):
            dates = [d for d in (first[a], first[b]) if d]
            since = max(dates) if dates else None
            key = (a, b, kind)
            if key not in out:
                out[key] = since
            elif out[key] is not None:
                out[key] = None if since is None else min(since, out[key] or since)
    return out


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
