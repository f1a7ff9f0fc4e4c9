"""Export part of the analysis graph for other tools: GraphML, GEXF (Gephi), an i2 chart (ANX) or
two CSV tables.

The selection (:func:`select_network`) is a pure function over the analysis graph; the writer
(:func:`export_network`) converts attributes to what each format accepts and writes the file(s).
Nothing is added to the graph: the file holds the pseudonyms and attributes the store holds, so
no clear identifier can reach it (the analysis graph has none; ``comparison`` is already dropped
when the graph is read). See docs/exports.md.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import networkx as nx

from netanalysis.audit import audited, record_written
from netanalysis.errors import ConfigError
from netanalysis.maps._ego import _EGO_SKIP, _resolve, ego_hops

__all__ = ["EXPORT_FORMATS", "export_network", "links_path", "select_network"]

EXPORT_FORMATS = ("graphml", "gexf", "anx", "csv")
ENTITY_COLUMNS = ("entity_id", "entity_type")
LINK_COLUMNS = ("link_id", "from_id", "to_id", "link_type")


def _group_members(detection: Any, group_ids: Sequence[str]) -> set[str]:
    """The ``Person:<pseudonym>`` ids of the groups, from a detection result or its groups frame."""
    if detection is None:
        raise ConfigError("selecting groups needs a detection (the groups.csv of `netanalysis detect`)")
    frame = getattr(detection, "groups", detection)
    if "group_id" not in getattr(frame, "columns", ()) or "person_id" not in frame.columns:
        raise ConfigError("the detection has no group_id and person_id columns; give its groups.csv")
    known = {str(g) for g in frame["group_id"]}
    unknown = sorted(set(group_ids) - known)
    if unknown:
        raise ConfigError(
            f"group {unknown[0]} is not in the detection ({len(known)} groups); "
            "check the group ids in its groups.csv"
        )
    wanted = set(group_ids)
    return {
        f"Person:{p}" for g, p in zip(frame["group_id"], frame["person_id"], strict=True) if str(g) in wanted
    }


def select_network(
    graph: nx.MultiDiGraph,
    *,
    group_ids: Sequence[str] | None = None,
    around: str | None = None,
    depth: int = 2,
    detection: Any = None,
) -> nx.MultiDiGraph:
    """The part of the analysis graph to export: groups, the network around a node, or all of it.

    Parameters
    ----------
    graph : the analysis graph (``read_analysis_graph``).
    group_ids : groups to export (``["G001"]``): their persons and the evidence items (cases,
        phones, premises, signals ...) linked to them. Needs ``detection``.
    around : a node, ``"Person:<pseudonym>"``, ``"Premises:<id>"`` or a bare pseudonym: everything
        within ``depth`` links of it, as the ego map selects it.
    depth : links to follow from ``around`` (1 to 4).
    detection : a detection result, or its ``groups`` frame (``groups.csv``), for ``group_ids``.

    With neither ``group_ids`` nor ``around`` the whole graph is selected. Record, Source, Region
    and Municipality nodes are left out of a group or neighbourhood selection (they would tie
    every person to every other one).

    Returns
    -------
    networkx.MultiDiGraph
        A copy of the selected nodes and every link between them, attributes as in ``graph``.

    Raises
    ------
    ConfigError
        Both a group and a node given, an unknown group or node, a depth out of range, or an
        empty selection (one sentence, no values from the data).

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> g.add_node("Person:a", label="Person")
    >>> g.add_node("Case:c", label="Case")
    >>> g.add_node("Person:b", label="Person")
    >>> _ = g.add_edge("Person:a", "Case:c", key="r1", type="SUSPECT_IN")
    >>> _ = g.add_edge("Person:b", "Case:c", key="r2", type="VICTIM_IN")
    >>> sorted(select_network(g, around="a", depth=1))
    ['Case:c', 'Person:a']
    >>> select_network(g).number_of_edges()
    2
    """
    if group_ids and around:
        raise ConfigError("export either groups or the network around a node, not both")
    if group_ids:
        members = _group_members(detection, group_ids) & set(graph)
        chosen = set(members)
        for person in members:
            for nb in set(graph.successors(person)) | set(graph.predecessors(person)):
                if graph.nodes[nb].get("label") not in _EGO_SKIP:
                    chosen.add(nb)
        what = (
            f"group{'s' if len(group_ids) > 1 else ''} {', '.join(group_ids)} have no persons in this graph"
        )
    elif around:
        if not 1 <= depth <= 4:
            raise ConfigError(f"depth must be between 1 and 4, not {depth}")
        chosen = set(ego_hops(graph, _resolve(graph, around), depth))
        what = "the node has no neighbourhood"
    else:
        chosen = set(graph)
        what = "the graph has no nodes; load data first"
    if not chosen:
        raise ConfigError(f"the selection is empty: {what}")
    selected: nx.MultiDiGraph = graph.subgraph(chosen).copy()
    return selected


def _value(value: Any) -> str | int | float | bool | None:
    """A value as GraphML and GEXF accept it: lists joined with ``;``, mappings as JSON, None kept
    as None (dropped by the caller)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(str(v) for v in value) if isinstance(value, set | frozenset) else map(str, value)
        return ";".join(items)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def _attributes(attrs: dict[str, Any]) -> dict[str, str | int | float | bool]:
    return {k: v for k, v in ((k, _value(v)) for k, v in attrs.items()) if v is not None}


def _plain(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """The graph with attributes GraphML and GEXF accept and one unique id per edge."""
    plain = nx.MultiDiGraph()
    # Per attribute, one type: the writers declare one type per key, so a key whose values mix
    # types (an int here, a text there) is written as text everywhere.
    nodes = {n: _attributes(a) for n, a in graph.nodes(data=True)}
    edges = {}
    for u, v, k, a in graph.edges(keys=True, data=True):
        attrs = _attributes(a)
        # GEXF reads "type" as the edge's direction; the relationship keeps its own name.
        if "type" in attrs:
            attrs["relationship"] = attrs.pop("type")
        attrs["id"] = f"{u}|{v}|{k}"
        edges[(u, v, k)] = attrs
    for table in (nodes, edges):
        types: dict[str, set[type]] = {}
        for attrs in table.values():
            for name, value in attrs.items():
                types.setdefault(name, set()).add(type(value))
        mixed = {name for name, seen in types.items() if len(seen) > 1}
        for attrs in table.values():
            for name in mixed & set(attrs):
                attrs[name] = str(attrs[name])
    plain.add_nodes_from(nodes.items())
    for (u, v, k), attrs in edges.items():
        plain.add_edge(u, v, key=k, **attrs)
    return plain


def links_path(path: str | Path) -> Path:
    """Where the CSV export writes its links: beside the entities file, ``<stem>-links<suffix>``.

    Examples
    --------
    >>> links_path("out/chart.csv").as_posix()
    'out/chart-links.csv'
    """
    path = Path(path)
    return path.with_name(f"{path.stem}-links{path.suffix or '.csv'}")


def _cell(value: Any) -> Any:
    from loaders.csv_safety import guard_cell

    plain = _value(value)
    return "" if plain is None else guard_cell(plain)


def _write_csv(graph: nx.MultiDiGraph, path: Path) -> list[Path]:
    node_keys = sorted({k for _, a in graph.nodes(data=True) for k in a} - {"label"})
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*ENTITY_COLUMNS, *node_keys])
        for n, a in sorted(graph.nodes(data=True)):
            writer.writerow([_cell(n), _cell(a.get("label")), *(_cell(a.get(k)) for k in node_keys)])
    links = links_path(path)
    edge_keys = sorted({k for *_, a in graph.edges(keys=True, data=True) for k in a} - {"type"})
    with links.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*LINK_COLUMNS, *edge_keys])
        for u, v, k, a in sorted(graph.edges(keys=True, data=True), key=lambda e: (e[0], e[1], str(e[2]))):
            row = [f"{u}|{v}|{k}", u, v, a.get("type"), *(a.get(key) for key in edge_keys)]
            writer.writerow([_cell(c) for c in row])
    return [path, links]


@audited("export", store="graph", only_from_store=True, after=record_written)
def export_network(
    graph: nx.MultiDiGraph,
    path: str | Path,
    format: str,
    *,
    group_ids: Sequence[str] | None = None,
    around: str | None = None,
    depth: int = 2,
    detection: Any = None,
) -> list[Path]:
    """Write a selection of the analysis graph (:func:`select_network`) as GraphML, GEXF, ANX or CSV.

    Parameters
    ----------
    graph : the analysis graph (``read_analysis_graph``).
    path : the file to write; for ``csv`` the entities file, the links going beside it
        (:func:`links_path`).
    format : ``graphml``, ``gexf`` (Gephi), ``anx`` (an i2 Analyst's Notebook chart with entity
        and link types, dates, and source and information grades on the cards;
        :mod:`netanalysis.anx`) or ``csv`` (two tables for an i2 import specification,
        docs/exports.md).
    group_ids, around, depth, detection : the selection, as in :func:`select_network`.

    Node ids are the graph's (``"Person:<pseudonym>"``), each edge's id is
    ``"<from>|<to>|<key>"``. GraphML and GEXF take only text, numbers and booleans, so
    attributes are converted: lists are joined with ``;``, mappings written as JSON, None values
    dropped, and an attribute whose values mix types is written as text. The edge attribute
    ``type`` (the relationship) is written as ``relationship`` (GEXF reserves ``type`` for the
    direction). Nothing is added: only the pseudonyms and attributes the graph holds.

    Returns
    -------
    list of Path
        The files written (two for ``csv``).

    Raises
    ------
    ConfigError
        An unknown format, or a selection :func:`select_network` refuses.
    """
    if format not in EXPORT_FORMATS:
        raise ConfigError(f"unknown export format {format!r}; use one of: {', '.join(EXPORT_FORMATS)}")
    selected = select_network(graph, group_ids=group_ids, around=around, depth=depth, detection=detection)
    path = Path(path)
    if format == "csv":
        return _write_csv(selected, path)
    if format == "anx":
        from netanalysis.anx import write_anx

        return [write_anx(selected, path, graph)]
    plain = _plain(selected)
    if format == "graphml":
        nx.write_graphml(plain, path, infer_numeric_types=True, edge_id_from_attribute="id")
    else:
        nx.write_gexf(plain, path)
    return [path]
