"""Analyse any network: groups, key players, brokerage and disruption of a network from elsewhere.

An analyst often has a network that did not come from the toolkit's store: a wiretap network, a
co-offending network from another system, an edge list from a colleague. :func:`read_network`
reads it from CSV files and :func:`analyse_network` runs the same building blocks as ``detect``
on it: :func:`netanalysis.groups.find_groups` and :func:`netanalysis.groups.group_stability` for
the groups, :func:`netanalysis.keyplayers.brokerage_roles` for Gould–Fernandez brokerage and the
removal order of :func:`netanalysis.keyplayers.disruption` for the disruption simulation.

Cleaning, done by :func:`analyse_network` and reported in :attr:`NetworkAnalysis.summary`:
self-loops are dropped (a tie of a person with themselves says nothing about the network) and
duplicate edges are combined into one edge whose weight is the **sum** of their weights (two
calls are a stronger tie than one). In an undirected network ``a-b`` and ``b-a`` are duplicates;
in a directed network they are two different ties.

Distances for betweenness and closeness are ``1 / weight``: a strong tie is a short step.
"""

from __future__ import annotations

import csv
import math
import numbers
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd

from netanalysis.errors import ConfigError, InputFileError
from netanalysis.groups import METHODS, find_groups, group_stability
from netanalysis.keyplayers import ROLES, _betweenness, _top_actor, brokerage_roles

__all__ = ["NetworkAnalysis", "analyse_network", "read_network"]

_DISTANCE = "_distance"  # the edge attribute keyplayers' shortest paths read: 1 / weight
_DECIMALS = 10
_EIGEN_ERRORS = (nx.NetworkXException, ArithmeticError, RuntimeError, ValueError)


@dataclass(frozen=True)
class NetworkAnalysis:
    """The result of :func:`analyse_network`: plain tables, and how the network was cleaned.

    groups
        One row per node: ``node``, ``group_id``.
    group_summary
        One row per group: ``group_id``, ``size``, ``stability``, ``core_size``.
    key_players
        One row per node: ``node``, ``group_id``, ``degree`` (and ``in_degree``, ``out_degree``
        when directed), ``weighted_degree``, ``betweenness``, ``closeness``, ``eigenvector``.
    brokerage
        One row per node with the Gould–Fernandez role counts, or ``None`` without ``group_attr``.
    disruption
        One row per removal step: ``mode`` (``sequential`` or ``block``), ``step``, ``removed``
        (the node taken out at that step), ``components``, ``largest_share`` (largest component
        over the original number of nodes) and ``largest_share_of_initial`` (over the size of
        the initial largest component).
    summary
        Counts and settings: nodes, edges, self-loops dropped, duplicate edges summed, the
        resolution used and the group method.
    """

    groups: pd.DataFrame
    group_summary: pd.DataFrame
    key_players: pd.DataFrame
    brokerage: pd.DataFrame | None
    disruption: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)

    def write(self, out_dir: str | Path) -> list[Path]:
        """Write every table as a CSV file into ``out_dir`` (created); returns the paths."""
        folder = Path(out_dir)
        folder.mkdir(parents=True, exist_ok=True)
        tables = {
            "groups": self.groups,
            "group_summary": self.group_summary,
            "key_players": self.key_players,
            "disruption": self.disruption,
        }
        if self.brokerage is not None:
            tables["brokerage"] = self.brokerage
        written = []
        for name, frame in tables.items():
            path = folder / f"{name}.csv"
            frame.to_csv(path, index=False)
            written.append(path)
        summary_path = folder / "summary.csv"
        pd.DataFrame([{"item": k, "value": v} for k, v in self.summary.items()]).to_csv(
            summary_path, index=False
        )
        written.append(summary_path)
        return written


def read_network(
    edges: str | Path,
    nodes: str | Path | None = None,
    directed: bool = False,
    weight: str | None = None,
    source: str = "source",
    target: str = "target",
    node_id: str = "id",
) -> nx.MultiGraph | nx.MultiDiGraph:
    """Read an edge list (and optionally a node list) from CSV files into a networkx multigraph.

    Every row of the edge file becomes one edge, so :func:`analyse_network` can report the
    self-loops it drops and the duplicates it sums. Node ids are read as text.

    Parameters
    ----------
    edges : path
        CSV with columns ``source`` and ``target`` (names configurable), and ``weight`` if given.
    nodes : path, optional
        CSV with a column ``node_id`` and any attributes (e.g. the one brokerage uses). Every node
        of the edge file must be in it; nodes without edges are kept as lone nodes.
    directed : bool
        Read edges as directed (``source -> target``).
    weight : str, optional
        Column holding positive numeric weights; without it every edge weighs 1.

    Returns
    -------
    networkx.MultiGraph or networkx.MultiDiGraph
        Edges carry ``weight``.

    Raises
    ------
    InputFileError
        A missing column, a non-numeric, zero or negative weight, or a node file that does not
        match the edges (the message names the file, row and column, never a value).
    """
    edges_path = Path(edges)
    rows = _read_csv(edges_path)
    header = rows[0] if rows else []
    needed = [source, target] + ([weight] if weight else [])
    missing = [c for c in needed if c not in header]
    if missing:
        raise InputFileError(
            f"The edge list {edges_path} has no column {missing[0]!r}; it needs {', '.join(needed)}."
        )
    graph: nx.MultiGraph | nx.MultiDiGraph = nx.MultiDiGraph() if directed else nx.MultiGraph()
    si, ti = header.index(source), header.index(target)
    wi = header.index(weight) if weight else None
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise InputFileError(
                f"Row {line} of {edges_path} has {len(row)} fields, the header {len(header)}."
            )
        u, v = row[si].strip(), row[ti].strip()
        if not u or not v:
            raise InputFileError(f"Row {line} of {edges_path} has an empty {source!r} or {target!r}.")
        w = 1.0
        if wi is not None:
            try:
                w = float(row[wi])
            except ValueError:
                raise InputFileError(
                    f"Row {line} of {edges_path} has a non-numeric weight in column {weight!r}."
                ) from None
            if not math.isfinite(w) or w <= 0:
                raise InputFileError(
                    f"Row {line} of {edges_path} has a zero, negative or infinite weight in column "
                    f"{weight!r}; weights must be above 0."
                )
        graph.add_edge(u, v, weight=w)
    if nodes is not None:
        _add_node_file(graph, Path(nodes), node_id, edges_path)
    return graph


def _read_csv(path: Path) -> list[list[str]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return [row for row in csv.reader(handle) if row]
    except FileNotFoundError:
        raise InputFileError(f"The file {path} does not exist.") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputFileError(f"The file {path} cannot be read as UTF-8 CSV ({type(exc).__name__}).") from None


def _add_node_file(graph: nx.Graph, path: Path, node_id: str, edges_path: Path) -> None:
    rows = _read_csv(path)
    header = rows[0] if rows else []
    if node_id not in header:
        raise InputFileError(f"The node file {path} has no column {node_id!r} naming each node.")
    ni = header.index(node_id)
    listed: dict[str, dict[str, str]] = {}
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise InputFileError(f"Row {line} of {path} has {len(row)} fields, the header {len(header)}.")
        node = row[ni].strip()
        if node in listed:
            raise InputFileError(f"Row {line} of {path} repeats a node id; every node must be listed once.")
        listed[node] = {
            c: value for c, value in zip(header, row, strict=True) if c != node_id and value != ""
        }
    unlisted = sum(1 for n in graph if n not in listed)
    if unlisted:
        raise InputFileError(
            f"The node file {path} does not match the edge list {edges_path}: "
            f"{unlisted} node(s) of the edges are not in it."
        )
    for node, attrs in listed.items():
        graph.add_node(node, **attrs)


def _clean(graph: nx.Graph, weight: str) -> tuple[nx.Graph, int, int]:
    """A simple graph of the same direction: self-loops dropped, duplicate edges' weights summed."""
    simple: nx.Graph = nx.DiGraph() if graph.is_directed() else nx.Graph()
    simple.add_nodes_from(graph.nodes(data=True))
    loops = duplicates = 0
    for u, v, w in graph.edges(data=weight, default=1.0):
        if isinstance(w, bool) or not isinstance(w, numbers.Real) or not (math.isfinite(w) and float(w) > 0):
            raise ConfigError(f"Every edge needs a positive numeric {weight!r} attribute; one has not.")
        if u == v:
            loops += 1
        elif simple.has_edge(u, v):
            duplicates += 1
            simple[u][v][weight] += float(w)
        else:
            simple.add_edge(u, v, **{weight: float(w)})
    for _u, _v, data in simple.edges(data=True):
        data[_DISTANCE] = 1.0 / data[weight]
    return simple, loops, duplicates


def _undirected(g: nx.Graph, weight: str) -> nx.Graph:
    """The undirected network of ``g``: ``a->b`` and ``b->a`` become one tie with summed weight."""
    if not g.is_directed():
        return g
    u: nx.Graph = nx.Graph()
    u.add_nodes_from(g.nodes(data=True))
    for a, b, w in g.edges(data=weight):
        if u.has_edge(a, b):
            u[a][b][weight] += w
        else:
            u.add_edge(a, b, **{weight: w})
    for _a, _b, data in u.edges(data=True):
        data[_DISTANCE] = 1.0 / data[weight]
    return u


def analyse_network(
    graph: nx.Graph,
    weight: str = "weight",
    group_attr: str | None = None,
    method: str = "leiden",
    resolution: float | Sequence[float] = 1.0,
    seed: int = 0,
    stability_runs: int = 20,
    strategy: str = "betweenness",
    steps: int = 10,
    betweenness_k: int | None = None,
) -> NetworkAnalysis:
    """Groups, key players, brokerage and disruption of any network.

    Self-loops are dropped and duplicate edges (in a multigraph) are summed into one edge; the
    counts are in ``summary``. Groups are found on the undirected network (``a->b`` and ``b->a``
    summed) with :func:`netanalysis.groups.find_groups`.

    Choosing the resolution: modularity at resolution 1 tends to merge small, loosely tied groups
    into one. Give several values (``resolution=(0.5, 1, 2, 4)``) and the partition that is most
    stable (the size-weighted mean :func:`~netanalysis.groups.group_stability` over its groups;
    ties go to the lower resolution) is kept; ``summary["resolution"]`` says which.

    Parameters
    ----------
    graph : networkx.Graph, DiGraph, MultiGraph or MultiDiGraph
        Any network; edges carry a positive ``weight`` (missing: 1).
    weight : str
        Edge attribute with the tie strength (higher = stronger).
    group_attr : str, optional
        Node attribute for Gould–Fernandez brokerage (read on the directed ties when directed).
    method : {"leiden", "louvain"}
        Group finding method.
    resolution : float or sequence of float
        One resolution, or several to choose the most stable from.
    seed : int
        Seed of group finding and stability re-runs.
    stability_runs : int
        Re-runs for group stability.
    strategy : {"betweenness", "degree", "weighted_degree"}
        Who is removed first in the disruption simulation.
    steps : int
        How many nodes the disruption simulation removes at most.
    betweenness_k : int, optional
        On networks of more than this many nodes, betweenness is estimated from this many
        sampled source nodes (Brandes & Pich 2007) instead of computed exactly; exact betweenness
        costs about ``nodes * edges`` steps, too slow above some tens of thousands of nodes.

    Returns
    -------
    NetworkAnalysis

    Examples
    --------
    >>> g = nx.star_graph(4)
    >>> result = analyse_network(g, stability_runs=0, steps=1)
    >>> result.disruption[["mode", "step", "removed", "largest_share"]]
             mode  step removed  largest_share
    0  sequential     0              1.0
    1  sequential     1       0            0.2
    2       block     0              1.0
    3       block     1       0            0.2

    References
    ----------
    Freeman (1979), "Centrality in social networks: conceptual clarification", Social Networks 1.
    Gould & Fernandez (1989), "Structures of mediation", Sociological Methodology 19, 89–126.
    Duijn, Kashirin & Sloot (2014), "The relative ineffectiveness of criminal network
    disruption", Scientific Reports 4, 4238.
    """
    if method not in METHODS:
        raise ConfigError(f"unknown group method {method!r}; use one of {', '.join(METHODS)}.")
    if strategy not in ("betweenness", "degree", "weighted_degree"):
        raise ConfigError(
            f"unknown disruption strategy {strategy!r}; use betweenness, degree or weighted_degree."
        )
    if betweenness_k is not None and betweenness_k < 2:
        raise ConfigError(f"betweenness_k must be at least 2 (got {betweenness_k}); None gives exact values.")
    if steps < 0 or stability_runs < 0:
        raise ConfigError("steps and stability_runs must be 0 or more.")
    if graph.number_of_nodes() == 0:
        raise ConfigError("The network has no nodes; there is nothing to analyse.")
    g, loops, duplicates = _clean(graph, weight)
    und = _undirected(g, weight)
    resolutions = (
        [float(resolution)] if isinstance(resolution, (int, float)) else [float(r) for r in resolution]
    )
    if not resolutions:
        raise ConfigError("Give at least one resolution.")
    partition, stability, chosen = _most_stable_groups(und, method, resolutions, seed, stability_runs, weight)
    groups = pd.DataFrame({"node": list(partition), "group_id": list(partition.values())})
    group_summary = pd.DataFrame(
        [
            {
                "group_id": gid,
                "size": int((groups["group_id"] == gid).sum()),
                "stability": round(st.stability, 4),
                "core_size": len(st.core),
            }
            for gid, st in sorted(stability.items())
        ],
        columns=["group_id", "size", "stability", "core_size"],
    )
    brokerage = None
    if group_attr is not None:
        roles = brokerage_roles(g, group_attr)
        brokerage = pd.DataFrame(
            [
                {"node": n, group_attr: g.nodes[n].get(group_attr), **roles[n], "brokerage": _total(roles[n])}
                for n in sorted(g, key=str)
            ],
            columns=["node", group_attr, *ROLES, "brokerage"],
        )
    directed = g.is_directed()
    k = betweenness_k if betweenness_k is not None and betweenness_k < len(g) else None
    betweenness = _betweenness(g, k=k, seed=seed)  # igraph's exact Brandes, as key_players
    summary = {
        "betweenness_sampled_sources": k if k is not None else "exact",
        "nodes": g.number_of_nodes(),
        "edges": g.number_of_edges(),
        "directed": g.is_directed(),
        "self_loops_dropped": loops,
        "duplicate_edges_summed": duplicates,
        "group_method": method,
        "resolution": chosen,
        "groups": len(stability),
        "disruption_strategy": strategy,
    }
    return NetworkAnalysis(
        groups=groups,
        group_summary=group_summary,
        key_players=_key_players(g, partition, weight, betweenness),
        brokerage=brokerage,
        disruption=_disruption(und, strategy, steps, weight, seed, k, None if directed else betweenness),
        summary=summary,
    )


def _total(roles: Mapping[str, int]) -> int:
    # As keyplayers.key_players: coordinators broker inside their own group only, so not counted.
    return roles["gatekeeper"] + roles["representative"] + roles["liaison"] + roles["itinerant"]


def _most_stable_groups(
    und: nx.Graph, method: str, resolutions: list[float], seed: int, runs: int, weight: str
) -> tuple[dict[Hashable, str], dict[str, Any], float]:
    best: tuple[float, dict[Hashable, str], dict[str, Any], float] | None = None
    for res in sorted(resolutions):
        partition = find_groups(und, method=method, seed=seed, resolution=res, weight=weight)
        stability = group_stability(
            und, partition, runs=runs, seed=seed, method=method, resolution=res, weight=weight
        )
        sizes: dict[str, int] = {}
        for gid in partition.values():
            sizes[gid] = sizes.get(gid, 0) + 1
        score = sum(stability[gid].stability * n for gid, n in sizes.items()) / len(partition)
        if best is None or score > best[0]:
            best = (score, partition, stability, res)
    assert best is not None
    return best[1], best[2], best[3]


def _key_players(
    g: nx.Graph, partition: Mapping[Hashable, str], weight: str, betweenness: Mapping[Hashable, float]
) -> pd.DataFrame:
    directed = g.is_directed()
    # Betweenness: igraph's shortest paths treat lengths equal within float rounding as ties
    # (1/3 + 1/6 = 1/2), which networkx on float distances does not; the tests compare with
    # networkx on exact fractions.
    closeness = _closeness(g)
    try:
        eigenvector: Mapping[Hashable, float] = nx.eigenvector_centrality(g, max_iter=1000, weight=weight)
    except _EIGEN_ERRORS:
        # No leading eigenvector to speak of (e.g. a directed network without cycles).
        eigenvector = dict.fromkeys(g, float("nan"))
    rows = []
    for node in sorted(g, key=str):
        row: dict[str, Any] = {"node": node, "group_id": partition[node], "degree": g.degree(node)}
        if directed:
            row["in_degree"] = g.in_degree(node)
            row["out_degree"] = g.out_degree(node)
        row["weighted_degree"] = round(float(g.degree(node, weight=weight)), _DECIMALS)
        row["betweenness"] = round(float(betweenness[node]), _DECIMALS)
        row["closeness"] = round(float(closeness[node]), _DECIMALS)
        row["eigenvector"] = round(abs(float(eigenvector[node])), _DECIMALS)
        rows.append(row)
    frame = pd.DataFrame(rows)
    return frame.sort_values(["betweenness", "degree"], ascending=False, kind="stable").reset_index(drop=True)


def _closeness(g: nx.Graph) -> dict[Hashable, float]:
    """Closeness with distance 1/weight, as ``networkx.closeness_centrality(g, distance=...)``.

    networkx's value (Wasserman & Faust's form for networks in pieces, incoming distances when
    directed) is ``(r - 1) / sum_d * (r - 1) / (n - 1)`` with ``r`` the nodes that reach the node
    (itself included); igraph computes the first factor in C, about fifty times faster.
    """
    n = len(g)
    if n <= 1:
        return dict.fromkeys(g, 0.0)
    nodes = list(g)
    index = {v: i for i, v in enumerate(nodes)}
    edges = list(g.edges(data=_DISTANCE))
    directed = g.is_directed()
    import igraph as ig  # imported here: it costs half a second of every command's start

    h = ig.Graph(n=n, edges=[(index[u], index[v]) for u, v, _ in edges], directed=directed)
    mode = "in" if directed else "all"
    raw = h.closeness(mode=mode, weights=[d for _, _, d in edges] or None, normalized=True)
    if directed:
        reach = h.neighborhood_size(order=n, mode=mode)
    else:
        reach = [0] * n
        for part in h.connected_components():
            for i in part:
                reach[i] = len(part)
    result: dict[Hashable, float] = {}
    for i, v in enumerate(nodes):
        c = raw[i]
        ok = reach[i] > 1 and c is not None and not math.isnan(c)
        result[v] = float(c) * (reach[i] - 1) / (n - 1) if ok else 0.0
    return result


def _disruption(
    und: nx.Graph,
    strategy: str,
    steps: int,
    weight: str,
    seed: int,
    k: int | None,
    betweenness: Mapping[Hashable, float] | None,
) -> pd.DataFrame:
    """Sequential removal (recompute after each removal) and block removal (initial ranking).

    Who goes is chosen as in :func:`netanalysis.keyplayers.disruption` (``_top_actor``: the
    strategy's measure, ties broken by betweenness, weighted degree, degree, then node id).
    """
    total = und.number_of_nodes()
    initial = max((len(c) for c in nx.connected_components(und)), default=0)
    rows: list[dict[str, Any]] = []

    def row(mode: str, step: int, removed: Hashable | str, g: nx.Graph) -> dict[str, Any]:
        parts = [len(c) for c in nx.connected_components(g)]
        largest = max(parts, default=0)
        return {
            "mode": mode,
            "step": step,
            "removed": removed,
            "components": len(parts),
            "largest_share": round(largest / total, _DECIMALS),
            "largest_share_of_initial": round(largest / initial, _DECIMALS) if initial else 0.0,
        }

    n = min(steps, total)
    # Block: rank everybody once on the intact network, then take the top ones out together.
    order = _initial_order(und, strategy, weight, seed, n, k, betweenness)
    g = und.copy()
    rows.append(row("sequential", 0, "", g))
    for step in range(1, n + 1):
        # The first choice is made on the intact network: the block ranking's first.
        target = order[0] if step == 1 else _top_actor(g, strategy, weight, k, seed)
        g.remove_node(target)
        rows.append(row("sequential", step, target, g))
    h = und.copy()
    rows.append(row("block", 0, "", h))
    for step, target in enumerate(order, start=1):
        h.remove_node(target)
        rows.append(row("block", step, target, h))
    return pd.DataFrame(
        rows,
        columns=["mode", "step", "removed", "components", "largest_share", "largest_share_of_initial"],
    )


def _initial_order(
    und: nx.Graph,
    strategy: str,
    weight: str,
    seed: int,
    n: int,
    k: int | None,
    betweenness: Mapping[Hashable, float] | None,
) -> list[Hashable]:
    """The ``n`` first nodes by the strategy's measure on the intact network (ties as _top_actor)."""
    if n == 0:
        return []
    if betweenness is None:
        betweenness = _betweenness(und, k=k, seed=seed)
    wdeg = {v: round(float(d), _DECIMALS) for v, d in und.degree(weight=weight)}
    deg = {v: float(d) for v, d in und.degree()}
    measures = {"betweenness": betweenness, "weighted_degree": wdeg, "degree": deg}
    order = [strategy] + [m for m in ("betweenness", "weighted_degree", "degree") if m != strategy]
    ranked = sorted(und, key=lambda v: (*(-measures[m][v] for m in order), str(v)))
    return ranked[:n]
