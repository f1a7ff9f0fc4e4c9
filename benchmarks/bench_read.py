"""Read + validate throughput (issue 4, first half): rows per second on one core.

Generates a synthetic set with ``netanalysis synth`` (not timed), then times
``validate(read_source(...))`` per source, in a fresh process per run so the lookup caches start
empty. Usage::

    .venv/bin/python benchmarks/bench_read.py --rows 200000 [--keep DIR]

Prints one line per source and a total: rows, seconds, rows/s, peak memory (ru_maxrss).
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
    from loaders.read import assign_files, read_source
    from loaders.records import Reject
    from loaders.validate import validate

    mapping = load_mapping(folder / "sources.yaml")
    files = assign_files(mapping, [folder])
    total_rows = 0
    total_seconds = 0.0
    for source in mapping.sources:
        rows = rejected = 0
        start = time.perf_counter()
        for path in files[source.name]:
            for outcome in validate(read_source(source, path), source):
                rows += 1
                rejected += isinstance(outcome, Reject)
        seconds = time.perf_counter() - start
        total_rows += rows
        total_seconds += seconds
        print(f"{source.name:24s} {source.format:5s} rows={rows:>9,} rejected={rejected:>6,} "
              f"seconds={seconds:7.2f} rows/s={rows / seconds:>9,.0f}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'total':24s}       rows={total_rows:>9,}                 seconds={total_seconds:7.2f} "
          f"rows/s={total_rows / total_seconds:>9,.0f} peak_rss={peak_mb:.0f} MB")
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.processor() or 'cpu'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="person-rows to generate")
    parser.add_argument("--keep", type=Path, help="generate into (or reuse) this folder")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench_read_"))
    if not (folder / "sources.yaml").exists():
        from netanalysis.synth import generate

        start = time.perf_counter()
        generate(folder, seed=7, rows=args.rows)
        print(f"generated {args.rows:,} rows in {time.perf_counter() - start:.1f} s into {folder}",
              file=sys.stderr)
    run(folder)


if __name__ == "__main__":
    main()
