"""Investigation speed: ``find_person`` and ``connecting_network`` on graphs of 10k to 1M persons.

The graphs are the store-shaped graphs of ``bench_detect.build_graph`` (planted groups with cases,
phones, premises, victims with observations, shared vehicles between groups), plus ``--targets``
persons with real keyed pseudonyms (synthetic names, a throw-away key) and a ``Record`` each,
added as suspects to planted groups, so ``find_person`` has someone to find. ``connect`` asks for
the paths between two suspects of one group and between suspects of two groups, within 4 hops.
Times are of the functions on a graph already in memory (what a notebook does); the commands
read the whole graph from the store first, which is not included (see RESULTS.md).

    .venv/bin/python benchmarks/bench_investigate.py --persons 10000 100000 1000000
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_detect import build_graph

from loaders.pseudonymise import Pseudonymiser
from loaders.resolve import identity_string
from netanalysis.connect import connecting_network, evidence_network
from netanalysis.find import find_person

LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _name(i: int, length: int = 7) -> str:
    out = []
    for _ in range(length):
        i, r = divmod(i, 26)
        out.append(LETTERS[r])
    return "".join(out)


def _timed(fn: Any) -> tuple[Any, float, float]:
    w, c = time.perf_counter(), time.process_time()
    value = fn()
    return value, time.perf_counter() - w, time.process_time() - c


def run_one(persons: int, targets: int) -> dict[str, Any]:
    rng = random.Random(1)
    key = Pseudonymiser(bytes(range(32)))
    graph, build_s, build_cpu = _timed(lambda: build_graph(persons, seed=0))
    cases = sorted(n for n in graph if n.startswith("Case:"))
    wanted = []
    for t in range(targets):
        first, last = _name(3 * t + 11), _name(7 * t + 5)
        # Day and month both up to 12, so the query with the two swapped is a valid date too.
        birth = f"{rng.randint(1960, 2000)}-{rng.randint(1, 12):02d}-{rng.randint(1, 12):02d}"
        pid = key.hash("person", identity_string(first, last, birth))
        node, record = f"Person:{pid}", f"Record:bench:{t}"
        graph.add_node(node, label="Person", person_id=pid, roles=["suspect"])
        graph.add_node(record, label="Record", source="bench", row_id=str(t), reliability="B2")
        graph.add_edge(record, node, type="DESCRIBES", source="bench", row_id=str(t))
        graph.add_edge(
            node, rng.choice(cases), type="SUSPECT_IN", reliability="A1", source="bench", row_id=str(t)
        )
        wanted.append((first, last, birth, pid))
    n_persons = sum(1 for _, d in graph.nodes(data=True) if d.get("label") == "Person")
    out: dict[str, Any] = {
        "persons": n_persons,
        "nodes": graph.number_of_nodes(),
        "relationships": graph.number_of_edges(),
        "build_s": round(build_s, 1),
        "build_cpu_s": round(build_cpu, 1),
    }
    # find: exact, with day and month swapped, and without a birth date (every date tried).
    for how in ("exact", "swapped", "no_birth_date"):
        walls, cpus, hits = [], [], 0
        for first, last, birth, pid in wanted:
            y, m, d = birth.split("-")
            query = {"exact": f"{d}-{m}-{y}", "swapped": f"{m}-{d}-{y}", "no_birth_date": None}[how]
            found, wall, cpu = _timed(lambda: find_person(graph, key, last, first, query))  # noqa: B023
            hits += any(f.person_id == pid for f in found)
            walls.append(wall)
            cpus.append(cpu)
        out[f"find_{how}_median_s"] = round(sorted(walls)[len(walls) // 2], 4)
        out[f"find_{how}_max_s"] = round(max(walls), 4)
        out[f"find_{how}_cpu_s"] = round(sum(cpus) / len(cpus), 4)
        out[f"find_{how}_found"] = f"{hits}/{len(wanted)}"
    # connect: the evidence network (built once per call) and the path search.
    _, net_s, net_cpu = _timed(lambda: evidence_network(graph))
    out["evidence_network_s"] = round(net_s, 2)
    out["evidence_network_cpu_s"] = round(net_cpu, 2)
    # Two suspects of one case (2 hops), and a co-suspect of one user of a vehicle shared
    # between two groups with the other user (4 hops: case, suspect, vehicle).
    users = {}
    for u, v, d in graph.edges(data=True):
        if d.get("type") == "USES" and v.startswith("Vehicle:"):
            users.setdefault(v, []).append(u)

    def mates(person: str) -> list[str]:
        cases = [c for _, c, d in graph.out_edges(person, data=True) if d.get("type") == "SUSPECT_IN"]
        return sorted(
            p
            for c in cases
            for p, _, d in graph.in_edges(c, data=True)
            if d.get("type") == "SUSPECT_IN" and p != person
        )

    one, two, mate = next(
        (a, b, mates(a)[0])
        for _, ps in sorted(users.items())
        if len(ps) == 2
        for a, b in (ps, ps[::-1])
        if mates(a)
    )
    pairs = [(one, mate), (mate, two)]
    for name, pair in zip(("same_group", "two_groups"), pairs, strict=True):
        result, wall, cpu = _timed(lambda: connecting_network(graph, list(pair), max_hops=4))  # noqa: B023
        out[f"connect_{name}_s"] = round(wall, 2)
        out[f"connect_{name}_cpu_s"] = round(cpu, 2)
        out[f"connect_{name}_paths"] = len(result.paths)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--targets", type=int, default=10)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.persons[0], args.targets)))
        return
    for n in args.persons:
        # Each size in its own process, so peak memory is its own.
        done = subprocess.run(
            [sys.executable, __file__, "--one", "--persons", str(n), "--targets", str(args.targets)],
            check=True,
            capture_output=True,
            text=True,
        )
        print(done.stdout.strip(), flush=True)


if __name__ == "__main__":
    main()
