"""Key players in perpetrator groups: centrality, brokerage between regions, disruption.

Every function takes the perpetrator network (an undirected ``networkx.Graph`` whose nodes are bare
person ids with a region attribute and whose edges carry a positive ``weight``, higher = stronger
tie) and a mapping person id -> group id, and returns plain data. All measures are computed inside
each group's own subgraph: they describe who holds *that* group together. Persons in ``groups``
that are not in the network (victims, who are not part of the perpetrator network) are ignored;
persons in the network without a group are not reported.

Shortest paths (betweenness, and the betweenness strategy of the disruption simulation) use the
distance ``1 / weight``: a strong tie is a short step, so a broker sits on the strongest chains.

See ``docs/key-players-and-leads.md`` for the columns, the drawings and the measured sampling error.
"""

from __future__ import annotations

import numbers
import random
from collections.abc import Hashable, Mapping, Sequence
from itertools import combinations
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from netanalysis.errors import ConfigError

__all__ = [
    "DISRUPTION_COLUMNS",
    "KEY_PLAYER_COLUMNS",
    "ROLES",
    "STRATEGIES",
    "brokerage_roles",
    "disruption",
    "fragmentation_if_removed",
    "key_players",
]

#: Gould & Fernandez (1989) brokerage roles, in the order used in outputs.
ROLES: tuple[str, ...] = ("coordinator", "itinerant", "representative", "gatekeeper", "liaison")

#: Columns of ``key_players.csv``.
KEY_PLAYER_COLUMNS: tuple[str, ...] = (
    "group_id",
    "person_id",
    "region",
    "degree",
    "weighted_degree",
    "betweenness",
    "coordinator",
    "gatekeeper",
    "representative",
    "liaison",
    "itinerant",
    "brokerage",
    "rank",
    "fragmentation_if_removed",
)

#: Columns of ``disruption.csv``.
DISRUPTION_COLUMNS: tuple[str, ...] = ("group_id", "strategy", "removed", "components", "largest_share")

#: Removal strategies known to :func:`disruption`.
STRATEGIES: tuple[str, ...] = ("betweenness", "degree", "weighted_degree")

# Float noise from summation order must not decide ties between persons, so centralities are
# rounded before they are compared or reported.
_DECIMALS = 10
_DISTANCE = "_distance"


# ---------------------------------------------------------------------------------------------
# Brokerage


def brokerage_roles(graph: nx.DiGraph | nx.Graph, attr: str) -> dict[Hashable, dict[str, int]]:
    """Count the Gould–Fernandez brokerage roles of every node.

    A broker ``b`` sits on a two-path ``a -> b -> c`` where ``a`` has no direct tie to ``c``.
    Each such open two-path is classified by the groups (the node attribute ``attr``, e.g. the
    region) of ``a``, ``b`` and ``c``::

        coordinator     a, b, c all in the same group          (A) -> (A) -> (A)
        itinerant       a and c in one group, b in another     (A) -> (B) -> (A)
        representative  b in a's group, c in another           (A) -> (A) -> (B)
        gatekeeper      b in c's group, a in another           (A) -> (B) -> (B)
        liaison         a, b and c in three different groups   (A) -> (B) -> (C)

    Itinerant is Gould & Fernandez's "consultant". For an undirected graph every edge is read as
    a tie in both directions, so each open path ``a - b - c`` is counted twice, once as
    ``a -> b -> c`` and once as ``c -> b -> a``; coordinator, itinerant and liaison counts are then
    even, and representative and gatekeeper counts are equal (the same path read both ways). This
    is the convention of ``sna::brokerage`` for symmetric data.

    Self-loops are ignored. A two-path in which any of the three nodes has no value for ``attr``
    (attribute missing or None) cannot be classified and is not counted; such a node gets zero
    for every role.

    Parameters
    ----------
    graph : networkx.DiGraph or networkx.Graph
        The network. Multigraphs are read as simple graphs (parallel edges are one tie).
    attr : str
        Node attribute holding the group (region) of each node; values must be hashable.

    Returns
    -------
    dict
        node -> {role: count} with every role of :data:`ROLES` present.

    Examples
    --------
    >>> G = nx.Graph([("a", "b"), ("b", "c")])
    >>> nx.set_node_attributes(G, {"a": "RE01", "b": "RE01", "c": "RE02"}, "region")
    >>> brokerage_roles(G, "region")["b"]
    {'coordinator': 0, 'itinerant': 0, 'representative': 1, 'gatekeeper': 1, 'liaison': 0}
    >>> D = nx.DiGraph([("a", "b"), ("b", "c")])
    >>> nx.set_node_attributes(D, {"a": "RE01", "b": "RE02", "c": "RE03"}, "region")
    >>> brokerage_roles(D, "region")["b"]["liaison"]
    1

    References
    ----------
    Gould, R. V. & Fernandez, R. M. (1989). Structures of mediation: a formal approach to brokerage
    in transaction networks. Sociological Methodology 19, 89–126.
    """
    directed = graph.is_directed()
    nodes = list(graph)
    index = {node: i for i, node in enumerate(nodes)}
    code: dict[Hashable, int] = {}
    codes = np.array(
        [
            -1 if (g := data.get(attr)) is None else code.setdefault(g, len(code))
            for _, data in graph.nodes(data=True)
        ],
        dtype=np.int64,
    )
    pairs = np.array([(index[u], index[v]) for u, v in graph.edges()], dtype=np.int64).reshape(-1, 2)
    counts = _brokerage_counts(pairs[:, 0], pairs[:, 1], codes, directed)
    return {node: dict(zip(ROLES, map(int, counts[i]), strict=True)) for i, node in enumerate(nodes)}


def _brokerage_counts(src: np.ndarray, dst: np.ndarray, codes: np.ndarray, directed: bool) -> np.ndarray:
    """:func:`brokerage_roles` on arrays: ties ``src[i] -> dst[i]`` between nodes ``0 .. n-1``.

    ``codes[v]`` is node ``v``'s group as an integer 0, 1, ... (-1: none). Returns an ``n x 5``
    array of role counts in the order of :data:`ROLES`. Undirected ties count both ways; repeated
    ties and self-loops are ignored.

    Every ordered pair (a, c), a != c, of a broker's grouped senders and receivers is counted by
    the groups of a and c with sums over group counts (no loop over pairs); the pairs closed by a
    direct tie a -> c lie on a triangle of the network, so igraph lists the triangles (in C) and
    each one's orderings a, b, c whose three ties exist are taken away.

    Examples
    --------
    >>> _brokerage_counts(np.array([0, 1]), np.array([1, 2]), np.array([0, 1, 2]), True)[1].tolist()
    [0, 0, 0, 0, 1]
    """
    n = len(codes)
    result = np.zeros((n, len(ROLES)), dtype=np.int64)
    src, dst = np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64)
    if not directed:
        src, dst = np.concatenate([src, dst]), np.concatenate([dst, src])
    # Only ties between grouped nodes can be classified; a tie to a node without group takes no part.
    keep = (src != dst) & (codes[src] >= 0) & (codes[dst] >= 0)
    keys = _distinct(src[keep] * n + dst[keep])  # sorted, one per tie
    if len(keys) == 0:
        return result
    src, dst = keys // n, keys % n
    n_groups = int(codes.max()) + 1

    def has_tie(a: np.ndarray, c: np.ndarray) -> np.ndarray:
        wanted = a * n + c
        where = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
        return np.asarray(keys[where] == wanted)

    def lookup(table: tuple[np.ndarray, np.ndarray], wanted: np.ndarray) -> np.ndarray:
        if len(table[0]) == 0:
            return np.zeros(len(wanted), dtype=np.int64)
        where = np.minimum(np.searchsorted(table[0], wanted), len(table[0]) - 1)
        return np.where(table[0][where] == wanted, table[1][where], 0)

    senders = _tally(dst * n_groups + codes[src])  # per broker b = dst and group: its senders
    receivers = _tally(src * n_groups + codes[dst]) if directed else senders
    if directed:
        mutual = has_tie(dst, src)
        both = _tally(dst[mutual] * n_groups + codes[src[mutual]])  # neighbours sending and receiving
    else:
        both = senders
    own = np.where(codes >= 0, np.arange(n, dtype=np.int64) * n_groups + codes, -1)  # -1 matches no key
    n_a = np.bincount(dst, minlength=n)
    n_c = np.bincount(src, minlength=n)
    a_in, c_in, both_in = lookup(senders, own), lookup(receivers, own), lookup(both, own)
    both_all = np.bincount(both[0] // n_groups, weights=both[1], minlength=n).astype(np.int64)
    at_r = np.minimum(np.searchsorted(receivers[0], senders[0]), len(receivers[0]) - 1)
    shared = receivers[0][at_r] == senders[0]
    same_group = np.bincount(
        senders[0][shared] // n_groups, weights=senders[1][shared] * receivers[1][at_r[shared]], minlength=n
    ).astype(np.int64)
    same_elsewhere = same_group - a_in * c_in
    result[:, 0] = a_in * c_in - both_in
    result[:, 1] = same_elsewhere - (both_all - both_in)
    result[:, 2] = a_in * (n_c - c_in)
    result[:, 3] = (n_a - a_in) * c_in
    result[:, 4] = (n_a - a_in) * (n_c - c_in) - same_elsewhere
    import igraph as ig  # imported here: it costs half a second of every command's start

    # Each tie once, either way round (a list of pairs from Python ints: igraph reads it fastest).
    pairs = _distinct(np.minimum(src, dst) * n + np.maximum(src, dst))
    edges = list(zip((pairs // n).tolist(), (pairs % n).tolist(), strict=True))
    triangles = np.array(ig.Graph(n=n, edges=edges).list_triangles(), dtype=np.int64).reshape(-1, 3)
    for i, j, k in ((0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)):
        a, b, c = triangles[:, i], triangles[:, j], triangles[:, k]
        if directed:  # a -> b -> c closed by a -> c
            closed = has_tie(a, b) & has_tie(b, c) & has_tie(a, c)
            a, b, c = a[closed], b[closed], c[closed]
        ga, gb, gc = codes[a], codes[b], codes[c]
        role = np.where(ga == gb, np.where(gb == gc, 0, 2), np.where(gb == gc, 3, np.where(ga == gc, 1, 4)))
        result -= np.bincount(b * len(ROLES) + role, minlength=n * len(ROLES)).reshape(n, len(ROLES))
    return result


def _distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (a sort and a comparison: faster than numpy.unique's hashing)."""
    ordered = np.sort(values)
    return ordered[np.concatenate([[True], ordered[1:] != ordered[:-1]])] if len(ordered) else ordered


def _tally(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values, sorted, and how often each occurs."""
    ordered = np.sort(values)
    starts = (
        np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]])) if len(ordered) else ordered
    )
    return ordered[starts], np.diff(np.concatenate([starts, [len(ordered)]]))


# ---------------------------------------------------------------------------------------------
# Fragmentation


def fragmentation_if_removed(graph: nx.Graph) -> dict[Hashable, float]:
    """Fragmentation of the graph left after removing each node on its own.

    Fragmentation (Borgatti 2006) is the share of ordered pairs of distinct nodes that can no longer
    reach each other: ``F = 1 - sum_k s_k (s_k - 1) / (n (n - 1))`` over the component sizes
    ``s_k`` of the ``n`` remaining nodes. 0 means the rest is still one connected whole, 1 means
    everyone is isolated. With fewer than two nodes left there are no pairs and F is 0.

    The sizes of the pieces a node leaves behind come from one depth-first search (cut vertices,
    Hopcroft & Tarjan 1973), so all nodes together cost O(n + m), not a search per node.

    Parameters
    ----------
    graph : networkx.Graph
        Undirected graph (self-loops and edge attributes are irrelevant).

    Returns
    -------
    dict
        node -> fragmentation in [0, 1] of ``graph`` without that node.

    Examples
    --------
    >>> F = fragmentation_if_removed(nx.path_graph(3))
    >>> F[1], F[0]
    (1.0, 0.0)
    >>> fragmentation_if_removed(nx.star_graph(3))[0]
    1.0

    References
    ----------
    Borgatti, S. P. (2006). Identifying sets of key players in a social network. Computational and
    Mathematical Organization Theory 12, 21–34.
    Hopcroft, J. & Tarjan, R. (1973). Algorithm 447: efficient algorithms for graph manipulation.
    Communications of the ACM 16(6), 372–378.
    """
    if graph.is_directed():
        raise ConfigError("fragmentation_if_removed needs an undirected graph; pass graph.to_undirected().")
    n_left = graph.number_of_nodes() - 1
    pairs_left = n_left * (n_left - 1)
    disc: dict[Hashable, int] = {}
    low: dict[Hashable, int] = {}
    size: dict[Hashable, int] = {}
    pieces: dict[Hashable, list[int]] = {}
    components: list[list[Hashable]] = []
    clock = 0
    for root in graph:
        if root in disc:
            continue
        members = [root]
        disc[root] = low[root] = clock
        clock += 1
        size[root] = 1
        pieces[root] = []
        stack: list[tuple[Hashable, Hashable | None, Any]] = [(root, None, iter(graph[root]))]
        while stack:
            v, parent, neighbours = stack[-1]
            descended = False
            for w in neighbours:
                if w == v:
                    continue
                if w not in disc:
                    disc[w] = low[w] = clock
                    clock += 1
                    size[w] = 1
                    pieces[w] = []
                    members.append(w)
                    stack.append((w, v, iter(graph[w])))
                    descended = True
                    break
                if w != parent:
                    low[v] = min(low[v], disc[w])
            if descended:
                continue
            stack.pop()
            if parent is not None:
                low[parent] = min(low[parent], low[v])
                size[parent] += size[v]
                # v's subtree has no tie above the parent: removing the parent cuts it off.
                if low[v] >= disc[parent]:
                    pieces[parent].append(size[v])
        components.append(members)
    reach_all = sum(len(c) * (len(c) - 1) for c in components)
    result: dict[Hashable, float] = {}
    for members in components:
        s = len(members)
        reach_without_component = reach_all - s * (s - 1)
        for v in members:
            cut = pieces[v]
            rest = s - 1 - sum(cut)
            reach = reach_without_component + sum(p * (p - 1) for p in cut) + rest * (rest - 1)
            result[v] = 0.0 if pairs_left <= 0 else round(1.0 - reach / pairs_left, _DECIMALS)
    return result


# ---------------------------------------------------------------------------------------------
# Key players


def key_players(
    network: nx.Graph,
    groups: Mapping[str, str],
    region_attr: str = "region",
    weight: str = "weight",
    seed: int = 0,
    betweenness_k: int | None = None,
    sample_above: int | None = None,
    betweenness: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Degree, betweenness, brokerage between regions and fragmentation per group member.

    Every measure is computed inside the group's subgraph (ties to other groups do not count).

    Parameters
    ----------
    network : networkx.Graph
        The perpetrator network: bare person ids as nodes with ``region_attr``, edges with a
        positive ``weight`` (higher = stronger tie).
    groups : Mapping[str, str]
        person id -> group id. Persons not in ``network`` (victims) are ignored.
    region_attr : str
        Node attribute used as the group attribute of the brokerage roles.
    weight : str
        Edge attribute with the tie strength; shortest paths use the distance ``1 / weight``.
    seed : int
        Seed for sampling betweenness sources (only used with ``betweenness_k``).
    betweenness_k : int or None
        When given and a group has more members than this, betweenness is estimated from this many
        sampled source persons (Brandes & Pich 2007) instead of all of them. The measured error is
        in docs/key-players-and-leads.md. Must be at least 2.
    sample_above : int or None
        With ``betweenness_k``: sample only in groups of more than this many members (None: in
        every group larger than ``betweenness_k``). ``detect`` passes 10,000: exact values up to
        there. Both exact and sampled betweenness run in igraph; the sampled estimate equals
        networkx's ``betweenness_centrality(k=..., seed=...)`` (the same sources and scaling).
    betweenness : Mapping[str, float], optional
        Normalised betweenness within the group per person, computed elsewhere (``detect
        --engine gds`` computes it in the database); then ``betweenness_k`` does not apply.

    Returns
    -------
    pandas.DataFrame
        One row per group member, columns :data:`KEY_PLAYER_COLUMNS`, sorted by group and rank:

        - ``degree``: number of fellow members tied to the person;
        - ``weighted_degree``: sum of the weights of those ties;
        - ``betweenness``: normalised shortest-path betweenness in [0, 1] (distance 1/weight);
        - ``coordinator`` … ``itinerant``: brokerage counts (:func:`brokerage_roles`, region as the
          group attribute, each undirected open two-path counted in both directions);
        - ``brokerage``: the brokerage that crosses regions: gatekeeper + representative +
          liaison + itinerant (coordinator, which stays inside one region, is left out);
        - ``rank``: 1 = most central in the group, by betweenness, then brokerage, then weighted
          degree, then degree; equal persons share a rank (1, 2, 2, 4);
        - ``fragmentation_if_removed``: :func:`fragmentation_if_removed` of the group's subgraph.

    Examples
    --------
    >>> G = nx.Graph()
    >>> G.add_edge("p1", "p2", weight=1.0)
    >>> G.add_edge("p2", "p3", weight=1.0)
    >>> nx.set_node_attributes(G, {"p1": "RE01", "p2": "RE01", "p3": "RE02"}, "region")
    >>> kp = key_players(G, {"p1": "G001", "p2": "G001", "p3": "G001"})
    >>> kp.loc[kp["rank"] == 1, ["person_id", "betweenness", "brokerage", "fragmentation_if_removed"]]
    ... # doctest: +NORMALIZE_WHITESPACE
      person_id  betweenness  brokerage  fragmentation_if_removed
    0        p2          1.0          2                       1.0

    References
    ----------
    Freeman, L. C. (1977). A set of measures of centrality based on betweenness. Sociometry 40, 35–41.
    Brandes, U. (2001). A faster algorithm for betweenness centrality. J. Math. Sociology 25, 163–177.
    Brandes, U. & Pich, C. (2007). Centrality estimation in large networks. Int. J. Bifurcation and
    Chaos 17(7), 2303–2318.
    Gould, R. V. & Fernandez, R. M. (1989). Structures of mediation. Sociological Methodology 19, 89–126.
    """
    _check_network(network, weight)
    if betweenness_k is not None and betweenness_k < 2:
        raise ConfigError(f"betweenness_k must be at least 2 (got {betweenness_k}); None gives exact values.")
    rows: list[dict[str, Any]] = []
    for group_id, members in _members_by_group(network, groups).items():
        sub = _group_graph(network, members, region_attr, weight)
        k = betweenness_k if betweenness_k is not None and betweenness_k < len(sub) else None
        if sample_above is not None and len(sub) <= sample_above:
            k = None
        if betweenness is None:
            between = _betweenness(sub, k=k, seed=seed)
        else:
            between = {p: round(float(betweenness.get(str(p), 0.0)), _DECIMALS) for p in sub}
        roles = brokerage_roles(sub, region_attr)
        fragmentation = fragmentation_if_removed(sub)
        for person in sub:
            r = roles[person]
            rows.append(
                {
                    "group_id": group_id,
                    "person_id": person,
                    "region": sub.nodes[person].get(region_attr),
                    "degree": sub.degree(person),
                    "weighted_degree": round(float(sub.degree(person, weight=weight)), _DECIMALS),
                    "betweenness": between[person],
                    "coordinator": r["coordinator"],
                    "gatekeeper": r["gatekeeper"],
                    "representative": r["representative"],
                    "liaison": r["liaison"],
                    "itinerant": r["itinerant"],
                    "brokerage": r["gatekeeper"] + r["representative"] + r["liaison"] + r["itinerant"],
                    "fragmentation_if_removed": fragmentation[person],
                }
            )
    frame = pd.DataFrame(rows, columns=[c for c in KEY_PLAYER_COLUMNS if c != "rank"])
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype=_DTYPES[c]) for c in KEY_PLAYER_COLUMNS})
    order = ["betweenness", "brokerage", "weighted_degree", "degree"]
    frame = frame.sort_values(
        ["group_id", *order, "person_id"], ascending=[True, False, False, False, False, True], kind="stable"
    ).reset_index(drop=True)
    # Competition ranking ("1224") on the tuple of measures: ties are never broken by person id,
    # so renaming persons cannot change anyone's rank.
    new_key = (frame[["group_id", *order]] != frame[["group_id", *order]].shift()).any(axis=1)
    position = frame.groupby("group_id").cumcount() + 1
    frame["rank"] = position.where(new_key).ffill().astype("int64")
    return frame[list(KEY_PLAYER_COLUMNS)]


_DTYPES: dict[str, str] = {
    "group_id": "str",
    "person_id": "str",
    "region": "str",
    "degree": "int64",
    "weighted_degree": "float64",
    "betweenness": "float64",
    "coordinator": "int64",
    "gatekeeper": "int64",
    "representative": "int64",
    "liaison": "int64",
    "itinerant": "int64",
    "brokerage": "int64",
    "rank": "int64",
    "fragmentation_if_removed": "float64",
    "strategy": "str",
    "removed": "int64",
    "components": "int64",
    "largest_share": "float64",
}


# ---------------------------------------------------------------------------------------------
# Disruption


def disruption(
    network: nx.Graph,
    groups: Mapping[str, str],
    strategies: Sequence[str] = ("betweenness", "degree"),
    steps: int = 3,
    weight: str = "weight",
    seed: int = 0,
    betweenness_k: int | None = None,
    recovery: float = 0.0,
    sample_above: int | None = None,
) -> pd.DataFrame:
    """Simulate removing each group's top actors one by one and measure how the group fragments.

    For every group and strategy the most central remaining member is removed, the centrality is
    recomputed on what is left (sequential, "adaptive" targeting), and this repeats ``steps``
    times or until nobody is left. Ties are broken by the other measures (betweenness, weighted
    degree, degree) and finally by person id.

    By default the network does not react: recovery, which Duijn, Kashirin & Sloot (2014) show
    can undo disruption (criminal networks replace brokers and re-link around them), is not
    modelled. With ``recovery > 0`` a simple form of it is: after each removal, every pair of the
    removed person's remaining contacts that were not yet tied becomes tied with that probability
    (triadic closure: the contacts are introduced to each other), with weight equal to the weaker
    of the two ties they had to the removed person. ``recovery=1.0`` is the worst case for the
    police (full closure).

    Parameters
    ----------
    network : networkx.Graph
        The perpetrator network (see :func:`key_players`).
    groups : Mapping[str, str]
        person id -> group id; persons not in ``network`` are ignored.
    strategies : sequence of str
        Any of :data:`STRATEGIES`: ``"betweenness"`` (distance 1/weight), ``"degree"``,
        ``"weighted_degree"``.
    steps : int
        How many actors to remove at most (>= 0).
    weight : str
        Edge attribute with the tie strength.
    seed : int
        Seed for sampled betweenness and for the recovery draws.
    betweenness_k : int or None
        Sampled betweenness for groups larger than this (see :func:`key_players`).
    recovery : float
        Probability in [0, 1] that two contacts of a removed person become tied (0: no recovery).
    sample_above : int or None
        With ``betweenness_k``: sample only while more than this many members are left (see
        :func:`key_players`).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`DISRUPTION_COLUMNS`, one row per group, strategy and number removed,
        starting at ``removed = 0`` (the intact group) up to ``min(steps, group size)``:
        ``components`` is the number of connected components among the remaining members and
        ``largest_share`` the size of the largest one divided by the *original* group size.

    Examples
    --------
    >>> G = nx.star_graph(4)          # one hub (0) holding four members together
    >>> nx.set_edge_attributes(G, 1.0, "weight")
    >>> G = nx.relabel_nodes(G, str)
    >>> d = disruption(G, {p: "G001" for p in G}, strategies=("degree",), steps=1)
    >>> d[["removed", "components", "largest_share"]]
       removed  components  largest_share
    0        0           1            1.0
    1        1           4            0.2

    References
    ----------
    Duijn, P. A. C., Kashirin, V. & Sloot, P. M. A. (2014). The relative ineffectiveness of criminal
    network disruption. Scientific Reports 4, 4238.
    Albert, R., Jeong, H. & Barabási, A.-L. (2000). Error and attack tolerance of complex networks.
    Nature 406, 378–382.
    """
    _check_network(network, weight)
    unknown = [s for s in strategies if s not in STRATEGIES]
    if unknown:
        raise ConfigError(f"Unknown disruption strategy {unknown[0]!r}; choose from {', '.join(STRATEGIES)}.")
    if steps < 0:
        raise ConfigError(f"steps must be 0 or more (got {steps}).")
    if not 0.0 <= recovery <= 1.0:
        raise ConfigError(f"recovery must be a probability between 0 and 1 (got {recovery}).")
    if betweenness_k is not None and betweenness_k < 2:
        raise ConfigError(f"betweenness_k must be at least 2 (got {betweenness_k}); None gives exact values.")
    rows: list[dict[str, Any]] = []
    for group_id, members in _members_by_group(network, groups).items():
        base = _group_graph(network, members, None, weight)
        size = len(base)
        intact = _disruption_row(group_id, "", 0, base, size)
        for i, strategy in enumerate(strategies):
            if size <= 2:
                # Whoever goes first, one person is left, then nobody: no need to simulate.
                rows.append({**intact, "strategy": strategy})
                for removed in range(1, min(steps, size) + 1):
                    left = size - removed
                    rows.append(
                        {
                            "group_id": group_id,
                            "strategy": strategy,
                            "removed": removed,
                            "components": 1 if left else 0,
                            "largest_share": round(left / size, _DECIMALS),
                        }
                    )
                continue
            rng = random.Random(f"{seed}:{group_id}:{strategy}")
            # Copying a graph is costly; the last strategy may use up the group's own graph.
            g = base if i == len(strategies) - 1 else base.copy()
            rows.append({**intact, "strategy": strategy})
            for removed in range(1, min(steps, size) + 1):
                target = _top_actor(g, strategy, weight, betweenness_k, seed, sample_above)
                contacts = sorted(g[target], key=str)
                strength = {c: g[target][c][weight] for c in contacts}
                g.remove_node(target)
                if recovery > 0.0:
                    for a, c in combinations(contacts, 2):
                        if not g.has_edge(a, c) and rng.random() < recovery:
                            w = min(strength[a], strength[c])
                            g.add_edge(a, c, **{weight: w, _DISTANCE: 1.0 / w})
                rows.append(_disruption_row(group_id, strategy, removed, g, size))
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=_DTYPES[c]) for c in DISRUPTION_COLUMNS})
    return pd.DataFrame(rows, columns=list(DISRUPTION_COLUMNS))


def _disruption_row(group_id: str, strategy: str, removed: int, g: nx.Graph, size: int) -> dict[str, Any]:
    parts = [len(c) for c in nx.connected_components(g)]
    return {
        "group_id": group_id,
        "strategy": strategy,
        "removed": removed,
        "components": len(parts),
        "largest_share": round(max(parts, default=0) / size, _DECIMALS),
    }


def _top_actor(
    g: nx.Graph, strategy: str, weight: str, k: int | None, seed: int, sample_above: int | None = None
) -> Hashable:
    def measure(name: str) -> Mapping[Hashable, float]:
        if name == "betweenness":
            sample = k is not None and k < len(g) and (sample_above is None or len(g) > sample_above)
            return _betweenness(g, k=k if sample else None, seed=seed)
        if name == "weighted_degree":
            return {v: round(float(d), _DECIMALS) for v, d in g.degree(weight=weight)}
        return {v: float(d) for v, d in g.degree()}

    order = [strategy] + [m for m in ("betweenness", "weighted_degree", "degree") if m != strategy]
    candidates = list(g)
    # Later measures only break ties, so they are computed only when a tie is left.
    for name in order:
        if len(candidates) == 1:
            break
        values = measure(name)
        best = max(values[v] for v in candidates)
        candidates = [v for v in candidates if values[v] == best]
    chosen: Hashable = min(candidates, key=str)
    return chosen


# ---------------------------------------------------------------------------------------------
# Helpers


def _check_network(network: nx.Graph, weight: str) -> None:
    if network.is_directed() or network.is_multigraph():
        raise ConfigError(
            "The perpetrator network must be an undirected simple networkx.Graph "
            "(as made by netanalysis.projection.perpetrator_network)."
        )
    for _u, _v, w in network.edges(data=weight, default=None):
        if isinstance(w, bool) or not isinstance(w, numbers.Real) or not float(w) > 0:
            raise ConfigError(
                f"Every tie in the perpetrator network needs a positive numeric {weight!r} attribute; "
                f"one has {w!r}."
            )


def _members_by_group(network: nx.Graph, groups: Mapping[str, str]) -> dict[str, list[Hashable]]:
    members: dict[str, list[Hashable]] = {}
    for person, group_id in groups.items():
        if person in network:
            members.setdefault(str(group_id), []).append(person)
    return {g: sorted(members[g], key=str) for g in sorted(members)}


def _group_graph(
    network: nx.Graph, members: list[Hashable], region_attr: str | None, weight: str
) -> nx.Graph:
    # A fresh graph with members in sorted order: sampling and traversal then do not depend on
    # the order in which the caller happened to build the network.
    sub = nx.Graph()
    for person in members:
        attrs = {} if region_attr is None else {region_attr: network.nodes[person].get(region_attr)}
        sub.add_node(person, **attrs)
    position = {person: i for i, person in enumerate(members)}
    adj = network.adj
    edges = []
    for u in members:
        pu = position[u]
        for v, data in adj[u].items():
            pv = position.get(v)
            if pv is not None and pu < pv:
                w = float(data[weight])
                edges.append((u, v, {weight: w, _DISTANCE: 1.0 / w}))
    sub.add_edges_from(edges)
    return sub


def _betweenness(g: nx.Graph, k: int | None, seed: int) -> dict[Hashable, float]:
    n = len(g)
    if n <= 2:
        return dict.fromkeys(g, 0.0)
    nodes = list(g)
    h = _igraph_with_distances(g, nodes)
    values = _betweenness_igraph(h, k, seed)
    return {v: values[i] for i, v in enumerate(nodes)}


def _igraph_with_distances(g: nx.Graph, nodes: Sequence[Hashable], weight: str | None = None) -> Any:
    """``g`` as an igraph graph on the vertex order ``nodes``: edge attribute ``d`` = distance.

    With ``weight``, edge attribute ``w`` holds that attribute (the tie strength) too.
    """
    index = {v: i for i, v in enumerate(nodes)}
    # A list comprehension, not list(): list() asks the edge view for its length first, which
    # walks every edge once more.
    edges = [(index[u], index[v], d) for u, v, d in g.edges(data=True)]
    import igraph as ig  # imported here: it costs half a second of every command's start

    h = ig.Graph(n=len(nodes), edges=[(u, v) for u, v, _ in edges], directed=g.is_directed())
    h.es["d"] = [float(d[_DISTANCE]) for _, _, d in edges]
    if weight is not None:
        h.es["w"] = [float(d[weight]) for _, _, d in edges]
    return h


def _betweenness_igraph(h: Any, k: int | None, seed: int) -> list[float]:
    """Normalised betweenness of an igraph graph whose edge attribute ``d`` is the distance.

    Exact values come from igraph's C implementation of Brandes (2001): about 30 times faster
    than networkx, and equal to it (tests and benchmarks/bench_betweenness.py) except where float
    distances 1/weight tie (1/3 + 1/6 = 1/2): igraph counts both shortest paths, networkx's float
    sums miss one (tests/test_analyse.py compares on exact fractions). A directed graph counts
    ordered pairs, as networkx does.

    With ``k`` (< number of nodes), the dependencies are accumulated from ``k`` source vertices
    only (Brandes & Pich 2007, uniform pivots; igraph's subset betweenness) and scaled as
    ``networkx.betweenness_centrality(k=k, seed=seed, normalized=True)`` scales them: a source
    vertex's sum over the ``k - 1`` other sources, anybody else's over ``k``, each source standing
    for ``n - 2`` targets. The sources are the ones networkx would draw with the same seed
    (``random.Random(seed).sample`` over the vertex order), so both give the same estimate.
    """
    n = h.vcount()
    if n <= 2 or h.ecount() == 0:
        return [0.0] * n
    directed = h.is_directed()
    # Unordered pairs count once in igraph's undirected betweenness, ordered ones in networkx's.
    pairs = 1.0 if directed else 2.0
    if k is None or k >= n:
        raw = h.betweenness(weights="d", directed=directed)
        scale = pairs / ((n - 1) * (n - 2))
        return [round(float(b) * scale, _DECIMALS) for b in raw]
    sources = random.Random(seed).sample(range(n), k)
    raw = h.betweenness(weights="d", directed=directed, sources=sources)
    is_source = set(sources)
    own, other = pairs / ((k - 1) * (n - 2)), pairs / (k * (n - 2))
    return [round(float(b) * (own if i in is_source else other), _DECIMALS) for i, b in enumerate(raw)]
