"""A delivery of 10,000 rows into stores of growing size: reading everything vs the blocking-key index.

Issue 13's target: loading a delivery of 10,000 rows into a store that already holds 1M rows
takes at most 10% of the time of loading those 1M rows. Three steps, each its own process so that
the memory of one does not count in the next (run them niced):

    .venv/bin/python benchmarks/bench_delivery_scale.py prepare DIR --rows 1000000
    .venv/bin/python benchmarks/bench_delivery_scale.py build DIR STORE
    .venv/bin/python benchmarks/bench_delivery_scale.py delivery DIR STORE --mode old|new
    .venv/bin/python benchmarks/bench_delivery_scale.py neo4j DIR NEO4J_HOME [--initial-import] [--modes new]

``prepare`` generates a synthetic set of ``--rows`` + ``--delivery-rows`` rows (``synth``, seed
3) and splits it by observation date: the latest ``--delivery-rows`` rows (of the CSV sources)
are the delivery, the rest the base. ``build`` loads the base into STORE (an embedded file or a
``bolt://`` URI with ``NEO4J_PASSWORD`` set) and writes what it cost to ``DIR/build-<name>.json``.
``delivery`` loads the delivery into STORE: ``--mode old`` reads the comparison data of every
stored record (what a load did before the blocking-key index), ``--mode new`` reads through the
index only the records that the delivery's records can pair with (``loaders.crossload``); both
give the same result (``tests/test_block_index.py``). ``--across pairs`` (the default here)
scores only the pairs that hold a delivery record (``loaders.crossload.METHOD``), ``--across
whole`` resolves the delivery with the stored records read, as a load did before. A store
indexed by an earlier version is
migrated first in ``new`` mode, timed apart (``migration_*``). For an embedded
STORE it works on a copy (``--copy``), so old and new start from the same store. Each step prints
one JSON line: CPU s of the process, wall s, peak RSS and the load average.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from graphstore import open_store
from loaders.mapping import load_mapping
from loaders.pseudonymise import Pseudonymiser
from loaders.read import assign_files

KEY = Pseudonymiser(bytes(range(5, 37)))


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rss_mb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def _loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def prepare(out: Path, rows: int, delivery_rows: int, seed: int) -> None:
    """Generate the set and split it into base/ and delivery/."""
    from loaders.pipeline import read_records
    from synth import generate

    started = time.time()
    generate(out / "set", seed=seed, rows=rows + delivery_rows)
    mapping = load_mapping(out / "set" / "sources.yaml")
    files = assign_files(mapping, [out / "set" / "sources"])
    dated = []
    for record in read_records(mapping, files, lambda _issue: None, {}):
        when = str(record.values.get("observed_on") or "")
        if when:
            dated.append((when, record.source, record.row_id))
    csv_sources = {
        s.name for s in mapping.sources for p in files.get(s.name, []) if p.suffix.lower() == ".csv"
    }
    dated = sorted(d for d in dated if d[1] in csv_sources)
    late = {(source, row_id) for _when, source, row_id in dated[-delivery_rows:]}
    del dated
    for name in ("base", "delivery"):
        (out / name).mkdir(parents=True, exist_ok=True)
    written = {"base": 0, "delivery": 0}
    for source in mapping.sources:
        row_col = next(c for c, f in source.columns.items() if f == "row_id")
        for path in files.get(source.name, []):
            if path.suffix.lower() != ".csv":
                shutil.copy(path, out / "base" / path.name)
                continue
            encoding = source.encoding if source.encoding not in (None, "auto") else "utf-8-sig"
            delimiter = source.delimiter if source.delimiter not in (None, "auto") else ","
            with open(path, encoding=encoding, newline="") as handle:
                reader = csv.reader(handle, delimiter=delimiter)
                header = next(reader)
                at = header.index(row_col)
                parts: dict[str, list[list[str]]] = defaultdict(list)
                for row in reader:
                    rid = row[at].strip() if len(row) > at else ""
                    parts["delivery" if (source.name, rid) in late else "base"].append(row)
            for name, part in parts.items():
                with open(out / name / path.name, "w", encoding=encoding, newline="") as handle:
                    writer = csv.writer(handle, delimiter=delimiter)
                    writer.writerow(header)
                    writer.writerows(part)
                written[name] += len(part)
    print(json.dumps({"step": "prepare", "rows": written, "wall_s": round(time.time() - started, 1)}))


def _open(uri: str) -> Any:
    if "://" in uri:
        return open_store(uri, password=os.environ["NEO4J_PASSWORD"])
    return open_store(uri)


def build(folder: Path, uri: str, name: str) -> None:
    """Load base/ into the store and write what it cost."""
    from loaders.pipeline import load

    store = _open(uri)
    wall, cpu, before = time.time(), _cpu(), _loadavg()
    summary = load(
        [folder / "base"],
        store,
        folder / "set" / "sources.yaml",
        KEY,
        rejects_path=folder / f"base-rejects-{name}.csv",
    )
    figures = {
        "step": "build",
        "store": name,
        "rows_loaded": summary.loaded,
        "rows_read": summary.read,
        "person_records": summary.records,
        "cpu_s": round(_cpu() - cpu, 1),
        "wall_s": round(time.time() - wall, 1),
        "peak_rss_mb": _rss_mb(),
        "load_average_before": before,
        "load_average_after": _loadavg(),
        "counts": store.counts(),
    }
    store.close()
    (folder / f"build-{name}.json").write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(figures))


def _read_everything(pipeline: Any, crossload: Any) -> None:
    """Make a load read the stored records as it did before the blocking-key index: the
    comparison data and person of every stored record (one read, which also checks for records
    without comparison data), and every Person node for the persons it writes."""
    from graphstore.base import GraphSlice

    def stored(store: Any, records: Any, comparisons: Any) -> tuple[Any, Any]:
        everything, person_of, missing = crossload.stored_comparisons(store)
        crossload.check_comparison_data(missing, comparisons, store.uri)
        return everything, person_of

    def persons(store: Any, wanted: Any) -> dict[str, dict[str, Any]]:
        graph = store.read_graph(GraphSlice(labels=frozenset({"Person"}), rel_types=frozenset()))
        keep = set(wanted)
        return {a["person_id"]: dict(a) for _n, a in graph.nodes(data=True) if a.get("person_id") in keep}

    pipeline.ensure_block_index = lambda store, this_load, batch_size=5000: 0
    pipeline.stored_candidates = stored
    pipeline._existing_persons = persons


def _timed(function: Any, name: str, stages: dict[str, float]) -> Any:
    """``function``, adding its CPU seconds to ``stages[name]``."""

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = _cpu()
        try:
            return function(*args, **kwargs)
        finally:
            stages[name] = round(stages.get(name, 0.0) + _cpu() - started, 1)

    return timed


def delivery(
    folder: Path,
    uri: str,
    mode: str,
    copy: bool,
    profile: Path | None = None,
    across: str = "pairs",
    lookup_cap: str = "default",
) -> None:
    """Load delivery/ into the store, reading the stored records the old or the new way, and
    resolving them with the delivery by ``across`` (``loaders.crossload.METHOD``)."""
    import loaders.pipeline as pipeline
    from loaders import crossload

    crossload.METHOD = across
    if lookup_cap != "default":
        crossload.LOOKUP_CAP = None if lookup_cap == "none" else int(lookup_cap)
    if copy and "://" not in uri:
        target = Path(f"{uri}.{mode}.db")
        for suffix in ("", "-wal", "-shm"):
            if Path(uri + suffix).exists():
                shutil.copy(uri + suffix, str(target) + suffix)
        uri = str(target)
    store = _open(uri)
    stages: dict[str, float] = {}
    if mode == "old":
        _read_everything(pipeline, crossload)
    else:
        # A store built before the index is migrated once: measured on its own.
        wall, cpu = time.time(), _cpu()
        migrated = crossload.ensure_block_index(store, [])
        stages["migration_records"] = migrated
        stages["migration_cpu_s"] = round(_cpu() - cpu, 1)
        stages["migration_wall_s"] = round(time.time() - wall, 1)
    reader = pipeline.stored_candidates

    def counted(store: Any, records: Any, comparisons: Any) -> tuple[Any, Any]:
        started = _cpu()
        stored, person_of = reader(store, records, comparisons)
        stages["stored_records_read"] = len(person_of)
        stages["read_cpu_s"] = round(_cpu() - started, 1)
        return stored, person_of

    pipeline.stored_candidates = counted
    # Where the resolution's time goes: the resolution across loads (and in it the encoded
    # resolution of the delivery with the records read) and the clear resolution of the delivery.
    for module, name in (
        (pipeline, "matches_across_loads"),
        (crossload, "resolve_encoded"),
        (pipeline, "resolve_persons"),
    ):
        setattr(module, name, _timed(getattr(module, name), f"{name}_cpu_s", stages))

    def progress(stage: str, done: int, total: int | None) -> None:
        stages.setdefault(f"{stage}_started_cpu", round(_cpu() - cpu, 1))

    profiler = None
    if profile is not None:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    wall, cpu, before = time.time(), _cpu(), _loadavg()
    summary = pipeline.load(
        [folder / "delivery"],
        store,
        folder / "set" / "sources.yaml",
        KEY,
        rejects_path=folder / f"delivery-rejects-{mode}.csv",
        progress=progress,
    )
    if profiler is not None and profile is not None:
        profiler.disable()
        profiler.dump_stats(str(profile))
    figures = {
        "step": "delivery",
        "mode": mode,
        "across": across,
        "lookup_cap": getattr(crossload, "LOOKUP_CAP", None),
        "store": uri,
        "rows_loaded": summary.loaded,
        "person_records": summary.records,
        "persons": summary.persons,
        "merges": summary.merges,
        "cpu_s": round(_cpu() - cpu, 1),
        "wall_s": round(time.time() - wall, 1),
        "peak_rss_mb": _rss_mb(),
        "load_average_before": before,
        "load_average_after": _loadavg(),
        **stages,
    }
    store.close()
    print(json.dumps(figures))


def build_initial_import(folder: Path, home: Path, heap: str, pagecache: str) -> None:
    """Load base/ into the empty database of the toolkit's server in ``home`` by bulk import
    (``loaders.initial_import``) and write what it cost: CPU s of this process (the import tool
    and the server run as other processes), wall s including the import and the restart."""
    from loaders.initial_import import initial_import

    wall, cpu, before = time.time(), _cpu(), _loadavg()
    summary = initial_import(
        [folder / "base"],
        folder / "set" / "sources.yaml",
        KEY,
        home=home,
        heap=heap,
        pagecache=pagecache,
        rejects_path=folder / "base-rejects-neo4j.csv",
    )
    from graphstore import neo4j_server

    info = neo4j_server.status(home)
    assert info is not None
    store = open_store(info.uri, password=info.password)
    figures = {
        "step": "build",
        "store": "neo4j-initial-import",
        "rows_loaded": summary.loaded,
        "rows_read": summary.read,
        "person_records": summary.records,
        "cpu_s": round(_cpu() - cpu, 1),
        "wall_s": round(time.time() - wall, 1),
        "peak_rss_mb": _rss_mb(),
        "load_average_before": before,
        "load_average_after": _loadavg(),
        "counts": store.counts(),
    }
    store.close()
    (folder / "build-neo4j.json").write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(figures))


def _server_cpu(pid: int | None) -> float:
    """CPU seconds (user + system) the server process ``pid`` has used so far, from /proc."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _timed_child(step: list[str], env: dict[str, str], home: Path, out: Path) -> None:
    """Run ``step`` as a child process and append to ``out`` what it and the server cost.

    The child's CPU seconds come from ``os.wait4`` (its own and its waited-for children's: the
    bulk import tool of an initial import is one), the server's from /proc: the part it used
    during the step, or all of it when the step restarted the server (an initial import)."""
    import subprocess

    from graphstore import neo4j_server

    running = neo4j_server.status(home)
    pid_before = running.pid if running is not None else None
    server_before = _server_cpu(pid_before)
    started, before = time.time(), _loadavg()
    proc = subprocess.Popen(step, env=env, stdout=subprocess.PIPE, text=True)
    output = proc.stdout.read() if proc.stdout is not None else ""
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(step[2:4])} failed (exit {os.waitstatus_to_exitcode(status)})")
    after = neo4j_server.status(home)
    pid_after = after.pid if after is not None else None
    server = _server_cpu(pid_after) - (server_before if pid_after == pid_before else 0.0)
    child = usage.ru_utime + usage.ru_stime
    figures = {
        **json.loads(output.strip().splitlines()[-1]),
        "child_cpu_s": round(child, 1),
        "server_cpu_s": round(server, 1),
        "client_and_server_cpu_s": round(child + server, 1),
        "step_wall_s": round(time.time() - started, 1),
        "step_load_average_before": before,
        "step_load_average_after": _loadavg(),
    }
    with open(out, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(figures) + "\n")
    print(json.dumps(figures), flush=True)


def neo4j(
    folder: Path,
    home: Path,
    initial_import: bool,
    modes: list[str],
    across: str = "pairs",
    memory: tuple[str, str] = ("2g", "1g"),
) -> None:
    """The same on the toolkit's Neo4j server in ``home``: build once into an emptied database
    (online, or by bulk import with ``--initial-import``) and keep a copy of the data folder per
    set (``data.built-<DIR name>``), then for each mode restore that copy, start the server and
    load the delivery in a child process. Each step's line (also appended to
    ``DIR/neo4j.jsonl``) has the child's CPU seconds and the server's (``_timed_child``): on
    Neo4j the server does much of a load's work, so the share of a delivery is counted on both.
    ``memory``: the server's heap and page cache (``--heap``, ``--pagecache``)."""
    from graphstore import neo4j_server

    heap, pagecache = memory

    data, saved = home / "data", home / f"data.built-{folder.name}"
    script = [sys.executable, __file__]
    out = folder / "neo4j.jsonl"
    if not saved.is_dir():
        neo4j_server.stop(home)
        # An empty neo4j database (the system database, with the password, is kept).
        for sub in ("databases", "transactions"):
            shutil.rmtree(data / sub / "neo4j", ignore_errors=True)
        info = neo4j_server.start(home, heap=heap, pagecache=pagecache)
        env = {**os.environ, "NEO4J_PASSWORD": info.password}
        if initial_import:
            step = [
                *script,
                "build-initial-import",
                str(folder),
                str(home),
                "--heap",
                heap,
                "--pagecache",
                pagecache,
            ]
        else:
            step = [*script, "build", str(folder), info.uri, "--name", "neo4j"]
        _timed_child(step, env, home, out)
        neo4j_server.stop(home)
        shutil.copytree(data, saved)
    for mode in modes:
        neo4j_server.stop(home)
        shutil.rmtree(data)
        shutil.copytree(saved, data)
        info = neo4j_server.start(home, heap=heap, pagecache=pagecache)
        env = {**os.environ, "NEO4J_PASSWORD": info.password}
        step = [*script, "delivery", str(folder), info.uri, "--mode", mode, "--across", across]
        _timed_child(step, env, home, out)
    neo4j_server.stop(home)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    sub = parser.add_subparsers(dest="step", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("dir", type=Path)
    p.add_argument("--rows", type=int, required=True)
    p.add_argument("--delivery-rows", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=3)
    b = sub.add_parser("build")
    b.add_argument("dir", type=Path)
    b.add_argument("store")
    b.add_argument("--name", default="embedded")
    d = sub.add_parser("delivery")
    d.add_argument("dir", type=Path)
    d.add_argument("store")
    d.add_argument("--mode", choices=("old", "new"), required=True)
    d.add_argument("--copy", action="store_true")
    d.add_argument(
        "--lookup-cap",
        default="default",
        help="the most stored records a new record looks up under one key (loaders.crossload."
        "LOOKUP_CAP): a number, none, or default",
    )
    d.add_argument("--profile", type=Path, help="write cProfile stats of the load to this file")
    d.add_argument(
        "--across",
        choices=("pairs", "whole"),
        default="pairs",
        help="resolution across loads: score only the new pairs, or the new and stored records whole",
    )
    n = sub.add_parser("neo4j")
    n.add_argument("dir", type=Path)
    n.add_argument("home", type=Path)
    n.add_argument("--initial-import", action="store_true")
    n.add_argument("--modes", nargs="+", choices=("old", "new"), default=["old", "new"])
    n.add_argument("--across", choices=("pairs", "whole"), default="pairs")
    n.add_argument("--heap", default="2g", help="the server's JVM heap (the default is the toolkit's)")
    n.add_argument("--pagecache", default="1g", help="the server's page cache")
    i = sub.add_parser("build-initial-import")
    i.add_argument("dir", type=Path)
    i.add_argument("home", type=Path)
    i.add_argument("--heap", default="2g")
    i.add_argument("--pagecache", default="1g")
    args = parser.parse_args()
    if args.step == "neo4j":
        neo4j(args.dir, args.home, args.initial_import, args.modes, args.across, (args.heap, args.pagecache))
    elif args.step == "build-initial-import":
        build_initial_import(args.dir, args.home, args.heap, args.pagecache)
    elif args.step == "prepare":
        prepare(args.dir, args.rows, args.delivery_rows, args.seed)
    elif args.step == "build":
        build(args.dir, args.store, args.name)
    else:
        delivery(args.dir, args.store, args.mode, args.copy, args.profile, args.across, args.lookup_cap)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
