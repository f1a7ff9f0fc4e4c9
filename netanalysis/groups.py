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
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx

from graphstore.errors import ConfigError

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


def _leiden(network: nx.Graph, nodes: list[Hashable], weight: str, seed: int, resolution: float) -> list[set]:
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
            n_iterations=-1,
        )
    finally:
        ig.set_random_number_generator(random)
    return [{nodes[i] for i in community} for community in clustering]


def leidenalg_partition(
    network: nx.Graph, seed: int = 0, resolution: float = 1.0, weight: str = "weight"
) -> list[set]:
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


def _louvain(network: nx.Graph, weight: str, seed: int, resolution: float) -> list[set]:
    return [
        set(c)
        for c in nx.community.louvain_communities(network, weight=weight, resolution=resolution, seed=seed)
    ]


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
        return communities_to_groups(_leiden(network, nodes, weight, seed, resolution))
    parts: list[set] = []
    for community in _louvain(network, weight, seed, resolution):
        if len(community) < 3:
            parts.append(community)  # one node, or two that Louvain only joins when linked
        else:
            parts.extend(set(c) for c in nx.connected_components(network.subgraph(community)))
    return communities_to_groups(parts)


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
    core: frozenset


def _resample(network: nx.Graph, rng: random.Random, drop: float, weight: str) -> nx.Graph:
    sample = nx.Graph()
    sample.add_nodes_from(network.nodes)
    for u, v, w in network.edges(data=weight, default=1.0):
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
    method, resolution, weight
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
    members: dict[str, set] = defaultdict(set)
    for node, group in partition.items():
        members[group].add(node)
    if runs <= 0:
        return {g: GroupStability(1.0, frozenset(m)) for g, m in sorted(members.items())}
    rng = random.Random(seed)
    jaccard_sum: dict[str, float] = defaultdict(float)
    with_group: dict[str, Counter] = {g: Counter() for g in members}
    fast = method == "leiden" and _leiden_available()
    if fast:
        nodes = sorted(network.nodes, key=str)
        full, full_weights = _igraph(network, nodes, weight)
        edge_list = full.get_edgelist()
    for run in range(runs):
        if fast:
            # Same resampling as below, without building a networkx graph per run.
            import igraph as ig

            keep = [i for i in range(len(edge_list)) if rng.random() >= drop]
            sample_ig = ig.Graph(n=len(nodes), edges=[edge_list[i] for i in keep])
            ig.set_random_number_generator(random.Random(seed + run + 1))
            try:
                membership = sample_ig.community_leiden(
                    objective_function="modularity",
                    weights=[full_weights[i] for i in keep] or None,
                    resolution=resolution,
                    n_iterations=-1,
                ).membership
            finally:
                ig.set_random_number_generator(random)
            rerun: Mapping[Hashable, Any] = dict(zip(nodes, membership, strict=True))
        else:
            sample = _resample(network, rng, drop, weight)
            rerun = find_groups(
                sample, method=method, seed=seed + run + 1, resolution=resolution, weight=weight
            )
        rerun_members: dict[Any, set] = defaultdict(set)
        for node, label in rerun.items():
            rerun_members[label].add(node)
        for group, group_nodes in members.items():
            hits = Counter(rerun[n] for n in group_nodes if n in rerun)
            if not hits:
                continue
            best = min(hits.items(), key=lambda item: (-item[1], str(item[0])))[0]
            found = rerun_members[best]
            jaccard_sum[group] += len(group_nodes & found) / len(group_nodes | found)
            with_group[group].update(group_nodes & found)
    result = {}
    for group, group_nodes in sorted(members.items()):
        core = frozenset(n for n in group_nodes if with_group[group][n] >= core_share * runs)
        result[group] = GroupStability(jaccard_sum[group] / runs, core)
    return result


def attach_victims(graph: nx.MultiDiGraph, groups: Mapping[str, str]) -> dict[str, str]:
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
    for u, v, data in graph.edges(data=True):
        rel = data.get("type")
        if rel == "SUSPECT_IN":
            case_suspects[v].add(u)
        elif rel == "VICTIM_IN":
            case_victims[v].add(u)
            victims.add(u)
        elif rel == "CONCERNS":
            signal_persons[u].add(v)
        elif rel == "SEEN_AT" and v.startswith("Premises:"):
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


def members_by_group(partition: Mapping[Any, str]) -> dict[str, list]:
    """Group id -> sorted members."""
    result: dict[str, list] = defaultdict(list)
    for node, group in partition.items():
        result[group].append(node)
    return {g: sorted(m, key=str) for g, m in sorted(result.items())}
