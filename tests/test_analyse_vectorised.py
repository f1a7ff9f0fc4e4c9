"""The vectorised parts of ``analyse`` (issue 18's speed item) against the code they replaced.

The references below are the implementations as they were before they were vectorised, kept here
verbatim so the new code is compared with them on the known graphs and on random ones.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Hashable, Iterable, Mapping
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd
import pytest

from netanalysis.analyse import (
    _analyse_files,
    _clean,
    _igraph_of,
    _network_of,
    _strength,
    analyse_network,
    read_network,
)
from netanalysis.errors import InputFileError
from netanalysis.keyplayers import ROLES, _igraph_with_distances, brokerage_roles


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


# --- Reading and cleaning on arrays ------------------------------------------------------------


def _random_rows(n: int, m: int, seed: int) -> list[list[str]]:
    # Duplicates both ways round, self-loops and float weights whose sums round differently
    # in another order: what the arrays must combine exactly as the networkx loop did.
    rng = random.Random(seed)
    rows = [["source", "target", "calls"]]
    for _ in range(m):
        u, v = f"p{rng.randrange(n)}", f"p{rng.randrange(n)}"
        rows.append([u, v, str(rng.choice([1, 2, 0.1, 0.7, 1.3]))])
    return rows


def _network_files(tmp_path: Path, seed: int) -> tuple[Path, Path]:
    edges = _write(tmp_path / "edges.csv", _random_rows(60, 400, seed))
    rng = random.Random(seed)
    node_rows = [["id", "region"]] + [[f"p{i}", rng.choice(["R1", "R2", "R3", ""])] for i in range(65)]
    rng.shuffle(node_rows[1:])  # lone nodes p60-p64, and an order other than the edges'
    return edges, _write(tmp_path / "nodes.csv", node_rows)


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


@pytest.mark.parametrize("directed", [False, True], ids=["undirected", "directed"])
@pytest.mark.parametrize("seed", [1, 2])
def test_command_tables_equal_the_networkx_route(tmp_path: Path, directed: bool, seed: int) -> None:
    # The CLI reads the files into arrays; analyse_network(read_network(...)) goes through a
    # networkx multigraph. Every table must be the same, to the last digit.
    edges, nodes = _network_files(tmp_path, seed)
    settings: dict[str, Any] = {"stability_runs": 2, "steps": 4, "seed": seed, "sample_above": 30}
    direct = _analyse_files(edges, nodes, directed=directed, weight="calls", group_attr="region", **settings)
    graph = read_network(edges, nodes, directed=directed, weight="calls")
    routed = analyse_network(graph, group_attr="region", **settings)
    assert direct.summary == routed.summary
    assert direct.summary["self_loops_dropped"] > 0 and direct.summary["duplicate_edges_summed"] > 0
    for name in ("groups", "group_summary", "key_players", "brokerage", "disruption"):
        pd.testing.assert_frame_equal(getattr(direct, name), getattr(routed, name), check_exact=True)


@pytest.mark.parametrize("directed", [False, True], ids=["undirected", "directed"])
def test_arrays_follow_networkx_edge_order_and_sums(tmp_path: Path, directed: bool) -> None:
    # igraph graphs built from the arrays list the edges as the old networkx conversion did, and
    # weighted degrees are networkx's floats exactly (not approximately).
    edges, _ = _network_files(tmp_path, 3)
    simple, loops, duplicates = _clean(read_network(edges, directed=directed, weight="calls"), "weight")
    net = _network_of(read_network(edges, directed=directed, weight="calls"), "weight")
    assert (net.self_loops, net.duplicates) == (loops, duplicates)
    assert net.names == list(simple)
    old = _igraph_with_distances(simple, list(simple), "weight")
    new = _igraph_of(len(net.names), net.src, net.dst, net.weight, directed)
    assert new.get_edgelist() == old.get_edgelist()
    assert new.es["d"] == old.es["d"] and new.es["w"] == old.es["w"]
    strength = _strength(net.src, net.dst, net.weight, len(net.names), directed)
    assert strength.tolist() == [d for _, d in simple.degree(weight="weight")]


@pytest.mark.parametrize(
    ("rows", "says"),
    [
        ([["source", "target"], ["a", "b"], ["c"]], "Row 3 of"),
        ([["source", "target"], ["a", "b"], ["c", " "]], "Row 3 of"),
        ([["source", "target", "w"], ["a", "b", "1"], ["b", "c", "inf"]], "Row 3 of"),
        ([["source", "target", "w"], ["a", "b", "0"], ["b", "c", "x"]], "zero, negative or infinite"),
        ([["source", "target", "w"], ["a", "b", "x"], ["b", "c", "0"]], "non-numeric weight"),
    ],
    ids=["short-row", "empty-target", "infinite", "first-bad-row-zero", "first-bad-row-text"],
)
def test_column_checks_name_the_first_bad_row(tmp_path: Path, rows: list[list[str]], says: str) -> None:
    edges = _write(tmp_path / "e.csv", rows)
    weight = "w" if "w" in rows[0] else None
    with pytest.raises(InputFileError, match=says):
        _analyse_files(edges, weight=weight)
    with pytest.raises(InputFileError, match=says):
        read_network(edges, weight=weight)


# --- Block removal by union-find ---------------------------------------------------------------


@pytest.mark.parametrize(
    "graph",
    [
        nx.karate_club_graph(),
        nx.florentine_families_graph(),
        nx.les_miserables_graph(),
        nx.disjoint_union(nx.barabasi_albert_graph(80, 2, seed=1), nx.path_graph(30)),
    ],
    ids=["karate", "florentine", "les-miserables", "in-pieces"],
)
@pytest.mark.parametrize("strategy", ["betweenness", "degree"])
def test_block_removal_counts_as_networkx_after_removing_the_block(graph: nx.Graph, strategy: str) -> None:
    steps = 12
    d = analyse_network(graph, stability_runs=0, steps=steps, strategy=strategy).disruption
    block = d[d["mode"] == "block"].reset_index(drop=True)
    total = graph.number_of_nodes()
    initial = max(len(c) for c in nx.connected_components(graph))
    for step in range(1, steps + 1):
        rest = graph.copy()
        rest.remove_nodes_from(block.loc[1:step, "removed"])
        parts = [len(c) for c in nx.connected_components(rest)]
        assert block.loc[step, "components"] == len(parts)
        assert block.loc[step, "largest_share"] == pytest.approx(max(parts) / total)
        assert block.loc[step, "largest_share_of_initial"] == pytest.approx(max(parts) / initial)
