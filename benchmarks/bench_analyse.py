"""``netanalysis analyse`` on seeded networks with planted groups: per-step CPU, wall, peak memory.

Each size is written as EDGES.csv (columns source, target, weight 1-5) and NODES.csv (id, region
out of 25) and run through the real command in a fresh subprocess, so its peak memory
(ru_maxrss) is its own::

    .venv/bin/python benchmarks/bench_analyse.py 20000:100000 100000:500000
    .venv/bin/python benchmarks/bench_analyse.py 20000:100000 --old-src /tmp/old \
        --old-args "--betweenness-k 50"

Each argument is ``NODES:EDGES``. The network: groups of 20-200 nodes (uniform), each edge inside
a group with probability 0.8, else between two random nodes; seed 1. ``--old-src`` runs the same
command a second time from another checkout's source folder (e.g. ``git archive main netanalysis
| tar -x -C /tmp/old``), for an old-vs-new ratio. The per-step times come from the DEBUG log of
``netanalysis.analyse``. With ``--old-src`` the last line also names the output tables whose
bytes differ between the two runs.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_RUNNER = """
import json, logging, resource, sys, time
logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(message)s")
logging.getLogger("netanalysis.analyse").setLevel(logging.DEBUG)
from netanalysis.cli import main
code = main(sys.argv[1:])
usage = resource.getrusage(resource.RUSAGE_SELF)
print("RUSAGE " + json.dumps({"cpu": usage.ru_utime + usage.ru_stime, "max_rss_mb": usage.ru_maxrss / 1024}),
      file=sys.stderr)
sys.exit(code)
"""


def planted_network(nodes: int, edges: int, seed: int = 1) -> tuple[dict[tuple[int, int], int], list[int]]:
    """Edges (u < v) -> weight 1-5, and every node's region, of a network with planted groups."""
    rng = random.Random(seed)
    groups: list[tuple[int, int]] = []
    start = 0
    while start < nodes:
        size = min(nodes - start, rng.randint(20, 200))
        groups.append((start, size))
        start += size
    group_of = [g for g, (_, size) in enumerate(groups) for _ in range(size)]
    ties: dict[tuple[int, int], int] = {}
    while len(ties) < edges:
        u = rng.randrange(nodes)
        if rng.random() < 0.8:
            first, size = groups[group_of[u]]
            v = first + rng.randrange(size)
        else:
            v = rng.randrange(nodes)
        if u != v:
            ties.setdefault((min(u, v), max(u, v)), rng.randint(1, 5))
    regions = [rng.randrange(25) for _ in range(nodes)]
    return ties, regions


def write_network(folder: Path, nodes: int, edges: int) -> tuple[Path, Path]:
    ties, regions = planted_network(nodes, edges)
    edges_csv, nodes_csv = folder / "EDGES.csv", folder / "NODES.csv"
    with edges_csv.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["source", "target", "weight"])
        out.writerows([f"n{u}", f"n{v}", w] for (u, v), w in ties.items())
    with nodes_csv.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["id", "region"])
        out.writerows([f"n{i}", f"RE{r:02d}"] for i, r in enumerate(regions))
    return edges_csv, nodes_csv


def run(src: Path | None, edges_csv: Path, nodes_csv: Path, out: Path, extra: list[str]) -> dict[str, object]:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    args = ["analyse", str(edges_csv), "--nodes", str(nodes_csv), "--weight", "weight"]
    args += ["--group-attr", "region", "--out", str(out), *extra]
    load_before = os.getloadavg()[0]
    wall = time.perf_counter()
    # The network's folder as working directory: ``python -c`` puts the working directory first on
    # the path, so started from the checkout it would import the checkout's code even with
    # --old-src (the runs before this fix compared the new code with itself).
    done = subprocess.run(
        [sys.executable, "-c", _RUNNER, *args], env=env, capture_output=True, text=True, cwd=edges_csv.parent
    )
    wall = time.perf_counter() - wall
    if done.returncode != 0:
        raise SystemExit(f"netanalysis analyse failed:\n{done.stderr[-2000:]}")
    steps = {m[1]: float(m[2]) for m in re.finditer(r"step (.+?): ([\d.]+) CPU s", done.stderr)}
    usage = json.loads(done.stderr.split("RUSAGE ", 1)[1].splitlines()[0])
    return {
        "wall_s": round(wall, 1),
        "cpu_s": round(usage["cpu"], 1),
        "max_rss_mb": round(usage["max_rss_mb"]),
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "steps_cpu_s": steps,
        "summary": done.stdout.strip(),
    }


def _differing(old: Path, new: Path) -> list[str]:
    """The output tables whose bytes differ between the two runs (empty: the same answers)."""
    names = sorted({p.name for p in old.glob("*.csv")} | {p.name for p in new.glob("*.csv")})
    return [
        n
        for n in names
        if not (old / n).exists()
        or not (new / n).exists()
        or (old / n).read_bytes() != (new / n).read_bytes()
    ]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", default=["20000:100000"], help="NODES:EDGES")
    parser.add_argument("--old-src", type=Path, help="source folder of the old code (old vs new)")
    parser.add_argument("--old-args", default="", help="extra options for the old command")
    parser.add_argument("--new-args", default="", help="extra options for the new command")
    options = parser.parse_args(argv)
    for spec in options.sizes:
        nodes, edges = (int(x) for x in spec.split(":"))
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            edges_csv, nodes_csv = write_network(folder, nodes, edges)
            new = run(None, edges_csv, nodes_csv, folder / "new", options.new_args.split())
            print(json.dumps({"nodes": nodes, "edges": edges, "code": "new", **new}), flush=True)
            if options.old_src is not None:
                old = run(options.old_src, edges_csv, nodes_csv, folder / "old", options.old_args.split())
                print(json.dumps({"nodes": nodes, "edges": edges, "code": "old", **old}), flush=True)
                print(
                    json.dumps(
                        {
                            "nodes": nodes,
                            "old_over_new_cpu": round(float(old["cpu_s"]) / float(new["cpu_s"]), 1),  # type: ignore[arg-type]
                            "old_over_new_wall": round(float(old["wall_s"]) / float(new["wall_s"]), 1),  # type: ignore[arg-type]
                            "tables_differing": _differing(folder / "old", folder / "new"),
                        }
                    ),
                    flush=True,
                )


if __name__ == "__main__":
    main(sys.argv[1:])
