"""Groups: communities in the perpetrator network, their stability, and the victims they exploit.

``find_groups`` partitions the suspects with Leiden (igraph + leidenalg) or networkx Louvain,
seeded; every group is connected, and group ids are assigned in a fixed order (largest first, then
by smallest member), so the same network and seed always give the same ids. ``group_stability``
re-runs the detection on resampled networks with other seeds and reports how often each group's
members stay together. ``attach_victims`` assigns each victim to the group whose suspects exploit
them.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from netanalysis.errors import ConfigError
from netanalysis.graphs import GraphIndex, index_graph

__all__ = [
    "METHODS",
    "GroupStability",
    "attach_victims",
    "communities_to_groups",
    "find_groups",
    "group_stability",
]

METHODS: tuple[str, ...] = ("leiden", "louvain")


def _leiden_available() -> bool:
    try:
        import igraph
    except ImportError:
        return False
    return hasattr(igraph.Graph, "community_leiden")


def _igraph(network: nx.Graph, nodes: list[Hashable], weight: str) -> tuple[Any, list[float]]:
    import igraph as ig

    index = {node: i for i, node in enumerate(nodes)}
    edges = []
    weights = []
    for u, v, w in network.edges(data=weight, default=1.0):
        if u != v:
            edges.append((index[u], index[v]))
            weights.append(float(w))
    return ig.Graph(n=len(nodes), edges=edges), weights


def _leiden(
    network: nx.Graph, nodes: list[Hashable], weight: str, seed: int, resolution: float, iterations: int = -1
) -> list[set[Hashable]]:
    # igraph's C implementation of Leiden (modularity, the same quality function leidenalg's
    # RBConfigurationVertexPartition optimises) is about ten times faster than leidenalg on sparse
    # networks of many small groups; igraph draws from a replaceable random generator, which is set
    # to a private seeded one for the call and then put back.
    import igraph as ig

    g, weights = _igraph(network, nodes, weight)
    ig.set_random_number_generator(random.Random(seed))
    try:
        clustering = g.community_leiden(
            objective_function="modularity",
            weights=weights if weights else None,
            resolution=resolution,
            n_iterations=iterations,
        )
    finally:
        ig.set_random_number_generator(random)
    return [{nodes[i] for i in community} for community in clustering]


def leidenalg_partition(
    network: nx.Graph, seed: int = 0, resolution: float = 1.0, weight: str = "weight"
) -> list[set[Hashable]]:
    """Leiden communities computed with the ``leidenalg`` package (reference implementation).

    ``find_groups(method="leiden")`` uses igraph's built-in Leiden, which is faster; this function
    gives the leidenalg result for comparison (the tests check both agree on planted groups).
    """
    import leidenalg

    nodes = sorted(network.nodes, key=str)
    g, weights = _igraph(network, nodes, weight)
    partition = leidenalg.find_partition(
        g,
        leidenalg.RBConfigurationVertexPartition,
        weights=weights if weights else None,
        resolution_parameter=resolution,
        n_iterations=-1,
        seed=seed,
    )
    return [{nodes[i] for i in community} for community in partition]


#: Louvain stops when a level gains less modularity than this (networkx's default is 1e-7). On
#: perpetrator networks (many small groups, modularity near 1) the levels after the second move a
#: handful of persons and gain less than 1e-4 each, while every level costs a pass over the network.
LOUVAIN_THRESHOLD = 1e-4

#: At most this many Louvain levels (aggregations); None: until the threshold stops it.
LOUVAIN_MAX_LEVEL: int | None = None


def _louvain(network: nx.Graph, weight: str, seed: int, resolution: float) -> list[set[Hashable]]:
    return [
        set(c)
        for c in nx.community.louvain_communities(
            network,
            weight=weight,
            resolution=resolution,
            seed=seed,
            threshold=LOUVAIN_THRESHOLD,
            max_level=LOUVAIN_MAX_LEVEL,
        )
    ]


def _connected_parts(network: nx.Graph, communities: list[set[Hashable]]) -> list[set[Hashable]]:
    """Split every community into its connected parts (ties to other communities do not count).

    One search over the whole network, instead of a subgraph view per community.
    """
    community_of = {}
    for i, community in enumerate(communities):
        for node in community:
            community_of[node] = i
    adj = network.adj
    seen: set[Hashable] = set()
    parts: list[set[Hashable]] = []
    for community in communities:
        if len(community) < 3:
            parts.append(community)  # one node, or two that Louvain only joins when linked
            seen.update(community)
            continue
        for start in community:
            if start in seen:
                continue
            label = community_of[start]
            part = {start}
            seen.add(start)
            stack = [start]
            while stack:
                node = stack.pop()
                for other in adj[node]:
                    if other not in seen and community_of.get(other) == label:
                        seen.add(other)
                        part.add(other)
                        stack.append(other)
            parts.append(part)
    return parts


def communities_to_groups(
    communities: Iterable[Iterable[Hashable]], prefix: str = "G"
) -> dict[Hashable, str]:
    """Number communities as group ids: largest first, then by smallest member (as string).

    The ids are ``G001``, ``G002``, ... (more digits when there are more than 999 groups).

    Examples
    --------
    >>> communities_to_groups([{"c"}, {"b", "a"}])
    {'a': 'G001', 'b': 'G001', 'c': 'G002'}
    """
    comms = [sorted(c, key=str) for c in communities if c]
    comms.sort(key=lambda c: (-len(c), str(c[0])))
    width = max(3, len(str(len(comms))))
    result: dict[Hashable, str] = {}
    for i, members in enumerate(comms, start=1):
        for node in members:
            result[node] = f"{prefix}{i:0{width}d}"
    return dict(sorted(result.items(), key=lambda item: str(item[0])))


def find_groups(
    network: nx.Graph,
    method: str = "leiden",
    seed: int = 0,
    resolution: float = 1.0,
    weight: str = "weight",
    iterations: int = -1,
) -> dict[Hashable, str]:
    """Partition the perpetrator network into groups.

    Parameters
    ----------
    network : networkx.Graph
        Undirected, weighted (``perpetrator_network``).
    method : {"leiden", "louvain"}
        Leiden (igraph's implementation, modularity with ``resolution``); when igraph cannot be
        imported, networkx Louvain is used instead.
    seed : int
        Random seed; the same network, method and seed give the same groups.
    resolution : float
        Higher values give smaller groups.
    weight : str
        Edge attribute holding the weight.
    iterations : int
        Leiden passes: -1 repeats until the partition no longer changes; a positive number stops
        after that many (igraph's default is 2; on 100,000 nodes -1 costs ten times as much for
        a modularity 0.001 higher). Louvain ignores it.

    Returns
    -------
    dict
        Node -> group id (``"G001"``...). Every node gets a group; a node without links is a group
        of its own (a lone offender). A community that is not connected (Louvain can return those)
        is split into its connected parts.

    Examples
    --------
    >>> net = nx.Graph([("a", "b"), ("b", "c"), ("a", "c"), ("x", "y")])
    >>> find_groups(net, seed=1)
    {'a': 'G001', 'b': 'G001', 'c': 'G001', 'x': 'G002', 'y': 'G002'}

    References
    ----------
    Traag, Waltman & van Eck (2019), "From Louvain to Leiden: guaranteeing well-connected
    communities", Scientific Reports 9:5233. Blondel et al. (2008), "Fast unfolding of communities
    in large networks", J. Stat. Mech. P10008.
    """
    if method not in METHODS:
        raise ConfigError(f"unknown group method {method!r}; use one of {', '.join(METHODS)}.")
    if resolution <= 0:
        raise ConfigError(f"resolution must be above 0, got {resolution}.")
    nodes = sorted(network.nodes, key=str)
    if not nodes:
        return {}
    if method == "leiden" and _leiden_available():
        # Leiden guarantees connected communities (Traag et al. 2019, theorem 1).
        return communities_to_groups(_leiden(network, nodes, weight, seed, resolution, iterations))
    return communities_to_groups(_connected_parts(network, _louvain(network, weight, seed, resolution)))


@dataclass(frozen=True)
class GroupStability:
    """Stability of one group across re-runs.

    stability
        Mean, over runs, of the Jaccard overlap between the group and the re-run community that
        holds most of its members (1: always found exactly the same; low: splits or merges).
    core
        Members found in that community in at least ``core_share`` of the runs.
    """

    stability: float
    core: frozenset[Any]


def _resample(network: nx.Graph, rng: random.Random, drop: float, weight: str) -> nx.Graph:
    sample = nx.Graph()
    sample.add_nodes_from(network.nodes)
    # One order of the links whatever order the network was built in (see group_stability).
    links = sorted(network.edges(data=weight, default=1.0), key=lambda e: sorted((str(e[0]), str(e[1]))))
    for u, v, w in links:
        if rng.random() >= drop:
            sample.add_edge(u, v, **{weight: w})
    return sample


def group_stability(
    network: nx.Graph,
    partition: Mapping[Hashable, str],
    runs: int = 20,
    seed: int = 0,
    method: str = "leiden",
    resolution: float = 1.0,
    drop: float = 0.1,
    core_share: float = 0.75,
    weight: str = "weight",
    iterations: int = -1,
) -> dict[str, GroupStability]:
    """How often each group stays together when detection is re-run.

    Each run drops every edge with probability ``drop`` (a resample of the evidence: any single
    fact might be wrong) and detects groups again with a different seed.

    Parameters
    ----------
    network : networkx.Graph
        The network the partition was found on.
    partition : mapping
        Node -> group id (``find_groups``).
    runs : int
        Number of re-runs; 0 gives stability 1 and every member in the core.
    seed : int
        Seed of the resampling and of the re-runs.
    method, resolution, weight, iterations
        As for ``find_groups``.
    drop : float
        Share of edges left out per run.
    core_share : float
        Minimum share of runs in which a member must be with the group to count as core.

    Returns
    -------
    dict
        Group id -> GroupStability.

    Examples
    --------
    >>> net = nx.Graph([("a", "b"), ("b", "c"), ("a", "c"), ("x", "y")])
    >>> st = group_stability(net, find_groups(net), runs=5, drop=0.0)
    >>> st["G001"].stability, sorted(st["G001"].core)
    (1.0, ['a', 'b', 'c'])
    """
    members: dict[str, set[Any]] = defaultdict(set)
    for node, group in partition.items():
        members[group].add(node)
    if runs <= 0:
        return {g: GroupStability(1.0, frozenset(m)) for g, m in sorted(members.items())}
    rng = random.Random(seed)
    # Groups and persons as integers, so each re-run is compared with a few array operations
    # instead of a Python loop over tens of thousands of groups.
    group_ids = sorted(members)
    group_pos = {g: i for i, g in enumerate(group_ids)}
    group_size = np.array([len(members[g]) for g in group_ids], dtype=np.int64)
    nodes = sorted(network.nodes, key=str)
    in_partition = [i for i, n in enumerate(nodes) if n in partition]
    node_rows = np.array(in_partition, dtype=np.int64)
    node_group = np.array([group_pos[partition[nodes[i]]] for i in in_partition], dtype=np.int64)
    jaccard_sum = np.zeros(len(group_ids), dtype=np.float64)
    together = np.zeros(len(in_partition), dtype=np.int64)
    fast = method == "leiden" and _leiden_available()
    if fast:
        full, full_weights = _igraph(network, nodes, weight)
        # The links in one order whatever order the network was built in (GDS streams them in no
        # fixed order): each re-run leaves out the links the seed picks, so the order decides.
        ends = [(a, b) if a < b else (b, a) for a, b in full.get_edgelist()]
        order = sorted(range(len(ends)), key=ends.__getitem__)
        edge_list = [ends[i] for i in order]
        full_weights = [full_weights[i] for i in order]
    for run in range(runs):
        if fast:
            # Same resampling as below, without building a networkx graph per run.
            import igraph as ig

            keep = [i for i in range(len(edge_list)) if rng.random() >= drop]
            sample_ig = ig.Graph(n=len(nodes), edges=[edge_list[i] for i in keep])
            ig.set_random_number_generator(random.Random(seed + run + 1))
            try:
                labels: list[Any] = sample_ig.community_leiden(
                    objective_function="modularity",
                    weights=[full_weights[i] for i in keep] or None,
                    resolution=resolution,
                    n_iterations=iterations,
                ).membership
            finally:
                ig.set_random_number_generator(random)
        else:
            sample = _resample(network, rng, drop, weight)
            rerun = find_groups(
                sample,
                method=method,
                seed=seed + run + 1,
                resolution=resolution,
                weight=weight,
                iterations=iterations,
            )
            labels = [rerun[n] for n in nodes]
        _compare_run(labels, node_rows, node_group, group_size, jaccard_sum, together)
    result = {}
    member_count = dict(zip((nodes[i] for i in in_partition), together.tolist(), strict=True))
    for pos, group in enumerate(group_ids):
        core = frozenset(n for n in members[group] if member_count.get(n, 0) >= core_share * runs)
        result[group] = GroupStability(float(jaccard_sum[pos]) / runs, core)
    return result


def _compare_run(
    labels: list[Any],
    node_rows: np.ndarray,
    node_group: np.ndarray,
    group_size: np.ndarray,
    jaccard_sum: np.ndarray,
    together: np.ndarray,
) -> None:
    """Add one re-run to the stability sums (in place).

    For every group, the re-run community holding most of its members (ties: the smallest label as
    text) is its match; the group's Jaccard overlap with that community is added to
    ``jaccard_sum``, and each member found in it counts one in ``together``.
    """
    # Community codes in text order of the labels, so "smallest code" is "smallest label as text".
    distinct = sorted(set(labels), key=str)
    code_of = {label: i for i, label in enumerate(distinct)}
    codes = np.fromiter((code_of[label] for label in labels), dtype=np.int64, count=len(labels))
    community_size = np.bincount(codes, minlength=len(distinct))
    member_codes = codes[node_rows]
    n_codes = len(distinct)
    pairs, hits = np.unique(node_group * n_codes + member_codes, return_counts=True)
    pair_group, pair_code = pairs // n_codes, pairs % n_codes
    order = np.lexsort((pair_code, -hits, pair_group))
    first = np.ones(len(order), dtype=bool)
    first[1:] = pair_group[order][1:] != pair_group[order][:-1]
    best = order[first]
    groups_hit, best_code, best_hits = pair_group[best], pair_code[best], hits[best]
    union = group_size[groups_hit] + community_size[best_code] - best_hits
    jaccard_sum[groups_hit] += best_hits / union
    match = np.full(len(group_size), -1, dtype=np.int64)
    match[groups_hit] = best_code
    together += member_codes == match[node_group]


def attach_victims(
    graph: nx.MultiDiGraph, groups: Mapping[str, str], index: GraphIndex | None = None
) -> dict[str, str]:
    """Attach each victim to the group whose suspects exploit them.

    A victim is linked to a suspect by every case they share (suspect ``SUSPECT_IN`` and victim
    ``VICTIM_IN`` the same Case: 1 point each), every signal that concerns both (0.5 each) and
    every premises where both were seen (0.5 each). The victim goes to the group with the most
    points; ties go to the smaller group id. Victims without any link stay unattached.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        The graph as read from the store.
    groups : mapping
        Suspect node id (``"Person:<key>"``) -> group id.
    index : GraphIndex, optional
        ``netanalysis.graphs.index_graph(graph)``, to save a pass over the edges.

    Returns
    -------
    dict
        Victim node id -> group id. Suspects in ``groups`` are never attached as victims.
    """
    case_suspects: dict[str, set[str]] = defaultdict(set)
    case_victims: dict[str, set[str]] = defaultdict(set)
    signal_persons: dict[str, set[str]] = defaultdict(set)
    premises_persons: dict[str, set[str]] = defaultdict(set)
    victims: set[str] = set()
    for node, data in graph.nodes(data=True):
        if str(node).startswith("Person:") and "victim" in (data.get("roles") or ()):
            victims.add(node)
    index = index_graph(graph, index)
    for u, v, _ in index.of("SUSPECT_IN"):
        case_suspects[v].add(u)
    for u, v, _ in index.of("VICTIM_IN"):
        case_victims[v].add(u)
        victims.add(u)
    for u, v, _ in index.of("CONCERNS"):
        signal_persons[u].add(v)
    for u, v, _ in index.of("SEEN_AT"):
        if v.startswith("Premises:"):
            premises_persons[v].add(u)
    victims -= set(groups)

    points: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))

    def link(people: set[str], vics: Iterable[str], value: float) -> None:
        found = [groups[p] for p in people if p in groups]
        for victim in vics:
            for group in found:
                points[victim][group] += value

    for case, vics in case_victims.items():
        link(case_suspects.get(case, set()), vics & victims, 1.0)
    for people in signal_persons.values():
        link(people, people & victims, 0.5)
    for people in premises_persons.values():
        if len(people) <= 200:  # a hotel seen by everybody says nothing
            link(people, people & victims, 0.5)
    result: dict[str, str] = {}
    for victim, score in points.items():
        result[victim] = min(score.items(), key=lambda item: (-item[1], item[0]))[0]
    return dict(sorted(result.items()))


def members_by_group(partition: Mapping[Any, str]) -> dict[str, list[Any]]:
    """Group id -> sorted members."""
    result: dict[str, list[Any]] = defaultdict(list)
    for node, group in partition.items():
        result[group].append(node)
    return {g: sorted(m, key=str) for g, m in sorted(result.items())}
