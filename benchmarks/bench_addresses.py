"""What addresses and organisations cost the detection (issue 20), old and new side by side.

The store-shaped graph of ``bench_detect.build_graph`` gets addresses and organisations: every
victim is registered for a random period at one of ``persons / 2`` addresses (three victims in
ten at one of the 1% crowded houses), and employed by one of ``persons / 20`` organisations; every suspect
is registered somewhere too, and one suspect in five directs or owns an organisation. In one
process, on the same graph, it times (CPU seconds, best of ``--repeat``):

* the perpetrator network of the ``main`` branch (``git show main:netanalysis/projection.py``)
  and of this one with the issue 20 kinds switched off (``address=employer=director=0``): the
  same network;
* main's network with its default weights, this one's with the rules of 2026-12-07 switched off
  (``split_victim_facts=False, victim_tie_days=None``; it says whether that is main's network)
  and this one's with the default weights (the cost of those rules);
* ``crowded_addresses`` and ``shared_hubs`` (the latter on the detected groups).

    nice -n 10 .venv/bin/python benchmarks/bench_addresses.py --persons 100000
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import networkx as nx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_detect import build_graph

import netanalysis as na
from netanalysis.graphs import index_graph


def add_addresses(g: nx.MultiDiGraph, persons: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    n_addresses = max(persons // 2, 10)
    n_orgs = max(persons // 20, 5)
    for a in range(n_addresses):
        g.add_node(f"Address:a{a}", label="Address", address_id=f"a{a}", pc4="3011", municipality="GM0599")
    for o in range(n_orgs):
        g.add_node(f"Organisation:o{o}", label="Organisation", organisation_id=f"o{o}", kind="agency")
    crowded = list(range(max(n_addresses // 100, 1)))
    r = 0

    def period() -> dict[str, Any]:
        start = f"{rng.randint(2019, 2024)}-{rng.randint(1, 12):02d}-01"
        end = None if rng.random() < 0.5 else f"{int(start[:4]) + 1}{start[4:]}"
        return {"from_date": start, "to_date": end, "observed_on": start, "reliability": "B2"}

    for node, data in list(g.nodes(data=True)):
        if data.get("label") != "Person":
            continue
        roles = data.get("roles") or []
        r += 1
        address = (
            rng.choice(crowded) if "victim" in roles and rng.random() < 0.3 else rng.randrange(n_addresses)
        )
        g.add_edge(node, f"Address:a{address}", key=f"x{r}", type="REGISTERED_AT", **period())
        if "victim" in roles:
            r += 1
            g.add_edge(
                node, f"Organisation:o{rng.randrange(n_orgs)}", key=f"x{r}", type="EMPLOYED_BY", **period()
            )
        elif rng.random() < 0.2:
            r += 1
            tie = rng.choice(["DIRECTOR_OF", "OWNS"])
            g.add_edge(node, f"Organisation:o{rng.randrange(n_orgs)}", key=f"x{r}", type=tie, **period())


def old_projection() -> Any:
    source = subprocess.run(
        ["git", "show", "main:netanalysis/projection.py"], check=True, capture_output=True, text=True
    ).stdout
    path = Path(tempfile.mkdtemp()) / "old_projection.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("old_projection", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["old_projection"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def cpu(fn: Any, repeat: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.process_time()
        out = fn()
        best = min(best, time.process_time() - t0)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    g = build_graph(args.persons)
    add_addresses(g, args.persons)
    index = index_graph(g)
    old = old_projection()
    off = na.EvidenceWeights(address=0.0, employer=0.0, director=0.0)
    old_off = old.EvidenceWeights(address=0.0, employer=0.0, director=0.0)
    t_old_off, net_old_off = cpu(lambda: old.perpetrator_network(g, old_off, index=index), args.repeat)
    t_off, net_off = cpu(lambda: na.perpetrator_network(g, off, index=index), args.repeat)
    assert nx.utils.graphs_equal(net_old_off, net_off), "switched off, the new kinds must give main's network"
    t_old, net_old = cpu(lambda: old.perpetrator_network(g, index=index), args.repeat)
    before = na.EvidenceWeights(split_victim_facts=False, victim_tie_days=None)
    t_before, net_before = cpu(lambda: na.perpetrator_network(g, before, index=index), args.repeat)
    same = nx.utils.graphs_equal(net_old, net_before)
    t_new, net_new = cpu(lambda: na.perpetrator_network(g, index=index), args.repeat)
    t_crowded, crowded = cpu(lambda: na.crowded_addresses(g, index=index), args.repeat)
    groups = na.find_groups(net_new, seed=0)
    # victims are not attached here: hubs over suspects only, which is the larger part of the cost
    t_hubs, hubs = cpu(lambda: na.shared_hubs(g, {str(k): str(v) for k, v in groups.items()}, index=index), 1)
    nodes, rels = g.number_of_nodes(), g.number_of_edges()
    print(f"persons {args.persons:,}; graph {nodes:,} nodes, {rels:,} relationships")
    print(f"links: kinds off {net_off.number_of_edges():,}; main {net_old.number_of_edges():,} ", end="")
    print(f"({kind_counts(net_old)}); new {net_new.number_of_edges():,} ({kind_counts(net_new)}); ", end="")
    print(f"skipped items {net_new.graph['skipped_items']}")
    print(f"new with the 2026-12-07 rules off gives main's network: {same}")
    print("| step | CPU s | ratio to main |")
    print("|---|---|---|")
    print(f"| perpetrator_network, main, kinds off | {t_old_off:.2f} | {t_old_off / t_old:.2f} |")
    print(f"| perpetrator_network, new, kinds off | {t_off:.2f} | {t_off / t_old:.2f} |")
    print(f"| perpetrator_network, main (defaults) | {t_old:.2f} | 1.00 |")
    print(f"| perpetrator_network, new, 2026-12-07 rules off | {t_before:.2f} | {t_before / t_old:.2f} |")
    print(f"| perpetrator_network, new (defaults) | {t_new:.2f} | {t_new / t_old:.2f} |")
    print(f"| crowded_addresses ({len(crowded):,} crowded) | {t_crowded:.2f} | |")
    print(f"| shared_hubs ({len(hubs):,} hubs) | {t_hubs:.2f} | |")


def kind_counts(net: nx.Graph) -> dict[str, int]:
    counts: dict[str, int] = {}
    for _, _, evidence in net.edges(data="evidence"):
        for kind in evidence:
            counts[kind] = counts.get(kind, 0) + 1
    return dict(sorted(counts.items()))


if __name__ == "__main__":
    main()
