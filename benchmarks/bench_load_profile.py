"""Where the CPU of one ``loaders.pipeline.load`` goes: cProfile of the load, the store writer's
thread included, and a dump of the store it built to compare two versions' graphs.

    .venv/bin/python benchmarks/bench_load_profile.py --set /tmp/s30k --key k.key --out prof/new
    .venv/bin/python benchmarks/bench_load_profile.py --set /tmp/s30k --key k.key --no-profile \\
        --store /tmp/new.sqlite --dump new.jsonl          # the same with OLD/.venv/bin/python: diff
    .venv/bin/python benchmarks/bench_load_profile.py --set /tmp/s100k --key k.key --stages

``--stages`` (no profile) prints, for each step of the load as its progress calls mark them
(read, resolve, write, then the commit), the CPU seconds and the peak RSS while it ran: the
RSS is sampled every 50 ms by a thread, so a peak shorter than that can be missed; and the CPU
seconds of the cycle collector's runs (``gc.callbacks``) and how many were full collections.
A load that reads its files twice also prints ``second_read_cpu_s``: the CPU of the second
read and validation (the main thread's), which "write" includes. Into a fresh store the "encode"
step is empty: the comparison data of each record is made in the write loop
(``loaders.pipeline._holds_person_records``), so its CPU counts in "write".

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
import threading
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


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def stages(data: Path, key: Path, store_path: Path) -> dict[str, Any]:
    """Load ``data`` into a fresh store; CPU s and peak RSS MB of each step the progress marks."""
    from loaders.pipeline import load

    current = ["start"]
    peaks: dict[str, float] = {}
    cpu: dict[str, float] = {}
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.05):
            stage = current[0]
            peaks[stage] = max(peaks.get(stage, 0.0), _rss_mb())

    def progress(stage: str, done: int, total: int | None) -> None:
        if stage == "read" and total is not None:
            stage = "encode"  # read ends; the keyed comparison data of its records come next
        if stage != current[0]:
            cpu[current[0]] = time.process_time()
            peaks[current[0]] = max(peaks.get(current[0], 0.0), _rss_mb())
            current[0] = stage

    import loaders.pipeline as pipeline

    ensure = getattr(pipeline, "ensure_block_index")  # noqa: B009 - replaced below

    def marked(*args: Any, **kwargs: Any) -> Any:
        progress("candidates", 0, None)  # the index and the stored candidates (none in a fresh store)
        return ensure(*args, **kwargs)

    setattr(pipeline, "ensure_block_index", marked)  # noqa: B010 - the load calls it by this name
    # The second read of the files (a load that reads them twice, ``_second_pass``): the main
    # thread's CPU inside it, which "write" includes.
    second = getattr(pipeline, "_second_pass", None)
    second_cpu = [0.0]
    if second is not None:

        def timed(*args: Any, **kwargs: Any) -> Any:
            records = second(*args, **kwargs)
            while True:
                t0 = time.thread_time()
                record = next(records, None)
                second_cpu[0] += time.thread_time() - t0
                if record is None:
                    return
                yield record

        setattr(pipeline, "_second_pass", timed)  # noqa: B010 - the load calls it by this name
    import gc

    collecting = {"since": 0.0, "cpu_s": 0.0, "full": 0}

    def collector(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collecting["since"] = time.thread_time()
        else:
            collecting["cpu_s"] += time.thread_time() - collecting["since"]
            collecting["full"] += info["generation"] == 2

    gc.callbacks.append(collector)
    _fresh(store_path)
    load_before = os.getloadavg()[0]
    cpu0 = time.process_time()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    with EmbeddedStore(store_path) as store:
        rejects = Path(f"{store_path}.rej.csv")
        load([data / "sources"], store, data / "sources.yaml", key, rejects_path=rejects, progress=progress)
        progress("commit", 0, None)
    progress("closed", 0, None)
    stop.set()
    sampler.join()
    out: dict[str, Any] = {}
    previous = cpu0
    for stage, mark in cpu.items():
        out[stage] = {"cpu_s": round(mark - previous, 2), "peak_rss_mb": round(peaks.get(stage, 0.0))}
        previous = mark
    out["cpu_s"] = round(time.process_time() - cpu0, 2)
    if second is not None:
        out["second_read_cpu_s"] = round(second_cpu[0], 2)
    out["gc_cpu_s"] = round(collecting["cpu_s"], 2)
    out["gc_full_collections"] = collecting["full"]
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    out["load_average"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", type=Path, required=True, help="a synthetic set (netanalysis synth --out)")
    parser.add_argument("--key", type=Path, required=True, help="the key file")
    parser.add_argument("--store", type=Path, default=Path("/tmp/profile.sqlite"))
    parser.add_argument("--out", type=Path, default=Path("/tmp/load"), help="prefix of the .prof files")
    parser.add_argument("--no-profile", action="store_true", help="only the CPU seconds")
    parser.add_argument("--dump", type=Path, help="write the store's contents here after the load")
    parser.add_argument("--stages", action="store_true", help="CPU s and peak RSS of each step")
    args = parser.parse_args()
    if args.stages:
        print(json.dumps(stages(args.set, args.key, args.store)), flush=True)
        if args.dump is not None:
            dump(args.store, args.dump)
        return
    result = run(args.set, args.key, args.store, None if args.no_profile else args.out)
    print(json.dumps(result), flush=True)
    if args.dump is not None:
        dump(args.store, args.dump)


if __name__ == "__main__":
    main()
