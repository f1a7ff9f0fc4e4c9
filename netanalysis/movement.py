"""Where victims were observed, and their moves between municipalities and regions.

An observation is a ``(Person)-[:SEEN_AT {observed_on}]->(Municipality|Premises)`` fact; a
premises counts as its municipality (``(Premises)-[:IN]->(Municipality)`` or its ``municipality``
property). A move is a change of municipality between two consecutive observations of the same
person in date order (the rule, and how same-day observations are ordered, in
``docs/detection.md``). A move is *cross-region* when the two municipalities lie in different
regions at the chosen level (police unit by default).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import networkx as nx

# LEVELS and check_level are re-exported: loaders.reference owns the region levels.
from loaders.reference import LEVELS, check_level, rows
from netanalysis.graphs import GraphIndex, index_graph

__all__ = [
    "LEVELS",
    "Move",
    "bare_key",
    "check_level",
    "main_region",
    "moves_from_observations",
    "municipality_regions",
    "observations",
    "person_moves",
]


def bare_key(node: str) -> str:
    """The key of a ``"Label:key"`` node id (``"Person:ab12"`` -> ``"ab12"``)."""
    return node.split(":", 1)[1] if ":" in node else node


def node_label(graph: nx.MultiDiGraph, node: str) -> str:
    """The label of a node: its ``label`` attribute, else the prefix of its id."""
    label = graph.nodes[node].get("label")
    if label:
        return str(label)
    return node.split(":", 1)[0]


@dataclass(frozen=True)
class Move:
    """One move of a person from one municipality to another, dated at the arrival."""

    person: str
    from_code: str
    to_code: str
    date: str


@lru_cache(maxsize=4)
def _reference_regions(level: str) -> dict[str, str]:
    # Fallback for graphs without Region nodes (e.g. made by hand in a notebook).
    return {row["code"]: row[f"{level}_code"] for row in rows("municipalities")}


def municipality_regions(
    graph: nx.MultiDiGraph, level: str = "police_unit", index: GraphIndex | None = None
) -> dict[str, str]:
    """Map each municipality code to its region code at ``level``.

    Read from ``(Municipality)-[:IN]->(Region {level, code})`` in the graph; municipalities the
    graph does not place are looked up in ``loaders/reference/municipalities.csv``.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        The graph as read from the store.
    level : str
        ``police_unit`` (default), ``safety_region`` or ``province``.
    index : GraphIndex, optional
        ``netanalysis.graphs.index_graph(graph)``, to save a pass over the edges.

    Returns
    -------
    dict
        ``{"GM0363": "RE05", ...}``.
    """
    check_level(level)
    result = dict(_reference_regions(level))
    for u, v, _ in index_graph(graph, index).of("IN"):
        if not u.startswith("Municipality:"):
            continue
        region = graph.nodes[v]
        if region.get("level") == level and region.get("code"):
            result[str(graph.nodes[u].get("code") or bare_key(u))] = str(region["code"])
    return result


def _premises_municipality(graph: nx.MultiDiGraph, index: GraphIndex) -> dict[str, str]:
    result: dict[str, str] = {}
    for node, data in graph.nodes(data=True):
        if data.get("municipality") and (data.get("label") or str(node).split(":", 1)[0]) == "Premises":
            result[node] = str(data["municipality"])
    for u, v, _ in index.of("IN"):
        if u.startswith("Premises:") and v.startswith("Municipality:"):
            result[u] = str(graph.nodes[v].get("code") or bare_key(v))
    return result


def observations(
    graph: nx.MultiDiGraph, persons: Iterable[str] | None = None, index: GraphIndex | None = None
) -> dict[str, list[tuple[str, str]]]:
    """Time-ordered observations of persons at municipalities.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        The graph as read from the store.
    persons : iterable of str, optional
        Person node ids (``"Person:<key>"``); default every person.
    index : GraphIndex, optional
        ``netanalysis.graphs.index_graph(graph)``, to save a pass over the edges.

    Returns
    -------
    dict
        Person node id -> sorted list of ``(observed_on, municipality code)``. SEEN_AT facts
        without a date, or at a premises whose municipality is unknown, are left out (they cannot
        be placed in time or space).
    """
    index = index_graph(graph, index)
    premises = _premises_municipality(graph, index)
    wanted = None if persons is None else set(persons)
    result: dict[str, list[tuple[str, str]]] = defaultdict(list)
    nodes = graph.nodes
    # Thousands of observations share a few hundred municipalities: look each code up once.
    codes: dict[str, str] = {}
    for u, v, data in index.of("SEEN_AT"):
        if wanted is not None and u not in wanted:
            continue
        date = data.get("observed_on")
        if not date:
            continue
        if v.startswith("Municipality:"):
            code: str | None = codes.get(v)
            if code is None:
                code = codes[v] = str(nodes[v].get("code") or bare_key(v))
        else:
            code = premises.get(v)
        if code:
            result[u].append((str(date), code))
    return {person: sorted(obs) for person, obs in result.items()}


def moves_from_observations(person: str, obs: list[tuple[str, str]]) -> list[Move]:
    """Moves of one person from time-ordered observations.

    The rule: walk the observations in date order; a move is recorded whenever the municipality
    differs from the current one, dated at the first observation at the new municipality. On a day
    with observations at several municipalities, the current municipality is taken first and the
    others in code order, so that a same-day pair (A, B) never counts as B -> A -> B.

    Parameters
    ----------
    person : str
        Whatever id the caller uses for the person; copied into each Move.
    obs : list of (date, code)
        Observations (any order).

    Returns
    -------
    list of Move

    Examples
    --------
    >>> obs = [("2023-01-01", "GM0363"), ("2023-02-01", "GM0363"), ("2023-03-05", "GM0599")]
    >>> moves_from_observations("v1", obs)
    [Move(person='v1', from_code='GM0363', to_code='GM0599', date='2023-03-05')]
    """
    by_day: dict[str, set[str]] = defaultdict(set)
    for date, code in obs:
        by_day[date].add(code)
    moves: list[Move] = []
    current: str | None = None
    for date in sorted(by_day):
        places = sorted(by_day[date])
        if current in by_day[date]:
            places.remove(current)
            places.insert(0, current)
        for code in places:
            if current is not None and code != current:
                moves.append(Move(person, current, code, date))
            current = code
    return moves


def person_moves(
    graph: nx.MultiDiGraph, persons: Iterable[str] | None = None, index: GraphIndex | None = None
) -> dict[str, list[Move]]:
    """Moves per person (node id -> list of Move, persons without moves left out)."""
    result = {}
    for person, obs in observations(graph, persons, index).items():
        moves = moves_from_observations(person, obs)
        if moves:
            result[person] = moves
    return result


def main_region(obs: list[tuple[str, str]], regions: Mapping[str, str], unknown: str = "unknown") -> str:
    """The region where a person was observed most often (ties: the smallest code).

    Returns ``unknown`` when the person has no observation in a known municipality.
    """
    counts = Counter(regions[code] for _, code in obs if code in regions)
    if not counts:
        return unknown
    return min(counts.items(), key=lambda item: (-item[1], item[0]))[0]
