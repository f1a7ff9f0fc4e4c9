"""CPU time of ``analyse_network`` on random weighted networks (5 edges per node).

    .venv/bin/python benchmarks/bench_analyse.py 5000 20000:50

Each argument is ``NODES`` (exact betweenness) or ``NODES:K`` (betweenness sampled from K sources).
"""

from __future__ import annotations

import random
import sys
import time

import networkx as nx

import netanalysis as na


def main(argv: list[str]) -> None:
    for spec in argv or ["2000"]:
        nodes_text, _, k_text = spec.partition(":")
        n, k = int(nodes_text), int(k_text) if k_text else None
        g = nx.gnm_random_graph(n, 5 * n, seed=1)
        rng = random.Random(1)
        for _u, _v, data in g.edges(data=True):
            data["weight"] = rng.randint(1, 5)
        cpu, wall = time.process_time(), time.time()
        na.analyse_network(g, stability_runs=5, steps=3, betweenness_k=k)
        print(
            f"{n} nodes, {5 * n} edges, betweenness_k={k}: "
            f"{time.process_time() - cpu:.1f} CPU s, {time.time() - wall:.1f} s wall",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
