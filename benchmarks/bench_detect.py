"""Detection speed: end-to-end ``detect`` on store-shaped graphs from 10k to 1M persons.

The graphs are built directly as networkx MultiDiGraphs shaped like ``GraphStore.read_graph``
output (planted groups of 2-15 suspects with cases, victims with 2-5 dated observations, shared
phones/vehicles/premises, lone offenders), so the figure is the cost of the analysis alone, not of
loading. Every (size, method) runs in a fresh subprocess so its peak memory (ru_maxrss) is its own.

    .venv/bin/python benchmarks/bench_detect.py --persons 10000 100000 [--stability-runs 10]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time

import networkx as nx

CODES = [
    "GM0014", "GM0034", "GM0344", "GM0363", "GM0384", "GM0518", "GM0599", "GM0772", "GM0855", "GM0935",
    "GM0153", "GM0193", "GM0202", "GM0268", "GM0307", "GM0402", "GM0439", "GM0479", "GM0546", "GM0603",
]  # fmt: skip


def build_graph(persons: int, seed: int = 0) -> nx.MultiDiGraph:
    """A store-shaped graph with about ``persons`` persons (suspects and victims)."""
    rng = random.Random(seed)
    g = nx.MultiDiGraph()
    n = 0
    r = 0

    def rel(t: str, u: str, v: str, date: str, **props: object) -> None:
        nonlocal r
        r += 1
        g.add_edge(
            u, v, key=str(r), type=t, observed_on=date, reliability=rng.choice(["A1", "B2", "C3"]), **props
        )

    def date() -> str:
        return f"{rng.randint(2021, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"

    for code in CODES:
        g.add_node(f"Municipality:{code}", label="Municipality", code=code)
    gi = 0
    while n < persons:
        gi += 1
        size = 1 if rng.random() < 0.2 else rng.randint(2, 15)
        suspects = [f"Person:s{n + i}" for i in range(size)]
        n += size
        victims = [f"Person:v{n + i}" for i in range(rng.randint(1, 4))]
        n += len(victims)
        for p in suspects:
            g.add_node(p, label="Person", roles=["suspect"])
        for p in victims:
            g.add_node(p, label="Person", roles=["victim"])
        home = rng.sample(CODES, 3)
        for c in range(max(1, size // 4)):
            case = f"Case:c{gi}_{c}"
            g.add_node(case, label="Case", exploitation_type=rng.choice(["sexual", "labour", "criminal"]))
            for p in rng.sample(suspects, min(len(suspects), rng.randint(2, 5))):
                rel("SUSPECT_IN", p, case, date())
            for v in victims:
                rel("VICTIM_IN", v, case, date())
        phone = f"Phone:p{gi}"
        g.add_node(phone, label="Phone")
        for p in rng.sample(suspects, min(len(suspects), 3)):
            rel("USES", p, phone, date())
        premises = f"Premises:h{gi}"
        g.add_node(premises, label="Premises", municipality=home[0])
        for p in suspects:
            rel("SEEN_AT", p, f"Municipality:{rng.choice(home)}", date(), role="suspect")
            if rng.random() < 0.3:
                rel("SEEN_AT", p, premises, date(), role="suspect")
        for v in victims:
            for _ in range(rng.randint(2, 5)):
                rel("SEEN_AT", v, f"Municipality:{rng.choice(home)}", date(), role="victim")
    # a little noise between groups: random shared vehicles
    all_suspects = [p for p, d in g.nodes(data=True) if "suspect" in (d.get("roles") or ())]
    for i in range(len(all_suspects) // 50):
        car = f"Vehicle:x{i}"
        g.add_node(car, label="Vehicle")
        for p in rng.sample(all_suspects, 2):
            rel("USES", p, car, date())
    return g


def run_one(persons: int, method: str, stability_runs: int) -> dict[str, object]:
    from netanalysis.detect import DetectionSettings, detect

    t0 = time.perf_counter()
    graph = build_graph(persons)
    t1 = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = before.ru_utime + before.ru_stime
    result = detect(graph, DetectionSettings(method=method, stability_runs=stability_runs, betweenness_k=64))
    t2 = time.perf_counter()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "persons": persons,
        "method": method,
        "stability_runs": stability_runs,
        "graph_nodes": graph.number_of_nodes(),
        "graph_edges": graph.number_of_edges(),
        "suspects": result.network.number_of_nodes() if result.network is not None else 0,
        "links": result.network.number_of_edges() if result.network is not None else 0,
        "groups": len(result.group_summary),
        "build_s": round(t1 - t0, 1),
        "detect_s": round(t2 - t1, 1),
        "stages_s": result.timings,
        "cpu_s": round(usage.ru_utime + usage.ru_stime - cpu_before, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--methods", nargs="+", default=["leiden", "louvain"])
    parser.add_argument("--stability-runs", type=int, default=10)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.persons[0], args.methods[0], args.stability_runs)))
        return
    print(
        "| persons | method | stability runs | suspects | links | groups | build s | detect s | detect CPU s "
        "| peak RSS MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for persons in args.persons:
        for method in args.methods:
            cmd = [sys.executable, __file__, "--one", "--persons", str(persons), "--methods", method,
                   "--stability-runs", str(args.stability_runs)]  # fmt: skip
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            row = json.loads(out.strip().splitlines()[-1])
            print(
                f"| {row['persons']:,} | {method} | {row['stability_runs']} | {row['suspects']:,} | "
                f"{row['links']:,} | {row['groups']:,} | {row['build_s']} | {row['detect_s']} | "
                f"{row['cpu_s']} | {row['peak_rss_mb']:,} |",
                flush=True,
            )
            print(
                "  stages (s): " + ", ".join(f"{k} {v}" for k, v in row["stages_s"].items()), file=sys.stderr
            )


if __name__ == "__main__":
    main()
