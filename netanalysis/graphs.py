"""Read the graph the analysis works on from a store: the only module in ``netanalysis`` that
touches a store.

Every algorithm (projection, groups, movement, key players, leads) is a pure function over the
``networkx.MultiDiGraph`` returned here, so a notebook can build or filter a graph itself and get
the same answers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import networkx as nx

from graphstore.base import GraphSlice, GraphStore
from netanalysis.audit import GRAPH_STORE_ATTR, audited, record_graph
from netanalysis.errors import ConfigError

__all__ = ["GraphIndex", "check_iso_date", "index_graph", "read_analysis_graph"]

Edge = tuple[Any, Any, dict[str, Any]]


@dataclass(frozen=True)
class GraphIndex:
    """The edges of a store graph grouped by relationship type, from one pass over the graph.

    Every step of the detection needs a few relationship types; at a million persons a pass over
    all edges per step (there were more than ten) cost more than the algorithms themselves. The
    lists keep the graph's own edge order, so a function gives the same answer with or without
    an index.

    Attributes
    ----------
    graph : networkx.MultiDiGraph
        The graph indexed (functions taking an index check that it belongs to their graph).
    edges : dict
        Relationship type (the edge attribute ``type``; None when missing) -> list of
        ``(u, v, data)`` in ``graph.edges(data=True)`` order.
    """

    graph: nx.MultiDiGraph
    edges: dict[Hashable, list[Edge]]

    def of(self, rel_type: str) -> list[Edge]:
        """The edges of one relationship type (an empty list when there are none)."""
        return self.edges.get(rel_type, [])

    def all_edges(self) -> list[list[Edge]]:
        """Every edge list, one per relationship type."""
        return list(self.edges.values())


def index_graph(graph: nx.MultiDiGraph, index: GraphIndex | None = None) -> GraphIndex:
    """Group the edges of ``graph`` by relationship type in one pass (or check a given index).

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        The graph as read from the store.
    index : GraphIndex, optional
        An index made earlier; returned as it is when it was made for this very graph object.

    Returns
    -------
    GraphIndex

    Raises
    ------
    ConfigError
        When ``index`` was made for another graph.

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> _ = g.add_edge("Person:a", "Case:c", type="SUSPECT_IN")
    >>> [(u, v) for u, v, _ in index_graph(g).of("SUSPECT_IN")]
    [('Person:a', 'Case:c')]
    """
    if index is not None:
        if index.graph is not graph:
            raise ConfigError("the graph index was made for another graph; make it with index_graph(graph).")
        return index
    edges: dict[Hashable, list[Edge]] = {}
    for u, v, data in graph.edges(data=True):
        rel = data.get("type")
        bucket = edges.get(rel)
        if bucket is None:
            bucket = edges[rel] = []
        bucket.append((u, v, data))
    return GraphIndex(graph, edges)


def check_iso_date(value: str | None, name: str) -> str | None:
    """Return ``value`` when it is an ISO date (YYYY-MM-DD) or None; raise ConfigError otherwise."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except (TypeError, ValueError):
        raise ConfigError(
            f"{name} {value!r} is not a date; write it as YYYY-MM-DD, e.g. 2023-01-31."
        ) from None


@audited("read", store="store", after=record_graph)
def read_analysis_graph(
    store: GraphStore, date_from: str | None = None, date_to: str | None = None
) -> nx.MultiDiGraph:
    """Read the whole graph, or the facts observed in a date window, from a store.

    Parameters
    ----------
    store : GraphStore
        An open store (``graphstore.open_store(uri)``).
    date_from, date_to : str, optional
        ISO dates, inclusive. Facts with an ``observed_on`` outside the window are left out;
        reference facts (municipality in region, premises in municipality) are always kept.

    Returns
    -------
    networkx.MultiDiGraph
        Node ids ``"Label:key"``, attributes as stored (see ``graphstore.base``).

    Raises
    ------
    ConfigError
        When a date is not ISO or ``date_from`` is after ``date_to``.
    """
    date_from = check_iso_date(date_from, "--from")
    date_to = check_iso_date(date_to, "--to")
    if date_from and date_to and date_from > date_to:
        raise ConfigError(f"--from {date_from} is after --to {date_to}; swap them.")
    graph = store.read_graph(GraphSlice(observed_from=date_from, observed_to=date_to))
    # Where the graph came from: what is made of it later (a detection, a map) is logged there.
    graph.graph[GRAPH_STORE_ATTR] = store.uri
    return graph
