"""Read + validate throughput (issue 4, first half): rows per second on one core.

Generates a synthetic set with ``netanalysis synth`` (not timed), then times
``validate(read_source(...))`` per source, in a fresh process per run so the lookup caches start
empty. Usage::

    .venv/bin/python benchmarks/bench_read.py --rows 200000 [--keep DIR]

Prints one line per source and a total: rows, CPU seconds of this process (``time.process_time``;
the machine is shared, so wall time mostly measures the neighbours), rows per CPU second, wall
seconds, peak memory (ru_maxrss).
"""

from __future__ import annotations

import argparse
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path


def run(folder: Path) -> None:
    from loaders.mapping import load_mapping
    from loaders.normalise.places import place_index
    from loaders.read import assign_files, read_source
    from loaders.records import Reject
    from loaders.validate import validate

    start_cpu = time.process_time()
    place_index()  # built once per process; timed on its own
    print(f"place index built in {time.process_time() - start_cpu:.2f} cpu_s")
    mapping = load_mapping(folder / "sources.yaml")
    files = assign_files(mapping, [folder])
    total_rows = 0
    total_cpu = total_wall = 0.0
    csv_rows = 0
    csv_cpu = 0.0
    for source in mapping.sources:
        rows = rejected = 0
        start, start_cpu = time.perf_counter(), time.process_time()
        for path in files[source.name]:
            for outcome in validate(read_source(source, path), source):
                rows += 1
                rejected += isinstance(outcome, Reject)
        wall, cpu = time.perf_counter() - start, time.process_time() - start_cpu
        total_rows += rows
        total_cpu += cpu
        total_wall += wall
        if source.format == "csv":
            csv_rows += rows
            csv_cpu += cpu
        print(
            f"{source.name:24s} {source.format:5s} rows={rows:>9,} rejected={rejected:>6,} "
            f"cpu_s={cpu:7.2f} rows/cpu_s={rows / cpu:>9,.0f} wall_s={wall:7.2f}"
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{'csv sources':24s}       rows={csv_rows:>9,}                 cpu_s={csv_cpu:7.2f} "
        f"rows/cpu_s={csv_rows / csv_cpu:>9,.0f}"
    )
    print(
        f"{'total':24s}       rows={total_rows:>9,}                 cpu_s={total_cpu:7.2f} "
        f"rows/cpu_s={total_rows / total_cpu:>9,.0f} wall_s={total_wall:7.2f} peak_rss={peak_mb:.0f} MB"
    )
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.processor() or 'cpu'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="person-rows to generate")
    parser.add_argument("--keep", type=Path, help="generate into (or reuse) this folder")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench_read_"))
    if not (folder / "sources.yaml").exists():
        from synth import generate

        start = time.perf_counter()
        generate(folder, seed=7, rows=args.rows)
        print(
            f"generated {args.rows:,} rows in {time.perf_counter() - start:.1f} s into {folder}",
            file=sys.stderr,
        )
    run(folder)


if __name__ == "__main__":
    main()
