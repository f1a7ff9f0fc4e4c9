"""The connecting network: how two or more persons are tied together by evidence.

As i2's "find connecting network": between every pair of the given persons, the lightest paths
through the evidence (cases, phones, vehicles, bank accounts, premises, signals) with at most
``max_hops`` links, and the network of every node and link on them.

A link's length is ``1 / weight``, its weight the strongest of the facts behind it: the weight
of its kind of evidence (``EvidenceWeights``, the same as in the perpetrator network; a signal
counts ``signal_weight``) times the reliability factor of the fact's Admiralty grade. So a path
through a shared case in a reliable police file is shorter than one through a premises named in
an anonymous signal. Places (municipalities, regions), records and sources are not evidence
that two persons know each other and are never walked through.

Paths per pair are found lightest first (Yen's algorithm, ``networkx.shortest_simple_paths``)
on the part of the network within ``max_hops`` of both persons, up to ``max_paths`` per pair.

Given an open store instead of a graph, only the persons' neighbourhood is read: every node of
a path of at most ``max_hops`` links between two persons lies within ``max_hops // 2`` links of
one of them (a node ``d`` links from one end and ``e`` from the other has ``d + e <= max_hops``,
so the smaller of the two is at most half), and so does every node on its shortest way to either
end. So the store is read ring by ring that far out (``GraphSlice.person_hops``, through the
evidence's labels and relationships only), and the search on what was read finds the same paths
as on the whole graph, at a cost that follows the persons' neighbourhood, not the store's size.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations, islice
from typing import Any

import networkx as nx

from graphstore.base import GraphSlice, GraphStore
from netanalysis.audit import audited
from netanalysis.errors import ConfigError
from netanalysis.projection import EvidenceWeights, reliability_factor

__all__ = [
    "CONNECT_EVIDENCE",
    "ConnectingNetwork",
    "EvidencePath",
    "connecting_network",
    "evidence_network",
    "read_around",
]

#: The kinds of evidence a connecting path may run through.
CONNECT_EVIDENCE: tuple[str, ...] = (
    "case",
    "phone",
    "vehicle",
    "account",
    "premises",
    "signal",
    "address",
    "employer",
    "director",
)

_IDENTIFIER_KIND = {"Phone": "phone", "Vehicle": "vehicle", "BankAccount": "account"}
# What a store read must include for each kind (``_kind``): its relationships and the labels at
# their far ends (a case or signal AT premises is premises evidence).
_KIND_READ: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "case": (frozenset({"SUSPECT_IN", "VICTIM_IN"}), frozenset({"Case"})),
    "phone": (frozenset({"USES"}), frozenset({"Phone"})),
    "vehicle": (frozenset({"USES"}), frozenset({"Vehicle"})),
    "account": (frozenset({"USES"}), frozenset({"BankAccount"})),
    "premises": (frozenset({"SEEN_AT", "AT"}), frozenset({"Premises", "Case", "Signal"})),
    "signal": (frozenset({"CONCERNS", "TIED_TO"}), frozenset({"Signal", "Case"})),
    "address": (frozenset({"REGISTERED_AT"}), frozenset({"Address"})),
    "employer": (frozenset({"EMPLOYED_BY"}), frozenset({"Organisation"})),
    "director": (frozenset({"DIRECTOR_OF", "OWNS"}), frozenset({"Organisation"})),
}
# Yen's algorithm yields paths lightest first, whatever their number of links: look at this many
# paths per wanted one before giving up on finding more within the hop limit.
_SCAN_FACTOR = 20


def _kind(rel: str, start_label: str, end_label: str) -> str | None:
    """The evidence kind of a store relationship, or None when it is not evidence between persons."""
    if rel in ("SUSPECT_IN", "VICTIM_IN"):
        return "case"
    if rel == "USES":
        return _IDENTIFIER_KIND.get(end_label)
    if rel in ("SEEN_AT", "AT"):
        return "premises" if end_label == "Premises" else None
    if rel in ("CONCERNS", "TIED_TO"):
        return "signal"
    # A person's registration at an address, or work for or direction of an organisation: the
    # ties that bind a labour-exploitation network (docs/detection.md, address evidence).
    if rel == "REGISTERED_AT":
        return "address"
    if rel == "EMPLOYED_BY":
        return "employer"
    if rel in ("DIRECTOR_OF", "OWNS"):
        return "director"
    return None


def _label(graph: nx.MultiDiGraph, node: Any) -> str:
    label = graph.nodes[node].get("label")
    return str(label) if label else str(node).split(":", 1)[0]


def _check_evidence(evidence: Iterable[str], signal_weight: float) -> set[str]:
    """The evidence kinds asked for, checked (one sentence for an unknown kind or a bad weight)."""
    wanted = set(evidence)
    unknown = wanted - set(CONNECT_EVIDENCE)
    if unknown:
        raise ConfigError(
            f"unknown evidence kind {sorted(unknown)[0]!r}; use some of: {', '.join(CONNECT_EVIDENCE)}"
        )
    if signal_weight <= 0:
        raise ConfigError("the signal weight must be above 0.")
    return wanted


def _fact_weight(
    graph: nx.MultiDiGraph,
    u: Any,
    v: Any,
    data: dict[str, Any],
    wanted: set[str],
    weights: EvidenceWeights,
    signal_weight: float,
) -> tuple[str, float] | None:
    """The kind and weight of one fact of the graph as a link of the evidence network, or None
    when it is not one (not evidence, a kind not asked for, or no weight)."""
    kind = _kind(str(data.get("type", "")), _label(graph, u), _label(graph, v))
    if kind is None or kind not in wanted:
        return None
    base = signal_weight if kind == "signal" else weights.kind_weight(kind)
    w = base * reliability_factor(data.get("reliability"), weights)
    return (kind, w) if w > 0 else None


def evidence_ball(
    graph: nx.MultiDiGraph,
    persons: Iterable[str],
    max_hops: int,
    evidence: Iterable[str] = CONNECT_EVIDENCE,
    weights: EvidenceWeights | None = None,
    signal_weight: float = 0.3,
) -> set[str]:
    """The nodes within ``max_hops`` links of the evidence network from any of ``persons``.

    A path of at most ``max_hops`` links between two of the persons lies inside this set, and
    each link of the evidence network comes from the facts between its two ends only, so the
    evidence network of the set's subgraph holds every such path with the same weights as the
    whole graph's. Walking out from the persons touches their neighbourhood instead of every
    fact of the graph (at a million persons, milliseconds instead of half a minute).

    Parameters
    ----------
    graph, evidence, weights, signal_weight : as in :func:`evidence_network`.
    persons : node ids to start from.
    max_hops : how many links to walk.

    Returns
    -------
    set of node ids, ``persons`` included.

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> g.add_nodes_from([("Person:a", {"label": "Person"}), ("Phone:p", {"label": "Phone"}),
    ...                   ("Person:b", {"label": "Person"}), ("Municipality:m", {"label": "Municipality"})])
    >>> _ = g.add_edge("Person:a", "Phone:p", type="USES", reliability="A1")
    >>> _ = g.add_edge("Person:b", "Phone:p", type="USES", reliability="A1")
    >>> _ = g.add_edge("Person:a", "Municipality:m", type="SEEN_AT")
    >>> sorted(evidence_ball(g, ["Person:a"], 1)), sorted(evidence_ball(g, ["Person:a"], 2))
    (['Person:a', 'Phone:p'], ['Person:a', 'Person:b', 'Phone:p'])
    """
    wanted = _check_evidence(evidence, signal_weight)
    weights = weights or EvidenceWeights()
    seen = {p for p in persons if p in graph}
    frontier = list(seen)
    for _ in range(max_hops):
        reached = []
        for n in frontier:
            for u, v, data in (*graph.out_edges(n, data=True), *graph.in_edges(n, data=True)):
                other = v if u == n else u
                if other not in seen and _fact_weight(graph, u, v, data, wanted, weights, signal_weight):
                    seen.add(other)
                    reached.append(other)
        frontier = reached
    return seen


def evidence_network(
    graph: nx.MultiDiGraph,
    evidence: Iterable[str] = CONNECT_EVIDENCE,
    weights: EvidenceWeights | None = None,
    signal_weight: float = 0.3,
) -> nx.Graph:
    """The undirected network of persons and the evidence items between them.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        The store graph (``read_analysis_graph``).
    evidence : iterable of str
        Kinds of evidence to walk through (``CONNECT_EVIDENCE``).
    weights : EvidenceWeights, optional
        Weight per kind of evidence and per reliability grade (defaults as in detection).
    signal_weight : float
        Weight of a fact that comes from a signal (soft information).

    Returns
    -------
    networkx.Graph
        Nodes as in ``graph`` (with their attributes); per link ``kind`` and ``weight`` (of the
        strongest fact), ``length`` (``1 / weight``) and ``facts``: every fact behind it as
        ``(relationship, source, row_id, observed_on, weight)``, strongest first.

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> g.add_nodes_from([("Person:a", {"label": "Person"}), ("Case:c", {"label": "Case"})])
    >>> _ = g.add_edge("Person:a", "Case:c", type="SUSPECT_IN", source="politie", row_id="1",
    ...                reliability="A1", observed_on="2024-01-02")
    >>> e = evidence_network(g)
    >>> e["Person:a"]["Case:c"]["length"], e["Person:a"]["Case:c"]["facts"]
    (1.0, [('SUSPECT_IN', 'politie', '1', '2024-01-02', 1.0)])
    """
    wanted = _check_evidence(evidence, signal_weight)
    weights = weights or EvidenceWeights()
    links: dict[tuple[Any, Any], list[tuple[float, str, tuple[str, str, str, str, float]]]] = {}
    for u, v, data in graph.edges(data=True):
        weighed = _fact_weight(graph, u, v, data, wanted, weights, signal_weight)
        if weighed is None:
            continue
        kind, w = weighed
        fact = (
            str(data.get("type", "")),
            str(data.get("source") or ""),
            str(data.get("row_id") or ""),
            str(data.get("observed_on") or ""),
            round(w, 4),
        )
        links.setdefault((u, v) if str(u) <= str(v) else (v, u), []).append((w, kind, fact))
    # Built in sorted order, so that the network (and the order in which a path search meets
    # equally light paths) is the same whichever graph, or part of one, the facts were read into.
    net = nx.Graph()
    for n in sorted({n for pair in links for n in pair}, key=str):
        net.add_node(n, **graph.nodes[n])
    for (u, v), facts in sorted(links.items(), key=lambda item: (str(item[0][0]), str(item[0][1]))):
        facts.sort(key=lambda f: (-f[0], f[2][3], f[2][1], f[2][2], f[2][0], f[1]))
        w, kind, _ = facts[0]
        net.add_edge(u, v, kind=kind, weight=w, length=1.0 / w, facts=[f for _, _, f in facts])
    return net


@dataclass(frozen=True)
class EvidencePath:
    """One path between two of the persons.

    Attributes
    ----------
    path_id : int
        1, 2, ... over all pairs, lightest first within a pair.
    start, end : str
        The two persons (node ids).
    nodes : tuple of str
        The node ids from ``start`` to ``end``.
    length : float
        The sum of the links' lengths (``1 / weight``): shorter is stronger.
    """

    path_id: int
    start: str
    end: str
    nodes: tuple[str, ...]
    length: float

    @property
    def hops(self) -> int:
        """The number of links."""
        return len(self.nodes) - 1


@dataclass
class ConnectingNetwork:
    """The result of ``connecting_network``.

    Attributes
    ----------
    persons : list of str
        The persons asked about (node ids).
    paths : list of EvidencePath
        Every path found, by pair, lightest first.
    network : networkx.Graph
        The nodes and links on the paths, with the attributes of ``evidence_network``.
    unconnected : list of (str, str)
        The pairs without a path within ``max_hops``.
    max_hops : int
        The limit used.
    """

    persons: list[str]
    paths: list[EvidencePath]
    network: nx.Graph
    unconnected: list[tuple[str, str]] = field(default_factory=list)
    max_hops: int = 4

    def path_rows(self) -> list[dict[str, Any]]:
        """One row per step and fact: path_id, step, node, label, relationship, source, row_id, date.

        Step 0 is the start person (no relationship); step ``i`` is the node reached by the
        ``i``-th link, with one row per fact behind that link (strongest first).
        """
        rows: list[dict[str, Any]] = []
        for path in self.paths:
            start = path.nodes[0]
            rows.append(self._row(path, 0, start, ("", "", "", "", None)))
            for step, (u, v) in enumerate(zip(path.nodes, path.nodes[1:], strict=False), start=1):
                for fact in self.network[u][v]["facts"]:
                    rows.append(self._row(path, step, v, fact))
        return rows

    def _row(self, path: EvidencePath, step: int, node: str, fact: tuple[Any, ...]) -> dict[str, Any]:
        rel, source, row_id, date, weight = fact
        return {
            "path_id": path.path_id,
            "from_person": path.start,
            "to_person": path.end,
            "step": step,
            "node": node,
            "label": self.network.nodes[node].get("label", str(node).split(":", 1)[0]),
            "relationship": rel,
            "source": source,
            "row_id": row_id,
            "date": date,
            "weight": weight,
        }


def _person_node(graph: nx.MultiDiGraph, person: str) -> str:
    for candidate in (person, f"Person:{person}"):
        if candidate in graph and _label(graph, candidate) == "Person":
            return candidate
    raise ConfigError(
        f"person {person!r} is not in the graph; give a pseudonym as found by `netanalysis find`."
    )


def read_around(
    store: GraphStore, persons: Sequence[str], max_hops: int, evidence: Iterable[str] = CONNECT_EVIDENCE
) -> nx.MultiDiGraph:
    """The part of the store that holds every evidence path of at most ``max_hops`` links between
    the persons: the nodes within ``max_hops // 2`` links of them, through the relationships and
    labels of the ``evidence`` kinds, and the relationships among them (see the module's text).

    Raises ConfigError when a person is not in the store.
    """
    wanted = _check_evidence(evidence, 1.0)
    keys = [str(p).removeprefix("Person:") for p in persons]
    rel_types = frozenset().union(*(_KIND_READ[k][0] for k in wanted))
    labels = frozenset({"Person"}).union(*(_KIND_READ[k][1] for k in wanted))
    graph = store.read_graph(
        GraphSlice(
            labels=labels,
            rel_types=rel_types,
            person_ids=frozenset(keys),
            person_hops=max(1, max_hops // 2),
        )
    )
    for key in keys:
        if f"Person:{key}" not in graph:
            raise ConfigError(
                f"person {key!r} is not in the store; give a pseudonym as found by `netanalysis find`."
            )
    return graph


@audited("connect", store="graph", only_from_store=True)
def connecting_network(
    graph: nx.MultiDiGraph | GraphStore,
    persons: Sequence[str],
    max_hops: int = 4,
    evidence: Iterable[str] = CONNECT_EVIDENCE,
    *,
    max_paths: int = 5,
    weights: EvidenceWeights | None = None,
    signal_weight: float = 0.3,
) -> ConnectingNetwork:
    """The lightest evidence paths between every pair of ``persons``, and the network they form.

    Parameters
    ----------
    graph : networkx.MultiDiGraph or GraphStore
        The store graph (``read_analysis_graph``), or an open store: then only the persons'
        neighbourhood within ``max_hops // 2`` links is read (``read_around``), with the same
        paths as a search of the whole graph.
    persons : sequence of str
        Two or more persons: ``"Person:<pseudonym>"`` or the bare pseudonym.
    max_hops : int
        The most links a path may have (1 to 8).
    evidence : iterable of str
        Kinds of evidence a path may run through (``CONNECT_EVIDENCE``).
    max_paths : int
        The most paths listed per pair, lightest first.
    weights : EvidenceWeights, optional
        Weights per kind of evidence and reliability grade.
    signal_weight : float
        Weight of a fact from a signal.

    Returns
    -------
    ConnectingNetwork
        ``paths`` is empty (and every pair in ``unconnected``) when no path exists within the limit.

    Raises
    ------
    ConfigError
        Fewer than two distinct persons, a person not in the graph, a limit out of range, an
        unknown evidence kind.

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> for n in ("Person:a", "Person:b", "Person:c"):
    ...     g.add_node(n, label="Person")
    >>> g.add_node("Phone:p", label="Phone"); g.add_node("Case:k", label="Case")
    >>> for p, rel, item in [("Person:a", "USES", "Phone:p"), ("Person:b", "USES", "Phone:p"),
    ...                      ("Person:b", "SUSPECT_IN", "Case:k"), ("Person:c", "SUSPECT_IN", "Case:k")]:
    ...     _ = g.add_edge(p, item, type=rel, reliability="A1", source="politie", row_id="1")
    >>> result = connecting_network(g, ["a", "c"])
    >>> [p.nodes for p in result.paths]
    [('Person:a', 'Phone:p', 'Person:b', 'Case:k', 'Person:c')]
    >>> connecting_network(g, ["a", "c"], max_hops=2).unconnected
    [('Person:a', 'Person:c')]

    References
    ----------
    Yen, J. Y. (1971). Finding the K shortest loopless paths in a network. Management Science
    17(11), 712-716.
    """
    if not 1 <= max_hops <= 8:
        raise ConfigError(f"--max-hops must be between 1 and 8, not {max_hops}.")
    if max_paths < 1:
        raise ConfigError(f"--max-paths must be at least 1, not {max_paths}.")
    if not isinstance(graph, nx.Graph):
        _check_evidence(evidence, signal_weight)
        if len({str(p).removeprefix("Person:") for p in persons}) < 2:
            raise ConfigError("the connecting network needs at least two different persons.")
        graph = read_around(graph, persons, max_hops, evidence)
    nodes = list(dict.fromkeys(_person_node(graph, p) for p in persons))
    if len(nodes) < 2:
        raise ConfigError("the connecting network needs at least two different persons.")
    # Only the persons' neighbourhood can hold a path within max_hops (evidence_ball).
    ball = evidence_ball(graph, nodes, max_hops, evidence, weights, signal_weight)
    net = evidence_network(graph.subgraph(ball), evidence, weights, signal_weight)
    paths: list[EvidencePath] = []
    unconnected: list[tuple[str, str]] = []
    for s, t in combinations(nodes, 2):
        found = _pair_paths(net, s, t, max_hops, max_paths) if s in net and t in net else []
        if not found:
            unconnected.append((s, t))
        for route, length in found:
            paths.append(EvidencePath(len(paths) + 1, s, t, tuple(route), length))
    on_paths = {n for p in paths for n in p.nodes}
    sub = nx.Graph()
    for n in sorted(on_paths | set(nodes)):
        sub.add_node(n, **(net.nodes[n] if n in net else graph.nodes[n]))
    for p in paths:
        for u, v in zip(p.nodes, p.nodes[1:], strict=False):
            sub.add_edge(u, v, **net[u][v])
    return ConnectingNetwork(nodes, paths, sub, unconnected, max_hops)


def _pair_paths(
    net: nx.Graph, s: str, t: str, max_hops: int, max_paths: int
) -> list[tuple[list[str], float]]:
    near_s = nx.single_source_shortest_path_length(net, s, cutoff=max_hops)
    if t not in near_s:
        return []
    near_t = nx.single_source_shortest_path_length(net, t, cutoff=max_hops)
    # Only nodes that lie on some path of at most max_hops links between s and t.
    keep = [n for n, d in near_s.items() if n in near_t and d + near_t[n] <= max_hops]
    view = net.subgraph(keep)
    found: list[tuple[list[str], float]] = []
    for route in islice(nx.shortest_simple_paths(view, s, t, weight="length"), max_paths * _SCAN_FACTOR):
        if len(route) - 1 <= max_hops:
            length = sum(view[u][v]["length"] for u, v in zip(route, route[1:], strict=False))
            found.append((route, round(length, 6)))
            if len(found) >= max_paths:
                break
    return found
