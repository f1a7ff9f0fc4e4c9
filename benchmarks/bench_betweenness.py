"""Exact versus sampled betweenness on perpetrator-like networks of 1k to 50k persons.

What it measures, per network size:
- the time of exact betweenness with networkx (only up to ``--nx-exact-max`` persons: it grows
  with n * m) and with igraph (C, used as the exact reference for larger networks; on the 1k
  network both give the same values, which the script checks);
- the time of sampled betweenness as ``netanalysis.keyplayers`` computes it (networkx, k sampled
  source persons, Brandes & Pich 2007) for each k in ``--k``;
- the error of the sampled values against the exact ones: mean and largest absolute error of the
  normalised betweenness, mean relative error over the 10 most central persons, how many of the
  exact top 10 are in the sampled top 10, and Spearman's rank correlation.

Networks: Holme–Kim power-law graphs with clustering (``powerlaw_cluster_graph(n, 2, 0.3)``), tie
weights uniform in [0.2, 5], distance 1/weight, as in ``key_players``. Synthetic, seeded.

Run:  .venv/bin/python benchmarks/bench_betweenness.py [--sizes 1000 5000 20000 50000] [--k 100 500]
Prints a Markdown table for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import time

import igraph as ig
import networkx as nx
import pandas as pd


def network(n: int, seed: int) -> nx.Graph:
    g = nx.powerlaw_cluster_graph(n, 2, 0.3, seed=seed)
    rng = random.Random(seed)
    for _, _, d in g.edges(data=True):
        d["weight"] = rng.uniform(0.2, 5.0)
        d["_distance"] = 1.0 / d["weight"]
    return g


def igraph_exact(g: nx.Graph) -> dict[int, float]:
    n = len(g)
    h = ig.Graph(n=n, edges=list(g.edges()))
    h.es["d"] = [d["_distance"] for _, _, d in g.edges(data=True)]
    raw = h.betweenness(weights="d")
    scale = 2.0 / ((n - 1) * (n - 2))  # undirected normalisation, as networkx normalized=True
    return {v: raw[v] * scale for v in range(n)}


def errors(exact: dict[int, float], approx: dict[int, float]) -> dict[str, float]:
    e = pd.Series(exact)
    a = pd.Series(approx).reindex(e.index)
    top = e.nlargest(10).index
    return {
        "mae": float((a - e).abs().mean()),
        "max_abs": float((a - e).abs().max()),
        "top10_rel": float(((a[top] - e[top]).abs() / e[top]).mean()),
        "top10_overlap": len(set(top) & set(a.nlargest(10).index)) / 10,
        "spearman": float(e.rank().corr(a.rank())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000, 50000])
    parser.add_argument("--k", type=int, nargs="+", default=[100, 500])
    parser.add_argument("--nx-exact-max", type=int, default=1000)
    parser.add_argument("--exact-max", type=int, default=20000, help="largest n with an exact reference")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()

    print(
        f"machine: {platform.machine()} {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"networkx {nx.__version__}, igraph {ig.__version__}"
    )
    print()
    print(
        "| persons | ties | method | k | seconds | MAE | max abs err | top-10 rel err | top-10 overlap "
        "| Spearman |"
    )
    print("| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for n in args.sizes:
        g = network(n, args.seed)
        m = g.number_of_edges()
        exact = None
        if n <= args.exact_max:
            t = time.perf_counter()
            exact = igraph_exact(g)
            print(f"| {n} | {m} | exact igraph | - | {time.perf_counter() - t:.1f} | | | | | |", flush=True)
        if n <= args.nx_exact_max:
            t = time.perf_counter()
            nxe = nx.betweenness_centrality(g, weight="_distance", normalized=True)
            secs = time.perf_counter() - t
            diff = max(abs(nxe[v] - exact[v]) for v in g) if exact else float("nan")
            print(
                f"| {n} | {m} | exact networkx (max diff to igraph {diff:.1e}) | - | {secs:.1f} | | | | | |",
                flush=True,
            )
        for k in args.k:
            t = time.perf_counter()
            approx = nx.betweenness_centrality(g, k=k, weight="_distance", normalized=True, seed=args.seed)
            secs = time.perf_counter() - t
            if exact is None:
                print(
                    f"| {n} | {m} | sampled networkx | {k} | {secs:.1f} | n/a | n/a | n/a | n/a | n/a |",
                    flush=True,
                )
                continue
            e = errors(exact, approx)
            print(
                f"| {n} | {m} | sampled networkx | {k} | {secs:.1f} | {e['mae']:.2e} | {e['max_abs']:.2e} "
                f"| {e['top10_rel']:.1%} | {e['top10_overlap']:.0%} | {e['spearman']:.3f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
