"""``detect --engine gds`` against ``--engine local`` on the same Neo4j store (issue 21 item 3).

Takes a Neo4j server with the Graph Data Science library (``netanalysis neo4j start --with-gds``)
that holds a loaded set, and runs ``detect`` once per engine, each in a fresh subprocess so that
its peak memory (ru_maxrss) is its own: wall and CPU seconds of the Python process, its peak
memory, and the stages of ``DetectionResult.timings``. Reading the graph (the same for both) is
timed apart. Then the agreement: ARI between the two engines' groups over the suspects, edges and
weights of the two networks, and the largest difference in key-player betweenness.

    export NEO4J_URI=... NEO4J_USERNAME=neo4j NEO4J_PASSWORD=...   # netanalysis neo4j status --show-password
    nice -n 10 .venv/bin/python benchmarks/bench_gds.py --out /tmp/gds-bench [--stability-runs 0]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path


def run_one(engine: str, out: Path, seed: int, stability_runs: int) -> dict[str, object]:
    """In this process: read the graph, detect with ``engine``, write what the parent compares."""
    from graphstore import store_from_env
    from netanalysis.detect import DetectionSettings, detect
    from netanalysis.graphs import read_analysis_graph

    store = store_from_env(os.environ["NEO4J_URI"], read_only=True)
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        graph = read_analysis_graph(store)
        read_wall, read_cpu = time.perf_counter() - wall, time.process_time() - cpu
        wall, cpu = time.perf_counter(), time.process_time()
        settings = DetectionSettings(seed=seed, stability_runs=stability_runs, engine=engine)
        result = detect(graph, settings, store=store)
        detect_wall, detect_cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        store.close()
    network = result.network
    assert network is not None
    folder = out / engine
    folder.mkdir(parents=True, exist_ok=True)
    groups = result.groups[result.groups["role"] == "suspect"]
    (folder / "groups.json").write_text(
        json.dumps(dict(zip(groups["person_id"], groups["group_id"], strict=True)))
    )
    (folder / "links.json").write_text(
        json.dumps([[min(a, b), max(a, b), float(d["weight"])] for a, b, d in network.edges(data=True)])
    )
    kp = result.key_players
    (folder / "betweenness.json").write_text(
        json.dumps(dict(zip(kp["person_id"], kp["betweenness"], strict=True)))
    )
    return {
        "engine": engine,
        "read_wall_s": round(read_wall, 1),
        "read_cpu_s": round(read_cpu, 1),
        "detect_wall_s": round(detect_wall, 1),
        "detect_cpu_s": round(detect_cpu, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "suspects": network.number_of_nodes(),
        "links": network.number_of_edges(),
        "groups": int(result.group_summary["group_id"].nunique()),
        "timings": result.timings,
    }


def compare(out: Path) -> dict[str, object]:
    """Agreement of the two engines' outputs written by ``run_one``."""
    from netanalysis.evaluate import adjusted_rand_index

    local_groups = json.loads((out / "local" / "groups.json").read_text())
    gds_groups = json.loads((out / "gds" / "groups.json").read_text())
    people = sorted(local_groups)
    assert people == sorted(gds_groups)
    ari = adjusted_rand_index([local_groups[p] for p in people], [gds_groups[p] for p in people])
    local_links = {(a, b): w for a, b, w in json.loads((out / "local" / "links.json").read_text())}
    gds_links = {(a, b): w for a, b, w in json.loads((out / "gds" / "links.json").read_text())}
    same = set(local_links) == set(gds_links)
    worst = max((abs(w - gds_links[k]) / w for k, w in local_links.items() if k in gds_links), default=0.0)
    between_local = json.loads((out / "local" / "betweenness.json").read_text())
    between_gds = json.loads((out / "gds" / "betweenness.json").read_text())
    diff = max((abs(v - between_gds.get(p, math.nan)) for p, v in between_local.items()), default=0.0)
    return {
        "ari": round(ari, 4),
        "same_links": same,
        "max_relative_weight_difference": worst,
        "max_betweenness_difference": diff,
        "suspects": len(people),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--stability-runs", type=int, default=10)
    parser.add_argument("--engine", choices=["local", "gds"], help="(internal) run one engine here")
    args = parser.parse_args()
    if args.engine:
        print(json.dumps(run_one(args.engine, args.out, args.seed, args.stability_runs)))
        return
    rows = []
    for engine in ("local", "gds"):
        before = os.getloadavg()
        cmd = [sys.executable, __file__, "--out", str(args.out), "--seed", str(args.seed),
               "--stability-runs", str(args.stability_runs), "--engine", engine]  # fmt: skip
        done = subprocess.run(cmd, check=True, capture_output=True, text=True)
        row = json.loads(done.stdout.strip().splitlines()[-1])
        row["load_before"] = [round(x, 1) for x in before]
        rows.append(row)
        print(json.dumps(row), flush=True)
    print(json.dumps(compare(args.out)), flush=True)


if __name__ == "__main__":
    main()
