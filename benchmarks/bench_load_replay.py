"""The embedded store's share of a load, replayed: the same store calls, without reading or resolving.

``--capture`` runs ``loaders.pipeline.load`` of a synthetic set (``netanalysis synth``) into a
fresh embedded store and saves every call the store writer made (label or relationship type, and
the rows: keyed values only, no clear identifier) to a pickle file. Without it, the calls of that
file are replayed into a fresh store between ``begin_load`` and ``end_load``, as a load makes them,
and one JSON line gives the CPU seconds of the process, wall seconds, peak RSS and the file's size.
Run the replay with two checkouts' interpreters to compare their write paths side by side::

    .venv/bin/python benchmarks/bench_load_replay.py --capture calls.pkl --set /tmp/s100k --key k.key
    OLD/.venv/bin/python benchmarks/bench_load_replay.py calls.pkl --store /tmp/old.sqlite
    NEW/.venv/bin/python benchmarks/bench_load_replay.py calls.pkl --store /tmp/new.sqlite
    .venv/bin/python benchmarks/bench_load_replay.py --stages --set /tmp/s100k --key k.key

``--stages`` loads ``--set`` into a fresh store and prints the CPU seconds of each step of the
load (read and normalise, resolve, write; the store writer's thread included) instead.

``--dump FILE`` writes the store's nodes and relationships (sorted, properties parsed) after the
replay, to check that two versions write the same graph.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import time
from pathlib import Path
from typing import Any

from graphstore.embedded import EmbeddedStore


def _fresh(path: Path) -> None:
    for stale in path.parent.glob(path.name + "*"):
        stale.unlink()


def capture(out: Path, data: Path, key: Path, store_path: Path) -> None:
    """Load ``data`` into a fresh store at ``store_path`` and save the store writer's calls."""
    import loaders.store_writer as store_writer
    from loaders.pipeline import load

    calls: list[tuple[str, Any, list[Any]]] = []
    submit = store_writer.StoreWriter._submit

    def recording(self: store_writer.StoreWriter, kind: str, what: Any, rows: list[Any]) -> None:
        if rows:
            calls.append((kind, what, [r if kind == "rels" else dict(r) for r in rows]))
        submit(self, kind, what, rows)

    store_writer.StoreWriter._submit = recording  # type: ignore[method-assign]
    _fresh(store_path)
    with EmbeddedStore(store_path) as store:
        rejects = Path(f"{store_path}.rej.csv")
        load([data / "sources"], store, data / "sources.yaml", key, rejects_path=rejects)
    with open(out, "wb") as handle:
        pickle.dump(calls, handle, protocol=pickle.HIGHEST_PROTOCOL)
    print(json.dumps({"calls": len(calls), "rows": sum(len(c[2]) for c in calls)}))


def stages(data: Path, key: Path, store_path: Path) -> dict[str, Any]:
    """Load ``data`` into a fresh store; CPU and wall seconds of each step of the load."""
    from loaders.pipeline import load

    marks: dict[str, tuple[float, float]] = {}

    def progress(stage: str, done: int, total: int | None) -> None:
        if total is not None and done == total:
            marks[stage] = (time.process_time(), time.perf_counter())

    _fresh(store_path)
    load_before = os.getloadavg()[0]
    previous = (time.process_time(), time.perf_counter())
    with EmbeddedStore(store_path) as store:
        rejects = Path(f"{store_path}.rej.csv")
        load([data / "sources"], store, data / "sources.yaml", key, rejects_path=rejects, progress=progress)
    out: dict[str, Any] = {}
    for stage, (cpu, wall) in marks.items():
        out[f"{stage}_cpu_s"] = round(cpu - previous[0], 2)
        out[f"{stage}_wall_s"] = round(wall - previous[1], 2)
        previous = (cpu, wall)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    out["load_average"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    return out


def dump(store_path: Path, out: Path) -> None:
    """The store's nodes and relationships, sorted, properties parsed: one JSON line each."""
    import sqlite3

    conn = sqlite3.connect(store_path)
    with open(out, "w", encoding="utf-8") as handle:
        nodes = conn.execute("SELECT label, key, props FROM nodes ORDER BY label, key")
        for label, key, props in nodes:
            handle.write(json.dumps(["node", label, key, json.loads(props)], sort_keys=True) + "\n")
        rels = conn.execute(
            "SELECT type, start_label, start_key, end_label, end_key, rel_key, props FROM rels "
            "ORDER BY type, start_label, start_key, end_label, end_key, rel_key"
        )
        for *ids, props in rels:
            handle.write(json.dumps(["rel", *ids, json.loads(props)], sort_keys=True) + "\n")
        for row in conn.execute("SELECT block, record FROM record_blocks ORDER BY block, record"):
            handle.write(json.dumps(["block", *row]) + "\n")
    conn.close()


def replay(calls_path: Path, store_path: Path, batch_size: int) -> dict[str, Any]:
    """Replay the calls into a fresh store as one load; CPU and wall seconds of the writes."""
    with open(calls_path, "rb") as handle:
        calls = pickle.load(handle)
    _fresh(store_path)
    load_before = os.getloadavg()[0]
    cpu0, wall0 = time.process_time(), time.perf_counter()
    with EmbeddedStore(store_path) as store:
        store.begin_load("replay")
        for kind, what, rows in calls:
            if kind == "nodes":
                store.upsert_nodes(what, rows, batch_size=batch_size)
            else:
                store.upsert_relationships(*what, rows, batch_size=batch_size)
        cpu1, wall1 = time.process_time(), time.perf_counter()
        store.end_load("replay")
    return {
        "rows": sum(len(c[2]) for c in calls),
        "cpu_s": round(time.process_time() - cpu0, 2),
        "wall_s": round(time.perf_counter() - wall0, 2),
        "commit_wall_s": round(time.perf_counter() - wall1, 2),
        "writes_cpu_s": round(cpu1 - cpu0, 2),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "file_mb": round(store_path.stat().st_size / 2**20, 1),
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("calls", type=Path, nargs="?", help="the pickle file of captured calls")
    parser.add_argument("--capture", action="store_true", help="load --set and save its calls")
    parser.add_argument("--stages", action="store_true", help="load --set, CPU s of each step")
    parser.add_argument("--set", type=Path, help="a synthetic set (netanalysis synth --out)")
    parser.add_argument("--key", type=Path, help="key file for --capture")
    parser.add_argument("--store", type=Path, default=Path("/tmp/replay.sqlite"))
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--dump", type=Path, help="write the store's contents here after the replay")
    args = parser.parse_args()
    if args.capture or args.stages:
        if args.set is None or args.key is None:
            parser.error("--capture and --stages need --set and --key")
    if not args.stages and args.calls is None:
        parser.error("give the file of captured calls")
    if args.stages:
        print(json.dumps(stages(args.set, args.key, args.store)), flush=True)
    elif args.capture:
        capture(args.calls, args.set, args.key, args.store)
    else:
        print(json.dumps(replay(args.calls, args.store, args.batch_size)), flush=True)
    if args.dump is not None:
        dump(args.store, args.dump)


if __name__ == "__main__":
    main()
