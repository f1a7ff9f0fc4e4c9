"""The vectorised parts of ``analyse`` (issue 18's speed item) against the code they replaced.

The references below are the implementations as they were before they were vectorised, kept here
verbatim so the new code is compared with them on the known graphs and on random ones.
"""

from __future__ import annotations

import random
from collections.abc import Hashable, Iterable, Mapping
from typing import Any

import networkx as nx
import pytest

from netanalysis.keyplayers import ROLES, brokerage_roles


def _old_brokerage_roles(graph: nx.DiGraph | nx.Graph, attr: str) -> dict[Hashable, dict[str, int]]:
    # keyplayers.brokerage_roles before it moved to arrays (commit 9bbcf43).
    directed = graph.is_directed()
    group = {node: data.get(attr) for node, data in graph.nodes(data=True)}
    succ: Mapping[Hashable, Mapping[Hashable, Any]] = graph.succ if directed else graph.adj
    pred: Mapping[Hashable, Mapping[Hashable, Any]] = graph.pred if directed else graph.adj
    result: dict[Hashable, dict[str, int]] = {}
    for b in graph:
        counts = dict.fromkeys(ROLES, 0)
        result[b] = counts
        gb = group[b]
        if gb is None:
            continue
        senders = [a for a in pred[b] if a != b and group[a] is not None]
        receivers = [c for c in succ[b] if c != b and group[c] is not None] if directed else senders
        if not senders or not receivers:
            continue
        # Count every ordered pair (a, c), a != c, by the groups of a and c, then take away the
        # pairs that are closed by a direct tie a -> c. This costs the number of ties among the
        # neighbours instead of the square of the degree.
        n_a, n_c = len(senders), len(receivers)
        by_group_a = _old_tally(senders, group)
        by_group_c = by_group_a if receivers is senders else _old_tally(receivers, group)
        # a == c pairs: in the undirected case every neighbour is both sender and receiver.
        both = by_group_a if receivers is senders else _old_tally(set(senders).intersection(receivers), group)
        a_in, c_in = by_group_a.get(gb, 0), by_group_c.get(gb, 0)
        same_elsewhere = sum(k * by_group_c.get(g, 0) for g, k in by_group_a.items() if g != gb)
        counts["coordinator"] = a_in * c_in - both.get(gb, 0)
        counts["itinerant"] = same_elsewhere - sum(k for g, k in both.items() if g != gb)
        counts["representative"] = a_in * (n_c - c_in)
        counts["gatekeeper"] = (n_a - a_in) * c_in
        counts["liaison"] = (n_a - a_in) * (n_c - c_in) - same_elsewhere
        receiver_set = set(receivers)
        for a in senders:
            out_a = succ[a]
            closed: Iterable[Hashable]
            if len(out_a) <= n_c:
                closed = (c for c in out_a if c in receiver_set)
            else:
                closed = (c for c in receivers if c in out_a)
            for c in closed:
                if c != a:
                    counts[_old_role(group[a], gb, group[c])] -= 1
    return result


def _old_tally(nodes: Iterable[Hashable], group: Mapping[Hashable, Hashable]) -> dict[Hashable, int]:
    counts: dict[Hashable, int] = {}
    for node in nodes:
        g = group[node]
        counts[g] = counts.get(g, 0) + 1
    return counts


def _old_role(ga: Hashable, gb: Hashable, gc: Hashable) -> str:
    if ga == gb:
        return "coordinator" if gb == gc else "representative"
    if gb == gc:
        return "gatekeeper"
    return "itinerant" if ga == gc else "liaison"


def _old_tally(nodes: Iterable[Hashable], group: Mapping[Hashable, Hashable]) -> dict[Hashable, int]:
    counts: dict[Hashable, int] = {}
    for node in nodes:
        g = group[node]
        counts[g] = counts.get(g, 0) + 1
    return counts


def _old_role(ga: Hashable, gb: Hashable, gc: Hashable) -> str:
    if ga == gb:
        return "coordinator" if gb == gc else "representative"
    if gb == gc:
        return "gatekeeper"
    return "itinerant" if ga == gc else "liaison"


def _with_groups(graph: nx.Graph, groups: int, seed: int, missing: float = 0.1) -> nx.Graph:
    rng = random.Random(seed)
    for v in graph:
        graph.nodes[v]["region"] = None if rng.random() < missing else f"R{rng.randrange(groups)}"
    return graph


def _hub_digraph(n: int, seed: int) -> nx.DiGraph:
    # Random ties plus two hubs tied both ways to a third of the network: mutual ties, closed
    # two-paths through a hub, and brokers with many more senders than receivers.
    g = nx.gnp_random_graph(n, 4 / n, seed=seed, directed=True)
    rng = random.Random(seed)
    for hub in (0, 1):
        for v in rng.sample(range(2, n), n // 3):
            g.add_edge(hub, v)
            if rng.random() < 0.5:
                g.add_edge(v, hub)
    g.add_edge(3, 3)  # a self-loop is ignored
    return g


@pytest.mark.parametrize(
    ("graph", "groups"),
    [
        (nx.karate_club_graph(), 2),
        (nx.florentine_families_graph(), 3),
        (nx.davis_southern_women_graph(), 4),
        (nx.les_miserables_graph(), 5),
        (nx.gnp_random_graph(300, 0.03, seed=1), 6),
        (_hub_digraph(300, 2), 3),
        (_hub_digraph(500, 3), 25),
        (nx.gnp_random_graph(200, 0.05, seed=4, directed=True), 2),
        (nx.MultiDiGraph(_hub_digraph(100, 5)), 4),
    ],
    ids=["karate", "florentine", "davis", "les-miserables", "random", "hubs", "hubs-25", "directed", "multi"],
)
def test_brokerage_equals_the_loop_it_replaced(graph: nx.Graph, groups: int) -> None:
    for seed in range(3):
        g = _with_groups(graph.copy(), groups, seed, missing=0.1 * seed)
        assert brokerage_roles(g, "region") == _old_brokerage_roles(g, "region")


def test_brokerage_of_an_empty_or_ungrouped_network() -> None:
    assert brokerage_roles(nx.Graph(), "region") == {}
    g = nx.path_graph(3)
    assert brokerage_roles(g, "region") == {v: dict.fromkeys(ROLES, 0) for v in g}
