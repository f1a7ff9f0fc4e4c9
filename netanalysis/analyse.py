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
import logging
import math
import numbers
import random
import time
from collections.abc import Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from netanalysis.errors import ConfigError, InputFileError
from netanalysis.groups import METHODS, find_groups, group_stability
from netanalysis.keyplayers import (
    ROLES,
    _betweenness,
    _betweenness_igraph,
    _igraph_with_distances,
    brokerage_roles,
)

__all__ = ["NetworkAnalysis", "analyse_network", "read_network"]

_LOG = logging.getLogger(__name__)

#: Networks of more nodes than this get sampled betweenness and closeness, fewer Leiden passes and
#: fewer stability runs (the settings below); up to it everything is exact, as networkx computes it.
SAMPLE_ABOVE = 5_000
#: Above :data:`SAMPLE_ABOVE`: betweenness sources (Brandes & Pich 2007) for the key players.
LARGE_BETWEENNESS_K = 32
#: Above :data:`SAMPLE_ABOVE`: closeness pivots (Eppstein & Wang 2004) per connected component.
LARGE_CLOSENESS_K = 32
#: Above :data:`SAMPLE_ABOVE`: betweenness sources at each sequential disruption step.
LARGE_DISRUPTION_K = 4
#: Stability re-runs: up to :data:`SAMPLE_ABOVE` nodes, and above it.
STABILITY_RUNS, LARGE_STABILITY_RUNS = 20, 3
#: Leiden passes above :data:`SAMPLE_ABOVE` (igraph's default; -1, until nothing changes, below).
LARGE_LEIDEN_ITERATIONS = 2

_DISTANCE = "_distance"  # the edge attribute keyplayers' shortest paths read: 1 / weight
_DECIMALS = 10


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
        with _step("write"):
            written = self._write(folder, tables)
        return written

    def _write(self, folder: Path, tables: dict[str, pd.DataFrame]) -> list[Path]:
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


@contextmanager
def _step(name: str) -> Iterator[None]:
    """Log a step's CPU seconds and wall time at DEBUG (benchmarks/bench_analyse.py reads them)."""
    cpu, wall = time.process_time(), time.perf_counter()
    yield
    _LOG.debug(
        "step %s: %.2f CPU s, %.2f s wall", name, time.process_time() - cpu, time.perf_counter() - wall
    )


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
    with _step("read"):
        return _read_network(edges, nodes, directed, weight, source, target, node_id)


def _read_network(
    edges: str | Path,
    nodes: str | Path | None,
    directed: bool,
    weight: str | None,
    source: str,
    target: str,
    node_id: str,
) -> nx.MultiGraph | nx.MultiDiGraph:
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
    rows_read: list[tuple[str, str, dict[str, float]]] = []
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
        rows_read.append((u, v, {"weight": w}))
    graph.add_edges_from(rows_read)  # one call: a tenth faster than an add_edge per row
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
    directed = graph.is_directed()
    simple: nx.Graph = nx.DiGraph() if directed else nx.Graph()
    simple.add_nodes_from(graph.nodes(data=True))
    loops = duplicates = 0
    summed: dict[tuple[Hashable, Hashable], float] = {}
    for u, v, w in graph.edges(data=weight, default=1.0):
        if isinstance(w, bool) or not isinstance(w, numbers.Real) or not (math.isfinite(w) and float(w) > 0):
            raise ConfigError(f"Every edge needs a positive numeric {weight!r} attribute; one has not.")
        if u == v:
            loops += 1
            continue
        key = (u, v)
        if not directed and key not in summed and (v, u) in summed:
            key = (v, u)  # the tie as first seen, so the edge order follows the file
        if key in summed:
            duplicates += 1
            summed[key] += float(w)
        else:
            summed[key] = float(w)
    simple.add_edges_from((u, v, {weight: w, _DISTANCE: 1.0 / w}) for (u, v), w in summed.items())
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
    stability_runs: int | None = None,
    strategy: str = "betweenness",
    steps: int = 10,
    betweenness_k: int | None = None,
    sample_above: int | None = SAMPLE_ABOVE,
    closeness_k: int | None = None,
    disruption_k: int | None = None,
) -> NetworkAnalysis:
    """Groups, key players, brokerage and disruption of any network.

    Self-loops are dropped and duplicate edges (in a multigraph) are summed into one edge; the
    counts are in ``summary``. Groups are found on the undirected network (``a->b`` and ``b->a``
    summed) with :func:`netanalysis.groups.find_groups`.

    Choosing the resolution: modularity at resolution 1 tends to merge small, loosely tied groups
    into one. Give several values (``resolution=(0.5, 1, 2, 4)``) and the partition that is most
    stable (the size-weighted mean :func:`~netanalysis.groups.group_stability` over its groups;
    ties go to the lower resolution) is kept; ``summary["resolution"]`` says which.

    Large networks: up to ``sample_above`` nodes (default :data:`SAMPLE_ABOVE`, 5,000) every
    measure is exact and equals networkx's. Above it, unless the ``*_k`` arguments say otherwise,
    betweenness is estimated from :data:`LARGE_BETWEENNESS_K` (32) sampled sources (Brandes &
    Pich 2007), closeness from :data:`LARGE_CLOSENESS_K` (32) sampled pivots per component
    (Eppstein & Wang 2004), each sequential disruption step ranks by betweenness from
    :data:`LARGE_DISRUPTION_K` (4) sources, Leiden stops after two passes and stability uses
    :data:`LARGE_STABILITY_RUNS` (3) re-runs. ``summary`` records what was used;
    docs/analyse.md has the measured error.

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
        Seed of group finding, stability re-runs and of the sampled sources and pivots.
    stability_runs : int, optional
        Re-runs for group stability; None: 20, or 3 above ``sample_above`` nodes.
    strategy : {"betweenness", "degree", "weighted_degree"}
        Who is removed first in the disruption simulation.
    steps : int
        How many nodes the disruption simulation removes at most.
    betweenness_k : int, optional
        Estimate betweenness from this many sampled source nodes (Brandes & Pich 2007) on any
        network of more nodes than this; None: exact up to ``sample_above`` nodes, 32 sources
        above. Exact betweenness costs about ``nodes * edges`` steps.
    sample_above : int, optional
        Node count above which the defaults of the sampled measures apply (None: never).
    closeness_k : int, optional
        Estimate closeness from this many sampled pivots per connected component; None: exact up
        to ``sample_above`` nodes, 32 pivots above. See :func:`_closeness` for the estimator.
    disruption_k : int, optional
        Sources for the betweenness recomputed after each sequential removal; None: as
        ``betweenness_k``, or 4 above ``sample_above`` nodes when ``betweenness_k`` is not given.

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
    Brandes & Pich (2007), "Centrality estimation in large networks", Int. J. Bifurcation and
    Chaos 17(7), 2303–2318.
    Eppstein & Wang (2004), "Fast approximation of centrality", J. Graph Algorithms and
    Applications 8(1), 39–45.
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
    for name, value in (
        ("betweenness_k", betweenness_k),
        ("closeness_k", closeness_k),
        ("disruption_k", disruption_k),
    ):
        if value is not None and value < 2:
            raise ConfigError(f"{name} must be at least 2 (got {value}); None gives the default.")
    if steps < 0 or (stability_runs is not None and stability_runs < 0):
        raise ConfigError("steps and stability_runs must be 0 or more.")
    if sample_above is not None and sample_above < 0:
        raise ConfigError(f"sample_above must be 0 or more (got {sample_above}); None never samples.")
    if graph.number_of_nodes() == 0:
        raise ConfigError("The network has no nodes; there is nothing to analyse.")
    with _step("clean"):
        g, loops, duplicates = _clean(graph, weight)
        und = _undirected(g, weight)
    resolutions = (
        [float(resolution)] if isinstance(resolution, (int, float)) else [float(r) for r in resolution]
    )
    if not resolutions:
        raise ConfigError("Give at least one resolution.")
    n = len(g)
    large = sample_above is not None and n > sample_above
    runs = stability_runs if stability_runs is not None else LARGE_STABILITY_RUNS if large else STABILITY_RUNS
    iterations = LARGE_LEIDEN_ITERATIONS if large else -1

    def sampled(k: int | None, large_k: int) -> int | None:
        chosen = k if k is not None else large_k if large else None
        return chosen if chosen is not None and chosen < n else None

    k = sampled(betweenness_k, LARGE_BETWEENNESS_K)
    k_closeness = sampled(closeness_k, LARGE_CLOSENESS_K)
    k_disruption = sampled(disruption_k if disruption_k is not None else betweenness_k, LARGE_DISRUPTION_K)
    with _step("groups and stability"):
        partition, stability, chosen = _most_stable_groups(
            und, method, resolutions, seed, runs, weight, iterations
        )
    groups = pd.DataFrame({"node": list(partition), "group_id": list(partition.values())})
    sizes = groups["group_id"].value_counts()
    group_summary = pd.DataFrame(
        [
            {
                "group_id": gid,
                "size": int(sizes[gid]),
                "stability": round(st.stability, 4),
                "core_size": len(st.core),
            }
            for gid, st in sorted(stability.items())
        ],
        columns=["group_id", "size", "stability", "core_size"],
    )
    brokerage = None
    if group_attr is not None:
        with _step("brokerage"):
            roles = brokerage_roles(g, group_attr)
        brokerage = pd.DataFrame(
            [
                {"node": v, group_attr: g.nodes[v].get(group_attr), **roles[v], "brokerage": _total(roles[v])}
                for v in sorted(g, key=str)
            ],
            columns=["node", group_attr, *ROLES, "brokerage"],
        )
    directed = g.is_directed()
    nodes = list(g)
    with _step("betweenness"):
        h = _igraph_with_distances(g, nodes, weight)  # one conversion for every path-based measure
        # igraph's Brandes, exact or from k sources (keyplayers._betweenness does it per group)
        betweenness = dict(zip(nodes, _betweenness_igraph(h, k, seed), strict=True))
    summary = {
        "betweenness_sampled_sources": k if k is not None else "exact",
        "closeness_sampled_pivots": k_closeness if k_closeness is not None else "exact",
        "disruption_sampled_sources": k_disruption if k_disruption is not None else "exact",
        "nodes": g.number_of_nodes(),
        "edges": g.number_of_edges(),
        "directed": g.is_directed(),
        "self_loops_dropped": loops,
        "duplicate_edges_summed": duplicates,
        "group_method": method,
        "leiden_iterations": "until stable" if iterations < 0 else iterations,
        "stability_runs": runs,
        "resolution": chosen,
        "groups": len(stability),
        "disruption_strategy": strategy,
    }
    # The block ranking and the first sequential choice rank by the key players' betweenness
    # (from k sources): on an undirected network it is the same network, so it is reused.
    key_players = _key_players(g, h, partition, weight, betweenness, k_closeness, seed)
    with _step("disruption"):
        disruption = _disruption(
            und,
            None if directed else h,
            strategy,
            steps,
            weight,
            seed,
            k,
            k_disruption,
            None if directed else betweenness,
        )
    return NetworkAnalysis(
        groups=groups,
        group_summary=group_summary,
        key_players=key_players,
        brokerage=brokerage,
        disruption=disruption,
        summary=summary,
    )


def _total(roles: Mapping[str, int]) -> int:
    # As keyplayers.key_players: coordinators broker inside their own group only, so not counted.
    return roles["gatekeeper"] + roles["representative"] + roles["liaison"] + roles["itinerant"]


def _most_stable_groups(
    und: nx.Graph, method: str, resolutions: list[float], seed: int, runs: int, weight: str, iterations: int
) -> tuple[dict[Hashable, str], dict[str, Any], float]:
    best: tuple[float, dict[Hashable, str], dict[str, Any], float] | None = None
    for res in sorted(resolutions):
        partition = find_groups(
            und, method=method, seed=seed, resolution=res, weight=weight, iterations=iterations
        )
        stability = group_stability(
            und,
            partition,
            runs=runs,
            seed=seed,
            method=method,
            resolution=res,
            weight=weight,
            iterations=iterations,
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
    g: nx.Graph,
    h: Any,
    partition: Mapping[Hashable, str],
    weight: str,
    betweenness: Mapping[Hashable, float],
    closeness_k: int | None,
    seed: int,
) -> pd.DataFrame:
    directed = g.is_directed()
    # Betweenness: igraph's shortest paths treat lengths equal within float rounding as ties
    # (1/3 + 1/6 = 1/2), which networkx on float distances does not; the tests compare with
    # networkx on exact fractions.
    nodes = list(g)
    with _step("closeness"):
        closeness = dict(zip(nodes, _closeness_igraph(h, closeness_k, seed), strict=True))
    with _step("eigenvector"):
        eigenvector = dict(zip(nodes, _eigenvector_igraph(h), strict=True))
    nodes = sorted(g, key=str)
    frame = pd.DataFrame({"node": nodes, "group_id": [partition[v] for v in nodes]})
    frame["degree"] = [g.degree(v) for v in nodes]
    if directed:
        frame["in_degree"] = [g.in_degree(v) for v in nodes]
        frame["out_degree"] = [g.out_degree(v) for v in nodes]
    strength = dict(g.degree(weight=weight))
    frame["weighted_degree"] = [round(float(strength[v]), _DECIMALS) for v in nodes]
    frame["betweenness"] = [round(float(betweenness[v]), _DECIMALS) for v in nodes]
    frame["closeness"] = [round(float(closeness[v]), _DECIMALS) for v in nodes]
    frame["eigenvector"] = [round(abs(float(eigenvector[v])), _DECIMALS) for v in nodes]
    return frame.sort_values(["betweenness", "degree"], ascending=False, kind="stable").reset_index(drop=True)


def _eigenvector(g: nx.Graph, weight: str, max_iter: int = 1000, tol: float = 1e-6) -> dict[Hashable, float]:
    """``networkx.eigenvector_centrality(g, max_iter, tol, weight)``'s power iteration on arrays.

    The same start (every node 1/n), the same step (``x + A^T x``, normalised), the same stopping
    rule; NaN for every node when it does not converge (e.g. a directed network without cycles).
    The sums run in another order, so values agree with networkx to about 1e-15.

    Examples
    --------
    >>> g = nx.path_graph(3)
    >>> nx.set_edge_attributes(g, 1.0, "weight")
    >>> {v: round(x, 4) for v, x in _eigenvector(g, "weight").items()}
    {0: 0.5, 1: 0.7071, 2: 0.5}
    """
    simple, _, _ = _clean(g, weight)
    nodes = list(simple)
    values = _eigenvector_igraph(_igraph_with_distances(simple, nodes, weight), max_iter, tol)
    return dict(zip(nodes, values, strict=True))


def _eigenvector_igraph(h: Any, max_iter: int = 1000, tol: float = 1e-6) -> list[float]:
    """:func:`_eigenvector` of an igraph graph whose edge attribute ``w`` is the weight."""
    n = h.vcount()
    pairs = np.array(h.get_edgelist(), dtype=np.int64).reshape(-1, 2)
    src, dst = pairs[:, 0], pairs[:, 1]
    w = np.array(h.es["w"], dtype=np.float64) if h.ecount() else np.zeros(0)
    if not h.is_directed():
        src, dst, w = np.concatenate([src, dst]), np.concatenate([dst, src]), np.concatenate([w, w])
    x = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        last = x
        x = last + np.bincount(dst, weights=w * last[src], minlength=n)
        norm = math.sqrt(float(np.dot(x, x))) or 1.0
        x = x / norm
        if float(np.abs(x - last).sum()) < n * tol:
            return [float(v) for v in x]
    return [float("nan")] * n


def _closeness(
    g: nx.Graph, weight: str = "weight", k: int | None = None, seed: int = 0
) -> dict[Hashable, float]:
    """Closeness with distance 1/weight, as ``networkx.closeness_centrality(g, distance=...)``.

    networkx's value (Wasserman & Faust's form for networks in pieces, incoming distances when
    directed) is ``(r - 1) / s * (r - 1) / (n - 1)``, with ``r`` the nodes that reach the node
    (itself included) and ``s`` the sum of their distances to it.

    Exact (``k`` None): igraph computes ``(r - 1) / s`` in C, about fifty times faster than
    networkx, at the cost of one shortest-path search per node.

    Sampled (``k`` given), Eppstein & Wang (2004): in every weakly connected component ``C`` of
    more than ``k`` nodes, ``k`` pivots are drawn (seeded) and one search runs *from* each pivot.
    For a node ``v`` with ``m`` pivots other than itself, of which ``c`` reach it at summed
    distance ``s_p``, ``r - 1`` is estimated by ``(|C| - 1) c / m`` and ``s`` by
    ``(|C| - 1) s_p / m``. Components of at most ``k`` nodes use all their nodes as pivots, which
    is exact. On an undirected network every pivot of ``C`` reaches ``v``, so ``r`` is exact and
    the estimate of the mean distance to ``v`` is unbiased and, with ``k = O(log n / e^2)``
    pivots, within ``e`` times the diameter for every node with high probability (Eppstein &
    Wang, theorem 1); closeness, its inverse, inherits that relative error. On a directed
    network ``r`` is estimated too (a ratio estimate, slightly biased for small ``k``). The
    measured error is in docs/analyse.md. Cost: ``k`` searches per large component instead of
    one per node.

    Examples
    --------
    >>> {v: round(c, 4) for v, c in _closeness(nx.path_graph(3)).items()}
    {0: 0.6667, 1: 1.0, 2: 0.6667}
    >>> clique = nx.complete_graph(40)  # every distance is 1: 8 pivots estimate it exactly
    >>> _closeness(clique, k=8)[0], nx.closeness_centrality(clique)[0]
    (1.0, 1.0)

    References
    ----------
    Wasserman & Faust (1994), Social Network Analysis, p. 201. Eppstein & Wang (2004), "Fast
    approximation of centrality", J. Graph Algorithms and Applications 8(1), 39–45.
    """
    simple, _, _ = _clean(g, weight)
    nodes = list(simple)
    return dict(zip(nodes, _closeness_igraph(_igraph_with_distances(simple, nodes), k, seed), strict=True))


def _closeness_igraph(h: Any, k: int | None, seed: int) -> list[float]:
    """:func:`_closeness` of an igraph graph whose edge attribute ``d`` is the distance."""
    n = h.vcount()
    if n <= 1:
        return [0.0] * n
    mode = "in" if h.is_directed() else "all"
    weights = "d" if h.ecount() else None
    if k is None or k >= n:
        return _exact_closeness(h, list(range(n)), mode, weights, n)
    result = np.zeros(n)
    rng = random.Random(seed)
    small: list[int] = []
    for part in h.connected_components(mode="weak"):
        if len(part) <= k:
            small.extend(part)
            continue
        members = np.array(part, dtype=np.int64)
        pivots = rng.sample(list(part), k)
        reached = np.zeros(len(part), dtype=np.int64)
        total = np.zeros(len(part))
        for start in range(0, k, 8):  # eight searches at a time keeps the distance table small
            batch = pivots[start : start + 8]
            d = np.array(h.distances(source=batch, target=part, weights=weights, mode="out"))
            d[members[None, :] == np.array(batch)[:, None]] = np.inf  # a pivot does not count for itself
            finite = np.isfinite(d)
            reached += finite.sum(axis=0)
            total += np.where(finite, d, 0.0).sum(axis=0)
        others = k - np.isin(members, pivots).astype(np.int64)
        ok = (reached > 0) & (total > 0)
        value = np.zeros(len(part))
        value[ok] = (len(part) - 1) / others[ok] * reached[ok] ** 2 / (total[ok] * (n - 1))
        result[members] = value
    if small:
        result[small] = _exact_closeness(h, small, mode, weights, n)
    return [float(v) for v in result]


def _exact_closeness(h: Any, vertices: list[int], mode: str, weights: str | None, n: int) -> list[float]:
    """networkx's closeness of ``vertices`` of the igraph graph ``h`` (one search per vertex)."""
    raw = h.closeness(vertices=vertices, mode=mode, weights=weights, normalized=True)
    if mode == "in":
        reach = h.neighborhood_size(vertices=vertices, order=n, mode=mode)
    else:
        size = [0] * h.vcount()
        for part in h.connected_components():
            for i in part:
                size[i] = len(part)
        reach = [size[i] for i in vertices]
    result = []
    for c, r in zip(raw, reach, strict=True):
        ok = r > 1 and c is not None and not math.isnan(c)
        result.append(float(c) * (r - 1) / (n - 1) if ok else 0.0)
    return result


def _disruption(
    und: nx.Graph,
    und_igraph: Any,
    strategy: str,
    steps: int,
    weight: str,
    seed: int,
    k: int | None,
    k_step: int | None,
    betweenness: Mapping[Hashable, float] | None,
) -> pd.DataFrame:
    """Sequential removal (recompute after each removal) and block removal (initial ranking).

    Who goes is chosen as in :func:`netanalysis.keyplayers.disruption`: the strategy's measure,
    ties broken by betweenness, weighted degree, degree, then node id. The initial ranking
    (block removal, and the first sequential choice) uses betweenness from ``k`` sources, each
    later sequential step from ``k_step`` sources (None: exact). The removals run on one igraph
    graph, so a step costs the betweenness and a component count, not a copy of the network.
    """
    total = und.number_of_nodes()
    nodes = list(und)
    base = und_igraph if und_igraph is not None else _igraph_with_distances(und, nodes, weight)
    initial = max(base.connected_components().sizes(), default=0)
    rows: list[dict[str, Any]] = []

    def row(mode: str, step: int, removed: Hashable | str, h: Any) -> dict[str, Any]:
        parts = h.connected_components().sizes() if h.vcount() else []
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
    h = base.copy()
    names = list(nodes)
    rows.append(row("sequential", 0, "", h))
    for step in range(1, n + 1):
        # The first choice is made on the intact network: the block ranking's first.
        at = names.index(order[0]) if step == 1 else _top_vertex(h, names, strategy, k_step, seed)
        target = names.pop(at)
        h.delete_vertices(at)
        rows.append(row("sequential", step, target, h))
    block, names = base.copy(), list(nodes)
    rows.append(row("block", 0, "", block))
    for step, target in enumerate(order, start=1):
        at = names.index(target)
        names.pop(at)
        block.delete_vertices(at)
        rows.append(row("block", step, target, block))
    return pd.DataFrame(
        rows,
        columns=["mode", "step", "removed", "components", "largest_share", "largest_share_of_initial"],
    )


def _top_vertex(h: Any, names: list[Hashable], strategy: str, k: int | None, seed: int) -> int:
    """Position of the node :func:`netanalysis.keyplayers._top_actor` would remove from ``h``."""

    def measure(name: str) -> list[float]:
        if name == "betweenness":
            return _betweenness_igraph(h, k if k is not None and k < h.vcount() else None, seed)
        if name == "weighted_degree":
            return [round(float(s), _DECIMALS) for s in h.strength(weights="w" if h.ecount() else None)]
        return [float(d) for d in h.degree()]

    order = [strategy] + [m for m in ("betweenness", "weighted_degree", "degree") if m != strategy]
    candidates = list(range(h.vcount()))
    # Later measures only break ties, so they are computed only when a tie is left.
    for name in order:
        if len(candidates) == 1:
            break
        values = measure(name)
        best = max(values[i] for i in candidates)
        candidates = [i for i in candidates if values[i] == best]
    return min(candidates, key=lambda i: str(names[i]))


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
