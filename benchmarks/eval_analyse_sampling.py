"""Accuracy of ``analyse``'s sampled betweenness and closeness against the exact values.

The networks are those of benchmarks/bench_analyse.py (planted groups, weights 1-5) with seeds
that the tests do not use; each is analysed twice with the public API, exactly
(``sample_above=None``) and with the large-network defaults (``sample_above=0``)::

    .venv/bin/python benchmarks/eval_analyse_sampling.py --nodes 5000 --seeds 2 3 4
    .venv/bin/python benchmarks/eval_analyse_sampling.py --family hubs --nodes 5000 --seeds 2 3

``--family hubs`` uses a Barabási–Albert network (5 ties per new node, weights 1-5) instead: a few
hubs with clearly higher centrality, where the top of the ranking is easier to get right than
among the planted groups' many near-equal nodes.

Printed per seed: the share of the exact top 10 and top 100 (by betweenness, by closeness) that
the sampled values also put in their top 10 / top 100, Spearman's rank correlation over all
nodes, and closeness's median and 95th-percentile relative error.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import networkx as nx
import pandas as pd

import netanalysis as na

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_analyse import planted_network


def overlap(exact: pd.Series, sampled: pd.Series, top: int) -> float:
    return len(set(exact.nlargest(top).index) & set(sampled.nlargest(top).index)) / top


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[2, 3, 4])
    parser.add_argument("--family", choices=["planted", "hubs"], default="planted")
    options = parser.parse_args(argv)
    for seed in options.seeds:
        if options.family == "planted":
            ties, _ = planted_network(options.nodes, 5 * options.nodes, seed=seed)
        else:
            rng = random.Random(seed)
            hubs = nx.barabasi_albert_graph(options.nodes, 5, seed=seed)
            ties = {(u, v): rng.randint(1, 5) for u, v in hubs.edges()}
        g = nx.Graph()
        g.add_weighted_edges_from((f"n{u}", f"n{v}", w) for (u, v), w in ties.items())
        settings = {"stability_runs": 0, "steps": 0, "seed": seed}
        exact = na.analyse_network(g, sample_above=None, **settings).key_players.set_index("node")
        sampled_run = na.analyse_network(g, sample_above=0, **settings)
        sampled = sampled_run.key_players.set_index("node").loc[exact.index]
        row: dict[str, object] = {
            "family": options.family,
            "nodes": options.nodes,
            "seed": seed,
            "sources": sampled_run.summary["betweenness_sampled_sources"],
            "pivots": sampled_run.summary["closeness_sampled_pivots"],
        }
        for measure in ("betweenness", "closeness"):
            row[f"{measure}_top10"] = overlap(exact[measure], sampled[measure], 10)
            row[f"{measure}_top100"] = overlap(exact[measure], sampled[measure], 100)
            ranks = exact[measure].rank(), sampled[measure].rank()  # Spearman: Pearson of ranks
            row[f"{measure}_spearman"] = round(float(ranks[0].corr(ranks[1])), 3)
        relative = (sampled["closeness"] - exact["closeness"]).abs() / exact["closeness"]
        row["closeness_rel_error_median"] = round(float(relative.median()), 4)
        row["closeness_rel_error_p95"] = round(float(relative.quantile(0.95)), 4)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
