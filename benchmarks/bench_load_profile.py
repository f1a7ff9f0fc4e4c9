"""Where the CPU of one ``loaders.pipeline.load`` goes: cProfile of the load, the store writer's
thread included, and a dump of the store it built to compare two versions' graphs.

    .venv/bin/python benchmarks/bench_load_profile.py --set /tmp/s30k --key k.key --out prof/new
    .venv/bin/python benchmarks/bench_load_profile.py --set /tmp/s30k --key k.key --no-profile \\
        --store /tmp/new.sqlite --dump new.jsonl          # the same with OLD/.venv/bin/python: diff

Writes ``OUT.main.prof`` and ``OUT.writer.prof`` (``python -m pstats``) and prints the functions
with the most cumulative time of each. ``--dump`` writes the nodes, relationships and index rows
of the store, sorted (``bench_load_replay.dump``). Profiling roughly doubles the CPU time; the
split between the parts is what it is for, CPU seconds come from a run with ``--no-profile``.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_load_replay import _fresh, dump

from graphstore.embedded import EmbeddedStore


def run(data: Path, key: Path, store_path: Path, out: Path | None) -> dict[str, Any]:
    """Load ``data`` into a fresh store; with ``out``, profile the caller and the writer thread."""
    import loaders.store_writer as store_writer
    from loaders.pipeline import load

    writer_profile = cProfile.Profile()
    if out is not None:
        original = store_writer.StoreWriter._run

        def profiled(self: store_writer.StoreWriter) -> None:
            writer_profile.runcall(original, self)

        store_writer.StoreWriter._run = profiled  # type: ignore[method-assign]
    _fresh(store_path)
    load_before = os.getloadavg()[0]
    cpu0, wall0 = time.process_time(), time.perf_counter()
    main_profile = cProfile.Profile()
    with EmbeddedStore(store_path) as store:
        rejects = Path(f"{store_path}.rej.csv")
        args = ([data / "sources"], store, data / "sources.yaml", key)
        if out is None:
            load(*args, rejects_path=rejects)
        else:
            main_profile.runcall(load, *args, rejects_path=rejects)
    result = {
        "cpu_s": round(time.process_time() - cpu0, 2),
        "wall_s": round(time.perf_counter() - wall0, 2),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        for name, profile in (("main", main_profile), ("writer", writer_profile)):
            path = Path(f"{out}.{name}.prof")
            profile.dump_stats(path)
            print(f"--- {name} thread ({path})")
            pstats.Stats(str(path)).sort_stats("cumulative").print_stats(r"loaders|graphstore", 30)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", type=Path, required=True, help="a synthetic set (netanalysis synth --out)")
    parser.add_argument("--key", type=Path, required=True, help="the key file")
    parser.add_argument("--store", type=Path, default=Path("/tmp/profile.sqlite"))
    parser.add_argument("--out", type=Path, default=Path("/tmp/load"), help="prefix of the .prof files")
    parser.add_argument("--no-profile", action="store_true", help="only the CPU seconds")
    parser.add_argument("--dump", type=Path, help="write the store's contents here after the load")
    args = parser.parse_args()
    result = run(args.set, args.key, args.store, None if args.no_profile else args.out)
    print(json.dumps(result), flush=True)
    if args.dump is not None:
        dump(args.store, args.dump)


if __name__ == "__main__":
    main()
