"""Benchmark: synthetic data generation speed and memory (issue 3).

Usage: .venv/bin/python benchmarks/bench_synth.py [--rows 1000000] [--out DIR] [--seed 1]

Generates a set of at least ``--rows`` source rows with ``synth.generate`` and prints
rows, wall and CPU seconds, rows/s and peak resident memory (resource.getrusage, ru_maxrss).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import tempfile
import time
from pathlib import Path

from synth import generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--noise", type=float, default=0.1)
    parser.add_argument("--out", type=Path, default=None, help="keep the output here (default: temp dir)")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="bench_synth_"))
    start = time.perf_counter()
    summary = generate(out, seed=args.seed, rows=args.rows, noise=args.noise)
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size_mb = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 2**20
    print(
        f"machine: {platform.machine()} {platform.processor() or ''} {os.cpu_count()} cpu, "
        f"Python {platform.python_version()}"
    )
    print(f"rows: {summary.total_rows} ({summary.person_rows} person rows) {summary.rows}")
    print(
        f"groups: {summary.groups} ({summary.cross_regional_groups} cross-regional), "
        f"lone: {summary.lone_offenders}, persons: {summary.persons}"
    )
    print(
        f"seconds: {seconds:.1f} wall, {cpu:.1f} CPU  rows/s: {summary.total_rows / seconds:,.0f} wall, "
        f"{summary.total_rows / cpu:,.0f} per CPU second"
    )
    print(f"peak RSS: {peak_mb:.0f} MB  output: {size_mb:.0f} MB")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (the CPU is shared; wall time depends on it)")
    if args.out is None:
        shutil.rmtree(out)


if __name__ == "__main__":
    main()
