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
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
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
    _betweenness_igraph,
    _brokerage_counts,
    _igraph_with_distances,
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
#: Stability re-runs: up to :data:`SAMPLE_ABOVE` nodes, and above it (two: a Leiden run on 100,000
#: nodes costs 2-3 CPU s; a member is in the core when it stays with its group in both).
STABILITY_RUNS, LARGE_STABILITY_RUNS = 20, 2
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
        edges_path = Path(edges)
        us, vs, ws = _read_edges(edges_path, weight, source, target)
        graph: nx.MultiGraph | nx.MultiDiGraph = nx.MultiDiGraph() if directed else nx.MultiGraph()
        graph.add_edges_from((u, v, {"weight": w}) for u, v, w in zip(us, vs, ws, strict=True))
        if nodes is not None:
            for node, attrs in _read_nodes(Path(nodes), node_id, edges_path, graph).items():
                graph.add_node(node, **attrs)
        return graph


def _read_edges(
    path: Path, weight: str | None, source: str, target: str
) -> tuple[list[str], list[str], list[float]]:
    """Sources, targets and weights of every row of the edge file, checked.

    The checks run over whole columns; when one fails, :func:`_refuse_row` walks the rows to name
    the first bad one, so the sentence is the one a row-by-row reading gives.
    """
    rows = _read_csv(path)
    header = rows[0] if rows else []
    needed = [source, target] + ([weight] if weight else [])
    missing = [c for c in needed if c not in header]
    if missing:
        raise InputFileError(
            f"The edge list {path} has no column {missing[0]!r}; it needs {', '.join(needed)}."
        )
    body = rows[1:]
    si, ti = header.index(source), header.index(target)
    wi = header.index(weight) if weight else None
    try:
        if any(len(row) != len(header) for row in body):
            raise ValueError
        us = [row[si].strip() for row in body]
        vs = [row[ti].strip() for row in body]
        if not (all(us) and all(vs)):
            raise ValueError
        ws = [1.0] * len(body) if wi is None else [float(row[wi]) for row in body]
        values = np.array(ws, dtype=np.float64)
        if not bool(np.all(np.isfinite(values) & (values > 0))):
            raise ValueError
    except ValueError:
        _refuse_row(path, header, body, si, ti, wi, source, target, weight)
        raise InputFileError(f"The edge list {path} cannot be read as an edge list.") from None
    return us, vs, ws


def _refuse_row(
    path: Path,
    header: list[str],
    body: list[list[str]],
    si: int,
    ti: int,
    wi: int | None,
    source: str,
    target: str,
    weight: str | None,
) -> None:
    """Raise the sentence for the first row of the edge file that fails a check."""
    for line, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise InputFileError(f"Row {line} of {path} has {len(row)} fields, the header {len(header)}.")
        if not row[si].strip() or not row[ti].strip():
            raise InputFileError(f"Row {line} of {path} has an empty {source!r} or {target!r}.")
        if wi is not None:
            try:
                w = float(row[wi])
            except ValueError:
                raise InputFileError(
                    f"Row {line} of {path} has a non-numeric weight in column {weight!r}."
                ) from None
            if not math.isfinite(w) or w <= 0:
                raise InputFileError(
                    f"Row {line} of {path} has a zero, negative or infinite weight in column "
                    f"{weight!r}; weights must be above 0."
                )


def _read_csv(path: Path) -> list[list[str]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return [row for row in csv.reader(handle) if row]
    except FileNotFoundError:
        raise InputFileError(f"The file {path} does not exist.") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputFileError(f"The file {path} cannot be read as UTF-8 CSV ({type(exc).__name__}).") from None


def _read_nodes(
    path: Path, node_id: str, edges_path: Path, edge_nodes: Iterable[Hashable]
) -> dict[str, dict[str, str]]:
    """Node id -> attributes of the node file, checked against the nodes of the edges."""
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
    unlisted = sum(1 for n in edge_nodes if n not in listed)
    if unlisted:
        raise InputFileError(
            f"The node file {path} does not match the edge list {edges_path}: "
            f"{unlisted} node(s) of the edges are not in it."
        )
    return listed


@dataclass(frozen=True)
class _Network:
    """A cleaned network as arrays: what :func:`_clean` makes of a graph, without networkx.

    ``names`` and ``attrs`` are the nodes in networkx's order (first seen in the edges, then the
    node file's others); ``src``, ``dst`` and ``weight`` the ties, self-loops dropped and
    duplicates summed, in the order their first row was seen (so ``networkx``'s edge order
    follows from them, :func:`_nx_edge_order`).
    """

    names: list[Hashable]
    attrs: list[dict[str, Any]]
    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray
    directed: bool
    self_loops: int
    duplicates: int


def _read_tables(
    edges: str | Path,
    nodes: str | Path | None = None,
    directed: bool = False,
    weight: str | None = None,
    source: str = "source",
    target: str = "target",
    node_id: str = "id",
) -> _Network:
    """:func:`read_network` and :func:`_clean` in one pass over arrays (what ``analyse`` runs)."""
    with _step("read"):
        edges_path = Path(edges)
        us, vs, ws = _read_edges(edges_path, weight, source, target)
        ends = np.empty(2 * len(us), dtype=object)
        ends[0::2], ends[1::2] = us, vs
        # Codes in order of first appearance, u before v: the order networkx adds the nodes in.
        codes, uniques = pd.factorize(ends)
        names: list[Hashable] = list(uniques)
        attrs: list[dict[str, Any]] = [{} for _ in names]
        if nodes is not None:
            listed = _read_nodes(Path(nodes), node_id, edges_path, names)
            position = {name: i for i, name in enumerate(names)}
            for node, values in listed.items():
                at = position.get(node)
                if at is None:
                    names.append(node)
                    attrs.append(dict(values))
                else:
                    attrs[at].update(values)
    with _step("clean"):
        return _combine(names, attrs, codes[0::2], codes[1::2], np.array(ws, dtype=np.float64), directed)


def _network_of(graph: nx.Graph, weight: str) -> _Network:
    """The :class:`_Network` of any networkx graph (its weights checked as :func:`_clean` does)."""
    names = list(graph)
    index = {v: i for i, v in enumerate(names)}
    triples = list(graph.edges(data=weight, default=1.0))
    for _u, _v, w in triples:
        if isinstance(w, bool) or not isinstance(w, numbers.Real) or not (math.isfinite(w) and float(w) > 0):
            raise ConfigError(f"Every edge needs a positive numeric {weight!r} attribute; one has not.")
    src = np.fromiter((index[u] for u, _, _ in triples), dtype=np.int64, count=len(triples))
    dst = np.fromiter((index[v] for _, v, _ in triples), dtype=np.int64, count=len(triples))
    ws = np.fromiter((float(w) for _, _, w in triples), dtype=np.float64, count=len(triples))
    attrs = [dict(data) for _, data in graph.nodes(data=True)]
    return _combine(names, attrs, src, dst, ws, graph.is_directed())


def _combine(
    names: list[Hashable],
    attrs: list[dict[str, Any]],
    src: np.ndarray,
    dst: np.ndarray,
    weight: np.ndarray,
    directed: bool,
) -> _Network:
    """Drop self-loops and sum duplicate ties (see the module's docstring) on arrays."""
    loop = src == dst
    src, dst, weight = _summed(src[~loop], dst[~loop], weight[~loop], len(names), directed)
    duplicates = int(len(loop) - int(loop.sum()) - len(src))
    return _Network(names, attrs, src, dst, weight, directed, int(loop.sum()), duplicates)


def _summed(
    src: np.ndarray, dst: np.ndarray, weight: np.ndarray, n: int, directed: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One tie per pair (ordered when directed), weights summed, in the order first seen.

    The tie keeps the direction of its first row; the sums run in row order, as a loop would
    add them, so the floats are the same to the last bit.
    """
    if len(src) == 0:
        return src.astype(np.int64), dst.astype(np.int64), weight.astype(np.float64)
    key = src * n + dst if directed else np.minimum(src, dst) * n + np.maximum(src, dst)
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    starts = np.concatenate([[True], ordered[1:] != ordered[:-1]])
    tie = np.empty(len(key), dtype=np.int64)
    tie[order] = np.cumsum(starts) - 1
    first = order[starts]  # stable sort: the first row of each tie
    sums = np.bincount(tie, weights=weight, minlength=len(first))
    seen = np.argsort(first, kind="stable")
    return src[first[seen]].astype(np.int64), dst[first[seen]].astype(np.int64), sums[seen]


def _nx_edge_order(
    src: np.ndarray, dst: np.ndarray, directed: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The order (and ends) in which networkx lists the edges of a graph built from these ties.

    networkx walks the nodes in order and, for each, its neighbours in the order their ties were
    added, listing a tie of an undirected graph once, from its earlier node. igraph graphs and
    sums built in this order are the ones the networkx-based code built.
    """
    position = np.arange(len(src))
    if directed:
        order = np.lexsort((position, src))
        return order, src[order], dst[order]
    low, high = np.minimum(src, dst), np.maximum(src, dst)
    order = np.lexsort((position, low))
    return order, low[order], high[order]


def _igraph_of(n: int, src: np.ndarray, dst: np.ndarray, weight: np.ndarray, directed: bool) -> Any:
    """igraph graph of the ties in networkx's edge order: edge attributes ``d`` (1/weight) and ``w``."""
    import igraph as ig  # imported here: it costs half a second of every command's start

    order, a, b = _nx_edge_order(src, dst, directed)
    h = ig.Graph(n=n, edges=list(zip(a.tolist(), b.tolist(), strict=True)), directed=directed)
    w = weight[order]
    h.es["d"] = (1.0 / w).tolist()
    h.es["w"] = w.tolist()
    return h


def _clean(graph: nx.Graph, weight: str) -> tuple[nx.Graph, int, int]:
    """A simple graph of the same direction: self-loops dropped, duplicate edges' weights summed."""
    net = _network_of(graph, weight)
    simple: nx.Graph = nx.DiGraph() if net.directed else nx.Graph()
    simple.add_nodes_from(graph.nodes(data=True))
    names = net.names
    simple.add_edges_from(
        (names[u], names[v], {weight: w, _DISTANCE: 1.0 / w})
        for u, v, w in zip(net.src.tolist(), net.dst.tolist(), net.weight.tolist(), strict=True)
    )
    return simple, net.self_loops, net.duplicates


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
    :data:`LARGE_STABILITY_RUNS` (2) re-runs. ``summary`` records what was used;
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
        Re-runs for group stability; None: 20, or 2 above ``sample_above`` nodes.
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
    0  sequential     0                    1.0
    1  sequential     1       0            0.2
    2       block     0                    1.0
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
    _check_settings(
        method, strategy, betweenness_k, closeness_k, disruption_k, steps, stability_runs, sample_above
    )
    if graph.number_of_nodes() == 0:
        raise ConfigError("The network has no nodes; there is nothing to analyse.")
    with _step("clean"):
        net = _network_of(graph, weight)
    return _analyse(
        net,
        weight=weight,
        group_attr=group_attr,
        method=method,
        resolution=resolution,
        seed=seed,
        stability_runs=stability_runs,
        strategy=strategy,
        steps=steps,
        betweenness_k=betweenness_k,
        sample_above=sample_above,
        closeness_k=closeness_k,
        disruption_k=disruption_k,
    )


def _check_settings(
    method: str,
    strategy: str,
    betweenness_k: int | None,
    closeness_k: int | None,
    disruption_k: int | None,
    steps: int,
    stability_runs: int | None,
    sample_above: int | None,
) -> None:
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


def _analyse_files(
    edges: str | Path,
    nodes: str | Path | None = None,
    directed: bool = False,
    weight: str | None = None,
    group_attr: str | None = None,
    **settings: Any,
) -> NetworkAnalysis:
    """``analyse_network(read_network(...))`` without building the multigraph: what the CLI runs.

    The tables are equal to that call's (tests/test_analyse_vectorised.py); reading the edges into
    arrays and cleaning them there saves most of the time networkx spends adding and walking
    half a million edges.
    """
    _check_settings(
        settings.get("method", "leiden"),
        settings.get("strategy", "betweenness"),
        settings.get("betweenness_k"),
        settings.get("closeness_k"),
        settings.get("disruption_k"),
        settings.get("steps", 10),
        settings.get("stability_runs"),
        settings.get("sample_above", SAMPLE_ABOVE),
    )
    net = _read_tables(edges, nodes, directed=directed, weight=weight)
    if group_attr is not None and not any(group_attr in a for a in net.attrs):
        raise ConfigError(f"no node has the attribute {group_attr!r}; give it as a column of --nodes")
    if not net.names:
        raise ConfigError("The network has no nodes; there is nothing to analyse.")
    return _analyse(net, weight="weight", group_attr=group_attr, **settings)


def _analyse(
    net: _Network,
    weight: str,
    group_attr: str | None,
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
    resolutions = (
        [float(resolution)] if isinstance(resolution, (int, float)) else [float(r) for r in resolution]
    )
    if not resolutions:
        raise ConfigError("Give at least one resolution.")
    names, directed = net.names, net.directed
    n = len(names)
    large = sample_above is not None and n > sample_above
    runs = stability_runs if stability_runs is not None else LARGE_STABILITY_RUNS if large else STABILITY_RUNS
    iterations = LARGE_LEIDEN_ITERATIONS if large else -1

    def sampled(k: int | None, large_k: int) -> int | None:
        chosen = k if k is not None else large_k if large else None
        return chosen if chosen is not None and chosen < n else None

    k = sampled(betweenness_k, LARGE_BETWEENNESS_K)
    k_closeness = sampled(closeness_k, LARGE_CLOSENESS_K)
    k_disruption = sampled(disruption_k if disruption_k is not None else betweenness_k, LARGE_DISRUPTION_K)
    with _step("undirected graph"):
        # The undirected network (a->b and b->a summed, in the order networkx's loop met them)
        # for groups and disruption; networkx only for find_groups, which takes a networkx graph.
        if directed:
            order, a, b = _nx_edge_order(net.src, net.dst, True)
            u_src, u_dst, u_w = _summed(a, b, net.weight[order], n, False)
        else:
            u_src, u_dst, u_w = net.src, net.dst, net.weight
        und: nx.Graph = nx.Graph()
        und.add_nodes_from(names)
        und.add_weighted_edges_from(
            zip(
                [names[i] for i in u_src.tolist()],
                [names[i] for i in u_dst.tolist()],
                u_w.tolist(),
                strict=True,
            ),
            weight=weight,
        )
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
    by_text = sorted(range(n), key=lambda i: str(names[i]))  # as sorted(g, key=str)
    brokerage = None
    if group_attr is not None:
        with _step("brokerage"):
            code: dict[Hashable, int] = {}
            values = [a.get(group_attr) for a in net.attrs]
            codes = np.array(
                [-1 if v is None else code.setdefault(v, len(code)) for v in values], dtype=np.int64
            )
            roles = _brokerage_counts(net.src, net.dst, codes, directed)
            brokerage = pd.DataFrame(roles[by_text], columns=list(ROLES))
            brokerage.insert(0, group_attr, [values[i] for i in by_text])
            brokerage.insert(0, "node", [names[i] for i in by_text])
            # As keyplayers.key_players: coordinators broker inside their own group only.
            brokerage["brokerage"] = roles[by_text][:, 1:].sum(axis=1)
    with _step("betweenness"):
        h = _igraph_of(n, net.src, net.dst, net.weight, directed)  # one graph for every path measure
        # igraph's Brandes, exact or from k sources (keyplayers._betweenness does it per group)
        betweenness = np.array(_betweenness_igraph(h, k, seed), dtype=np.float64)
    summary = {
        "betweenness_sampled_sources": k if k is not None else "exact",
        "closeness_sampled_pivots": k_closeness if k_closeness is not None else "exact",
        "disruption_sampled_sources": k_disruption if k_disruption is not None else "exact",
        "nodes": n,
        "edges": len(net.src),
        "directed": directed,
        "self_loops_dropped": net.self_loops,
        "duplicate_edges_summed": net.duplicates,
        "group_method": method,
        "leiden_iterations": "until stable" if iterations < 0 else iterations,
        "stability_runs": runs,
        "resolution": chosen,
        "groups": len(stability),
        "disruption_strategy": strategy,
    }
    key_players = _key_players(net, h, partition, betweenness, by_text, k_closeness, seed)
    with _step("disruption"):
        und_h = h if not directed else _igraph_of(n, u_src, u_dst, u_w, False)
        disruption = _disruption(
            names,
            und_h,
            _strength(u_src, u_dst, u_w, n, False),
            strategy,
            steps,
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


def _strength(src: np.ndarray, dst: np.ndarray, weight: np.ndarray, n: int, directed: bool) -> np.ndarray:
    """Weighted degree summed in networkx's order (each node's ties in the order added): same floats."""
    if directed:  # networkx: the out-ties' sum plus the in-ties' sum
        return np.bincount(src, weights=weight, minlength=n) + np.bincount(dst, weights=weight, minlength=n)
    ends = np.column_stack([src, dst]).ravel()
    return np.bincount(ends, weights=np.repeat(weight, 2), minlength=n)


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
    net: _Network,
    h: Any,
    partition: Mapping[Hashable, str],
    betweenness: np.ndarray,
    by_text: list[int],
    closeness_k: int | None,
    seed: int,
) -> pd.DataFrame:
    # Betweenness: igraph's shortest paths treat lengths equal within float rounding as ties
    # (1/3 + 1/6 = 1/2), which networkx on float distances does not; the tests compare with
    # networkx on exact fractions.
    names, directed, n = net.names, net.directed, len(net.names)
    with _step("closeness"):
        closeness = _closeness_igraph(h, closeness_k, seed)
    with _step("eigenvector"):
        eigenvector = _eigenvector_igraph(h)
    at = np.array(by_text, dtype=np.int64)
    out_degree = np.bincount(net.src, minlength=n)
    in_degree = np.bincount(net.dst, minlength=n)
    strength = _strength(net.src, net.dst, net.weight, n, directed)
    frame = pd.DataFrame(
        {"node": [names[i] for i in by_text], "group_id": [partition[names[i]] for i in by_text]}
    )
    frame["degree"] = (out_degree + in_degree)[at]
    if directed:
        frame["in_degree"] = in_degree[at]
        frame["out_degree"] = out_degree[at]
    frame["weighted_degree"] = [round(float(strength[i]), _DECIMALS) for i in by_text]
    frame["betweenness"] = [round(float(betweenness[i]), _DECIMALS) for i in by_text]
    frame["closeness"] = [round(float(closeness[i]), _DECIMALS) for i in by_text]
    frame["eigenvector"] = [round(abs(float(eigenvector[i])), _DECIMALS) for i in by_text]
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
    names: list[Hashable],
    base: Any,
    strength: np.ndarray,
    strategy: str,
    steps: int,
    seed: int,
    k: int | None,
    k_step: int | None,
    betweenness: np.ndarray | None,
) -> pd.DataFrame:
    """Sequential removal (recompute after each removal) and block removal (initial ranking).

    ``base`` is the undirected network as an igraph graph on the vertex order ``names``, with
    ``strength`` its weighted degrees. Who goes is chosen as in
    :func:`netanalysis.keyplayers.disruption`: the strategy's measure, ties broken by betweenness,
    weighted degree, degree, then node id. The initial ranking (block removal, and the first
    sequential choice) uses betweenness from ``k`` sources, each later sequential step from
    ``k_step`` sources (None: exact). The sequential removals run on one igraph graph, so a step
    costs the betweenness, not a copy of the network. The component sizes after each removal,
    of either mode, come from one count on the network without all the removed nodes, putting
    them back one at a time (union-find, :func:`_block_rows`).
    """
    total = len(names)
    parts = base.connected_components().sizes() if total else []
    initial = max(parts, default=0)
    n = min(steps, total)

    def row(mode: str, step: int, removed: Hashable | str, components: int, largest: int) -> dict[str, Any]:
        return {
            "mode": mode,
            "step": step,
            "removed": removed,
            "components": components,
            "largest_share": round(largest / total, _DECIMALS),
            "largest_share_of_initial": round(largest / initial, _DECIMALS) if initial else 0.0,
        }

    # Block: rank everybody once on the intact network, then take the top ones out together.
    order = _initial_order(names, base, strength, strategy, seed, n, k, betweenness)
    h = base.copy()
    alive = list(range(total))  # the vertex of base at each position of h
    taken: list[int] = []
    for step in range(1, n + 1):
        # The first choice is made on the intact network: the block ranking's first.
        at = alive.index(order[0]) if step == 1 else _top_vertex(h, alive, names, strategy, k_step, seed)
        taken.append(alive.pop(at))
        if step < n:  # the last removal needs no ranking after it
            h.delete_vertices(at)
    rows = [row("sequential", 0, "", len(parts), initial)]
    for step, (components, largest) in enumerate(_block_rows(base, taken), start=1):
        rows.append(row("sequential", step, names[taken[step - 1]], components, largest))
    rows.append(row("block", 0, "", len(parts), initial))
    for step, (components, largest) in enumerate(_block_rows(base, order), start=1):
        rows.append(row("block", step, names[order[step - 1]], components, largest))
    return pd.DataFrame(
        rows,
        columns=["mode", "step", "removed", "components", "largest_share", "largest_share_of_initial"],
    )


def _block_rows(base: Any, order: list[int]) -> list[tuple[int, int]]:
    """Components and largest component size after removing ``order[:1]``, ``order[:2]``, ...

    One component count on the network without all of ``order``; then the removed nodes are put
    back last first, each joining the components of its neighbours (union-find over component
    labels), so every row costs the removed node's ties instead of a pass over the network.
    """
    if not order:
        return []
    rest = base.copy()
    rest.delete_vertices(order)
    gone = set(order)
    kept = [v for v in range(base.vcount()) if v not in gone]  # rest's vertex i is base's kept[i]
    label = np.full(base.vcount(), -1, dtype=np.int64)
    membership = rest.connected_components().membership if rest.vcount() else []
    label[kept] = membership
    size = list(np.bincount(np.array(membership, dtype=np.int64)).tolist()) if membership else []
    parent = list(range(len(size)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    components, largest = len(size), max(size, default=0)
    rows = []
    for node in reversed(order):
        rows.append((components, largest))
        mine = len(parent)
        parent.append(mine)
        size.append(1)
        components += 1
        for other in base.neighbors(node):
            if label[other] < 0:
                continue
            a, b = find(int(label[other])), find(mine)
            if a != b:
                parent[a] = b
                size[b] += size[a]
                components -= 1
        label[node] = mine
        largest = max(largest, size[find(mine)])
    return rows[::-1]


def _top_vertex(
    h: Any, alive: list[int], names: list[Hashable], strategy: str, k: int | None, seed: int
) -> int:
    """Position in ``h`` of the node :func:`netanalysis.keyplayers._top_actor` would remove."""

    def measure(name: str) -> np.ndarray:
        if name == "betweenness":
            return np.array(_betweenness_igraph(h, k if k is not None and k < h.vcount() else None, seed))
        if name == "weighted_degree":
            return np.array(
                [round(float(s), _DECIMALS) for s in h.strength(weights="w" if h.ecount() else None)]
            )
        return np.array(h.degree(), dtype=np.float64)

    order = [strategy] + [m for m in ("betweenness", "weighted_degree", "degree") if m != strategy]
    candidates = np.arange(h.vcount())
    # Later measures only break ties, so they are computed only when a tie is left.
    for name in order:
        if len(candidates) == 1:
            break
        values = measure(name)[candidates]
        candidates = candidates[values == values.max()]
    return int(min(candidates.tolist(), key=lambda i: str(names[alive[i]])))


def _initial_order(
    names: list[Hashable],
    base: Any,
    strength: np.ndarray,
    strategy: str,
    seed: int,
    n: int,
    k: int | None,
    betweenness: np.ndarray | None,
) -> list[int]:
    """The ``n`` first vertices by the strategy's measure on the intact network (ties as _top_actor)."""
    if n == 0:
        return []
    if betweenness is None:
        betweenness = np.array(_betweenness_igraph(base, k, seed), dtype=np.float64)
    wdeg = np.array([round(float(d), _DECIMALS) for d in strength.tolist()], dtype=np.float64)
    deg = np.array(base.degree(), dtype=np.float64)
    measures = {"betweenness": betweenness, "weighted_degree": wdeg, "degree": deg}
    order = [strategy] + [m for m in ("betweenness", "weighted_degree", "degree") if m != strategy]
    text_rank = np.unique(np.array([str(v) for v in names], dtype=object), return_inverse=True)[1]
    # lexsort is stable and sorts by its last key first: the strategy, the tie-breakers, the id.
    ranked = np.lexsort((text_rank, *(-measures[m] for m in reversed(order))))
    return [int(i) for i in ranked[:n]]
