"""Time of the Rapporteur's report on a loaded store, step by step (wall and CPU seconds).

Steps: read the graph from the store, detect, build the report (tables, disclosure control,
figures, HTML) and write it (CSV, Parquet, PNG/SVG and the PDF through WeasyPrint).

    .venv/bin/netanalysis synth --out set --seed 7 --rows 100000
    .venv/bin/netanalysis load set/sources --mapping set/sources.yaml --store graph.sqlite
    .venv/bin/python benchmarks/bench_report.py --store graph.sqlite --from-year 2021 --to-year 2025 \\
        [--level police_unit] [--out report-bench]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from typing import Any


def _timed(label: str, rows: list[tuple[str, float, float]], fn: Callable[[], Any]) -> Any:
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn()
    rows.append((label, time.perf_counter() - wall, time.process_time() - cpu))
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True)
    parser.add_argument("--from-year", type=int, required=True)
    parser.add_argument("--to-year", type=int, required=True)
    parser.add_argument("--level", default="police_unit")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()

    from graphstore import open_store
    from netanalysis.detect import DetectionSettings, detect
    from netanalysis.graphs import read_analysis_graph
    from netanalysis.report import Period, ReportSettings, build_report

    rows: list[tuple[str, float, float]] = []
    store = open_store(args.store)
    graph = _timed("read graph", rows, lambda: read_analysis_graph(store))
    store.close()
    settings = DetectionSettings(level=args.level)
    result = _timed("detect", rows, lambda: detect(graph, settings))
    years = list(range(args.from_year, args.to_year + 1))
    report = _timed(
        "build report (tables, figures, HTML)",
        rows,
        lambda: build_report(
            result.frames(),
            graph,
            Period.year(years[-1]),
            ReportSettings(lang="en", level=args.level),
            years=years,
        ),
    )
    out = args.out or tempfile.mkdtemp(prefix="bench-report-")
    _timed("write (CSV, Parquet, figures, PDF)", rows, lambda: report.write(out))
    persons = sum(1 for _n, d in graph.nodes(data=True) if d.get("label") == "Person")
    print(
        f"store {args.store}: {graph.number_of_nodes()} nodes, {graph.number_of_edges()} relationships, "
        f"{persons} persons; {len(report.tables)} tables, {len(report.figures)} figures; "
        f"load {os.getloadavg()}"
    )
    print("| step | wall s | CPU s |\n| --- | ---: | ---: |")
    for label, wall, cpu in rows:
        print(f"| {label} | {wall:.1f} | {cpu:.1f} |")
    print(f"| total | {sum(r[1] for r in rows):.1f} | {sum(r[2] for r in rows):.1f} |")


if __name__ == "__main__":
    main()
