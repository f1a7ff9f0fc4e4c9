"""How long `find` takes on a store, reading only its candidates (issue 18: under 1 s at 1M persons).

Takes a store already loaded from a ``netanalysis synth`` set (fictional people only) and its key,
picks query rows from the set's police source (the same names and birth dates an analyst would
type, a third of them without the birth date), and times ``na.find_person(store, ...)`` per query:
CPU and wall seconds, median and maximum, and how many queries found anyone. For comparison it
can also time the old way on the same queries: read the whole graph (``read_analysis_graph``)
once, then search it.

    .venv/bin/python benchmarks/bench_find_store.py --set s100k --store s100k.sqlite --key k.key
    .venv/bin/python benchmarks/bench_find_store.py ... --whole-graph   # also the old way
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from pathlib import Path


def _queries(folder: Path, n: int) -> list[tuple[str, str, str | None, str]]:
    """(first, last, birth or None, row id) of ``n`` police rows with a name and a birth date."""
    with (folder / "sources" / "politie_zaken.csv").open(encoding="utf-8-sig") as handle:
        rows = [
            r
            for r in csv.DictReader(handle, delimiter=";")
            if r["Voornaam"] and r["Achternaam"] and r["Geboortedatum"]
        ]
    step = max(1, len(rows) // n)
    out = []
    for i, r in enumerate(rows[::step][:n]):
        last = f"{r['Tussenvoegsel']} {r['Achternaam']}".strip()
        out.append((r["Voornaam"], last, None if i % 3 == 2 else r["Geboortedatum"], r["Regelnummer"]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--set", type=Path, required=True, help="folder written by netanalysis synth")
    parser.add_argument("--store", required=True)
    parser.add_argument("--key", type=Path, required=True)
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--whole-graph", action="store_true")
    args = parser.parse_args()

    import netanalysis as na
    from graphstore import open_store

    key = na.load_key(args.key)
    store = open_store(args.store)
    persons = store.counts().get("Person", 0)
    queries = _queries(args.set, args.queries)

    def run(target: object, label: str) -> None:
        cpu, wall, found = [], [], 0
        for first, last, birth, _row_id in queries:
            c, w = time.process_time(), time.perf_counter()
            matches = na.find_person(target, key, first, last, birth)  # type: ignore[arg-type]
            cpu.append(time.process_time() - c)
            wall.append(time.perf_counter() - w)
            found += bool(matches)
        for kind, values in (("CPU s", cpu), ("wall s", wall)):
            dated = [v for v, q in zip(values, queries, strict=True) if q[2]]
            undated = [v for v, q in zip(values, queries, strict=True) if not q[2]]
            print(
                f"{label}: {kind} per query median {statistics.median(values):.3f} "
                f"max {max(values):.3f} (with birth date: median {statistics.median(dated):.3f}; "
                f"without: {statistics.median(undated):.3f})"
            )
        print(f"{label}: {found}/{len(queries)} queries found someone")

    print(f"store {args.store}: {persons} persons; {len(queries)} queries")
    run(store, "find in the store")
    if args.whole_graph:
        c, w = time.process_time(), time.perf_counter()
        graph = na.read_analysis_graph(store)
        print(f"whole graph read once: {time.process_time() - c:.1f} CPU s, {time.perf_counter() - w:.1f} s")
        run(graph, "find in the whole graph (after the read)")
    store.close()


if __name__ == "__main__":
    sys.exit(main())
