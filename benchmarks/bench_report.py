"""Time of the Rapporteur's report on a loaded store, step by step (wall and CPU seconds).

Steps: read the graph from the store, detect, build the report (tables, disclosure control,
figures, HTML) and write it (CSV, Parquet, PNG/SVG and the PDF through WeasyPrint). With
``--compare``, the count tables are also made by the code before issue 21 (tests/report_before.py)
in the same run: both timings side by side, their ratio, and a check that every table is equal.

    .venv/bin/netanalysis synth --out set --seed 7 --rows 100000
    .venv/bin/netanalysis load set/sources --mapping set/sources.yaml --store graph.sqlite
    .venv/bin/python benchmarks/bench_report.py --store graph.sqlite --from-year 2021 --to-year 2025 \\
        [--level police_unit] [--out report-bench] [--compare] [--read report|whole]

``--read report`` (the default) reads what ``netanalysis report`` reads (``read_report_graph``);
``--read whole`` reads the whole graph (``read_analysis_graph``), as the report did before.

``--detection DIR`` times ``netanalysis report --detection DIR`` instead, step by step: the
detection folder read, the facts the tables count read of the store (``read_report_data``), the
tables, the figures and page, the SVGs, the tables' and figures' files, the PDF:

    .venv/bin/python benchmarks/bench_report.py --store graph.sqlite --from-year 2021 --to-year 2025 \\
        --detection detect
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
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
    parser.add_argument("--compare", action="store_true", help="also time the tables before issue 21")
    parser.add_argument("--read", choices=("report", "whole"), default="report", help="what to read")
    parser.add_argument("--detection", default=None, help="time the report on this detection folder")
    args = parser.parse_args()
    if args.detection:
        _on_detection(args)
        return

    from graphstore import open_store
    from netanalysis.detect import DetectionSettings, detect
    from netanalysis.graphs import read_analysis_graph, read_report_graph
    from netanalysis.report import Period, ReportSettings, build_report

    rows: list[tuple[str, float, float]] = []
    store = open_store(args.store)
    reader = read_report_graph if args.read == "report" else read_analysis_graph
    graph = _timed(f"read graph ({reader.__name__})", rows, lambda: reader(store))
    store.close()
    settings = DetectionSettings(level=args.level)
    result = _timed("detect", rows, lambda: detect(graph, settings))
    years = list(range(args.from_year, args.to_year + 1))
    if args.compare:
        import pandas as pd

        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
        import report_before  # type: ignore[import-not-found]

        from netanalysis.report.tables import build_tables

        frames = result.frames()
        window = Period.year(years[-1])
        old = _timed(
            "tables before issue 21",
            rows,
            lambda: report_before.build_tables(
                dict(frames), graph, report_before.Period(window.start, window.end), args.level, years=years
            ),
        )
        new = _timed(
            "tables now", rows, lambda: build_tables(dict(frames), graph, window, args.level, years=years)
        )
        for name in ("headline", "quarterly", "flows", "group_sizes", "exploitation", "signals_by_source",
                     "signal_spread", "data_quality", "reject_reasons", "corridors"):  # fmt: skip
            pd.testing.assert_frame_equal(getattr(old, name), getattr(new, name))
        for group in ("breakdowns", "yearly"):
            for name, table in getattr(old, group).items():
                pd.testing.assert_frame_equal(table, getattr(new, group)[name])
        print(f"tables equal; before / now: {rows[-2][2] / rows[-1][2]:.1f}x CPU")
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
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")


def _on_detection(args: argparse.Namespace) -> None:
    """The steps of ``netanalysis report --detection``, each timed on its own."""
    from graphstore import open_store
    from netanalysis.detect import DetectionSettings, read_detection
    from netanalysis.graphs import check_store_state
    from netanalysis.report import Period, ReportSettings, build_report
    from netanalysis.report.data import read_report_data, report_persons
    from netanalysis.report.tables import build_tables

    rows: list[tuple[str, float, float]] = []
    made = _timed("read the detection folder", rows, lambda: read_detection(args.detection))
    store = open_store(args.store)
    _timed("check the store's state", rows, lambda: check_store_state(made.settings.get("store"), store, "d"))
    data = _timed(
        "read the facts (read_report_data)",
        rows,
        lambda: read_report_data(store, args.level, report_persons(made.groups)),
    )
    store.close()
    years = list(range(args.from_year, args.to_year + 1))
    window = Period.year(years[-1])
    frames = made.frames()
    settings = ReportSettings(level=args.level)
    _timed("count the tables (build_tables, also inside the next step)", rows,
           lambda: build_tables(dict(frames), data, window, args.level, years=years))  # fmt: skip
    report = _timed(
        "build report (tables, PNG figures, HTML)",
        rows,
        lambda: build_report(
            frames,
            data,
            window,
            settings,
            parameters=DetectionSettings.from_dict(made.settings).to_dict(),
            years=years,
        ),
    )
    _timed("draw the SVGs", rows, lambda: [f.svg for f in report.figures])
    out = args.out or tempfile.mkdtemp(prefix="bench-report-")
    _timed("write CSV, Parquet, PNG, SVG, HTML", rows, lambda: report.write(out, pdf=False))
    _timed("PDF (WeasyPrint)", rows, report.pdf)
    print(
        f"{len(data.persons)} persons, {len(data.signals)} signals; {len(report.tables)} tables, "
        f"{len(report.figures)} figures; load {os.getloadavg()}"
    )
    print("| step | wall s | CPU s |\n| --- | ---: | ---: |")
    for label, wall, cpu in rows:
        print(f"| {label} | {wall:.1f} | {cpu:.1f} |")
    counted = [r for r in rows if not r[0].startswith("count the tables")]
    print(f"| total (tables once) | {sum(r[1] for r in counted):.1f} | {sum(r[2] for r in counted):.1f} |")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")


if __name__ == "__main__":
    main()
